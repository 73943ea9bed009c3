"""Presentation mode: the app on a projector in front of a class.

View ▸ Presentation Mode (F11) makes the window full screen, scales every font of the theme and the
plots' line widths for a projector, hides the secondary docks (all but the Lesson panel and the
diagram) and makes the tour's text large. F11 again or Escape leaves it and restores the window
exactly as it was: geometry, dock layout, which docks were shown, fonts and pens.

Imports: PySide6, pyqtgraph.
"""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetricsF, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar, QWidget

from . import shortcuts, style

QWIDGETSIZE_MAX = 16777215

FONT_SCALE = 1.35  # every font size of the theme
LINE_SCALE = 2.0  # every plot curve's pen width
MIN_TICK_PT = 8.0  # a plot's fixed tick labels shrink to fit their spacing, never below this
KEEP = ("lesson",)  # docks that stay on screen
LESSON_SHARE = 0.32  # of the screen's width, for the tour's large text
PANEL_SHARE = 0.32  # of the screen's width, for the side panel Show me brings in (the diagram keeps the rest)
BOTTOM_SHARE = 0.5  # of the screen's height, for a bottom panel Show me brings in (the diagram keeps the rest)


def scale_font_sizes(qss: str, scale: float) -> str:
    """``qss`` with every ``font-size: N pt|px`` multiplied by ``scale`` (rounded to a tenth)."""

    def repl(m):
        return f"font-size: {round(float(m.group(1)) * scale, 1):g}{m.group(2)}"

    return re.sub(r"font-size:\s*([0-9.]+)\s*(pt|px)", repl, qss)


