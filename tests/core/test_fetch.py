"""Downloader against a local HTTP server serving the shared MNIST folder; only 127.0.0.1 is contacted."""

import contextlib
import errno
import functools
import hashlib
import http.server
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error

import pytest

from digitviz.core.fetch import FetchError, _is_network_error, fetch_mnist

NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = None  # set per server: a list of requested paths

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client hanging up mid-file (cancel, wrong size) is expected here


@pytest.fixture
def server(mnist_dir):
    """Serve mnist_dir on 127.0.0.1; yields (base URL, list of requested paths)."""
    requests = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    httpd = _QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(mnist_dir)))
    # A short poll interval so that shutdown() returns at once, not after the default 0.5 s.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def checksums(mnist_dir):
    """MD5 and size of the local files (their gzip headers differ from the official ones)."""
    return {
        name: (hashlib.md5((mnist_dir / name).read_bytes()).hexdigest(), (mnist_dir / name).stat().st_size)
        for name in NAMES
    }


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_downloads_all_four_with_progress(server, checksums, mnist_dir, tmp_path):
    url, requests = server
    dest = tmp_path / "new" / "cache"
    calls = []
    got = fetch_mnist(dest, mirrors=[url], checksums=checksums, progress=lambda *a: calls.append(a))
    assert got == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (dest / name).read_bytes() == (mnist_dir / name).read_bytes()
        done = [d for n, d, total in calls if n == name]
        assert all(total == checksums[name][1] for n, _, total in calls if n == name)
        assert done == sorted(done) and done[-1] == checksums[name][1]
    big = [c for c in calls if c[0] == "train-images-idx3-ubyte.gz"]
    assert len(big) > 20  # often enough to drive a progress bar
    assert sorted(requests) == sorted("/" + n for n in NAMES)


def test_skips_files_already_present_and_valid(server, checksums, mnist_dir, tmp_path):
    url, requests = server
    shutil.copy(mnist_dir / "train-images-idx3-ubyte.gz", tmp_path)
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"stale partial file")  # invalid: fetched again
    calls = []
    fetch_mnist(tmp_path, mirrors=[url], checksums=checksums, progress=lambda *a: calls.append(a))
    assert sorted(requests) == ["/t10k-images-idx3-ubyte.gz", "/train-labels-idx1-ubyte.gz"]
    size = checksums["train-images-idx3-ubyte.gz"][1]
    assert ("train-images-idx3-ubyte.gz", size, size) in calls  # a skipped file still reports done
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (mnist_dir / name).read_bytes()


def test_bad_checksum_leaves_nothing(server, checksums, tmp_path):
    url, _ = server
    name = "t10k-labels-idx1-ubyte.gz"
    bad = {name: ("0" * 32, checksums[name][1])}
    with pytest.raises(FetchError, match=f"{name}.*MD5") as info:
        fetch_mnist(tmp_path, mirrors=[url], checksums=bad)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_leaves_nothing(server, checksums, tmp_path):
    url, _ = server
    name = "train-labels-idx1-ubyte.gz"
    md5, size = checksums[name]
    with pytest.raises(FetchError, match=f"{name}.*expected {size + 1}"):
        fetch_mnist(tmp_path, mirrors=[url], checksums={name: (md5, size + 1)})
    assert list(tmp_path.iterdir()) == []


