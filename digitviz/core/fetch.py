"""Download the four IDX files of MNIST, Fashion-MNIST or KMNIST into the user's cache, checked
against their published MD5 sums (:mod:`digitviz.core.datasets` holds them).

Each file is streamed into a temporary ``.part`` file in the destination folder while its MD5 is
computed, then checked (size and MD5), fsynced and renamed onto its final name (see
:mod:`digitviz.core.atomic`). A file therefore either appears complete and verified or not at
all: a failure, a bad checksum or a cancel removes the temporary file, and ``.part`` files of a
fetch that was killed are removed by the next fetch into that folder. Mirrors are tried in order; a mirror that
worked is tried first for the remaining files, so a dead mirror costs one timeout, not four.

Imports: the standard library (``urllib.request``) and :mod:`digitviz.core.data`; never Qt.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from digitviz import __version__
from digitviz.core import atomic, datasets
from digitviz.core.data import default_cache_dir

MIRRORS = list(datasets.MNIST.mirrors)
# File name -> (MD5 hex digest, size in bytes) of the official MNIST gzip files.
OFFICIAL = datasets.MNIST.checksums
CHUNK = 64 * 1024
_POLL_S = 0.05  # how often a download checks its cancel flag while a read blocks


class FetchError(Exception):
    """The download failed or was cancelled; the message is one line fit for a user."""


class _BadDownload(Exception):
    """A mirror served the wrong bytes (size or MD5); try the next one."""


class _Cancelled(Exception):
    pass


def _md5_of(path: Path) -> str:
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            md5.update(chunk)
    return md5.hexdigest()


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _is_valid(path: Path, md5: str, size: int) -> bool:
    try:
        return _size_of(path) == size and _md5_of(path) == md5
    except OSError:
        return False


class _Stalled(Exception):
    """The server accepted the connection but sent nothing for ``timeout`` seconds."""


def _opener(connections: list) -> urllib.request.OpenerDirector:
    """A urllib opener that records every HTTP(S) connection it makes, so that it can be cut."""

    def tracked(cls: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            conn = cls(*args, **kwargs)
            connections.append(conn)
            return conn

        return make

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(tracked(http.client.HTTPConnection), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(tracked(http.client.HTTPSConnection), req, context=self._context)  # type: ignore[attr-defined]  # set in __init__; typeshed omits it

    return urllib.request.build_opener(Http, Https)


@contextlib.contextmanager
def _cut_on_cancel(cancel: Callable[[], bool] | None, connections: list) -> Iterator[None]:
    """While active, a watchdog polls ``cancel`` every 50 ms and, once it is true, shuts the open
    connections down, so that a read blocked on a slow or stalled server returns at once."""
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_POLL_S):
            if cancel():
                for conn in list(connections):  # HTTP connections and, once open, the response
                    try:
                        sock = getattr(conn, "sock", None)
                        fd = sock.fileno() if sock is not None else conn.fileno()
                    except (AttributeError, OSError, ValueError):  # not connected yet, or closed
                        continue
                    # a duplicate of the descriptor: shutting it down ends the connection for the
                    # reader without touching its (possibly TLS) socket object from this thread
                    with contextlib.suppress(OSError), socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as dup:
                        dup.shutdown(socket.SHUT_RDWR)
                return

    watchdog = threading.Thread(target=watch, name="fetch-cancel", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()


def _download(
    url: str,
    final: Path,
    md5: str,
    size: int,
    progress: Callable[[str, int, int], object] | None,
    timeout: float,
    cancel: Callable[[], bool] | None,
) -> None:
    """Stream ``url`` into a temporary file next to ``final``, verify it, then rename it."""
    name = final.name
    request = urllib.request.Request(url, headers={"User-Agent": f"digitviz/{__version__}"})
    connections: list = []
    cancelled = (lambda: False) if cancel is None else cancel
    with _cut_on_cancel(cancel, connections):
        try:
            response = _opener(connections).open(request, timeout=timeout)
        except TimeoutError:  # connected, but no answer (urllib wraps connect timeouts in URLError)
            raise (
                _Cancelled if cancelled() else _Stalled(f"server stalled after {timeout:g} s without answering")
            ) from None
        except OSError:
            if cancelled():
                raise _Cancelled from None
            raise
        connections.append(response)  # urllib has let go of the connection's socket by now
        with response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != size:
                raise _BadDownload(f"server reports {length} bytes, expected {size}")
            fd, tmp = atomic.create_temp(final)
            try:
                digest, done = hashlib.md5(), 0
                with os.fdopen(fd, "wb") as out:
                    while True:
                        if cancelled():
                            raise _Cancelled
                        try:
                            chunk = response.read1(CHUNK)  # what has arrived: progress keeps moving on a slow link
                        except TimeoutError:
                            if cancelled():
                                raise _Cancelled from None
                            raise _Stalled(
                                f"download stalled after {timeout:g} s without data "
                                f"({done / 1e6:.1f} of {size / 1e6:.1f} MB)"
                            ) from None
                        except (OSError, http.client.HTTPException):
                            if cancelled():
                                raise _Cancelled from None
                            raise
                        if not chunk:
                            if cancelled():
                                raise _Cancelled
                            break
                        done += len(chunk)
                        if done > size:
                            raise _BadDownload(f"got more than the expected {size} bytes")
                        digest.update(chunk)
                        out.write(chunk)
                        if progress is not None:
                            progress(name, done, size)
                    if done != size:
                        raise _BadDownload(f"got {done} bytes, expected {size}")
                    if digest.hexdigest() != md5:
                        raise _BadDownload(f"MD5 is {digest.hexdigest()}, expected {md5}")
                    atomic.finish(out, tmp, final)
            except BaseException:
                atomic.discard(tmp)
                raise


_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


def _is_network_error(e: BaseException | str) -> bool:
    """True for "could not talk to the server at all" (DNS, refused, unreachable, timeout, reset).

    Not for HTTP errors, TLS errors or wrong bytes: those mean the network works.
    """
    if isinstance(e, urllib.error.HTTPError):
        return False
    if isinstance(e, urllib.error.URLError):
        e = e.reason
    if isinstance(e, (ConnectionError, TimeoutError, socket.gaierror)):
        return True
    return isinstance(e, OSError) and e.errno in _UNREACHABLE


def _describe(e: Exception, url: str) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason} from {url}"
    if isinstance(e, urllib.error.URLError):
        reason = e.reason
        text = getattr(reason, "strerror", None) or str(reason)
        return f"{text} ({url})"
    return f"{e or type(e).__name__} ({url})"


def fetch_dataset(
    key: str = "mnist",
    dest: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    checksums: dict[str, tuple[str, int]] | None = None,
    progress: Callable[[str, int, int], object] | None = None,
    timeout: float = 30.0,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Download one known dataset (``"mnist"``, ``"fashion"``, ``"kmnist"``) into its own cache folder.

    ``dest`` defaults to :meth:`DatasetInfo.cache_dir` (MNIST: :func:`default_cache_dir`); ``mirrors``
    and ``checksums`` to the dataset's. The other arguments and the errors are :func:`fetch_mnist`'s.
    On success the folder gets a :data:`digitviz.core.datasets.MARKER` naming the dataset.
    """
    try:
        ds = datasets.info(key)
    except ValueError as e:
        raise FetchError(str(e)) from None
    if not ds.files:
        raise FetchError(f"{ds.title} cannot be downloaded")
    dest = (
        Path(dest).expanduser() if dest is not None else (default_cache_dir() if ds.key == "mnist" else ds.cache_dir())
    )
    out = fetch_mnist(
        dest,
        mirrors=ds.mirrors if mirrors is None else mirrors,
        checksums=ds.checksums if checksums is None else checksums,
        progress=progress,
        timeout=timeout,
        cancel=cancel,
        title=ds.title,
    )
    try:
        (out / datasets.MARKER).write_text(ds.key + "\n", encoding="utf-8")
    except OSError:
        pass  # the MD5 of the label files identifies an official download anyway
    return out


