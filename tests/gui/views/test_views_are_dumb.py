"""Views take arrays and draw: none imports the worker, the controller, the jobs or a panel."""

import ast
from pathlib import Path

from digitviz.gui import views

FORBIDDEN = (
    "digitviz.gui.worker",
    "digitviz.gui.controller",
    "digitviz.gui.jobs",
    "digitviz.gui.panels",
    "digitviz.gui.main_window",
)


def imports(path, package=("digitviz", "gui", "views")):
    package = list(package)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            yield mod
            yield from (f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_no_view_imports_the_worker_controller_jobs_or_a_panel():
    root = Path(views.__file__).parent
    files = sorted(root.rglob("*.py"))  # the view packages' modules too (network_view/)
    assert len(files) >= 6 and root / "network_view" / "drawing.py" in files
    for path in files:
        package = ("digitviz", "gui", "views", *path.parent.relative_to(root).parts)
        for mod in imports(path, package):
            assert not mod.startswith(FORBIDDEN), f"{path.name} imports {mod}"


def test_the_check_sees_relative_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ..worker import TrainWorker\nfrom .. import jobs\n")
    assert "digitviz.gui.worker" in set(imports(bad)) and "digitviz.gui.jobs" in set(imports(bad))
    # one level deeper (a module of a view package): three dots reach digitviz.gui
    bad.write_text("from ...panels import lesson\n")
    assert "digitviz.gui.panels" in set(imports(bad, ("digitviz", "gui", "views", "network_view")))
