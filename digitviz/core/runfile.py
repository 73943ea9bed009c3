"""Run settings files: a small JSON file that reproduces a run step for step.

``{"format": "digitviz-run", "version": 1, "preset": "lesson", "dataset": "mnist", "settings": {...}}``:
the preset it started from, every :class:`~digitviz.core.training.TrainConfig` field (the seed among them)
and the dataset's key (:mod:`digitviz.core.datasets`). The same settings on the same data give the same
initial weights and the same mini-batches, so two trainers built from one file agree exactly.

Reading trusts nothing: size, JSON, format, version and every setting are checked (the same checks as
:mod:`digitviz.core.persist`); anything wrong is a :class:`RunFileError` with a one-line message.

Imports: the standard library and :mod:`digitviz.core`; never Qt.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from digitviz.core import atomic
from digitviz.core.datasets import DATASETS, UNKNOWN
from digitviz.core.training import PRESETS, TrainConfig, preset_of

FORMAT = "digitviz-run"
VERSION = 1
MAX_BYTES = 64 * 1024


class RunFileError(ValueError):
    """A run settings file cannot be read or is not valid; the message is one line."""


@dataclass(frozen=True)
class RunSettings:
    """What a run settings file holds: ``config`` (every setting), ``preset`` and ``dataset`` keys."""

    config: TrainConfig
    preset: str = ""
    dataset: str = "mnist"

    def to_dict(self) -> dict:
        return dict(
            format=FORMAT, version=VERSION, preset=self.preset, dataset=self.dataset, settings=self.config.to_dict()
        )


def save_run(path: str | os.PathLike, config: TrainConfig, dataset: str = "mnist", preset: str | None = None) -> Path:
    """Write ``config`` (and the dataset key) to ``path`` (``.json`` added if it has no suffix), atomically."""
    path = Path(path).expanduser()
    if not path.suffix:
        path = path.with_suffix(".json")
    run = RunSettings(config, preset_of(config) if preset is None else preset, dataset)
    text = json.dumps(run.to_dict(), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = atomic.create_temp(path)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            atomic.finish(out, tmp, path)
    except BaseException:
        atomic.discard(tmp)
        raise
    return path


def parse_run(text: str, name: str = "run file") -> RunSettings:
    """Validate the JSON text of a run settings file; :class:`RunFileError` names what is wrong."""
    from digitviz.core.persist import _Bad, _check_config

    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise RunFileError(f"{name}: not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise RunFileError(f'{name}: not a digitviz run settings file (no "format": "{FORMAT}")')
    version = d.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunFileError(f"{name}: unknown version {str(version)[:20]}")
    if version > VERSION:
        raise RunFileError(f"{name}: written by a newer digitviz (version {version}; this one reads up to {VERSION})")
    preset = d.get("preset", "")
    if not isinstance(preset, str) or (preset and preset not in PRESETS):
        raise RunFileError(f"{name}: unknown preset {str(preset)[:40]!r}; expected one of {', '.join(PRESETS)}")
    dataset = d.get("dataset", "mnist")
    if not isinstance(dataset, str) or (dataset not in DATASETS and dataset != UNKNOWN.key):
        raise RunFileError(f"{name}: unknown dataset {str(dataset)[:40]!r}; expected one of {', '.join(DATASETS)}")
    settings = d.get("settings")
    if not isinstance(settings, dict):
        raise RunFileError(f'{name}: no "settings" object')
    base = PRESETS[preset] if preset else TrainConfig()
    full = {**base.to_dict(), **settings}
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise RunFileError(f"{name}: unknown setting {unknown[0][:40]!r}")
    try:
        _check_config(full)
    except _Bad as e:
        raise RunFileError(f"{name}: {e}") from None
    full["sizes"] = tuple(full["sizes"])
    for f in fields(TrainConfig):  # JSON has one number type: 1 for a float setting is fine
        if isinstance(f.default, float) and not isinstance(f.default, bool) and isinstance(full[f.name], int):
            full[f.name] = float(full[f.name])
    try:
        config = replace(base, **{k: full[k] for k in known})
    except (TypeError, ValueError) as e:
        raise RunFileError(f"{name}: {e}") from None
    return RunSettings(config, preset, dataset)


def load_run(path: str | os.PathLike) -> RunSettings:
    """Read and validate a run settings file written by :func:`save_run` (or by hand)."""
    path = Path(path).expanduser()
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise RunFileError(f"{path.name}: cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise RunFileError(f"{path.name}: larger than {MAX_BYTES // 1024} KB; not a run settings file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RunFileError(f"{path.name}: not UTF-8 text; not a run settings file") from None
    return parse_run(text, path.name)
