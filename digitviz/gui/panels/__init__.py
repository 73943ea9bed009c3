"""The dock panels of the main window: the Panel protocol, which panels exist, and what they are wired to.

This module is the one place to read (or edit) to add a panel:

1. Write a ``QWidget`` that satisfies :class:`Panel` (``on_snapshot``, ``set_dataset``) in a module of
   this package. It never imports another panel, the worker or the controller.
2. Add a :class:`PanelSpec` to :data:`PANELS` (its ``name`` is the dock's objectName, under which
   QSettings remembers the layout, so never rename it).
3. Declare its connections in :data:`WIRES`: which of its signals go to which window, diagram or panel
   method, and which other signals reach it. Its keys go in :data:`digitviz.gui.shortcuts.SHORTCUTS`.

The main window builds one dock per spec, in order, and connects every wire whose two ends exist (a
panel that fails to build is logged and left out). Nothing is found by ``getattr``: a wire names a
signal and a method, and :func:`resolve` (run by the tests for every wire) fails loudly when either is
missing, so a rename cannot silently break the wiring.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from digitviz.core.snapshot import Snapshot

L, R, B = Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea


@runtime_checkable
class Panel(Protocol):
    """What every dock panel is, called on the GUI thread by the main window.

    ``on_snapshot(snap)``: the latest :class:`~digitviz.core.snapshot.Snapshot`, from the frame timer,
    while the dock is on screen (and again when it comes back; every frame if the spec says
    ``always_feed``). Cheap (a few ms): update existing items with ``setData``/``setImage``; heavy work
    goes to :mod:`digitviz.gui.jobs` with copies. A new ``snap.generation`` means a reset.

    ``set_dataset(ds)``: data became available (a :class:`~digitviz.core.data.Dataset`) or not (None).
    """

    def on_snapshot(self, snap: Snapshot) -> None: ...

    def set_dataset(self, ds: Any) -> None: ...


@dataclass(frozen=True)
class PanelSpec:
    name: str  # objectName, stable across versions (QSettings key)
    title: str  # dock title and View-menu entry
    module: str  # module of this package holding the class, e.g. ".input"
    cls: str  # the panel's class name
    area: Qt.DockWidgetArea  # where the default layout puts it
    visible: bool = True  # shown in the default layout
    tab_with: str = ""  # name of a panel to tabify with in the default layout
    always_feed: bool = False  # fed every frame even while hidden (it must not miss a step)
    path_source: bool = False  # given the controller's whole descent path: set_path_source(callable)
    stoppable: bool = False  # runs background jobs: shutdown() is called when the window closes
    driven: bool = False  # drives the app (the tour): set_driver(AppDriver) is called once the window is built
    same_frame: bool = False  # shows what the diagram shows: every frame's snapshot, never deferred while training
    short: str = ""  # the dock's tab title when its tab row is too narrow for the full titles

    def panel_class(self) -> type:
        """The class (imported now): AttributeError or ImportError if the spec names a missing one."""
        return getattr(importlib.import_module(self.module, __package__), self.cls)

    def factory(self):
        """A new panel."""
        return self.panel_class()()


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("lesson", "Lesson", ".lesson", "LessonPanel", L, driven=True),
    PanelSpec("settings", "Settings", ".settings", "SettingsPanel", L, tab_with="lesson"),
    PanelSpec("input", "Input", ".input", "InputPanel", R, same_frame=True, stoppable=True),
    PanelSpec("weights", "Hidden-neuron weights", ".weights", "WeightsPanel", R, tab_with="input", short="Weights"),
    PanelSpec("probe", "Overconfidence probe", ".probe", "ProbePanel", R, tab_with="input", short="Probe"),
    PanelSpec("claims", "Draw & move", ".claims", "ClaimsPanel", R, tab_with="input", stoppable=True, short="Draw"),
    PanelSpec("curves", "Learning curves", ".curves", "MetricsPanel", B, always_feed=True, short="Curves"),
    PanelSpec(
        "landscape",
        "Cost landscape",
        ".landscape",
        "LandscapePanel",
        B,
        tab_with="curves",
        short="Landscape",
        path_source=True,
        stoppable=True,
    ),
    PanelSpec("experiments", "Experiments", ".experiments", "ExperimentsPanel", B, tab_with="curves", stoppable=True),
)


def panel_specs() -> list[PanelSpec]:
    """Every dock panel, in default-layout order."""
    return list(PANELS)


WINDOW, DIAGRAM = "window", "diagram"  # the two ends of a wire that are not panels


@dataclass(frozen=True)
class Wire:
    """``source.signal`` connected to ``target.slot``; each end is ``"window"``, ``"diagram"`` or a panel name.

    ``adapt(*args)`` turns the signal's arguments into the slot's (None: do not call it); ``show``
    brings the target panel's dock to the front first.
    """

    source: str
    signal: str
    target: str
    slot: str
    adapt: Callable | None = None
    show: bool = False


def _first_hidden_layer(layer, index):
    return (index,) if layer == 1 else None  # a first-hidden-layer neuron is also a weight tile


WIRES: tuple[Wire, ...] = (
    # the diagram shows the input a panel chose; (None, -1) follows training again
    Wire("input", "input_changed", WINDOW, "show_input"),
    # an image picked in an experiment goes to the input panel (which then announces it)
    Wire("experiments", "send_to_input", "input", "show_image", show=True),
    # one step's negative gradient, for the diagram's gradient colouring
    Wire("experiments", "gradient_shown", WINDOW, "show_gradient"),
    # "ask it to draw": the drawing shows in the diagram while it evolves, and ends in the input panel
    Wire("claims", "input_changed", WINDOW, "show_input"),
    Wire("claims", "send_to_input", "input", "show_image", show=True),
    # ... and may start from the input panel's current image (drawn, noise, test digit, moved)
    Wire("input", "input_changed", "claims", "set_input_image"),
    # settings: live changes reach the worker; architecture changes ask, then reset
    Wire("settings", "live_changed", WINDOW, "update_config"),
    Wire("settings", "reset_requested", WINDOW, "reset_with"),
    # weight tiles and first-hidden-layer neurons select each other
    Wire("weights", "neuron_selected", DIAGRAM, "select_neuron", adapt=lambda i: (1, i)),
    Wire(DIAGRAM, "neuron_clicked", "weights", "select_neuron", adapt=_first_hidden_layer),
    # two parameters picked in the diagram become the landscape's plane
    Wire(DIAGRAM, "parameters_picked", "landscape", "use_parameters", show=True),
)


def spec(name: str) -> PanelSpec:
    for s in PANELS:
        if s.name == name:
            return s
    raise KeyError(f"no panel named {name!r}")


def resolve(wire: Wire, window_cls: type, diagram_cls: type) -> tuple[Any, Any]:
    """The (signal, slot) class attributes a wire names; AttributeError/KeyError when either is missing."""

    def cls_of(end):
        return {WINDOW: window_cls, DIAGRAM: diagram_cls}.get(end) or spec(end).panel_class()

    src, dst = cls_of(wire.source), cls_of(wire.target)
    signal = getattr(src, wire.signal)
    if not hasattr(signal, "connect") and type(signal).__name__ != "Signal":
        raise AttributeError(f"{src.__name__}.{wire.signal} is not a signal")
    return signal, getattr(dst, wire.slot)
