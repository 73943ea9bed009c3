"""The X11 prerequisite check: which environments it runs in, its one-line message, and the exit code."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitviz import prereq

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "env, platform, expected",
    [
        ({}, "linux", True),  # X11 by default
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({"XDG_SESSION_TYPE": "wayland"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),  # XWayland asked for
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_the_check_runs_only_where_qt_loads_xcb(env, platform, expected):
    assert prereq.uses_xcb(env, platform) is expected


def test_missing_libraries_give_one_line_with_the_apt_install():
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0"}
    msg = prereq.gui_prerequisite_problem({"DISPLAY": ":0"}, "linux", load=lambda name: name not in absent)
    assert "\n" not in msg
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxkbcommon-x11.so.0" in msg
    assert msg.endswith("install them with: sudo apt install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0")


def test_nothing_missing_or_not_x11_says_nothing():
    assert prereq.gui_prerequisite_problem({}, "linux", load=lambda name: True) is None
    assert prereq.gui_prerequisite_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", load=lambda n: False) is None


def test_the_real_lookup_finds_a_library_that_is_there_and_not_one_that_is_not():
    assert prereq.can_load("libc.so.6")
    assert not prereq.can_load("libdigitviz-no-such-library.so.0")


def test_the_app_exits_with_code_2_and_the_message_before_qt_starts(tmp_path):
    # a fresh process, as a user starts it: X11 session, the cursor library "missing"
    script = (
        "import sys, digitviz.prereq as p\n"
        "p.can_load = lambda name: name != 'libxcb-cursor.so.0'\n"
        "from digitviz.cli import main\n"
        "code = main([])\n"
        "from PySide6.QtWidgets import QApplication\n"
        "assert QApplication.instance() is None, 'a QApplication was created'\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(XDG_SESSION_TYPE="x11", DISPLAY=":97", PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path))
    r = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "libxcb-cursor.so.0" in lines[0] and "sudo apt install libxcb-cursor0" in lines[0]
