"""Names of training runs: what a run is, and how it differs from another, in a few words.

The learning-curves panel lists earlier runs by these names and labels its legends with them.

Imports: the standard library and :mod:`digitviz.core.training` only.
"""

from __future__ import annotations

from dataclasses import replace

from .training import PRESETS, TrainConfig, preset_of


def _fmt(v: float) -> str:
    return f"{v:g}"


def arch_names(config: TrainConfig) -> tuple[str, str]:
    """``(short, long)`` names of a config's network: a preset's name when the shape matches one."""
    shape = f"{'-'.join(map(str, config.sizes))} {config.activation} {config.cost.replace('_', '-')}"
    exact = preset_of(config)  # the book preset has the lesson's shape: its own name first
    if exact:
        return exact, f"{exact} {shape}"
    for name, p in PRESETS.items():
        if replace(config, dtype=p.dtype).arch_key == p.arch_key:  # the dtype is named among the settings
            return name, f"{name} {shape}"
    return shape, shape


def setting_parts(config: TrainConfig, first: TrainConfig | None = None) -> dict:
    """The settings that tell runs apart, as ``{key: text}`` (defaults left out, except lr and batch).

    ``first`` is the config the run started with, when its learning rate was changed during the run.
    """
    d = TrainConfig()
    lr = _fmt(config.lr) if first is None or first.lr == config.lr else f"{_fmt(first.lr)}→{_fmt(config.lr)}"
    parts = {"lr": f"lr {lr}", "batch": f"batch {config.batch_size}"}
    if config.lr_decay != d.lr_decay:
        parts["decay"] = f"decay {_fmt(config.lr_decay)}"
    if config.momentum != d.momentum:
        parts["momentum"] = f"momentum {_fmt(config.momentum)}"
    if config.l2 != d.l2:
        parts["l2"] = f"L2 {_fmt(config.l2)}"
    if config.seed != d.seed:
        parts["seed"] = f"seed {config.seed}"
    if config.random_labels:
        parts["random_labels"] = "random labels"
    if config.doubt:
        parts["doubt"] = f"doubt {100 * config.doubt:g}%"
    if config.init != d.init:
        parts["init"] = f"{config.init} init"
    if config.shift_px or config.rotate_deg:  # "train on moved digits"
        moved = ([f"±{config.shift_px} px"] if config.shift_px else []) + (
            [f"±{config.rotate_deg:g}°"] if config.rotate_deg else []
        )
        parts["moved"] = "moved " + " ".join(moved)
    if config.dtype != d.dtype:
        parts["dtype"] = config.dtype
    return parts


def run_name(number: int, config: TrainConfig, first: TrainConfig | None = None) -> str:
    """E.g. "Run 2: lesson 784-16-16-10 sigmoid quadratic, lr 1.5, batch 10"."""
    return f"Run {number}: " + ", ".join([arch_names(config)[1], *setting_parts(config, first).values()])


def legend_name(number: int, config: TrainConfig, live: TrainConfig | None, first: TrainConfig | None = None) -> str:
    """A short legend label: the run's number and the settings in which it differs from the live run."""
    if live is None:
        return run_name(number, config, first)
    mine, theirs = setting_parts(config, first), setting_parts(live)
    diff = [t for k, t in mine.items() if theirs.get(k) != t]
    diff += [
        f"no {theirs[k].split(' ')[0]}" if k in ("decay", "momentum", "l2") else f"not {theirs[k]}"
        for k in theirs
        if k not in mine and k not in ("seed", "dtype", "init")
    ]
    if arch_names(config)[1] != arch_names(live)[1]:
        diff.insert(0, arch_names(config)[0])
    return f"Run {number}: " + (", ".join(diff) if diff else "same settings")
