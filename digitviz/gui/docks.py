"""The main window's docks: one per panel of the registry, wired as the registry declares; the layout.

:class:`DocksMixin` is part of :class:`~digitviz.gui.main_window.MainWindow`. It builds a dock for
every :class:`~digitviz.gui.panels.PanelSpec` in :data:`~digitviz.gui.panels.PANELS`, connects every
:class:`~digitviz.gui.panels.Wire` of :data:`~digitviz.gui.panels.WIRES` whose two ends exist, moves
each panel's shortcut actions onto the window (so its keys work wherever focus is), and remembers
and restores the layout and settings in QSettings.

Imports: PySide6, :mod:`digitviz.core.training` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import json
import logging
import traceback

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

from digitviz.core.snapshot import merge_snapshots
from digitviz.core.training import TrainConfig

from . import shortcuts
from .panels import DIAGRAM, WINDOW, WIRES, panel_specs

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
# the most of the window's width (left, right) or height (bottom) a dock area takes by default
DOCK_SHARES = {"left": 0.245, "right": 0.3, "bottom": 0.36}
SMALL_SCREEN = 1280  # px: a screen narrower than this gets the whole of it on the first launch


class DocksMixin:
    """Docks, wires and the remembered layout of the main window."""

    def _build_docks(self):
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.specs = {}
        self.setDockNestingEnabled(True)
        # the right column (input: canvas, 28x28, bars) keeps the full height; the curves below
        # span the settings and the diagram
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        for spec in panel_specs():
            try:
                panel = spec.factory()
            except Exception:  # logged; one broken panel must not keep the window from opening
                log.exception("panel %s could not be created", spec.name)
                continue
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(spec.name)
            # A scroll area lets a dock be smaller than its panel's minimum size: the window never
            # grows past the screen because of one panel, and the user can squeeze any dock.
            holder = QScrollArea()
            holder.setObjectName(f"{spec.name}_scroll")
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.NoFrame)
            holder.setWidget(panel)
            dock.setWidget(holder)
            dock.setFeatures(
                QDockWidget.DockWidgetClosable | QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
            )
            self.addDockWidget(spec.area, dock)
            if spec.tab_with and spec.tab_with in self.docks:
                self.tabifyDockWidget(self.docks[spec.tab_with], dock)
            if not spec.visible:
                dock.hide()
            tv = dock.toggleViewAction()
            keys = [s.keys for s in shortcuts.owned_by("dock") if s.slot == spec.name]
            if keys:
                tv.setShortcuts([QKeySequence(k) for k in keys[0]])
            tv.setToolTip(f"Show or hide the {spec.title} panel")
            dock.visibilityChanged.connect(lambda visible, p=panel: visible and self._feed(p))
            self.specs[spec.name] = spec
            self.panels[spec.name] = panel
            self.docks[spec.name] = dock
            # the panel's keys: on the window, so that they work wherever focus is; a key shows the panel
            shortcuts.adopt(self, panel, on_trigger=lambda name=spec.name: self.show_dock(name))
            if spec.path_source:
                panel.set_path_source(self.controller.path_points)  # the whole descent path, kept while hidden
        self._connect_wires()
        shortcuts.let_shortcuts_through(self)  # spin boxes keep digits and arrows, not Space or ]
        # tabbed docks: show the first of each group
        for spec in self.specs.values():
            if not spec.tab_with and spec.name in self.docks:
                self.docks[spec.name].raise_()
        self._size_docks()

    def _dock_targets(self):
        """``(docks, size, orientation)`` per dock area: the panels' wish, capped by a share of the window."""
        w, h = max(self.width(), 800), max(self.height(), 600)
        for area, orient, cap in (
            (Qt.LeftDockWidgetArea, Qt.Horizontal, DOCK_SHARES["left"] * w),
            (Qt.RightDockWidgetArea, Qt.Horizontal, DOCK_SHARES["right"] * w),
            (Qt.BottomDockWidgetArea, Qt.Vertical, DOCK_SHARES["bottom"] * h),
        ):
            names = [n for n in self.docks if self.specs[n].area == area and self.dockWidgetArea(self.docks[n]) == area]
            if not names:
                continue
            hints = [self.panels[n].sizeHint() for n in names]
            want = max((hint.width() if orient == Qt.Horizontal else hint.height()) for hint in hints) + 16
            docks = [self.docks[n] for n in names if not self.specs[n].tab_with and not self.docks[n].isFloating()]
            yield docks, int(min(max(want, 240), cap)), orient

    def _dock_cap(self, orient) -> float:
        """The most a side dock may take before the diagram suffers (a little above its default share)."""
        if orient == Qt.Horizontal:
            return 0.34 * max(self.width(), 800)
        return 0.4 * max(self.height(), 600)

    def _size_docks(self):
        """Default dock sizes, as shares of the window: the diagram in the middle keeps the most room."""
        for docks, size, orient in self._dock_targets():
            self.resizeDocks(docks, [size] * len(docks), orient)

    def _fit_dock_tabs(self):
        """Tabbed docks whose row of tabs is too narrow for their full titles show their short ones."""
        done = set()
        for name, dock in self.docks.items():
            if name in done or not dock.isVisible():
                continue
            group = [dock, *self.tabifiedDockWidgets(dock)]
            names = [d.objectName() for d in group]
            done.update(names)
            fm = dock.fontMetrics()
            need = sum(fm.horizontalAdvance(self.specs[n].title) + 44 for n in names if n in self.specs)
            narrow = len(group) > 1 and need > dock.width()
            for n, d in zip(names, group):
                spec = self.specs.get(n)
                if spec is not None:
                    title = spec.short if narrow and spec.short else spec.title
                    if d.windowTitle() != title:
                        d.setWindowTitle(title)
                        d.toggleViewAction().setText(spec.title)  # the View menu keeps the full name

    def _after_resize(self):
        self._regrow_docks()
        self._fit_dock_tabs()
        self.docks_settled = True  # the docks have the sizes this window size gives them

    def _regrow_docks(self):
        """After a resize: docks that a smaller window squeezed get their share back; docks wider than the
        smaller window allows give the diagram its room back."""
        if getattr(self, "presentation", None) is not None and self.presentation.active:
            return  # presentation mode sizes its own docks
        if self.size() == getattr(self, "_regrown_for", None):
            return  # e.g. back from presentation mode, which restored the docks exactly
        self._regrown_for = self.size()
        for off, size, orient in self._docks_off():
            self.resizeDocks(off, [size] * len(off), orient)
        self.layout().activate()  # the new sizes now, not at the next layout pass

    def _docks_off(self):
        """``(docks, size, orientation)`` for docks smaller than their share (the window grew), or larger than
        the window now allows them (it shrank: Qt squeezes the diagram first, down to its minimum)."""
        out = []
        for docks, size, orient in self._dock_targets():

            def extent(d, orient=orient):
                return d.width() if orient == Qt.Horizontal else d.height()

            off = [
                d
                for d in docks
                if not d.isHidden()
                and abs(extent(d) - size) > 4
                and (extent(d) < size or extent(d) > self._dock_cap(orient))
            ]
            if off:
                out.append((off, size, orient))
        return out

    def docks_fit(self) -> bool:
        """True once the docks were sized for this window size (tests wait for this after a resize)."""
        return self.docks_settled and not self._regrow_timer.isActive()

    def _end(self, name):
        """A wire's end: the window, the diagram, or a panel (None when that panel failed to build)."""
        return self if name == WINDOW else self.diagram if name == DIAGRAM else self.panels.get(name)

    def _connect_wires(self):
        """Connect every declared wire whose two ends exist; a missing signal or slot raises."""
        self.wires = []
        for wire in WIRES:
            source, target = self._end(wire.source), self._end(wire.target)
            if source is None or target is None:
                continue
            if wire.source == DIAGRAM and not hasattr(self.diagram, "set_state"):
                continue  # the diagram could not be created: a placeholder label stands in
            signal = getattr(source, wire.signal)
            slot = getattr(target, wire.slot)
            signal.connect(self._deliver(wire, slot))
            self.wires.append(wire)

    def _deliver(self, wire, slot):
        def deliver(*args):
            if wire.adapt is not None:
                args = wire.adapt(*args)
                if args is None:
                    return
            if wire.show and wire.target in self.docks:
                self.show_dock(wire.target)
            slot(*args)

        return deliver

    def show_dock(self, name):
        """Bring a panel's dock to the front (shown, raised above its tab group)."""
        dock = self.docks.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()

    # settings

    def _remembered_config(self) -> TrainConfig | None:
        raw = self.settings.value("config")
        if not raw:
            return None
        try:
            return TrainConfig.from_dict(json.loads(raw))
        except (TypeError, ValueError):
            return None

    def _restore_layout(self):
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            if screen is None:
                w, h = 1440, 900
            elif screen.width() < SMALL_SCREEN:  # a 1024x700 projector: every pixel (0.92 of it squeezed the docks)
                w, h = screen.width(), screen.height()
                self.move(screen.topLeft())
            else:
                w, h = min(1600, int(0.92 * screen.width())), min(1000, int(0.92 * screen.height()))
            self.resize(w, h)
            self._size_docks()
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state, SETTINGS_VERSION)
        if self.settings.value("gradientEdges", False) in (True, "true"):
            self.act_gradient.setChecked(True)

    def _save_settings(self):
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("windowState", self.saveState(SETTINGS_VERSION))
        s.setValue("speed", self.speed.value())
        s.setValue("gradientEdges", self._gradient_edges)
        config = self.controller.config
        if config is not None:
            s.setValue("config", json.dumps(config.to_dict()))
        if self.data_folder:
            s.setValue("dataFolder", str(self.data_folder))
        s.sync()

    def reset_layout(self):
        self.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in self.docks.values():
            spec = self.specs[dock.objectName()]
            dock.setFloating(False)
            dock.setVisible(spec.visible)

    def _dock_shown(self, name) -> bool:
        """Whether a dock's panel is on screen: a dock behind another tab still says isVisible()."""
        dock = self.docks[name]
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

    def _feed(self, panel):
        snap = self.controller.latest
        if snap is not None:
            # a panel waiting for its turn (costly while training) has records not delivered yet: give
            # them now, in order, or a curve shown again gets later steps before earlier ones
            name = next(n for n, p in self.panels.items() if p is panel)
            pending = self._pending.pop(name, None)
            if pending is not None and pending.generation == snap.generation:
                snap = pending if pending.step >= snap.step else merge_snapshots(pending, snap)
            self._call(panel, "on_snapshot", snap)

    def _call(self, panel, method, *args):
        """Call a panel's contract method; a failing panel is logged once and never stops the window."""
        try:
            getattr(panel, method)(*args)
        except Exception:  # noqa: BLE001 - a failing panel is logged once and never stops the window
            key = (id(panel), method)
            if key not in self._panel_errors:
                self._panel_errors.add(key)
                log.error("panel %s.%s failed:\n%s", type(panel).__name__, method, traceback.format_exc())
