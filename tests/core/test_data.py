"""MNIST loader: tiny hand-made IDX files in tmp_path, every corruption, folder lookup, real data."""

import gzip
import hashlib
import sys

import numpy as np
import pytest

from digitviz.core.data import (
    FILES,
    MAX_BYTES,
    MAX_ITEMS,
    DataError,
    Dataset,
    default_cache_dir,
    describe_missing_data,
    find_data_dir,
    load_mnist,
    read_idx,
)

from . import bombs

# SHA-256 of the decompressed t10k-labels file (../shared/data/mnist/README.md).
TEST_LABELS_SHA256 = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"


def idx_bytes(arr, magic=None, dtype_code=0x08):
    """IDX encoding of a uint8 array; ``magic`` overrides the header's magic number."""
    arr = np.asarray(arr, dtype=np.uint8)
    if magic is None:
        magic = (dtype_code << 8) | arr.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    return header + arr.tobytes()


def write_mnist(folder, rng, n_train=5, n_test=3, gz=True):
    """Write a complete, valid tiny MNIST folder; return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays["train_images"][0, 0, 0] = 255  # so that images_as must reach exactly 1.0
    for key, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (folder / (FILES[key] + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / FILES[key]).write_bytes(data)
    return arrays


@pytest.fixture
def tiny(tmp_path, rng):
    folder = tmp_path / "mnist"
    return folder, write_mnist(folder, rng)


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip(tmp_path, rng, gz):
    arrays = write_mnist(tmp_path, rng, gz=gz)
    ds = load_mnist(tmp_path)
    assert ds.source == tmp_path
    for key in FILES:
        got = getattr(ds, key)
        assert got.dtype == np.uint8 and got.flags.c_contiguous and not got.flags.writeable
        np.testing.assert_array_equal(got, arrays[key].reshape(len(arrays[key]), -1).squeeze())
    assert ds.train_images.shape == (5, 784) and ds.test_labels.shape == (3,)


def test_gzip_detected_by_magic_bytes_not_name(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "plain.gz").write_bytes(idx_bytes(arr))
    (tmp_path / "packed").write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), arr)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "packed")), arr)


def test_dotted_variant_names_are_accepted(tmp_path, rng):
    write_mnist(tmp_path, rng, gz=False)
    for name in FILES.values():
        stem, _, idx = name.rpartition("-idx")
        (tmp_path / name).rename(tmp_path / f"{stem}.idx{idx}")
    assert load_mnist(tmp_path).test_images.shape == (3, 784)


def _rewrite(path, data):
    path.write_bytes(gzip.compress(data))


def _corrupt_magic(folder, arrays):
    _rewrite(folder / "train-images-idx3-ubyte.gz", idx_bytes(arrays["train_images"], magic=2049))


def _corrupt_dtype(folder, arrays):
    _rewrite(folder / "train-labels-idx1-ubyte.gz", idx_bytes(arrays["train_labels"], dtype_code=0x0D))


def _corrupt_truncated(folder, arrays):
    _rewrite(folder / "t10k-images-idx3-ubyte.gz", idx_bytes(arrays["test_images"])[:-10])


def _corrupt_trailing(folder, arrays):
    _rewrite(folder / "t10k-labels-idx1-ubyte.gz", idx_bytes(arrays["test_labels"]) + b"\0\0")


def _corrupt_gzip_truncated(folder, arrays):
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])


def _corrupt_gzip_garbage(folder, arrays):
    path = folder / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[12:20] = b"\xff" * 8
    path.write_bytes(bytes(data))


def _corrupt_label(folder, arrays):
    labels = arrays["train_labels"].copy()
    labels[3] = 12
    _rewrite(folder / "train-labels-idx1-ubyte.gz", idx_bytes(labels))


def _corrupt_count(folder, arrays):
    _rewrite(folder / "t10k-labels-idx1-ubyte.gz", idx_bytes(arrays["test_labels"][:2]))


def _corrupt_image_size(folder, arrays):
    _rewrite(folder / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((3, 28, 27), np.uint8)))


def _corrupt_short_header(folder, arrays):
    _rewrite(folder / "t10k-images-idx3-ubyte.gz", b"\0\0\x08\x03\0\0")


def _corrupt_not_idx(folder, arrays):
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"<html>Not Found</html>")


@pytest.mark.parametrize(
    "corrupt, filename, phrase",
    [
        (_corrupt_magic, "train-images-idx3-ubyte.gz", "magic number is 2049, expected 2051"),
        (_corrupt_dtype, "train-labels-idx1-ubyte.gz", "data type code is 0x0d"),
        (_corrupt_truncated, "t10k-images-idx3-ubyte.gz", "truncated"),
        (_corrupt_trailing, "t10k-labels-idx1-ubyte.gz", "2 unexpected trailing bytes"),
        (_corrupt_gzip_truncated, "train-images-idx3-ubyte.gz", "gzip data is truncated"),
        (_corrupt_gzip_garbage, "train-labels-idx1-ubyte.gz", "gzip data is corrupt"),
        (_corrupt_label, "train-labels-idx1-ubyte.gz", "label 12 at index 3 is outside 0-9"),
        (_corrupt_count, "t10k-images-idx3-ubyte.gz", "3 images but t10k-labels-idx1-ubyte.gz has 2 labels"),
        (_corrupt_image_size, "t10k-images-idx3-ubyte.gz", "images are 28x27, expected 28x28"),
        (_corrupt_short_header, "t10k-images-idx3-ubyte.gz", "too short"),
        (_corrupt_not_idx, "t10k-labels-idx1-ubyte.gz", "not an IDX file"),
    ],
    ids=lambda v: v.__name__.removeprefix("_corrupt_") if callable(v) else "",
)
def test_each_corruption_is_a_data_error_naming_the_file(tiny, corrupt, filename, phrase):
    folder, arrays = tiny
    corrupt(folder, arrays)
    with pytest.raises(DataError) as info:
        load_mnist(folder)
    message = str(info.value)
    assert str(folder / filename) in message and phrase in message, message
    assert "\n" not in message


def test_missing_files_are_listed(tiny):
    folder, _ = tiny
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        load_mnist(folder)
    message = str(info.value)
    assert "train-labels-idx1-ubyte" in message and "t10k-images-idx3-ubyte" in message
    assert "train-images" not in message and "t10k-labels" not in message


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_images_as_scales_and_caches(tiny):
    folder, arrays = tiny
    ds = load_mnist(folder)
    x = ds.images_as("train")
    assert x.dtype == np.float32 and x.shape == (5, 784) and not x.flags.writeable
    assert x.min() >= 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x, arrays["train_images"].reshape(5, -1) / 255.0, rtol=1e-6)
    assert ds.images_as("train") is x  # converted once
    x64 = ds.images_as("test", np.float64)
    assert x64.dtype == np.float64 and x64.shape == (3, 784)
    assert ds.images_as("test", "float64") is x64
    assert ds.images_as("test") is not x64
    with pytest.raises(ValueError):
        ds.images_as("validation")
    with pytest.raises(ValueError):
        ds.images_as("train", np.uint8)


def test_dataset_is_frozen(tiny):
    folder, _ = tiny
    ds = load_mnist(folder)
    assert isinstance(ds, Dataset)
    with pytest.raises(AttributeError):
        ds.train_images = None
    with pytest.raises(ValueError):
        ds.train_images[0, 0] = 1


def test_default_cache_dir_per_platform(tmp_path, monkeypatch):
    env = {"HOME": str(tmp_path / "home")}
    monkeypatch.setattr(sys, "platform", "linux")
    assert default_cache_dir(env) == tmp_path / "home" / ".cache" / "digitviz" / "mnist"
    env_xdg = dict(env, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert default_cache_dir(env_xdg) == tmp_path / "xdg" / "digitviz" / "mnist"
    # A relative XDG_CACHE_HOME is invalid by the XDG spec and is ignored.
    assert default_cache_dir(dict(env, XDG_CACHE_HOME="rel")) == default_cache_dir(env)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_cache_dir(env) == tmp_path / "home" / "Library" / "Caches" / "digitviz" / "mnist"
    monkeypatch.setattr(sys, "platform", "win32")
    assert default_cache_dir(dict(env, LOCALAPPDATA=str(tmp_path / "local"))) == (
        tmp_path / "local" / "digitviz" / "mnist"
    )


def test_default_cache_dir_reads_os_environ(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "digitviz" / "mnist"


@pytest.fixture
def three_folders(tmp_path, rng, monkeypatch):
    """Complete data in a --data folder, a DIGITVIZ_DATA folder and the cache; os.environ is clean."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DIGITVIZ_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cli, env, cache = tmp_path / "cli", tmp_path / "env", tmp_path / "cache" / "digitviz" / "mnist"
    for folder in (cli, env, cache):
        write_mnist(folder, rng, n_train=1, n_test=1)
    return cli, env, cache


