"""The theme in one place: the stylesheet, the toolbar icons, and the few styles set from code.

The stylesheet and icons are package data in ``digitviz/resources/``, found with
:mod:`importlib.resources`, so an editable install, a wheel and an sdist all carry them. A missing
resource raises :class:`FileNotFoundError`: the app never falls back silently to Qt's default look.

Imports: PySide6 and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from . import colors

ICONS = ("app", "download", "epoch", "open", "pause", "play", "reset", "step")


def resource(*parts: str) -> Path:
    """Path of a file under ``digitviz/resources/``; FileNotFoundError if it is not there."""
    ref = resources.files("digitviz").joinpath("resources", *parts)
    path = Path(str(ref))
    if not path.is_file():
        raise FileNotFoundError(f"digitviz resource missing: resources/{'/'.join(parts)} (a broken install?)")
    return path


@cache
def stylesheet() -> str:
    """The application's QSS."""
    return resource("style.qss").read_text(encoding="utf-8")


@cache
def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` as a QIcon."""
    return QIcon(str(resource("icons", f"{name}.svg")))


ERROR = "#ff7b72"

# The app themes every widget with digitviz/resources/style.qss. A panel used on its own (tests, scripts,
# another host) gets this fallback with the same colours, so it looks the same everywhere.
PANEL_BACKGROUND = "#1b1e24"
PANEL_STYLE = f"""
QWidget#digitvizPanel {{ background: {PANEL_BACKGROUND}; }}
QWidget#digitvizPanel QLabel {{ color: {colors.FOREGROUND}; background: transparent; }}
QWidget#digitvizPanel QPushButton {{
    background: #262a33; color: {colors.FOREGROUND}; border: 1px solid #353b47; border-radius: 5px;
    padding: 4px 10px; }}
QWidget#digitvizPanel QPushButton:hover {{ background: #2e3440; border-color: #46506a; }}
QWidget#digitvizPanel QPushButton:pressed, QWidget#digitvizPanel QPushButton:checked {{ background: #23364a; }}
QWidget#digitvizPanel QPushButton:disabled {{ color: #5c6370; border-color: #2a2e36; }}
QWidget#digitvizPanel QPushButton#primary {{ background: #2f5f8a; border-color: #3f77a8; color: #ffffff; }}
QWidget#digitvizPanel QPushButton#primary:disabled {{ background: #26303c; color: #7f8796; }}
QWidget#digitvizPanel QComboBox {{
    background: #14161a; color: {colors.FOREGROUND}; border: 1px solid #2e333d; border-radius: 4px;
    padding: 3px 6px; }}
QToolTip {{ background-color: #262a33; color: #e6e9ef; border: 1px solid #3a404c; padding: 4px 6px; }}
"""


# Presentation mode (gui/presentation.py) scales every font of the app by one factor. Code that picks a
# font size itself (text_style, the plots' fitted titles in gui/fit.py) reads the factor here, so that a
# label styled while presenting is as large as the ones scaled when presentation mode began.
_font_scale = 1.0


def font_scale() -> float:
    """The factor every font size is multiplied by: 1 normally, larger in presentation mode."""
    return _font_scale


def set_font_scale(scale: float):
    """Presentation mode sets it on entering and puts 1 back on leaving."""
    global _font_scale
    _font_scale = float(scale)


def scaled_pt(pt: float) -> float:
    """``pt`` at the present font scale (rounded to a tenth)."""
    return round(float(pt) * _font_scale, 1)


def text_style(color: str, pt: float | None = None, bold: bool = False) -> str:
    """A label's stylesheet: colour and, if given, size (a stylesheet, since the app's theme sets fonts)."""
    css = f"color: {color};"
    if pt is not None:
        css += f" font-size: {scaled_pt(pt):g}pt;"
    if bold:
        css += " font-weight: bold;"
    return css


def style_panel(w: QWidget):
    """Name the panel for styling; without an application stylesheet, apply the fallback theme."""
    w.setObjectName("digitvizPanel")
    w.setAttribute(Qt.WA_StyledBackground, True)
    app = QApplication.instance()
    if app is None or not app.styleSheet():
        w.setStyleSheet(PANEL_STYLE)
