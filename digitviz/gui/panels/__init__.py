"""The dock panels of the main window, in one list.

Each panel is a QWidget following the contract in docs/architecture.md (``on_snapshot``,
``set_dataset``, optional signals). The main window builds one dock per spec, in order; the
``name`` is the dock's objectName, under which QSettings remembers the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Qt

L, R, B = Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea


@dataclass(frozen=True)
class PanelSpec:
    name: str                 # objectName, stable across versions (QSettings key)
    title: str                # dock title and View-menu entry
    factory: Callable         # () -> QWidget, imported lazily
    area: Qt.DockWidgetArea   # where the default layout puts it
    shortcut: str = ""        # View-menu shortcut toggling the dock
    visible: bool = True      # shown in the default layout
    tab_with: str = ""        # name of a panel to tabify with in the default layout


def _lazy(module: str, cls: str) -> Callable:
    def make():
        import importlib

        return getattr(importlib.import_module(module, __package__), cls)()

    return make


def panel_specs() -> list[PanelSpec]:
    """Every dock panel, in default-layout order."""
    return [
        PanelSpec("lesson", "Lesson", _lazy(".lesson", "LessonPanel"), L, "Ctrl+0"),
        PanelSpec("settings", "Settings", _lazy(".settings", "SettingsPanel"), L, "Ctrl+1", tab_with="lesson"),
        PanelSpec("input", "Input", _lazy(".input", "InputPanel"), R, "Ctrl+3"),
        PanelSpec("weights", "Hidden-neuron weights", _lazy(".weights", "WeightsPanel"), R, "Ctrl+4",
                  tab_with="input"),
        PanelSpec("probe", "Overconfidence probe", _lazy(".probe", "ProbePanel"), R, "Ctrl+5",
                  tab_with="input"),
        PanelSpec("curves", "Learning curves", _lazy(".curves", "MetricsPanel"), B, "Ctrl+2"),
        PanelSpec("landscape", "Cost landscape", _lazy(".landscape", "LandscapePanel"), B, "Ctrl+6",
                  tab_with="curves"),
        PanelSpec("experiments", "Experiments", _lazy(".experiments", "ExperimentsPanel"), B, "Ctrl+7",
                  tab_with="curves"),
    ]
