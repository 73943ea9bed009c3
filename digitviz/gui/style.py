"""Where the app's resources live, and the theme: the stylesheet and the toolbar icons.

``resources/`` sits next to the package at the repository root (the project is installed editable).

Imports: PySide6.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

import digitviz

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
