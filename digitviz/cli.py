"""The ``digitviz`` command: the app (bare ``digitviz``), ``train``, ``eval`` and ``fetch``.

``digitviz train`` runs the same core the app uses, headless, one line per epoch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import __version__


def _err(msg: str) -> int:
    print(f"digitviz: {msg}", file=sys.stderr)
    return 2


def _load_data(arg):
    """Dataset from --data / DIGITVIZ_DATA / the cache folder, or an error message."""
    from .core.data import DataError, describe_missing_data, find_data_dir, load_mnist

    try:
        folder = find_data_dir(arg)
    except DataError as e:
        return None, str(e)
    if folder is None:
        return None, describe_missing_data()
    try:
        return load_mnist(folder), None
    except DataError as e:
        return None, str(e)


def _config_from_args(a):
    from .core.network import MAX_PARAMS, Layout
    from .core.training import PRESETS

    cfg = PRESETS[a.preset]
    if getattr(a, "run", None):
        from .core.runfile import RunFileError, load_run

        try:
            cfg = load_run(a.run).config
        except RunFileError as e:
            raise ValueError(str(e)) from None
    changes = {}
    if a.hidden is not None:
        changes["sizes"] = (784, *a.hidden, 10)
    for name, key in [
        ("activation", "activation"),
        ("cost", "cost"),
        ("epochs", "epochs"),
        ("batch", "batch_size"),
        ("lr", "lr"),
        ("lr_decay", "lr_decay"),
        ("momentum", "momentum"),
        ("l2", "l2"),
        ("seed", "seed"),
        ("doubt", "doubt"),
        ("dtype", "dtype"),
        ("shift_px", "shift_px"),
        ("rotate_deg", "rotate_deg"),
    ]:
        v = getattr(a, name)
        if v is not None:
            changes[key] = v
    if a.random_labels:
        changes["random_labels"] = True
    cfg = replace(cfg, **changes)
    n = Layout(cfg.sizes).size
    if n > MAX_PARAMS:
        raise ValueError(
            f"a {'-'.join(map(str, cfg.sizes))} network has {n:,} parameters; digitviz builds at most {MAX_PARAMS:,}"
        )
    return cfg


def cmd_train(a) -> int:
    """``digitviz train``; Ctrl+C stops it with one line (exit 130) and saves nothing."""
    progress: dict = {}
    try:
        return _train(a, progress)
    except KeyboardInterrupt:
        tr = progress.get("trainer")
        where = f"at epoch {tr.epoch + 1} (step {tr.step_count:,})" if tr is not None else "before training"
        print(f"digitviz: stopped {where}; nothing was saved", file=sys.stderr)
        return 130


def _train(a, progress: dict) -> int:
    from threadpoolctl import threadpool_limits

    from .core.persist import save_network
    from .core.training import Diverged, Trainer

    try:
        cfg = _config_from_args(a)
    except ValueError as e:
        return _err(str(e))
    data, why = _load_data(a.data)
    if data is None:
        return _err(why)
    # one BLAS thread: this small network never gains from two, and loses when the other core is busy
    with threadpool_limits(1):
        tr = Trainer(data, cfg, engine=a.engine)
        progress["trainer"] = tr
        if not a.json:
            print(
                f"# {'-'.join(map(str, cfg.sizes))} {cfg.activation} {cfg.cost}, lr {cfg.lr:g}"
                f"{f' x{cfg.lr_decay:g}/epoch' if cfg.lr_decay != 1 else ''}, batch {cfg.batch_size}, "
                f"momentum {cfg.momentum:g}, seed {cfg.seed}{', RANDOM LABELS' if cfg.random_labels else ''}"
                f" ({tr.net.n_params:,} parameters, data from {data.source}; {tr.engine} engine)"
            )
        t0 = time.perf_counter()
        best = (0.0, 0)
        for _ in range(cfg.epochs):
            try:
                rec = tr.run_epoch()
            except Diverged as e:
                print(
                    f"digitviz: training stopped at step {tr.step_count:,}: {e} (test accuracy now {tr.test_acc:.1%})",
                    file=sys.stderr,
                )
                return 1
            if rec.test_acc > best[0]:
                best = (rec.test_acc, rec.epoch)
            if a.json:
                print(json.dumps(rec.to_dict()), flush=True)
            else:
                print(
                    f"epoch {rec.epoch:3d}  train cost {rec.train_cost:.4f}  "
                    f"test accuracy {rec.test_acc:.2%}  {rec.examples_per_s:,.0f} examples/s",
                    flush=True,
                )
        wall = time.perf_counter() - t0
        final = tr.history.epochs[-1] if tr.history.epochs else None
    summary = dict(
        preset=a.preset,
        config=cfg.to_dict(),
        epochs=cfg.epochs,
        final_test_acc=final.test_acc if final else None,
        best_test_acc=best[0],
        best_epoch=best[1],
        train_seconds=tr.train_seconds,
        wall_seconds=wall,
    )
    if a.save:
        try:
            path = save_network(
                a.save,
                tr.net,
                cfg,
                dict(step=tr.step_count, epoch=tr.epoch, dataset=data.name, test_acc=summary["final_test_acc"]),
            )
        except OSError as e:
            print(f"digitviz: could not save to {a.save}: {e.strerror or e}", file=sys.stderr)
            return 1
        summary["saved"] = str(path)
    if a.json:
        print(json.dumps({"summary": summary}))
    elif final:
        print(
            f"done: test accuracy {final.test_acc:.2%} after {cfg.epochs} epochs "
            f"(best {best[0]:.2%} at epoch {best[1]}), {tr.train_seconds:.1f} s of training, "
            f"{wall:.1f} s wall" + (f"; saved to {summary['saved']}" if a.save else "")
        )
    return 0


def cmd_eval(a) -> int:
    from .core.history import evaluate
    from .core.persist import PersistError, load_network

    try:
        net, cfg, meta = load_network(a.model)
    except PersistError as e:
        return _err(str(e))
    data, why = _load_data(a.data)
    if data is None:
        return _err(why)
    ev = evaluate(net, data.images_as("test", net.dtype), data.test_labels)
    if a.json:
        print(
            json.dumps(
                dict(
                    accuracy=ev.accuracy,
                    cost=ev.cost,
                    per_class=[float(x) for x in ev.per_class],
                    config=cfg.to_dict(),
                    meta=meta,
                )
            )
        )
        return 0
    print(f"{Path(a.model).name}: {'-'.join(map(str, net.sizes))} {net.activation} {net.cost_name}")
    print(
        f"test accuracy {ev.accuracy:.2%} ({int(np.trace(ev.confusion))} of {len(data.test_labels)}), "
        f"cost {ev.cost:.4f}"
    )
    print("per digit: " + "  ".join(f"{d}: {p:.1%}" for d, p in enumerate(ev.per_class)))
    return 0


class _Bar:
    """A one-line progress bar on stderr."""

    def __init__(self):
        self.last = 0.0
        self.open = False  # a line is drawn and not yet ended

    def end(self):
        """End an unfinished bar line, so that a message after it starts on its own line."""
        if self.open:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.open = False

    def __call__(self, name, done, total):
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r{name:28s} [{bar:30s}] {frac:6.1%} {done / 1e6:6.1f} MB")
        self.open = True
        if done >= total:
            self.end()
        sys.stderr.flush()


def cmd_fetch(a) -> int:
    from .core import datasets
    from .core.fetch import FetchError, fetch_dataset

    info = datasets.info(a.dataset)
    kw = {"mirrors": a.mirror} if a.mirror else {}
    bar = _Bar()
    try:
        path = fetch_dataset(info.key, Path(a.dest) if a.dest else None, progress=bar, **kw)
    except FetchError as e:
        bar.end()
        return _err(str(e))
    except KeyboardInterrupt:
        bar.end()
        return _err("cancelled; nothing partial was left behind")
    print(f"{info.title} is in {path}" + ("" if info.key == "mnist" else f" (open it with --data {path})"))
    return 0


def cmd_app(a) -> int:
    run = None
    if a.run:
        from .core.runfile import RunFileError, load_run

        try:
            run = load_run(a.run)
        except RunFileError as e:
            return _err(str(e))
    from .gui.app import main as app_main

    return app_main(data_dir=a.data, run=run) if run is not None else app_main(data_dir=a.data)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (``digitviz train: argument --hidden: ...``), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .core.network import ACTIVATIONS, COSTS
    from .core.training import PRESET_BLURBS, PRESETS

    p = _Parser(
        prog="digitviz",
        description="Watch a neural network learn to read handwritten digits. With no command, opens the app.",
    )
    p.add_argument("--version", action="version", version=f"digitviz {__version__}")
    p.add_argument(
        "--data",
        metavar="DIR",
        help="folder with the four MNIST files (else $DIGITVIZ_DATA, "
        "else the cache folder that `digitviz fetch` fills)",
    )
    p.add_argument(
        "--run",
        metavar="FILE.json",
        help="open the app with a run's settings (File > Save Run "
        "Settings writes them): the same preset, settings and seed reproduce it step for step",
    )
    p.add_argument(
        "--engine",
        choices=["fused", "numpy"],
        help="what trains: the compiled fused engine (default "
        "when numba imports) or the NumPy reference; sets $DIGITVIZ_ENGINE for the app",
    )
    sub = p.add_subparsers(dest="command")

    t = sub.add_parser(
        "train",
        help="train headless, one line per epoch",
        description="Train headless. Presets: " + " ".join(f"{k}: {v}" for k, v in PRESET_BLURBS.items()),
    )
    lesson = PRESETS["lesson"]

    def d(field, fmt=str):
        """Every preset-dependent flag says where its default comes from, and the lesson's value."""
        return f"(default: the preset's; lesson: {fmt(getattr(lesson, field))})"

    t.add_argument(
        "--data",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="folder with the four MNIST files (default: $DIGITVIZ_DATA, else the cache folder)",
    )
    t.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="lesson",
        help="starting settings that the flags below change (default: lesson)",
    )
    t.add_argument(
        "--run", metavar="FILE.json", help="start from a run settings file; the flags below override it (default: none)"
    )
    t.add_argument(
        "--hidden",
        type=_int_at_least(1),
        nargs="*",
        metavar="N",
        help="hidden layer sizes, e.g. --hidden 16 16 " + d("sizes", lambda s: " ".join(map(str, s[1:-1]))),
    )
    t.add_argument("--activation", choices=ACTIVATIONS, help="activation function " + d("activation"))
    t.add_argument("--cost", choices=COSTS, help="cost function " + d("cost"))
    t.add_argument("--epochs", type=_int_at_least(1), help="passes over the 60,000 training images " + d("epochs"))
    t.add_argument("--batch", type=_int_at_least(1), help="mini-batch size " + d("batch_size"))
    t.add_argument(
        "--lr", type=_finite_float, help="learning rate (quadratic cost has no 1/2: 1.5 = the book's 3.0) " + d("lr")
    )
    t.add_argument("--lr-decay", type=_finite_float, help="learning-rate multiplier per epoch " + d("lr_decay"))
    t.add_argument(
        "--momentum", type=_finite_float, help="heavy-ball momentum, 0 for plain gradient descent " + d("momentum")
    )
    t.add_argument("--l2", type=_finite_float, help="L2 penalty on the weights " + d("l2"))
    t.add_argument(
        "--seed",
        type=_int_at_least(0),
        help="seeds the initial weights, the order of examples and the noise " + d("seed"),
    )
    t.add_argument(
        "--random-labels", action="store_true", help="train on shuffled labels (Zhang et al. 2017) (default: off)"
    )
    t.add_argument(
        "--doubt", type=_finite_float, help="fraction of noise images with a 'no digit' target " + d("doubt")
    )
    t.add_argument("--dtype", choices=["float32", "float64"], help="floating-point precision " + d("dtype"))
    t.add_argument(
        "--shift-px", type=int, help="train on moved digits: random shifts of up to this many pixels " + d("shift_px")
    )
    t.add_argument(
        "--rotate-deg", type=float, help="... and random rotations of up to this many degrees " + d("rotate_deg")
    )
    t.add_argument("--save", metavar="FILE.npz", help="save the trained network (default: not saved)")
    t.add_argument("--json", action="store_true", help="JSON lines instead of text (default: text)")
    t.add_argument(
        "--engine",
        choices=["fused", "numpy"],
        default=argparse.SUPPRESS,
        help="what trains: the fused engine or the NumPy reference (default: fused when numba imports)",
    )
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="evaluate a saved network on the test set")
    e.add_argument("model", metavar="MODEL.npz")
    e.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval)

    f = sub.add_parser("fetch", help="download MNIST (or Fashion-MNIST, KMNIST) into the cache folder")
    f.add_argument(
        "--dataset",
        choices=["mnist", "fashion", "kmnist"],
        default="mnist",
        help="which dataset: MNIST digits, Fashion-MNIST clothes or Kuzushiji-MNIST characters; "
        "each has its own cache folder",
    )
    f.add_argument("--dest", metavar="DIR", help="download here instead of the cache folder")
    f.add_argument(
        "--mirror",
        metavar="URL",
        action="append",
        help="base URL to try instead of the known mirrors (repeatable; files are still checked "
        "against the official MD5 sums)",
    )
    f.set_defaults(func=cmd_fetch)
    return p


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    if a.engine:  # one switch for every Trainer this process builds (CLI, app worker, experiments)
        os.environ["DIGITVIZ_ENGINE"] = a.engine
    func = getattr(a, "func", cmd_app)
    return func(a)


if __name__ == "__main__":
    sys.exit(main())