def test_find_data_dir_precedence(three_folders, monkeypatch):
    cli, env, cache = three_folders
    environ = {"DIGITVIZ_DATA": str(env), "XDG_CACHE_HOME": str(cache.parents[1])}
    assert find_data_dir(str(cli), environ) == cli
    assert find_data_dir(None, environ) == env
    assert find_data_dir(None, {"XDG_CACHE_HOME": str(cache.parents[1])}) == cache
    assert find_data_dir() == cache  # from os.environ (monkeypatched)
    monkeypatch.setenv("DIGITVIZ_DATA", str(env))
    assert find_data_dir() == env
    assert find_data_dir(cli) == cli


def test_find_data_dir_none_when_nothing_found(three_folders):
    _, _, cache = three_folders
    (cache / "t10k-labels-idx1-ubyte.gz").unlink()
    assert find_data_dir(None, {"XDG_CACHE_HOME": str(cache.parents[1])}) is None
    assert find_data_dir() is None


@pytest.mark.parametrize("origin", ["--data", "DIGITVIZ_DATA"])
def test_explicit_folder_lacking_files_raises(three_folders, tmp_path, origin):
    cli, _, cache = three_folders
    (cli / "train-images-idx3-ubyte.gz").unlink()
    environ = {"XDG_CACHE_HOME": str(cache.parents[1])}
    with pytest.raises(DataError) as info:
        if origin == "--data":
            find_data_dir(cli, environ)
        else:
            find_data_dir(None, dict(environ, DIGITVIZ_DATA=str(cli)))
    message = str(info.value)
    assert str(cli) in message and "train-images-idx3-ubyte" in message and origin in message
    assert "t10k" not in message
    with pytest.raises(DataError, match="does not exist"):
        find_data_dir(tmp_path / "typo", environ)