def test_falls_back_to_next_mirror(server, checksums, closed_port_url, tmp_path):
    url, requests = server
    mirrors = [closed_port_url, url + "missing", url]  # a missing trailing slash is added
    fetch_mnist(tmp_path, mirrors=mirrors, checksums=checksums, timeout=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
    # The 404 mirror is asked once; after the good mirror worked it is tried first.
    assert requests.count("/missing/" + NAMES[0]) == 1
    assert sum(r.startswith("/missing/") for r in requests) == 1


def test_http_error_on_every_mirror_names_file_and_reason(server, checksums, tmp_path):
    url, _ = server
    with pytest.raises(FetchError, match=r"could not download train-images-idx3-ubyte.gz .*HTTP 404"):
        fetch_mnist(tmp_path, mirrors=[url + "missing/"], checksums=checksums)
    assert list(tmp_path.iterdir()) == []


def test_all_mirrors_down_says_offline(closed_port_url, checksums, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch_mnist(tmp_path, mirrors=[closed_port_url, closed_port_url + "x/"], checksums=checksums)
    message = str(info.value)
    assert "could not reach any MNIST mirror (offline?)" in message and NAMES[0] in message
    assert "refused" in message.lower() and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_cancel_mid_download_leaves_nothing(server, checksums, tmp_path):
    url, _ = server
    seen = []

    def progress(name, done, total):
        seen.append(done)

    with pytest.raises(FetchError, match="^cancelled$"):
        fetch_mnist(tmp_path, mirrors=[url], checksums=checksums, progress=progress, cancel=lambda: len(seen) >= 3)
    assert len(seen) == 3  # stopped promptly, in the middle of the first (large) file
    assert list(tmp_path.iterdir()) == []


def test_cancel_before_start(server, checksums, tmp_path):
    url, requests = server
    with pytest.raises(FetchError, match="cancelled"):
        fetch_mnist(tmp_path, mirrors=[url], checksums=checksums, cancel=lambda: True)
    assert requests == [] and list(tmp_path.iterdir()) == []


def test_default_dest_is_the_user_cache(server, checksums, tmp_path, monkeypatch):
    url, _ = server
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    small = {n: checksums[n] for n in NAMES if "labels" in n}
    assert fetch_mnist(mirrors=[url], checksums=small) == tmp_path / "digitviz" / "mnist"
    assert sorted(p.name for p in (tmp_path / "digitviz" / "mnist").iterdir()) == sorted(small)


def test_silent_server_is_reported_as_stalled_not_offline(checksums, tmp_path):
    with socket.socket() as s:  # accepts connections (kernel backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"http://127.0.0.1:{s.getsockname()[1]}/"
        with pytest.raises(FetchError, match=r"stalled after 0.2 s without answering") as info:
            fetch_mnist(tmp_path, mirrors=[url], checksums=checksums, timeout=0.2)
    assert "offline" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "error, offline",
    [
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), True),
        (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), True),
        (urllib.error.URLError(OSError(errno.ENETUNREACH, "Network is unreachable")), True),
        (urllib.error.URLError(TimeoutError("timed out")), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (urllib.error.URLError(ssl.SSLCertVerificationError(1, "certificate verify failed")), False),
        (urllib.error.HTTPError("http://x/", 503, "Service Unavailable", {}, None), False),
        (OSError(28, "No space left on device"), False),
    ],
)
def test_which_errors_mean_offline(error, offline):
    assert _is_network_error(error) is offline


@pytest.fixture
def stalling_server():
    """127.0.0.1 server that sends the headers and 1000 bytes of a file, then nothing until the test ends."""
    release = threading.Event()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.05)

    def serve():
        with contextlib.suppress(OSError):
            while not release.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 28881\r\n\r\n" + bytes(1000))
                    release.wait(10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    finally:
        release.set()
        srv.close()
        thread.join(5)


def test_stalled_download_says_stalled_and_after_how_long(stalling_server, checksums, tmp_path):
    name = "train-labels-idx1-ubyte.gz"
    with pytest.raises(FetchError, match=r"download stalled after 0.3 s without data \(0.0 of 0.0 MB\)") as info:
        fetch_mnist(tmp_path, mirrors=[stalling_server], checksums={name: checksums[name]}, timeout=0.3)
    assert "offline" not in str(info.value) and name in str(info.value)
    assert list(tmp_path.iterdir()) == []


def _cancel_soon(url, name, checksums, tmp_path):
    """Fetch with a 30 s timeout and a cancel flag set 0.3 s in; returns the seconds it took."""
    flag = threading.Event()
    timer = threading.Timer(0.3, flag.set)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(FetchError, match="^cancelled$"):
            fetch_mnist(tmp_path, mirrors=[url], checksums={name: checksums[name]}, timeout=30, cancel=flag.is_set)
    finally:
        timer.cancel()
    assert list(tmp_path.iterdir()) == []
    return time.monotonic() - start


def test_cancel_cuts_a_read_blocked_on_a_stalled_body(stalling_server, checksums, tmp_path):
    assert _cancel_soon(stalling_server, "train-labels-idx1-ubyte.gz", checksums, tmp_path) < 10  # not 30


def test_cancel_cuts_a_wait_for_headers(checksums, tmp_path):
    with socket.socket() as s:  # accepts connections (kernel backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"http://127.0.0.1:{s.getsockname()[1]}/"
        assert _cancel_soon(url, "train-labels-idx1-ubyte.gz", checksums, tmp_path) < 10  # not 30


def test_next_fetch_removes_stale_temporary_files(server, checksums, tmp_path):
    url, _ = server
    name = "t10k-labels-idx1-ubyte.gz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = [tmp_path / f"{name}.{int(dead.stdout)}-0a1b2c3d.part", tmp_path / f"{name}.k3j_9x0q.part"]
    for p in stale:
        p.write_bytes(b"left by a killed fetch")
    (tmp_path / "keep.part").write_bytes(b"not ours")
    fetch_mnist(tmp_path, mirrors=[url], checksums={name: checksums[name]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.part", name]
