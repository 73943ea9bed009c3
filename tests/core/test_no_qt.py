import subprocess
import sys


def test_core_and_cli_import_no_qt():
    code = (
        "import sys, pkgutil, importlib, digitviz.core as c, digitviz.cli\n"
        "[importlib.import_module('digitviz.core.' + m.name) for m in pkgutil.iter_modules(c.__path__)]\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')"
        " or m.startswith('digitviz.gui')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
