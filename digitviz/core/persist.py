"""Saved networks: one ``.npz`` file holding the architecture, settings and parameter vector.

Loaded with ``allow_pickle=False``: a saved network is data, never code. The file holds
``format`` (the string "digitviz-network"), ``version`` (int), ``config`` (JSON of
:class:`~digitviz.core.training.TrainConfig`), ``theta`` (the flat parameters) and ``meta``
(JSON: step, epoch, test accuracy, ...). Writing goes to a temporary file that is renamed into
place, so an interrupted save never leaves a half-written network under the final name.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .network import Layout, Network
from .training import TrainConfig

FORMAT = "digitviz-network"
VERSION = 1


class PersistError(ValueError):
    """A file is not a digitviz network this version can load; the message says why."""


def save_network(path, net: Network, config: TrainConfig, meta: dict | None = None) -> Path:
    """Write ``net`` and its training settings to ``path`` (``.npz`` added if missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    cfg = config.to_dict()
    cfg.update(sizes=list(net.sizes), activation=net.activation, cost=net.cost_name, dtype=net.dtype.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, format=np.array(FORMAT), version=np.array(VERSION),
                     config=np.array(json.dumps(cfg)), meta=np.array(json.dumps(meta or {})),
                     theta=net.theta)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_network(path) -> tuple[Network, TrainConfig, dict]:
    """Read a network saved by :func:`save_network`.

    Returns
    -------
    net : Network
    config : TrainConfig
    meta : dict

    Raises
    ------
    PersistError
        For a missing, truncated, foreign or inconsistent file. Nothing is changed.
    """
    path = Path(path)
    name = path.name

    def fail(why):
        raise PersistError(f"{name}: {why}")

    if not path.is_file():
        fail("no such file")
    try:
        # our own handle: np.load leaks it when the zip is corrupt
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            keys = set(z.files)
            if "format" not in keys or str(z["format"]) != FORMAT:
                fail("not a digitviz network file")
            missing = {"version", "config", "meta", "theta"} - keys
            if missing:
                fail(f"incomplete file, missing {', '.join(sorted(missing))}")
            version = int(z["version"])
            if version > VERSION:
                fail(f"saved by a newer digitviz (format version {version}; this one reads up to {VERSION})")
            cfg_dict = json.loads(str(z["config"]))
            meta = json.loads(str(z["meta"]))
            theta = np.array(z["theta"])
    except PersistError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        fail(f"not a readable .npz file (truncated or corrupt?): {e}")
    try:
        config = TrainConfig.from_dict(cfg_dict)
    except (TypeError, ValueError) as e:
        fail(f"invalid settings: {e}")
    layout = Layout(config.sizes)
    if theta.ndim != 1 or theta.shape[0] != layout.size:
        fail(f"has {theta.size} parameters but its architecture {'-'.join(map(str, config.sizes))} "
             f"needs {layout.size}")
    if theta.dtype.name != config.dtype:
        fail(f"parameters are {theta.dtype.name} but the settings say {config.dtype}")
    if not np.all(np.isfinite(theta)):
        fail("parameters contain NaN or infinity")
    return Network.from_config(config, theta), config, meta
