"""System prerequisites of the desktop app, checked before Qt is started.

On Linux under X11, Qt loads its ``xcb`` platform plugin, which links against a dozen small X
libraries that many desktop installs lack (``libxcb-cursor0`` above all). When one is missing, Qt
prints a long message and aborts the process. :func:`gui_prerequisite_problem` looks for those
libraries first (each is ``dlopen``-ed by its soname, the way Qt's loader will look for it) and
returns one line naming the missing ones and the ``apt install`` command that brings them.

It runs only where Qt would pick ``xcb``: on Linux with ``QT_QPA_PLATFORM`` unset or ``xcb``, and
not in a Wayland session (unless ``xcb`` is asked for). It takes a few milliseconds.

Imports: the standard library only (never Qt: it must run before Qt is loaded).
"""

from __future__ import annotations

import ctypes
import os
import sys

# The libraries Qt 6's libqxcb.so needs beyond Qt itself and the C/C++ runtime (from ``ldd`` on
# PySide6 6.11's plugins/platforms/libqxcb.so), with the Debian/Ubuntu package of each.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
}


def can_load(soname: str) -> bool:
    """True if the dynamic loader finds and loads ``soname`` (with its own dependencies)."""
    try:
        ctypes.CDLL(soname, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def uses_xcb(environ=None, platform: str | None = None) -> bool:
    """Whether Qt will load the xcb platform plugin in this environment."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    qpa = env.get("QT_QPA_PLATFORM", "").strip()
    if qpa:
        # "xcb", or a fallback list such as "wayland;xcb": xcb only when it comes first
        return qpa.split(";")[0].split(":")[0] == "xcb"
    wayland = env.get("XDG_SESSION_TYPE", "").lower() == "wayland" or bool(env.get("WAYLAND_DISPLAY"))
    return not wayland


def missing_xcb_libraries(load=None) -> list[str]:
    """The sonames of :data:`XCB_LIBRARIES` that ``load`` (default :func:`can_load`) cannot load, in order."""
    load = can_load if load is None else load
    return [name for name in XCB_LIBRARIES if not load(name)]


def gui_prerequisite_problem(environ=None, platform: str | None = None, load=None) -> str | None:
    """One line saying which system libraries the app lacks and how to install them, or None.

    Parameters
    ----------
    environ : mapping, optional
        Default :data:`os.environ`.
    platform : str, optional
        Default :data:`sys.platform`.
    load : callable(str) -> bool, optional
        Tries to load one library by soname; default :func:`can_load` (looked up at call time, so a
        test can replace it).
    """
    if not uses_xcb(environ, platform):
        return None
    missing = missing_xcb_libraries(load)
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(XCB_LIBRARIES[m] for m in missing))
    return (
        f"digitviz: Qt's X11 (xcb) platform plugin needs system libraries that are missing: "
        f"{', '.join(missing)}; install them with: sudo apt install {packages}"
    )
