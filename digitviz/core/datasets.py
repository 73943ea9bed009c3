"""The IDX datasets digitviz knows: MNIST, Fashion-MNIST and Kuzushiji-MNIST.

Each :class:`DatasetInfo` holds what the app needs to fetch and to name a dataset: its mirrors, the
published file names with their MD5 sums and sizes, its own cache folder and its ten class names.
A folder of IDX files that matches none of them is ``UNKNOWN`` (classes "class 0" .. "class 9").

Checksums: MNIST from yann.lecun.com's files; Fashion-MNIST's MD5s as the zalandoresearch/fashion-mnist
README lists them; KMNIST's (the files rois-codh/kmnist links) as torchvision checks them. The sizes in bytes
are those the official servers send (Fashion-MNIST 26,421,880 / 29,515 / 4,422,102 / 5,148; KMNIST
18,165,135 / 29,497 / 3,041,136 / 5,120), as download logs of torchvision and Keras show them.

Imports: the standard library only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = "digitviz-dataset.txt"
"""Written by the downloader into the folder it filled: the dataset key on one line."""


@dataclass(frozen=True)
class DatasetInfo:
    """One known dataset.

    Attributes
    ----------
    key : str
        ``"mnist"``, ``"fashion"``, ``"kmnist"`` or ``"unknown"``: the name on the command line and in files.
    title : str
        What the window title and the status bar say ("Fashion-MNIST").
    class_names : tuple of str
        Ten names, index = label.
    kind : str
        ``"digits"``, ``"clothes"``, ``"kuzushiji"`` or ``"unknown"``: switching between kinds asks to reset.
    mirrors : tuple of str
        Base URLs tried in order.
    files : dict
        Official gzip file name -> ``(md5 hex digest, size in bytes)``.
    size_text : str
        Download size for the menus ("about 11 MB").
    """

    key: str
    title: str
    class_names: tuple[str, ...]
    kind: str
    mirrors: tuple[str, ...] = ()
    files: tuple[tuple[str, tuple[str, int]], ...] = ()
    size_text: str = ""
    short: tuple[str, ...] = ()

    @property
    def short_names(self) -> tuple[str, ...]:
        """Names that fit under a bar or beside an output neuron (default: :attr:`class_names`)."""
        return self.short or self.class_names

    @property
    def checksums(self) -> dict[str, tuple[str, int]]:
        return dict(self.files)

    @property
    def digits(self) -> bool:
        """True when the classes are the digits 0-9 (text may say "digit")."""
        return self.kind == "digits"

    def class_name(self, k: int) -> str:
        return self.class_names[int(k)] if 0 <= int(k) < len(self.class_names) else f"class {int(k)}"

    def cache_dir(self, environ: Mapping[str, str] | None = None) -> Path:
        """``<cache>/digitviz/<key>``: each dataset in its own folder (MNIST's is the historical one)."""
        from digitviz.core.data import default_cache_dir

        return default_cache_dir(environ).parent / self.key


MNIST = DatasetInfo(
    "mnist",
    "MNIST",
    tuple(str(d) for d in range(10)),
    "digits",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files=(
        ("train-images-idx3-ubyte.gz", ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422)),
        ("train-labels-idx1-ubyte.gz", ("d53e105ee54ea40749a09fcbcd1e9432", 28881)),
        ("t10k-images-idx3-ubyte.gz", ("9fb629c4189551a2d022fa330f9573f3", 1648877)),
        ("t10k-labels-idx1-ubyte.gz", ("ec29112dd5afa0611ce80d1b7f02629c", 4542)),
    ),
    size_text="about 11 MB",
)
FASHION = DatasetInfo(
    "fashion",
    "Fashion-MNIST",
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "clothes",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files=(
        ("train-images-idx3-ubyte.gz", ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880)),
        ("train-labels-idx1-ubyte.gz", ("25c81989df183df01b3e8a0aad5dffbe", 29515)),
        ("t10k-images-idx3-ubyte.gz", ("bef4ecab320f06d8554ea6380940ec79", 4422102)),
        ("t10k-labels-idx1-ubyte.gz", ("bb300cfdad3c16e7a12a480ee83cd310", 5148)),
    ),
    size_text="about 30 MB",
    short=("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"),
)
KMNIST = DatasetInfo(
    "kmnist",
    "Kuzushiji-MNIST",
    ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"),
    "kuzushiji",
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    files=(
        ("train-images-idx3-ubyte.gz", ("bdb82020997e1d708af4cf47b453dcf7", 18165135)),
        ("train-labels-idx1-ubyte.gz", ("e144d726b3acfaa3e44228e80efcd344", 29497)),
        ("t10k-images-idx3-ubyte.gz", ("5c965bf0a639b31b8f53240b1b52f4d7", 3041136)),
        ("t10k-labels-idx1-ubyte.gz", ("7320c461ea6c1c855c0b718fb2a4b134", 5120)),
    ),
    size_text="about 21 MB",
)
UNKNOWN = DatasetInfo(
    "unknown", "IDX data", tuple(f"class {k}" for k in range(10)), "unknown", short=tuple(str(k) for k in range(10))
)  # under a bar the axis says "class"

DATASETS: dict[str, DatasetInfo] = {d.key: d for d in (MNIST, FASHION, KMNIST)}
"""The datasets ``digitviz fetch --dataset`` offers, in menu order."""


def info(key: str) -> DatasetInfo:
    """The :class:`DatasetInfo` for ``key`` (``UNKNOWN`` for "unknown"); ValueError names the choices."""
    if key == UNKNOWN.key:
        return UNKNOWN
    try:
        return DATASETS[key]
    except KeyError:
        raise ValueError(f"unknown dataset {key!r}; choose one of {', '.join(DATASETS)}") from None


def _small_md5(path: Path) -> str | None:
    try:
        if path.stat().st_size > 1 << 20:
            return None
        return hashlib.md5(path.read_bytes()).hexdigest()
    except OSError:
        return None


def identify(folder: str | os.PathLike) -> DatasetInfo:
    """Which dataset a folder of IDX files holds, cheaply (no image file is read).

    In order: the marker the downloader writes (:data:`MARKER`); the MD5 of the (small) gzip label
    files against each dataset's published sums; the folder's name ("fashion", "kmnist", "mnist");
    else :data:`UNKNOWN`.
    """
    folder = Path(folder)
    try:
        key = (folder / MARKER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        key = ""
    if key in DATASETS:
        return DATASETS[key]
    for ds in DATASETS.values():
        sums = ds.checksums
        for name in ("t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"):
            if _small_md5(folder / name) == sums[name][0]:
                return ds
    name = folder.name.lower().replace("_", "-")
    for part in (folder.name.lower(), folder.parent.name.lower()):
        if "fashion" in part:
            return FASHION
        if "kmnist" in part or "kuzushiji" in part:
            return KMNIST
    if "mnist" in name or "mnist" in folder.parent.name.lower():
        return MNIST
    return UNKNOWN


def of(data: object) -> DatasetInfo:
    """The :class:`DatasetInfo` of a loaded dataset (anything with a ``name``; without one: MNIST)."""
    key = getattr(data, "name", MNIST.key)
    return DATASETS.get(key, UNKNOWN if key == UNKNOWN.key else MNIST)


def class_names(data: object) -> tuple[str, ...]:
    """The ten class names of ``data`` (None or a nameless stand-in: the digits)."""
    return of(data).class_names if data is not None else MNIST.class_names


def short_names(data: object) -> tuple[str, ...]:
    """The ten short class names of ``data`` (None or a nameless stand-in: the digits)."""
    return of(data).short_names if data is not None else MNIST.short_names