def test_describe_missing_data_is_one_helpful_line():
    text = describe_missing_data()
    assert "\n" not in text
    assert "digitviz fetch" in text and "--data" in text and "DIGITVIZ_DATA" in text


def test_real_mnist(mnist, mnist_dir):
    assert mnist.train_images.shape == (60000, 784) and mnist.test_images.shape == (10000, 784)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    assert mnist.train_images.flags.c_contiguous and mnist.train_images.dtype == np.uint8
    # The well-known class counts of the original distribution.
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.train_labels).tolist() == train_counts
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    raw = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == TEST_LABELS_SHA256
    np.testing.assert_array_equal(np.frombuffer(raw, np.uint8, offset=8), mnist.test_labels)
    assert 0.0 <= mnist.images_as("test").min() and mnist.images_as("test").max() == 1.0


# --- hardening: bounded declared counts, streaming decompression, a standing fuzz test ---


def _header(magic, *shape):
    return magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in shape)


@pytest.mark.parametrize("gz", [True, False])
def test_declared_counts_beyond_the_bound_are_refused_from_the_header(tmp_path, gz):
    cases = {
        "many.idx": (_header(2051, 3_000_000, 28, 28), f"3,000,000 items; MNIST-like data has at most {MAX_ITEMS:,}"),
        "wide.idx": (_header(2051, 10, 10_000, 10_000), f"at most {MAX_BYTES:,}"),
        "labels.idx": (_header(2049, 2**32 - 1), "4,294,967,295 items"),
    }
    for name, (data, phrase) in cases.items():
        (tmp_path / name).write_bytes(gzip.compress(data) if gz else data)
        with pytest.raises(DataError) as info:
            read_idx(tmp_path / name)
        assert str(info.value).startswith(str(tmp_path / name)) and phrase in str(info.value), str(info.value)


