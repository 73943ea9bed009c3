"""Saved networks: one ``.npz`` file holding the architecture, settings and parameter vector.

A saved network is data, never code: nothing is unpickled. The file holds ``format`` (the string
"digitviz-network"), ``version`` (int), ``config`` (JSON of
:class:`~digitviz.core.training.TrainConfig`), ``theta`` (the flat parameters) and ``meta`` (JSON:
step, epoch, test accuracy, ...).

Loading trusts nothing. The file is read once into memory (its size is bounded first), then every
member is checked before anything is built: the zip headers' declared sizes and each ``.npy``
header's dtype and shape are checked *before* the array is decompressed, so a small file that
inflates to gigabytes is refused up front; the settings are checked field by field (types, names,
784 inputs and 10 outputs, at most :data:`~digitviz.core.network.MAX_PARAMS` parameters) and theta
against them. Every failure is the one :class:`PersistError`, whose message names the file and says
what is wrong in one line.

Writing goes to a temporary file (see :mod:`digitviz.core.atomic`) that is fsynced and renamed
into place, so an interrupted save never leaves a half-written network under the final name; stale
temporary files of earlier interrupted saves in that folder are removed on the next save.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from . import atomic
from .network import ACTIVATIONS, COSTS, MAX_PARAMS, Layout, Network
from .training import TrainConfig

FORMAT = "digitviz-network"
VERSION = 1
N_INPUTS, N_OUTPUTS = 784, 10  # a digit network reads 28x28 pixels and scores 10 digits
MAX_LAYERS = 32
_SMALL_MEMBER = 1 << 20  # format, version, config, meta: JSON text far below 1 MiB
MAX_FILE_BYTES = MAX_PARAMS * 8 + 4 * _SMALL_MEMBER  # float64 theta of the largest network + the rest
_INITS = ("scaled", "standard")


class PersistError(ValueError):
    """A file is not a digitviz network this version can load; the message says why."""


def save_network(path: str | os.PathLike, net: Network, config: TrainConfig, meta: dict | None = None) -> Path:
    """Write ``net`` and its training settings to ``path`` (``.npz`` added if missing).

    The file gets the permissions the user's umask gives any new file. Raises OSError if it
    cannot be written; an existing file of that name is then left as it was.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    cfg = config.to_dict()
    cfg.update(sizes=list(net.sizes), activation=net.activation, cost=net.cost_name, dtype=net.dtype.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.clean_stale(path.parent, r".+\.npz")
    fd, tmp = atomic.create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                format=np.array(FORMAT),
                version=np.array(VERSION),
                config=np.array(json.dumps(cfg)),
                meta=np.array(json.dumps(meta or {})),
                theta=net.theta,
            )
            atomic.finish(f, tmp, path)
    except BaseException:
        atomic.discard(tmp)
        raise
    return path


class _Bad(Exception):
    """Internal: what is wrong, without the file name."""


