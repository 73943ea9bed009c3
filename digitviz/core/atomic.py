"""Write-then-rename for files that must appear complete or not at all (saved networks, downloads).

A temporary file is created next to the final one as ``NAME.<pid>-<random>.part``, opened with
mode ``0o666`` so that the user's umask decides its permissions (``tempfile.mkstemp`` would
force ``0o600``), written, fsynced and renamed onto ``NAME`` with :func:`os.replace`; the folder
is then fsynced too, so the rename survives a power cut. A writer killed mid-write leaves its
``.part`` behind: :func:`clean_stale` removes such files on the next write into that folder,
but only those whose writer is gone (its pid no longer runs, or it is this process and not
writing now), so two processes saving side by side never delete each other's file.

Imports: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

_LIVE: set[str] = set()  # temporary files this process is writing right now
_LOCK = threading.Lock()
# Without a way to ask whether a pid runs (Windows: os.kill(pid, 0) would kill it), a temporary
# file counts as stale once it has not been touched for this long.
_STALE_AFTER_S = 3600.0


def create_temp(final: Path) -> tuple[int, Path]:
    """Open a new temporary file next to ``final`` for writing; returns ``(fd, path)``.

    The file is registered as live until :func:`finish` or :func:`discard` is called for it.
    """
    final = Path(final)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        with _LOCK:
            try:
                fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            except FileExistsError:
                continue
            _LIVE.add(str(tmp))
        return fd, tmp


def finish(f: BinaryIO, tmp: Path, final: Path) -> None:
    """Flush and fsync the open file object ``f`` (on ``tmp``), close it and rename onto ``final``."""
    try:
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, final)
    finally:
        with _LOCK:
            _LIVE.discard(str(tmp))
    if sys.platform != "win32":  # make the rename itself durable; best effort
        with contextlib.suppress(OSError):
            dfd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def discard(tmp: Path) -> None:
    """Remove a temporary file after a failure (no error if it is gone)."""
    with _LOCK:
        _LIVE.discard(str(tmp))
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it runs, as another user
        return True
    return True


def _is_stale(path: Path, pid: int | None) -> bool:
    if pid is None:  # named by an earlier version, which wrote it and never cleaned it up
        return True
    if sys.platform != "win32":
        if pid == os.getpid():
            with _LOCK:
                return str(path) not in _LIVE
        return not _pid_alive(pid)
    try:
        return time.time() - path.stat().st_mtime > _STALE_AFTER_S
    except OSError:
        return False


def clean_stale(folder: Path, final_name: str) -> list[Path]:
    """Remove stale temporary files in ``folder`` for final names matching the regex ``final_name``.

    Matches our naming ``FINAL.<pid>-<hex>.part`` (removed when that writer is gone) and the one
    of earlier versions, ``FINAL<8 random chars>.part`` and ``FINAL.<8 random chars>.part``
    (``tempfile.mkstemp``; always removed). Returns the files removed.
    """
    ours = re.compile(rf"^(?:{final_name})\.(\d+)-[0-9a-f]+\.part$")
    legacy = re.compile(rf"^(?:{final_name})\.?[a-z0-9_]{{8}}\.part$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = ours.match(entry.name)
        if m is None and not legacy.match(entry.name):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and _is_stale(path, int(m.group(1)) if m else None):
                path.unlink()
                removed.append(path)
    return removed
