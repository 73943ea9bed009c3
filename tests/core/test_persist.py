import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from digitviz.core.network import MAX_PARAMS
from digitviz.core.persist import PersistError, load_network, save_network
from digitviz.core.training import TrainConfig

from . import bombs


def test_round_trip(tmp_path):
    cfg = TrainConfig(sizes=(784, 12, 10), activation="tanh", cost="cross_entropy", lr=0.3, seed=4)
    net = cfg.network()
    p = save_network(tmp_path / "net", net, cfg, {"step": 17})
    assert p.name == "net.npz" and not list(tmp_path.glob("*.part"))
    net2, cfg2, meta = load_network(p)
    assert np.array_equal(net2.theta, net.theta) and net2.theta.dtype == net.theta.dtype
    assert cfg2 == cfg and meta == {"step": 17}
    x = np.random.default_rng(0).random((3, 784))
    np.testing.assert_array_equal(net2.feedforward(x), net.feedforward(x))


def _write(tmp_path, **arrays):
    p = tmp_path / "x.npz"
    np.savez(p, **arrays)
    return p


def test_rejections(tmp_path):
    cfg = TrainConfig(sizes=(784, 5, 10))
    good = save_network(tmp_path / "good.npz", cfg.network(), cfg)
    data = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(PersistError, match="trunc.npz: not a readable"):
        load_network(tmp_path / "trunc.npz")
    (tmp_path / "junk.npz").write_bytes(b"hello world")
    with pytest.raises(PersistError, match="junk.npz"):
        load_network(tmp_path / "junk.npz")
    with pytest.raises(PersistError, match="not a digitviz network"):
        load_network(_write(tmp_path, a=np.zeros(3)))
    with pytest.raises(PersistError, match="needs"):
        load_network(
            _write(
                tmp_path,
                format=np.array("digitviz-network"),
                version=np.array(1),
                config=np.array(json.dumps(cfg.to_dict())),
                meta=np.array("{}"),
                theta=np.zeros(7, np.float32),
            )
        )
    with pytest.raises(PersistError, match="newer"):
        load_network(
            _write(
                tmp_path,
                format=np.array("digitviz-network"),
                version=np.array(99),
                config=np.array("{}"),
                meta=np.array("{}"),
                theta=np.zeros(1),
            )
        )
    bad = cfg.network().theta
    bad[3] = np.nan
    with pytest.raises(PersistError, match="NaN"):
        load_network(
            _write(
                tmp_path,
                format=np.array("digitviz-network"),
                version=np.array(1),
                config=np.array(json.dumps(cfg.to_dict())),
                meta=np.array("{}"),
                theta=bad,
            )
        )
    # an object array would need pickle: refused, not executed
    with pytest.raises(PersistError):
        load_network(
            _write(
                tmp_path,
                format=np.array("digitviz-network"),
                version=np.array(1),
                config=np.array([{"a": 1}], dtype=object),
                meta=np.array("{}"),
                theta=bad,
            )
        )
    with pytest.raises(PersistError, match="no such file"):
        load_network(tmp_path / "absent.npz")


# --- hardening: every malformed file is one PersistError line; nothing built, nothing left behind ---


CFG = TrainConfig(sizes=(784, 5, 10))


def _members(cfg=CFG, theta=None, **override):
    d = cfg.to_dict()
    m = dict(
        format=np.array("digitviz-network"),
        version=np.array(1),
        config=np.array(json.dumps(d)),
        meta=np.array("{}"),
        theta=cfg.network().theta if theta is None else theta,
    )
    m.update(override)
    return m


def _cfg_json(**changes):
    d = CFG.to_dict()
    d.update(changes)
    return np.array(json.dumps(d))


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def _flip_in_compressed_data(tmp_path):
    p = tmp_path / "c.npz"
    np.savez_compressed(p, **_members())
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("theta.npy")
    name_len, extra_len = (
        int.from_bytes(raw[info.header_offset + 26 :][:2], "little"),
        int.from_bytes(raw[info.header_offset + 28 :][:2], "little"),
    )
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 5, start + 5 + 8):
        raw[k] ^= 0xFF
    return bytes(raw)


