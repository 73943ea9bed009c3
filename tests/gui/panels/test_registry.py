"""The panel registry: every declared panel, hook and wire resolves, so a rename breaks loudly here."""

import ast
from pathlib import Path

import numpy as np
import pytest

from digitviz.gui import panels
from digitviz.gui.main_window import MainWindow
from digitviz.gui.panels import (
    DIAGRAM,
    PANELS,
    WINDOW,
    WIRES,
    Panel,
    PanelSpec,
    Wire,
    resolve,
)
from digitviz.gui.views.network_view import NetworkView

PANELS_DIR = Path(panels.__file__).parent


def test_names_are_unique_and_tabs_refer_to_earlier_panels():
    names = [s.name for s in PANELS]
    assert len(set(names)) == len(names)
    for i, s in enumerate(PANELS):
        if s.tab_with:
            assert s.tab_with in names[:i], f"{s.name} tabs with {s.tab_with}, declared later or not at all"


@pytest.mark.parametrize("spec", PANELS, ids=lambda s: s.name)
def test_every_panel_class_satisfies_the_protocol_and_its_hooks(spec):
    cls = spec.panel_class()
    for method in ("on_snapshot", "set_dataset"):
        assert callable(getattr(cls, method)), f"{cls.__name__} lacks {method}"
    if spec.path_source:
        assert callable(cls.set_path_source)
    if spec.stoppable:
        assert callable(cls.shutdown)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: f"{w.source}.{w.signal}->{w.target}.{w.slot}")
def test_every_wire_resolves(wire):
    signal, slot = resolve(wire, MainWindow, NetworkView)
    assert callable(slot)
    assert hasattr(signal, "__get__") or hasattr(signal, "connect")


def test_a_renamed_signal_or_slot_is_caught():
    with pytest.raises(AttributeError):
        resolve(Wire("input", "input_changd", WINDOW, "show_input"), MainWindow, NetworkView)
    with pytest.raises(AttributeError):
        resolve(Wire("input", "input_changed", WINDOW, "show_inptu"), MainWindow, NetworkView)
    with pytest.raises(KeyError):
        resolve(Wire("inptu", "input_changed", WINDOW, "show_input"), MainWindow, NetworkView)
    with pytest.raises(AttributeError):
        PanelSpec("x", "X", ".input", "InputPanle", panels.R).panel_class()


def test_adapters_map_arguments():
    by_signal = {(w.source, w.signal): w for w in WIRES}
    assert by_signal["weights", "neuron_selected"].adapt(5) == (1, 5)
    clicked = by_signal[DIAGRAM, "neuron_clicked"].adapt
    assert clicked(1, 3) == (3,) and clicked(2, 3) is None  # only first-hidden-layer neurons are tiles


def imported_modules(path, rel):
    """Absolute names of the modules a file of digitviz/gui/panels imports (relative imports resolved)."""
    package = ["digitviz", "gui", "panels", *rel.parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield ".".join(base + ([node.module] if node.module else []))
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_no_panel_imports_another_panel():
    names = {s.module.lstrip(".") for s in PANELS}
    checked = 0
    for path in sorted(PANELS_DIR.rglob("*.py")):
        rel = path.relative_to(PANELS_DIR)
        own = rel.parts[0].removesuffix(".py")
        for mod in imported_modules(path, rel):
            parts = mod.split(".")
            if parts[:3] == ["digitviz", "gui", "panels"] and len(parts) > 3 and own != "__init__":
                assert parts[3] == own or parts[3] not in names, f"{rel} imports the panel {mod}"
                checked += 1
    assert checked  # the tabs of experiments/ import their own common module at least


def test_import_resolution_sees_a_panel_importing_another(tmp_path):
    fake = tmp_path / "probe.py"
    fake.write_text("from .input import InputPanel\nfrom ..colors import MUTED\n")
    assert list(imported_modules(fake, Path("probe.py"))) == ["digitviz.gui.panels.input", "digitviz.gui.colors"]
    nested = tmp_path / "gradient.py"
    nested.write_text("from ..input import InputPanel\n")
    assert list(imported_modules(nested, Path("experiments/gradient.py"))) == ["digitviz.gui.panels.input"]


def test_window_builds_every_panel_and_connects_every_wire(make_window, qtbot):
    w = make_window()
    assert list(w.panels) == [s.name for s in PANELS]
    for name, panel in w.panels.items():
        assert isinstance(panel, Panel), name
    assert w.wires == list(WIRES)


def test_wires_deliver(make_window, qtbot):
    w = make_window()
    x = np.zeros(784, np.float32)
    x[200:260] = 1
    w.docks["weights"].raise_()
    w.panels["experiments"].send_to_input.emit(x, 4)  # experiments -> input panel, raised
    assert w.panels["input"].source == "external" and w.panels["input"].label == 4
    qtbot.waitUntil(lambda: w._dock_shown("input"), timeout=2000)
    np.testing.assert_allclose(w.diagram._state.activations[0], x)  # the input panel announced it
    w.panels["weights"].neuron_selected.emit(3)  # weights -> diagram
    assert w.diagram._selected == (1, 3)
    w.diagram.neuron_clicked.emit(1, 7)  # diagram -> weights
    assert w.panels["weights"]._selected == 7
    w.diagram.neuron_clicked.emit(2, 2)  # not a tile: the weights keep their selection
    assert w.panels["weights"]._selected == 7