def test_long_trailing_stream_is_refused_after_reading_a_little(tmp_path):
    p = tmp_path / "t.gz"
    p.write_bytes(bombs.gzip_then_zeros(_header(2049, 4) + bytes(4), 64))
    with pytest.raises(DataError, match="more than 65,535 unexpected trailing bytes after the \\(4,\\) data"):
        read_idx(p)


def _fuzz_idx(seed, good: bytes, n=100):
    r = np.random.default_rng(seed)
    for cut in np.unique(r.integers(0, len(good), n // 3)):
        yield good[:cut]
    for _ in range(n // 3):
        b = bytearray(good)
        for pos in r.integers(0, len(b), r.integers(1, 4)):
            b[pos] ^= int(r.integers(1, 256))
        yield bytes(b)
    for _ in range(n // 3):  # random headers: any magic, dimensions and counts
        head = bytes(r.integers(0, 256, int(r.integers(0, 20)), dtype=np.uint8))
        if r.random() < 0.5:
            head = b"\0\0\x08" + bytes([int(r.integers(0, 5))]) + head
        yield head + good[len(head) :]


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_fuzz_truncated_flipped_and_wrong_headers(tmp_path, rng, gz):
    arrays = write_mnist(tmp_path / "ok", rng, gz=False)
    good = idx_bytes(arrays["test_images"])
    target = tmp_path / "ok" / "t10k-images-idx3-ubyte"
    errors = 0
    for k, data in enumerate(_fuzz_idx(140 + gz, gzip.compress(good) if gz else good)):
        if gz and k >= 66:  # flip and re-header the decompressed bytes too, not only the gzip wrapper
            data = gzip.compress(next(_fuzz_idx(k, good, 3)) if k % 2 else data)
        target.write_bytes(data)
        try:
            ds = load_mnist(tmp_path / "ok")
        except DataError as e:
            assert str(e).startswith(str(tmp_path / "ok")) and "\n" not in str(e), str(e)
            errors += 1
        else:  # a flipped pixel is still a valid file
            assert ds.test_images.shape == (3, 784)
    assert errors > 50


_LOAD = """
from digitviz.core.data import DataError, load_mnist
try:
    load_mnist(sys.argv[1])
except DataError as e:
    print(e)
"""


@pytest.mark.parametrize("bomb", ["declared", "trailing"])
def test_gzip_bombs_are_refused_with_bounded_memory(tmp_path, rng, bomb):
    folder = tmp_path / "mnist"
    write_mnist(folder, rng)
    if bomb == "declared":  # as the file: a valid header for 3 million images, then zeros
        prefix, phrase = _header(2051, 3_000_000, 28, 28), "3,000,000 items"
    else:  # a valid header for 5 images, then a gigabyte of zeros
        prefix, phrase = _header(2051, 5, 28, 28), "unexpected trailing bytes"
    p = folder / "train-images-idx3-ubyte.gz"
    p.write_bytes(bombs.gzip_then_zeros(prefix, 512))  # 512 MiB of zeros: the old reader peaked at about twice that
    assert p.stat().st_size < 2e6
    (message,), peak_kib = bombs.run_measured(_LOAD, str(folder))
    assert message.startswith(str(p)) and phrase in message, message
    assert peak_kib < 150_000, f"peak RSS {peak_kib / 1024:.0f} MiB"
