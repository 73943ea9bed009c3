"""MNIST on disk: read the four IDX files strictly, and find the folder that holds them.

The loader trusts nothing. Every way a file can be wrong (bad magic, a dtype other than uint8,
truncated or trailing bytes, broken gzip, labels outside 0-9, counts that disagree) becomes a
:class:`DataError` whose message names the file and says what is wrong, so the GUI can show it
in one line. Files are streamed (gzip decompressed chunk by chunk) straight into their arrays,
after the header's declared counts are checked against stated bounds (:data:`MAX_ITEMS`,
:data:`MAX_BYTES`), so memory stays bounded whatever a file holds; no pickle. The arrays of a
:class:`Dataset` are read-only so that the training thread and the GUI thread can share them.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import sys
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # datasets imports data (lazily) too
    from digitviz.core.datasets import DatasetInfo

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, cols)
LABEL_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)
IMAGE_SHAPE = (28, 28)
ENV_VAR = "DIGITVIZ_DATA"

_GZIP_MAGIC = b"\x1f\x8b"
_UINT8 = 0x08


class DataError(Exception):
    """MNIST data is missing or malformed; the message names the file and what is wrong."""


MAX_ITEMS = 250_000
"""Most images (or labels) one IDX file may declare: MNIST has 60,000, EMNIST Digits, the largest
MNIST-format digit set, 240,000. A header declaring more is refused before any data is read."""
MAX_BYTES = MAX_ITEMS * 28 * 28
"""Most data bytes one IDX file may declare (196 MB: MAX_ITEMS 28x28 images)."""
_CHUNK = 1 << 20
_TRAILING_PROBE = 1 << 16  # trailing bytes counted up to this many, then "more than"


def _read_full(stream: io.BufferedIOBase, view: memoryview) -> int:
    """Fill ``view`` from ``stream`` in chunks; returns the number of bytes read (less at EOF)."""
    pos, n = 0, len(view)
    while pos < n:
        got = stream.readinto(view[pos : pos + _CHUNK])
        if not got:
            break
        pos += got
    return pos


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read one IDX file, raw or gzip-compressed, into a uint8 array of the header's shape.

    Compression is detected from the gzip magic bytes, not from the file name. The file is
    streamed: the header is checked first (at most :data:`MAX_ITEMS` items and :data:`MAX_BYTES`
    bytes of data), then exactly the declared bytes are decompressed into the array and at most
    64 KiB more to detect trailing data, so memory stays bounded by the declared size whatever
    the file holds (a gzip "bomb" of zeros costs nothing).

    Parameters
    ----------
    path : str or Path
    magic : int, optional
        If given, the header's magic number must equal it (2051 for images, 2049 for labels).

    Returns
    -------
    np.ndarray
        uint8, shape as given by the header (e.g. ``(N, 28, 28)`` or ``(N,)``), read-only.

    Raises
    ------
    DataError
        If the file cannot be read, is not valid gzip, declares more than the bounds, or its
        header and length disagree.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            packed = fh.read(2) == _GZIP_MAGIC
            fh.seek(0)
            if packed:
                with gzip.GzipFile(fileobj=fh, mode="rb") as stream:
                    return _parse_idx(path, stream, magic)
            return _parse_idx(path, fh, magic)
    except EOFError as e:
        raise DataError(f"{path}: gzip data is truncated (the download may be incomplete)") from e
    except (gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"{path}: gzip data is corrupt ({e})") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read file: {e.strerror or e}") from e


def _parse_idx(path: Path, stream: io.BufferedIOBase, magic: int | None) -> np.ndarray:
    head = bytearray(4)
    got = _read_full(stream, memoryview(head))
    if got < 4:
        raise DataError(f"{path}: file is {got} bytes, too short for an IDX header")
    # The magic number is 0, 0, dtype code, number of dimensions.
    zero, dtype_code, ndim = bytes(head[:2]), head[2], head[3]
    header_magic = int.from_bytes(head, "big")
    if zero != b"\0\0":
        raise DataError(f"{path}: not an IDX file (magic number {header_magic:#010x})")
    if dtype_code != _UINT8:
        raise DataError(f"{path}: data type code is {dtype_code:#04x}; only 0x08 (uint8) is supported")
    if magic is not None and header_magic != magic:
        raise DataError(f"{path}: magic number is {header_magic}, expected {magic}")
    if ndim == 0:
        raise DataError(f"{path}: header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    dims = bytearray(4 * ndim)
    got = _read_full(stream, memoryview(dims))
    if got < len(dims):
        raise DataError(f"{path}: file is {4 + got} bytes, too short for a {ndim}-dimensional IDX header")
    shape = tuple(int.from_bytes(dims[4 * k : 4 * k + 4], "big") for k in range(ndim))
    if shape[0] > MAX_ITEMS:
        raise DataError(
            f"{path}: header declares {shape[0]:,} items; MNIST-like data has at most {MAX_ITEMS:,} per file"
        )
    n = math.prod(shape)
    if n > MAX_BYTES:
        raise DataError(
            f"{path}: header declares {shape} = {n:,} bytes of data; MNIST-like data has at most {MAX_BYTES:,} per file"
        )
    expected = header_len + n
    out = np.empty(n, dtype=np.uint8)
    got = _read_full(stream, out.data)
    if got < n:
        raise DataError(
            f"{path}: truncated: header {shape} needs {expected} bytes but the data has only {header_len + got}"
        )
    extra = _read_full(stream, memoryview(bytearray(_TRAILING_PROBE)))
    if extra:
        amount = f"more than {extra - 1:,}" if extra == _TRAILING_PROBE else f"{extra}"
        raise DataError(f"{path}: {amount} unexpected trailing bytes after the {shape} data")
    out.flags.writeable = False
    return out.reshape(shape)


class ScaledImages:
    """uint8 images seen as floats in ``[0, 1]``, converted only the rows asked for, never held whole.

    The training set as float32 would be 188 MB beside its 47 MB of uint8; training reads it a
    mini-batch at a time and evaluates it in chunks, so it never needs the whole float copy. Indexing
    (an int, a slice, an index array) returns a new writable array of ``dtype``, scaled exactly as
    :meth:`Dataset.images_as` scales (divide by 255, so 255 maps to exactly 1.0).

    Parameters
    ----------
    images : np.ndarray
        uint8, shape ``(N, 784)``; kept by reference (no copy).
    dtype : floating dtype, default float32

    Attributes
    ----------
    shape : tuple
        ``(N, 784)``, like the float array it stands for; ``dtype`` and ``ndim`` likewise.
    """

    CHUNK = 8192  # rows per chunk in :meth:`chunks` and iteration (25 MB of float32)

    def __init__(self, images: np.ndarray, dtype: npt.DTypeLike = np.float32) -> None:
        self.images = np.asarray(images)
        if self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8, got {self.images.dtype}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type, got {self.dtype}")
        self.shape = self.images.shape
        self.ndim = self.images.ndim

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: int | slice | np.ndarray) -> np.ndarray:
        out = np.asarray(self.images[key]).astype(self.dtype)
        out /= self.dtype.type(255)
        return out

    def __iter__(self) -> Iterator[np.ndarray]:
        for lo in range(0, len(self), self.CHUNK):
            yield from self[lo : lo + self.CHUNK]

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """The whole float array (a transient copy; prefer :meth:`chunks` for large sets)."""
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def chunks(self, rows: int | None = None) -> Iterator[tuple[slice, np.ndarray]]:
        """``(slice, float array)`` pairs covering every row in order, ``rows`` (default CHUNK) at a time."""
        rows = int(rows or self.CHUNK)
        for lo in range(0, len(self), rows):
            sl = slice(lo, min(lo + rows, len(self)))
            yield sl, self[sl]


@dataclass(frozen=True, eq=False)
class Dataset:
    """The four MNIST arrays, read-only, plus where they came from.

    Attributes
    ----------
    train_images : np.ndarray
        uint8, shape ``(N, 784)``, C-contiguous; 0 is background, 255 is ink.
    train_labels : np.ndarray
        uint8, shape ``(N,)``, values 0-9.
    test_images : np.ndarray
        uint8, shape ``(M, 784)``.
    test_labels : np.ndarray
        uint8, shape ``(M,)``.
    source : Path
        The folder the files were read from.
    name : str
        Which dataset this is: a key of :data:`digitviz.core.datasets.DATASETS` or ``"unknown"``
        (:func:`load_mnist` identifies it; built by hand it is MNIST).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: Path
    name: str = "mnist"
    # Converted images, keyed by (which, dtype); filled by images_as. eq=False above because
    # comparing or hashing arrays field by field is meaningless.
    _converted: dict = field(default_factory=dict, init=False, repr=False)
    # (parent Dataset, train slice, test slice) for a dataset made by subset(): its conversions are
    # views of the parent's when the parent has them, never a second copy of the same pixels.
    _base: tuple | None = field(default=None, init=False, repr=False)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` training and ``n_test`` test examples (views, no copies; None: all).

        The subset shares this dataset's converted images (:meth:`images_as`) as views.
        """
        tr = slice(None) if n_train is None else slice(0, int(n_train))
        te = slice(None) if n_test is None else slice(0, int(n_test))
        sub = Dataset(
            train_images=self.train_images[tr],
            train_labels=self.train_labels[tr],
            test_images=self.test_images[te],
            test_labels=self.test_labels[te],
            source=Path(self.source),
            name=self.name,
        )
        object.__setattr__(sub, "_base", (self, tr, te))
        return sub

    @property
    def info(self) -> DatasetInfo:
        """The :class:`~digitviz.core.datasets.DatasetInfo` of :attr:`name`."""
        from digitviz.core.datasets import info

        return info(self.name)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Ten names, index = label: "0".."9" for MNIST, "T-shirt/top".. for Fashion-MNIST, "class k" if unknown."""
        return self.info.class_names

    @property
    def title(self) -> str:
        """What the window says is loaded: "MNIST", "Fashion-MNIST", "Kuzushiji-MNIST" or "IDX data"."""
        return self.info.title

    def scaled(self, which: str, dtype: npt.DTypeLike = np.float32) -> ScaledImages:
        """One split's images as a :class:`ScaledImages`: floats on demand, no full copy kept."""
        if which not in ("train", "test"):
            raise ValueError(f"which must be 'train' or 'test', got {which!r}")
        return ScaledImages(self.train_images if which == "train" else self.test_images, dtype)

    def images_as(self, which: str, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
        """Images of one split scaled to ``[0, 1]``, converted once and then cached.

        Parameters
        ----------
        which : {"train", "test"}
        dtype : floating dtype, default float32

        Returns
        -------
        np.ndarray
            Shape ``(N, 784)``, read-only (it is shared by every caller).
        """
        if which not in ("train", "test"):
            raise ValueError(f"which must be 'train' or 'test', got {which!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type, got {dtype}")
        key = (which, dtype)
        cached = self._converted.get(key)
        if cached is None and self._base is not None and self._base[0]._has_converted(key):
            # cut from a dataset that converted these images already: a view of its copy
            parent, tr, te = self._base
            whole = parent.images_as(which, dtype)
            cached = self._converted.setdefault(key, whole[tr if which == "train" else te])
        if cached is None:
            images = self.train_images if which == "train" else self.test_images
            cached = images.astype(dtype)
            cached /= dtype.type(255)  # divide, not multiply by 1/255: 255 maps to exactly 1.0
            cached.flags.writeable = False
            # setdefault is atomic: two threads racing here end up sharing one array.
            cached = self._converted.setdefault(key, cached)
        return cached

    def _has_converted(self, key: tuple) -> bool:
        """Whether this dataset or one it was cut from holds the conversion ``key``."""
        ds: Dataset | None = self
        while ds is not None:
            if key in ds._converted:
                return True
            ds = ds._base[0] if ds._base is not None else None
        return False


def _candidates(name: str) -> list[str]:
    """File names accepted for one MNIST file, in order of preference."""
    # Common variant: "t10k-images.idx3-ubyte" (a dot instead of the last dash before "idx").
    stem, _, idx = name.rpartition("-idx")
    variant = f"{stem}.idx{idx}"
    return [name + ".gz", name, variant + ".gz", variant]


def _locate(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Map each key of FILES to an existing file in ``folder``; also return the names not found."""
    found, missing = {}, []
    for key, name in FILES.items():
        for candidate in _candidates(name):
            if (folder / candidate).is_file():
                found[key] = folder / candidate
                break
        else:
            missing.append(name)
    return found, missing


def _missing_message(folder: Path, missing: list[str]) -> str:
    if not folder.is_dir():
        return f"{folder}: MNIST folder does not exist"
    names = ", ".join(f"{name}[.gz]" for name in missing)
    return f"{folder}: MNIST folder is missing {names}"


def load_mnist(folder: str | os.PathLike) -> Dataset:
    """Load and validate the four MNIST files from ``folder``; all or nothing.

    Parameters
    ----------
    folder : str or Path
        Holds each file as ``NAME.gz`` or ``NAME`` (see :data:`FILES`).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If a file is missing or anything about it is wrong.
    """
    folder = Path(folder).expanduser()
    paths, missing = _locate(folder)
    if missing:
        raise DataError(_missing_message(folder, missing))

    arrays = {}
    for split in ("train", "test"):
        images_path, labels_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        images = read_idx(images_path, magic=IMAGE_MAGIC)
        labels = read_idx(labels_path, magic=LABEL_MAGIC)
        if images.shape[1:] != IMAGE_SHAPE:
            rows, cols = images.shape[1:]
            raise DataError(f"{images_path}: images are {rows}x{cols}, expected 28x28")
        if len(images) == 0:
            raise DataError(f"{images_path}: holds no images")
        if len(images) != len(labels):
            raise DataError(f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels")
        bad = np.flatnonzero(labels > 9)
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{labels_path}: label {labels[i]} at index {i} is outside 0-9")
        arrays[f"{split}_images"] = images.reshape(len(images), -1)  # a view: still contiguous
        arrays[f"{split}_labels"] = labels
    from digitviz.core.datasets import identify

    return Dataset(source=folder, name=identify(folder).key, **arrays)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's cache folder for MNIST: ``<platform cache dir>/digitviz/mnist``.

    Linux and others: ``$XDG_CACHE_HOME`` or ``~/.cache``; macOS: ``~/Library/Caches``;
    Windows: ``%LOCALAPPDATA%``. ``environ`` defaults to :data:`os.environ`.
    """
    env = os.environ if environ is None else environ
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if sys.platform == "win32":
        base = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        xdg = env.get("XDG_CACHE_HOME", "")
        # The XDG spec says relative paths are invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache"
    return base / "digitviz" / "mnist"


def find_data_dir(cli_value: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder to load MNIST from, or None if there is none yet.

    Looks at, in order: ``cli_value`` (``--data DIR``), the ``DIGITVIZ_DATA`` environment
    variable, :func:`default_cache_dir`. Only checks that the four files exist; it does not
    validate them (that is :func:`load_mnist`'s job).

    Raises
    ------
    DataError
        If an explicitly given folder (``--data`` or ``DIGITVIZ_DATA``) lacks any of the files:
        the user asked for that folder, so falling through to another would hide a mistake.
    """
    env = os.environ if environ is None else environ
    explicit = [("--data", cli_value), (ENV_VAR, env.get(ENV_VAR))]
    for origin, value in explicit:
        if value:
            folder = Path(value).expanduser()
            _, missing = _locate(folder)
            if missing:
                raise DataError(f"{_missing_message(folder, missing)} (given by {origin})")
            return folder
    cache = default_cache_dir(env)
    _, missing = _locate(cache)
    return None if missing else cache


def describe_missing_data() -> str:
    """One line telling a user how to get MNIST."""
    return (
        f"MNIST data not found: run `digitviz fetch` to download it (about 11 MB) into "
        f"{default_cache_dir()}, or point to a folder holding the four MNIST files "
        f"with --data DIR or {ENV_VAR}=DIR."
    )
