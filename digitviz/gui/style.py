"""Where the app's resources live, the theme (stylesheet, icons), and one process-wide Qt fix.

``resources/`` sits next to the package at the repository root (the project is installed editable).

The fix: with PySide6 6.12 on CPython 3.11, every Qt method that returns nothing (``update()``,
``repaint()``, ``QPainter.setPen()``...) drops one reference to ``None`` without having taken it (the
binding assumes CPython >= 3.12, where ``None`` is immortal). ``None`` starts with a few thousand
references, so a window painting at 60 Hz dies with "Fatal Python error: none_dealloc" within
seconds. :func:`pin_singletons` gives ``None``, ``True`` and ``False`` so many references that they
never reach zero, which is what CPython 3.12 does for them anyway. Importing this module applies it.

Imports: PySide6.
"""

from __future__ import annotations

import ctypes
import sys
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

import digitviz


def pin_singletons():
    """Make ``None``, ``True`` and ``False`` effectively immortal on CPython < 3.12 (see above)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or getattr(pin_singletons, "done", False):
        return
    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 56
    pin_singletons.done = True


pin_singletons()

RESOURCES = Path(digitviz.__file__).resolve().parent.parent / "resources"


def resource(*parts) -> Path:
    """Path of a file under ``resources/``."""
    return RESOURCES.joinpath(*parts)


@lru_cache(maxsize=None)
def stylesheet() -> str:
    """The application's QSS (empty if the file is missing: the app still works, unstyled)."""
    try:
        return resource("style.qss").read_text(encoding="utf-8")
    except OSError:
        return ""


def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` as a QIcon (a null icon if missing)."""
    path = resource("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()