class Presentation(QObject):
    """Enters and leaves presentation mode for one main window.

    Parameters
    ----------
    window : MainWindow
        Uses ``docks`` and ``panels`` (a panel with ``set_presentation(on)`` is told).

    Attributes
    ----------
    action : QAction
        Checkable, F11; in the View menu.
    active : bool

    Signals
    -------
    toggled(bool)
    """

    toggled = Signal(bool)

    def __init__(self, window, font_scale=FONT_SCALE, line_scale=LINE_SCALE):
        super().__init__(window)
        self.window = window
        self.font_scale = font_scale
        self.line_scale = line_scale
        self.active = False
        self._saved: dict | None = None
        self.action = QAction("Presentation Mode", window)
        self.action.setCheckable(True)
        # the keys are the shortcut table's: window.toggle_presentation / leave_presentation
        self.action.setShortcuts([QKeySequence(k) for k in shortcuts.keys_for("window", "toggle_presentation")])
        self.action.setShortcutContext(Qt.WindowShortcut)
        self.action.setToolTip(shortcuts.with_keys("Presentation mode", "window", "toggle_presentation"))
        self.action.setStatusTip("Full screen with large text and thick lines for a projector (F11 or Esc leaves)")
        self.action.toggled.connect(self.set_active)
        window.addAction(self.action)
        self.escape = QAction("Leave Presentation Mode", window)
        self.escape.setShortcuts([QKeySequence(k) for k in shortcuts.keys_for("window", "leave_presentation")])
        self.escape.setShortcutContext(Qt.WindowShortcut)
        self.escape.triggered.connect(self.leave)
        self.escape.setEnabled(False)  # Escape belongs to presentation mode only while it is on
        window.addAction(self.escape)
        window.installEventFilter(self)
        self._switching = False
        self._front: str | None = None  # the panel Show me brought in, sharing the screen with the tour
        # the docks are sized for the window's size once it is in: full screen arrives late on X11, and a
        # window manager may resize again; every resize while presenting lays the docks out anew
        self._layout_timer = QTimer(self)
        self._layout_timer.setSingleShot(True)
        self._layout_timer.setInterval(0)
        self._layout_timer.timeout.connect(self._layout)
        # a plot's tick labels are fitted again whenever its view is resized or its range changes
        self._fit_queue: set = set()
        self._fit_links: list = []
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(60)
        self._fit_timer.timeout.connect(self._fit_queued)
        driver = getattr(window, "driver", None)
        if driver is not None and hasattr(driver, "acted"):
            driver.acted.connect(self._on_acted)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.leave)  # before the window saves its layout

    def eventFilter(self, obj, event):
        if obj is self.window and self.active:
            if event.type() == QEvent.Close:
                self.leave()  # the layout remembered is the normal one, never the projector's
            elif event.type() == QEvent.Resize:
                self._layout_timer.start()
        return False

    def screen_rect(self) -> QRect:
        """The rectangle presentation mode fills: the window's screen (tests pick a projector's size here)."""
        screen = self.window.screen()
        return screen.geometry() if screen is not None else self.window.geometry()

    def settled(self) -> bool:
        """True once the docks were laid out for the window's present size (tests wait for this)."""
        return not self.active or not (self._layout_timer.isActive() or self._fit_timer.isActive())

    def _on_acted(self, what: str):
        """Show me brought a panel to the front: on a projector it shares the screen with the tour alone."""
        if not self.active or not what.startswith("raise "):
            return
        name = what.split(" ", 1)[1]
        for other, dock in self.window.docks.items():
            if other not in KEEP and other != name and not dock.isFloating():
                dock.hide()
        self._front = name if name not in KEEP else self._front
        self._layout()

    def _layout(self):
        """The tour gets LESSON_SHARE of the window's width; the panel Show me brought in gets PANEL_SHARE
        of it (a side dock) or half the height (a bottom dock): its fonts are larger than it was laid out for."""
        self._layout_timer.stop()
        w = self.window
        if self._saved is None:
            return
        width, height = w.width(), w.height()
        docks, sizes = [], []
        lesson = w.docks.get("lesson")
        if lesson is not None and lesson.isVisible() and not lesson.isFloating():
            docks.append(lesson)
            sizes.append(int(LESSON_SHARE * width))
        front = w.docks.get(self._front) if self._front else None
        if front is not None and (front.isHidden() or front.isFloating()):
            front = None
        if front is not None and w.dockWidgetArea(front) in (Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea):
            docks.append(front)
            sizes.append(int(PANEL_SHARE * width))
        if docks:
            w.resizeDocks(docks, sizes, Qt.Horizontal)
        if front is not None and w.dockWidgetArea(front) in (Qt.TopDockWidgetArea, Qt.BottomDockWidgetArea):
            w.resizeDocks([front], [int(BOTTOM_SHARE * height)], Qt.Vertical)
        w.layout().activate()
        self._hide_stale_tab_bars()
        self._fit_ticks()

    def _hide_stale_tab_bars(self):
        """Qt keeps the tab bar of a dock group it no longer uses on screen where the group was; with the
        docks hidden and the tour at full height it lies over the tour. A window tab bar naming a hidden
        dock is such a leftover (a live one lists only shown docks): hidden until presentation mode ends."""
        w = self.window
        hidden = {d.windowTitle() for d in w.docks.values() if d.isHidden()}
        stale = self._saved.setdefault("bars", [])
        for bar in w.findChildren(QTabBar):
            if bar.parent() is w and bar.isVisible() and any(bar.tabText(i) in hidden for i in range(bar.count())):
                bar.hide()
                stale.append(bar)

    def toggle(self):
        self.set_active(not self.active)

    def enter(self):
        self.set_active(True)

    def leave(self):
        self.set_active(False)

    def set_active(self, on: bool):
        on = bool(on)
        if on == self.active or self._switching:
            return  # (leaving processes events: a close or quit arriving then must not leave twice)
        self._switching = True
        try:
            if on:
                self._enter()
            else:
                self._leave()
        finally:
            self._switching = False
        self.active = on
        self.escape.setEnabled(on)
        if self.action.isChecked() != on:
            self.action.blockSignals(True)
            self.action.setChecked(on)
            self.action.blockSignals(False)
        self.toggled.emit(on)

    # the two directions

    def _enter(self):
        w = self.window
        app = QApplication.instance()
        self._saved = {
            "geometry": w.saveGeometry(),
            "rect": w.geometry(),
            "state": w.saveState(),
            "window_state": w.windowState(),
            "visible": {name: dock.isVisible() for name, dock in w.docks.items()},
            "qss": app.styleSheet(),
            "font": app.font(),
            "pens": [],
            "corners": {c: w.corner(c) for c in (Qt.TopLeftCorner, Qt.BottomLeftCorner)},
        }
        w.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)  # the tour keeps the full height
        # every font by one factor: the theme's, the app font, the fonts set in code (widgets' own
        # stylesheets, later text_style calls and the plots' fitted titles, which read style.font_scale),
        # and the plots' tick labels (fewer of them, fitted to their spacing)
        self._saved["ticks"] = self._scale_ticks(app.font())
        self._saved["axis_room"] = self._scale_axis_room()
        style.set_font_scale(self.font_scale)
        self._saved["sheets"] = self._scale_sheets()
        font = app.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * self.font_scale)
            app.setFont(font)
        app.setStyleSheet(scale_font_sizes(self._saved["qss"], self.font_scale))
        for item in self._curves():
            pen = pg.mkPen(item.opts["pen"])
            self._saved["pens"].append((item, item.opts["pen"]))
            pen.setWidthF(max(pen.widthF(), 1.0) * self.line_scale)
            item.setPen(pen)
        toolbar = getattr(w, "toolbar", None)
        if toolbar is not None:  # the icons say Play, Step, Epoch, Reset; the step readout keeps its room
            self._saved["toolbar"] = toolbar.toolButtonStyle()
            toolbar.setToolButtonStyle(Qt.ToolButtonIconOnly)
        self._saved["sizes"] = self._scale_sizes()
        bar = getattr(w, "timeline_bar", None)
        self._saved["timeline"] = bar is not None and not bar.isHidden()
        if bar is not None:
            bar.hide()  # exploring the run's past is no part of the lesson; the diagram gets its row
        for name, dock in w.docks.items():
            if name not in KEEP:
                dock.hide()
            else:
                dock.show()
                dock.raise_()
        for panel in w.panels.values():
            if hasattr(panel, "set_presentation"):
                panel.set_presentation(True)
        if hasattr(w.diagram, "set_presentation"):
            w.diagram.set_presentation(True)
        self._refit_plots()
        self._front = None
        w.setGeometry(self.screen_rect())  # without a window manager, full screen alone keeps the old size
        w.showFullScreen()
        self._layout_timer.start()  # once the window has its full-screen size

    def _leave(self):
        w = self.window
        s = self._saved or {}
        self._saved = None  # nothing lays the docks out for the projector from here on
        self._layout_timer.stop()
        self._unlink_fits()
        self._front = None
        app = QApplication.instance()
        for panel in w.panels.values():
            if hasattr(panel, "set_presentation"):
                panel.set_presentation(False)
        if hasattr(w.diagram, "set_presentation"):
            w.diagram.set_presentation(False)
        for item, pen in s.get("pens", ()):
            try:
                item.setPen(pen)
            except RuntimeError:  # the curve was deleted meanwhile
                pass
        style.set_font_scale(1.0)
        self._restore_sheets(s.get("sheets", ()))
        self._restore_ticks(s.get("ticks", ()))
        self._restore_axis_room(s.get("axis_room", ()))
        self._restore_sizes(s.get("sizes", ()))
        if "toolbar" in s and getattr(w, "toolbar", None) is not None:
            w.toolbar.setToolButtonStyle(s["toolbar"])
        if s.get("timeline") and getattr(w, "timeline_bar", None) is not None:
            w.timeline_bar.show()
        if "qss" in s:
            app.setStyleSheet(s["qss"])
            app.setFont(s["font"])
        self._refit_plots()
        for corner, area in s.get("corners", {}).items():
            w.setCorner(corner, area)
        w.setWindowState(s.get("window_state", Qt.WindowNoState))
        if not (s.get("window_state", Qt.WindowNoState) & Qt.WindowFullScreen):
            w.showNormal() if not (s.get("window_state", Qt.WindowNoState) & Qt.WindowMaximized) else w.showMaximized()
        for bar in s.get("bars", ()):
            try:
                bar.show()  # as they were: Qt's own to place or move aside
            except RuntimeError:  # Qt deleted it meanwhile
                pass
        if "geometry" in s:
            w.restoreGeometry(s["geometry"])
            if w.geometry() != s["rect"]:
                w.setGeometry(s["rect"])  # restoreGeometry keeps a window inside the screen; we want it as it was
            w.restoreState(s["state"])
            for name, visible in s["visible"].items():
                if name in w.docks:
                    w.docks[name].setVisible(visible)
            # the theme's normal fonts reach the toolbar and docks through posted style and layout events;
            # once they are in, the docks get their old sizes back exactly
            app.processEvents()
            w.restoreState(s["state"])
        self._saved = None

    # fonts set in code

    def _scale_sheets(self):
        """Every widget's own stylesheet with a font size, scaled; ``[(widget, before, set)]`` to undo it."""
        out = []
        for wdg in self.window.findChildren(QWidget):
            sheet = wdg.styleSheet()
            if "font-size" in sheet:
                new = scale_font_sizes(sheet, self.font_scale)
                wdg.setStyleSheet(new)
                out.append((wdg, sheet, new))
        return out

    def _restore_sheets(self, saved):
        for wdg, before, new in saved:
            try:
                now = wdg.styleSheet()
            except RuntimeError:  # deleted meanwhile
                continue
            if now == new:
                wdg.setStyleSheet(before)
            elif now != before:  # restyled while presenting (at the presentation scale): back to normal size
                wdg.setStyleSheet(scale_font_sizes(now, 1.0 / self.font_scale))

    def _scale_sizes(self):
        """Maximum widths set in pixels for the normal font (a fixed-width button, a column of controls) grow
        with the font. Returns ``[(widget, (min, max) before, (min, max) set)]`` to undo it."""
        out = []
        big = QWIDGETSIZE_MAX
        for wdg in self.window.findChildren(QWidget):
            if isinstance(wdg, QDockWidget):
                continue  # the docks are sized by the layout above
            lo, hi = wdg.minimumWidth(), wdg.maximumWidth()
            if hi >= big or hi <= 0:
                continue  # (minimum widths stay: larger ones would make the docks scroll sideways)
            new = (lo, min(max(int(hi * self.font_scale), lo), big))
            out.append((wdg, (lo, hi), new))
        for wdg, _old, (lo, hi) in out:
            wdg.setMinimumWidth(lo)
            wdg.setMaximumWidth(hi)
        return out

    def _restore_sizes(self, saved):
        for wdg, (lo, hi), new in saved:
            try:
                if (wdg.minimumWidth(), wdg.maximumWidth()) == new:
                    wdg.setMinimumWidth(lo)
                    wdg.setMaximumWidth(hi)
            except RuntimeError:
                pass

    def _axes(self):
        out = []
        for view in self.window.findChildren(pg.GraphicsView):
            scene = view.scene()
            if scene is not None:
                out.extend(item for item in scene.items() if isinstance(item, pg.AxisItem))
        return out

    def _scale_ticks(self, app_font):
        """Every plot axis's tick font scaled and its tick density lowered by the font scale (as many
        labels fit as before, each larger). Returns ``[(axis, tickFont before, density before, base pt)]``."""
        out = []
        normal_pt = app_font.pointSizeF() if app_font.pointSizeF() > 0 else 9.0
        for axis in self._axes():
            old = axis.style.get("tickFont")
            base = old.pointSizeF() if old is not None and old.pointSizeF() > 0 else normal_pt
            density = getattr(axis, "_tickDensity", 1.0)
            out.append((axis, old, density, base))
            font = QFont(old) if old is not None else QFont(app_font)
            font.setPointSizeF(base * self.font_scale)
            axis.setStyle(tickFont=font)
            axis.setTickDensity(density / self.font_scale)
            vb = axis.linkedView()
            if vb is not None:
                for signal in (vb.sigResized, vb.sigXRangeChanged, vb.sigYRangeChanged):
                    slot = lambda *_, a=axis: self._queue_fit(a)  # noqa: E731
                    signal.connect(slot)
                    self._fit_links.append((signal, slot))
        return out

    def _queue_fit(self, axis):
        if self._saved is not None:
            self._fit_queue.add(axis)
            self._fit_timer.start()

    def _fit_queued(self):
        axes, self._fit_queue = self._fit_queue, set()
        self._fit_ticks(axes)

    def _unlink_fits(self):
        self._fit_timer.stop()
        self._fit_queue = set()
        for signal, slot in self._fit_links:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._fit_links = []

    def _scale_axis_room(self):
        """An axis given a fixed width or height for its normal tick labels gets room for the larger ones.
        Returns ``[(axis, fixedWidth, fixedHeight)]`` to undo it."""
        out = []
        for axis in self._axes():
            fw, fh = getattr(axis, "fixedWidth", None), getattr(axis, "fixedHeight", None)
            if fw is None and fh is None:
                continue
            out.append((axis, fw, fh))
            if fw is not None and axis.orientation in ("left", "right"):
                axis.setWidth(int(fw * self.font_scale))
            if fh is not None and axis.orientation in ("top", "bottom"):
                axis.setHeight(int(fh * self.font_scale))
        return out

    def _fit_ticks(self, only=None):
        """Tick labels that run into each other at the projector's size get a smaller font (not below
        MIN_TICK_PT), then fewer ticks: bigger, but fitted to the plot they are in. ``only``: these axes."""
        for axis, _old, density, base in (self._saved or {}).get("ticks", ()):
            if only is not None and axis not in only:
                continue
            try:
                if not axis.isVisible() or axis.width() <= 0 or axis.height() <= 0:
                    continue
                if _fit_key(axis) == getattr(axis, "_presentation_fit", None):
                    continue  # fitted at this size and range already (the fit's own resize lands here)
                pt = base * self.font_scale
                dens = density / self.font_scale
                font = QFont(axis.style["tickFont"])
                if font.pointSizeF() != pt or axis._tickDensity != dens:
                    font.setPointSizeF(pt)
                    axis.setStyle(tickFont=font)
                    axis.setTickDensity(dens)
                for _ in range(40):
                    if not _ticks_collide(axis):
                        break
                    if pt > MIN_TICK_PT:
                        pt = max(MIN_TICK_PT, pt - 0.5)
                        font = QFont(axis.style["tickFont"])
                        font.setPointSizeF(pt)
                        axis.setStyle(tickFont=font)
                    elif dens > 0.15:
                        dens *= 0.7
                        axis.setTickDensity(dens)
                    else:
                        break
                axis._presentation_fit = _fit_key(axis)
            except RuntimeError:  # deleted meanwhile
                continue

    def _restore_axis_room(self, saved):
        for axis, fw, fh in saved:
            try:
                if fw is not None:
                    axis.setWidth(fw)
                if fh is not None:
                    axis.setHeight(fh)
            except RuntimeError:
                pass

    def _restore_ticks(self, saved):
        for axis, old, density, _base in saved:
            try:
                axis._presentation_fit = None
                axis.setStyle(tickFont=old)
                axis.setTickDensity(density)
            except RuntimeError:
                pass

    def _refit_plots(self):
        """Plots whose titles and labels are fitted (gui/fit.py) fit them again at the new font scale."""
        for view in self.window.findChildren(pg.GraphicsView):
            scene = view.scene()
            if scene is None:
                continue
            for item in scene.items():
                fit = getattr(item, "fit_text", None)
                if isinstance(item, pg.PlotItem) and callable(fit):
                    fit()

    def _curves(self):
        """Every pyqtgraph curve in the window (plot panels and the experiments' plots)."""
        out = []
        for view in self.window.findChildren(pg.GraphicsView):
            scene = view.scene()
            if scene is None:
                continue
            for item in scene.items():
                # a PlotDataItem hands its own pen to its curve at every setData: scale the owner's
                owner = isinstance(item, pg.PlotDataItem) or (
                    isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem)
                )
                if owner and item.opts.get("pen") is not None:
                    out.append(item)
        return out


def _fit_key(axis):
    """What a tick fit depends on: the axis's size and its view's range."""
    vb = axis.linkedView()
    rng = tuple(round(v, 9) for r in vb.viewRange() for v in r) if vb is not None else ()
    return (round(axis.width()), round(axis.height()), rng)


def _ticks_collide(axis) -> bool:
    """Whether two of ``axis``'s tick labels overlap (their ink: the text's width centred in its cell)."""
    img = QImage(8, 8, QImage.Format_ARGB32)
    p = QPainter(img)
    try:
        specs = axis.generateDrawSpecs(p)
    finally:
        p.end()
    if not specs:
        return False
    fm = QFontMetricsF(axis.style.get("tickFont") or axis.font())
    boxes = []
    for rect, _flags, text in specs[2]:
        r = QRectF(rect)
        w = min(r.width(), fm.horizontalAdvance(text))
        h = min(r.height(), fm.height())
        boxes.append(QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h).adjusted(-2, -1, 2, 1))
    return any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def install(window) -> Presentation:
    """Add View ▸ Presentation Mode (F11) to ``window``; called once after its menus exist."""
    p = Presentation(window)
    view_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"), None)
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addAction(p.action)
    return p