def _object_theta(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in _members(theta=np.array([{"x": 1}, 2], dtype=object)).items():
            zf.writestr(k + ".npy", _npy(v))
    return buf.getvalue()


def _declared_huge_theta(tmp_path):
    """theta's .npy header declares 2**28 floats (1 GiB) but the data is tiny."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in _members().items():
            if k != "theta":
                zf.writestr(k + ".npy", _npy(v))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2**28,)})
        zf.writestr("theta.npy", header.getvalue() + bytes(64))
    return buf.getvalue()


def _savez(**override):
    def make(tmp_path):
        buf = io.BytesIO()
        np.savez(buf, **_members(**override))
        return buf.getvalue()

    return make


NAMED = {
    "sizes with 0": (_savez(config=_cfg_json(sizes=[784, 0, 10])), "positive layer sizes"),
    "unknown activation": (_savez(config=_cfg_json(activation="swish")), "unknown activation 'swish'"),
    "config is a list": (_savez(config=np.array("[1, 2]")), "config is a JSON list, not an object"),
    "config not JSON": (_savez(config=np.array("{nope")), "config is not valid JSON"),
    "input not 784": (_savez(config=_cfg_json(sizes=[100, 5, 10])), "not a 784-...-10 digit network"),
    "output not 10": (_savez(config=_cfg_json(sizes=[784, 5, 3])), "not a 784-...-10 digit network"),
    "sizes vs theta": (_savez(config=_cfg_json(sizes=[784, 6, 10])), "needs 4,780"),
    "sizes are strings": (_savez(config=_cfg_json(sizes=["784", "5", "10"])), "list of integers"),
    "too many parameters": (_savez(config=_cfg_json(sizes=[784, 20000, 10])), f"at most {MAX_PARAMS:,}"),
    "lr is text": (_savez(config=_cfg_json(lr="fast")), "lr must be a finite number"),
    "lr negative": (_savez(config=_cfg_json(lr=-1.0)), "invalid settings: learning rate"),
    "epochs 0": (_savez(config=_cfg_json(epochs=0)), "invalid settings"),
    "version is an array": (_savez(version=np.array([1, 2])), "version is not a single integer"),
    "version is text": (_savez(version=np.array("1")), "version is not a single integer"),
    "version 0": (_savez(version=np.array(0)), "unknown format version 0"),
    "format is a number": (_savez(format=np.array(3)), "format is not a text string"),
    "meta is a list": (_savez(meta=np.array("[]")), "meta is a JSON list"),
    "meta step is text": (_savez(meta=np.array('{"step": "many"}')), "meta: step"),
    "theta 2-D": (_savez(theta=np.zeros((2, 2390), np.float32)), "shape (2, 2390)"),
    "theta int": (_savez(theta=np.zeros(3985, np.int32)), "parameters are int32"),
    "theta float64 vs float32": (_savez(theta=np.zeros(3985, np.float64)), "parameters are float64"),
    "theta complex": (_savez(theta=np.zeros(3985, np.complex64)), "parameters are complex64"),
    "theta has inf": (_savez(theta=np.full(3985, np.inf, np.float32)), "NaN or infinity"),
    "theta declared 2**28": (_declared_huge_theta, "268,435,456 parameters"),
    "object theta": (_object_theta, "Python objects"),
    "npy renamed npz": (lambda tmp: _npy(np.zeros(10)), "single .npy array"),
    "flipped compressed byte": (_flip_in_compressed_data, "not a readable .npz file"),
    "plain text": (lambda tmp: b"this is not a network\n" * 3, "not a readable .npz file"),
    "one byte": (lambda tmp: b"\x00", "not a readable .npz file"),
    "empty": (lambda tmp: b"", "not a readable .npz file"),
    "empty zip": (lambda tmp: bombs.zip_deflated({}), "not a digitviz network file"),
}


@pytest.mark.parametrize("case", list(NAMED))
def test_named_malformed_files_are_one_persist_error(tmp_path, case):
    make, phrase = NAMED[case]
    p = tmp_path / "bad.npz"
    p.write_bytes(make(tmp_path))
    with pytest.raises(PersistError) as info:
        load_network(p)
    message = str(info.value)
    assert message.startswith("bad.npz: ") and phrase in message, message
    assert "\n" not in message and "allow_pickle" not in message


def test_a_folder_is_reported_as_a_folder(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(PersistError, match="dir.npz: is a folder"):
        load_network(tmp_path / "dir.npz")


def _fuzz_cases(seed, good: bytes, n=120):
    r = np.random.default_rng(seed)
    for cut in np.unique(r.integers(0, len(good), n // 2)):
        yield f"cut{cut}", good[:cut]
    for k in range(n // 2):
        b = bytearray(good)
        for pos in r.integers(0, len(b), r.integers(1, 4)):
            b[pos] ^= int(r.integers(1, 256))
        yield f"flip{k}", bytes(b)


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_fuzz_truncated_and_flipped_networks(tmp_path, compressed):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **_members())
    good = buf.getvalue()
    p = tmp_path / "f.npz"
    outcomes = {"ok": 0, "error": 0}
    for label, data in _fuzz_cases(14 + compressed, good):
        p.write_bytes(data)
        try:
            net, cfg, meta = load_network(p)
        except PersistError as e:
            assert str(e).startswith("f.npz: ") and "\n" not in str(e), (label, str(e))
            outcomes["error"] += 1
        else:  # a flip in a field nobody reads (a zip timestamp, say): the network must still be sound
            assert net.sizes == (784, 5, 10) and np.all(np.isfinite(net.theta)), label
            outcomes["ok"] += 1
    assert outcomes["error"] > 60, outcomes


def test_save_respects_umask_and_removes_stale_temporary_files(tmp_path):
    old = tmp_path / "net.npz.1234abcd.part"  # stray temp file of an earlier version (mkstemp naming)
    old.write_bytes(b"x")
    older = tmp_path / "other.npzk3j_9x0q.part"
    older.write_bytes(b"x")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    ours = tmp_path / f"net.npz.{int(dead.stdout)}-0a1b2c3d.part"  # a writer that was killed
    ours.write_bytes(b"x")
    live = tmp_path / f"net.npz.{os.getppid()}-0a1b2c3d.part"  # a writer that still runs
    live.write_bytes(b"x")
    unrelated = tmp_path / "notes.part"
    unrelated.write_bytes(b"x")
    previous = os.umask(0o027)
    try:
        p = save_network(tmp_path / "net.npz", CFG.network(), CFG)
    finally:
        os.umask(previous)
    assert (p.stat().st_mode & 0o777) == 0o640
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(["net.npz", live.name, "notes.part"])
    os.umask(0o022)
    try:
        p = save_network(tmp_path / "net.npz", CFG.network(), CFG)
    finally:
        os.umask(previous)
    assert (p.stat().st_mode & 0o777) == 0o644


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    p = save_network(tmp_path / "net.npz", CFG.network(), CFG, {"step": 1})
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_network(tmp_path / "net.npz", CFG.network(), CFG, {"step": 2})
    assert p.read_bytes() == before and [x.name for x in tmp_path.iterdir()] == ["net.npz"]


_LOAD = """
from digitviz.core.persist import PersistError, load_network
try:
    load_network(sys.argv[1])
except PersistError as e:
    print(e)
"""


def test_inflating_theta_is_refused_with_bounded_memory(tmp_path):
    members = {k + ".npy": bombs.deflated(_npy(v)) for k, v in _members().items() if k != "theta"}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2**28,)})
    members["theta.npy"] = bombs.raw_deflate_then_zeros(header.getvalue(), 1024)  # 1 GiB of zeros
    p = tmp_path / "bomb.npz"
    p.write_bytes(bombs.zip_deflated(members))
    assert p.stat().st_size < 2e6
    (message,), peak_kib = bombs.run_measured(_LOAD, str(p))
    assert message.startswith("bomb.npz: theta is declared as 1,073,741,952 bytes"), message
    assert peak_kib < 150_000, f"peak RSS {peak_kib / 1024:.0f} MiB"