def _read_file(path: Path) -> bytes:
    """The whole file, read once, refusing folders, devices and anything too large."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise _Bad("is a folder, not a network file")
            if not stat.S_ISREG(st.st_mode):
                raise _Bad("is not a regular file")
            if st.st_size > MAX_FILE_BYTES:
                raise _Bad(
                    f"is {st.st_size / 1e6:.0f} MB, larger than any network digitviz saves "
                    f"(at most {MAX_PARAMS:,} parameters)"
                )
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _Bad("no such file") from None
    except IsADirectoryError:
        raise _Bad("is a folder, not a network file") from None
    except OSError as e:
        raise _Bad(f"cannot read it: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _Bad("grew while being read")
    return raw


def _read_member(
    zf: zipfile.ZipFile, name: str, max_bytes: int, check: Callable[[tuple, np.dtype], None], declared_max: int = 0
) -> np.ndarray:
    """One ``.npy`` member, its header checked by ``check(shape, dtype)`` before its data is read.

    The zip's declared size of the member must be at most ``declared_max`` (default ``max_bytes``)
    plus room for the ``.npy`` header; the array itself at most ``max_bytes``.
    """
    info = zf.getinfo(name + ".npy")
    if info.file_size > max(max_bytes, declared_max) + 4096:
        raise _Bad(
            f"{name} is declared as {info.file_size:,} bytes, more than a network of {MAX_PARAMS:,} parameters can need"
        )
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise _Bad(f"{name} uses .npy format version {version}, which is not supported")
        if dtype.hasobject:
            raise _Bad(f"{name} holds Python objects, which are never loaded (they would need pickle)")
        if dtype.fields is not None or dtype.subdtype is not None:
            raise _Bad(f"{name} has a structured dtype {dtype}")
        if any(d < 0 for d in shape):
            raise _Bad(f"{name} declares a negative shape {shape}")
        check(shape, dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise _Bad(f"{name} would be {nbytes:,} bytes, more than allowed ({max_bytes:,})")
        data = f.read(nbytes)
        if len(data) != nbytes:
            raise _Bad(f"{name} is truncated ({len(data):,} of {nbytes:,} bytes)")
        if f.read(1):
            raise _Bad(f"{name} has unexpected bytes after its data")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arr.astype(dtype.newbyteorder("="), copy=False) if dtype.byteorder not in "=|" else arr


def _scalar_of(kind: str, what: str) -> Callable[[tuple, np.dtype], None]:
    def check(shape: tuple, dtype: np.dtype) -> None:
        if shape != () or dtype.kind not in kind:
            raise _Bad(f"{what} (shape {shape}, dtype {dtype})")

    return check


def _json_object(zf: zipfile.ZipFile, name: str) -> dict:
    text = str(_read_member(zf, name, _SMALL_MEMBER, _scalar_of("U", f"{name} is not a text string"))[()])
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise _Bad(f"{name} is not valid JSON ({str(e).splitlines()[0][:80]})") from None
    if not isinstance(value, dict):
        raise _Bad(f"{name} is a JSON {type(value).__name__}, not an object")
    return value


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:  # a value parsed from JSON
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _check_config(cfg: dict) -> None:
    """Types and values of every setting, before TrainConfig or Network sees them."""
    for key in ("sizes", "activation", "cost", "dtype"):
        if key not in cfg:
            raise _Bad(f"settings lack {key!r}")
    sizes = cfg["sizes"]
    if not isinstance(sizes, list) or not all(_is_int(s) for s in sizes):
        raise _Bad(f"settings: sizes must be a list of integers, got {str(sizes)[:60]}")
    if not 2 <= len(sizes) <= MAX_LAYERS or min(sizes) < 1:
        raise _Bad(f"settings: sizes must be 2 to {MAX_LAYERS} positive layer sizes, got {str(sizes)[:60]}")
    if sizes[0] != N_INPUTS or sizes[-1] != N_OUTPUTS:
        raise _Bad(f"is a {'-'.join(map(str, sizes))[:60]} network, not a {N_INPUTS}-...-{N_OUTPUTS} digit network")
    n = Layout(sizes).size
    if n > MAX_PARAMS:
        raise _Bad(
            f"its {'-'.join(map(str, sizes))[:60]} network has {n:,} parameters; "
            f"digitviz handles at most {MAX_PARAMS:,}"
        )
    choices = {"activation": ACTIVATIONS, "cost": COSTS, "dtype": ("float32", "float64"), "init": _INITS}
    for f in fields(TrainConfig):
        if f.name not in cfg or f.name == "sizes":
            continue
        v = cfg[f.name]
        if f.name in choices:
            if v not in choices[f.name] or not isinstance(v, str):
                raise _Bad(f"settings: unknown {f.name} {str(v)[:40]!r}; expected one of {', '.join(choices[f.name])}")
        elif isinstance(f.default, bool):
            if not isinstance(v, bool):
                raise _Bad(f"settings: {f.name} must be true or false, got {str(v)[:40]}")
        elif isinstance(f.default, int):
            if not _is_int(v):
                raise _Bad(f"settings: {f.name} must be an integer, got {str(v)[:40]}")
        elif isinstance(f.default, float):
            if not _is_number(v):
                raise _Bad(f"settings: {f.name} must be a finite number, got {str(v)[:40]}")


def _check_meta(meta: dict) -> None:
    for key in ("step", "epoch"):
        if key in meta and not (_is_int(meta[key]) and meta[key] >= 0):
            raise _Bad(f"meta: {key} must be a non-negative integer, got {str(meta[key])[:40]}")
    dataset = meta.get("dataset")  # which data it was trained on (digitviz.core.datasets keys)
    if dataset is not None and not (isinstance(dataset, str) and dataset.isidentifier() and len(dataset) <= 40):
        raise _Bad(f"meta: dataset must be a dataset name, got {str(dataset)[:40]}")
    acc = meta.get("test_acc")
    if acc is not None and not (_is_number(acc) and 0 <= acc <= 1):
        raise _Bad(f"meta: test_acc must be a number in [0, 1], got {str(acc)[:40]}")


def _parse(raw: bytes) -> tuple[dict, dict, np.ndarray]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        if raw[:6] == b"\x93NUMPY":
            raise _Bad("is a single .npy array, not a saved network (.npz)") from None
        raise _Bad("not a readable .npz file (truncated, or not a zip archive)") from None
    with zf:
        names = {n.removesuffix(".npy") for n in zf.namelist() if n.endswith(".npy")}
        if "format" not in names:
            raise _Bad("is not a digitviz network file (no 'format' entry)")
        fmt = str(_read_member(zf, "format", _SMALL_MEMBER, _scalar_of("U", "format is not a text string"))[()])
        if fmt != FORMAT:
            raise _Bad(f"is not a digitviz network file (format {fmt[:40]!r})")
        missing = {"version", "config", "meta", "theta"} - names
        if missing:
            raise _Bad(f"incomplete file, missing {', '.join(sorted(missing))}")
        version = int(_read_member(zf, "version", 64, _scalar_of("iu", "version is not a single integer"))[()])
        if version > VERSION:
            raise _Bad(f"saved by a newer digitviz (format version {version}; this one reads up to {VERSION})")
        if version < 1:
            raise _Bad(f"unknown format version {version}")
        cfg = _json_object(zf, "config")
        _check_config(cfg)
        meta = _json_object(zf, "meta")
        _check_meta(meta)
        n = Layout(cfg["sizes"]).size
        want = np.dtype(cfg["dtype"])

        def check_theta(shape: tuple, dtype: np.dtype) -> None:
            if len(shape) != 1 or shape[0] != n:
                raise _Bad(
                    f"has {math.prod(shape):,} parameters (shape {shape}) but its architecture "
                    f"{'-'.join(map(str, cfg['sizes']))} needs {n:,}"
                )
            if dtype.kind != "f" or dtype.itemsize != want.itemsize:
                raise _Bad(f"parameters are {dtype} but the settings say {want.name}")

        theta = _read_member(zf, "theta", n * want.itemsize, check_theta, MAX_PARAMS * 8)
    if not np.all(np.isfinite(theta)):
        raise _Bad("parameters contain NaN or infinity")
    return cfg, meta, theta


def load_network(path: str | os.PathLike) -> tuple[Network, TrainConfig, dict]:
    """Read a network saved by :func:`save_network`.

    Returns
    -------
    net : Network
        Of ``config.sizes``, which always start with 784 and end with 10.
    config : TrainConfig
    meta : dict
        ``step`` and ``epoch`` (non-negative ints) and ``test_acc`` (in [0, 1] or None) when present.

    Raises
    ------
    PersistError
        For a missing, truncated, foreign, oversized or inconsistent file: one line naming the
        file and what is wrong. Nothing is changed.
    """
    path = Path(path)
    try:
        cfg, meta, theta = _parse(_read_file(path))
        try:
            config = TrainConfig.from_dict(cfg)
            net = Network.from_config(config, theta)
        except (TypeError, ValueError) as e:
            raise _Bad(f"invalid settings: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    except _Bad as e:
        raise PersistError(f"{path.name}: {e}") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
        KeyError,
        OSError,
        SyntaxError,
        MemoryError,
    ) as e:
        # corrupt compressed data, CRC mismatch, unsupported compression or encryption, bad .npy header
        why = re.sub(r"\s+", " ", str(e)).strip()[:100] or type(e).__name__
        raise PersistError(f"{path.name}: not a readable .npz file (corrupt or truncated: {why})") from None
    return net, config, meta