def fetch_mnist(
    dest: str | os.PathLike | None = None,
    mirrors: Sequence[str] = MIRRORS,
    checksums: dict[str, tuple[str, int]] = OFFICIAL,
    progress: Callable[[str, int, int], object] | None = None,
    timeout: float = 30.0,
    cancel: Callable[[], bool] | None = None,
    title: str = "MNIST",
) -> Path:
    """Download the MNIST gzip files into ``dest`` unless valid copies are already there.

    Parameters
    ----------
    dest : str or Path, optional
        Target folder, created if needed. Default: :func:`digitviz.core.data.default_cache_dir`.
    mirrors : sequence of str
        Base URLs, tried in order; the file name is appended.
    checksums : dict
        File name -> ``(md5 hex digest, size in bytes)``; also decides which files are fetched.
    progress : callable, optional
        ``progress(filename, bytes_done, bytes_total)``, called from the calling thread after each
        chunk, and once with ``bytes_done == bytes_total`` for a file that was already present.
    timeout : float
        Seconds for connecting and for each read; a server that sends nothing for that long is
        reported as stalled.
    title : str
        The dataset's name in messages ("could not reach any Fashion-MNIST mirror").
    cancel : callable, optional
        Polled between chunks and, by a watchdog thread, every 50 ms while a read waits; returning
        True aborts with ``FetchError("cancelled")`` at once (the connection is shut down).
        Only the TCP connect itself (at most ``timeout``) is not cut short.

    Returns
    -------
    Path
        ``dest``, now holding every file of ``checksums``.

    Raises
    ------
    FetchError
        One line: which file failed and the last reason, or that we seem to be offline.
    """
    dest = Path(dest).expanduser() if dest is not None else default_cache_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"cannot create {dest}: {e.strerror or e}") from e
    # temporary files left by an earlier fetch that was killed
    atomic.clean_stale(dest, "|".join(re.escape(n) for n in checksums))
    order = [m if m.endswith("/") else m + "/" for m in mirrors]
    if not order:
        raise FetchError(f"no {title} mirrors given")

    for name, (md5, size) in checksums.items():
        if cancel is not None and cancel():
            raise FetchError("cancelled")
        final = dest / name
        if _is_valid(final, md5, size):
            if progress is not None:
                progress(name, size, size)
            continue
        failures = []
        for mirror in order:
            url = mirror + name
            try:
                _download(url, final, md5, size, progress, timeout, cancel)
            except _Cancelled:
                raise FetchError("cancelled") from None
            except (_BadDownload, _Stalled, OSError, http.client.HTTPException) as e:
                if isinstance(e, urllib.error.HTTPError):
                    e.close()  # an HTTPError holds the open response and its socket
                failures.append(e)
                reason = str(e) + f" ({url})" if isinstance(e, (_BadDownload, _Stalled)) else _describe(e, url)
                continue
            order.remove(mirror)
            order.insert(0, mirror)  # it works: try it first for the remaining files
            break
        else:
            if all(_is_network_error(e) for e in failures):
                message = f"could not reach any {title} mirror (offline?) for {name}: {reason}"
            else:
                message = f"could not download {name} from {len(failures)} mirror(s); last error: {reason}"
            raise FetchError(message) from failures[-1]

    wrong = [n for n, (_, size) in checksums.items() if _size_of(dest / n) != size]
    if wrong:  # e.g. another process removed or changed a file meanwhile
        raise FetchError(f"{dest}: after download, wrong size or missing: {', '.join(wrong)}")
    return dest
