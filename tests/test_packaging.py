"""A built wheel and sdist carry every resource and the licence, and an installed wheel finds them.

Marked ``slow``: it builds with pip (which fetches the build backend from the package index) and
installs into a fresh virtual environment. ``.ci/run`` runs it with the rest of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "digitviz" / "resources"

pytestmark = pytest.mark.slow


def _resource_names() -> set[str]:
    """Every file under digitviz/resources/ in the source tree, as 'digitviz/resources/...'."""
    return {
        p.relative_to(ROOT).as_posix() for p in RESOURCES.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def _clean_env() -> dict:
    """The environment without anything that would make Python import the repository's copy."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd, cwd, **kw):
    r = subprocess.run(cmd, cwd=cwd, env=_clean_env(), capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_resources_are_listed():
    # the set the other tests check against is not empty, and the style module names every icon there is
    from digitviz.gui.style import ICONS

    names = _resource_names()
    assert "digitviz/resources/style.qss" in names
    icons = {Path(n).stem for n in names if n.startswith("digitviz/resources/icons/")}
    assert icons == set(ICONS)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)], cwd=out)
    (whl,) = out.glob("digitviz-*.whl")
    return whl


def test_wheel_contains_every_resource_and_the_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _resource_names() - names
    assert not missing, f"resources not in the wheel: {sorted(missing)}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text


def test_sdist_contains_every_resource_and_the_licence(tmp_path):
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)], cwd=tmp_path)
    (sdist,) = tmp_path.glob("digitviz-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = _resource_names() - names
    assert not missing, f"resources not in the sdist: {sorted(missing)}"
    assert "LICENSE" in names


CHECK = r"""
import sys
import digitviz
print(digitviz.__file__)
from PySide6.QtWidgets import QApplication
from digitviz.gui.style import ICONS, icon, stylesheet
app = QApplication([])
qss = stylesheet()
assert "QMainWindow" in qss or "QWidget" in qss, qss[:200]
for name in ICONS:
    ic = icon(name)
    assert not ic.isNull(), name
    assert not ic.pixmap(24, 24).isNull(), name
print("ok", len(qss), len(ICONS))
"""


def test_installed_wheel_loads_stylesheet_and_icons(wheel, tmp_path):
    venv = tmp_path / "venv"
    # system site packages: PySide6 and NumPy come from this interpreter instead of a download
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    # run from an empty folder without PYTHONPATH, so the repository cannot be on sys.path
    r = _run([str(py), "-c", CHECK], cwd=tmp_path)
    first, *_, last = r.stdout.strip().splitlines()
    assert Path(first).resolve().is_relative_to(venv.resolve()), f"imported {first}, not the installed wheel"
    assert last.startswith("ok "), r.stdout
