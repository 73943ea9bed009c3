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
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from . import shortcuts

FONT_SCALE = 1.35  # every font size of the theme
LINE_SCALE = 2.0  # every plot curve's pen width
KEEP = ("lesson",)  # docks that stay on screen
LESSON_SHARE = 0.36  # of the screen's width, for the tour's large text
PANEL_SHARE = 0.36  # of the screen's width, for the side panel Show me brings in


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
        driver = getattr(window, "driver", None)
        if driver is not None and hasattr(driver, "acted"):
            driver.acted.connect(self._on_acted)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.leave)  # before the window saves its layout

    def eventFilter(self, obj, event):
        if obj is self.window and event.type() == QEvent.Close and self.active:
            self.leave()  # the layout remembered is the normal one, never the projector's
        return False

    def _on_acted(self, what: str):
        """Show me brought a panel to the front: on a projector it shares the screen with the tour alone."""
        if not self.active or not what.startswith("raise "):
            return
        name = what.split(" ", 1)[1]
        for other, dock in self.window.docks.items():
            if other not in KEEP and other != name and not dock.isFloating():
                dock.hide()
        self._give_room(name)

    def _give_room(self, name):
        """A panel on a projector gets a third of the screen (its fonts are larger than it was laid out for)."""
        w = self.window
        dock, screen = w.docks.get(name), w.screen()
        if dock is None or screen is None or name in KEEP:
            return
        area = w.dockWidgetArea(dock)
        size = screen.geometry().size()
        if area in (Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea):
            w.resizeDocks([dock], [int(PANEL_SHARE * size.width())], Qt.Horizontal)
        elif area in (Qt.TopDockWidgetArea, Qt.BottomDockWidgetArea):
            w.resizeDocks([dock], [int(0.5 * size.height())], Qt.Vertical)

    def toggle(self):
        self.set_active(not self.active)

    def enter(self):
        self.set_active(True)

    def leave(self):
        self.set_active(False)

    def set_active(self, on: bool):
        on = bool(on)
        if on == self.active:
            return
        if on:
            self._enter()
        else:
            self._leave()
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
        screen = w.screen()
        if screen is not None:
            w.setGeometry(screen.geometry())  # without a window manager, full screen alone keeps the old size
        w.showFullScreen()
        if screen is not None and "lesson" in w.docks:
            w.resizeDocks([w.docks["lesson"]], [int(LESSON_SHARE * screen.geometry().width())], Qt.Horizontal)

    def _leave(self):
        w = self.window
        s = self._saved or {}
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
        if "qss" in s:
            app.setStyleSheet(s["qss"])
            app.setFont(s["font"])
        for corner, area in s.get("corners", {}).items():
            w.setCorner(corner, area)
        w.setWindowState(s.get("window_state", Qt.WindowNoState))
        if not (s.get("window_state", Qt.WindowNoState) & Qt.WindowFullScreen):
            w.showNormal() if not (s.get("window_state", 0) & Qt.WindowMaximized) else w.showMaximized()
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


def install(window) -> Presentation:
    """Add View ▸ Presentation Mode (F11) to ``window``; called once after its menus exist."""
    p = Presentation(window)
    view_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"), None)
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addAction(p.action)
    return p
