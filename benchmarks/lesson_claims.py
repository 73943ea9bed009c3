"""Measure the claims of 3Blue1Brown's "Gradient descent, how neural networks learn" on real MNIST.

Runs headlessly with the same core code the app's views use (``digitviz.core.training`` and
``digitviz.core.experiments``) and prints one figure per line, ``name: value``; fractions are in
[0, 1]. Lines starting with ``#`` say what the lesson claims next to each figure (paraphrased), and
how each figure was measured. BLAS is pinned to one thread, so the runtime (a few minutes) does not
depend on the machine's cores.

Figures:

* ``lesson_test_acc``, ``tweaked_test_acc``, ``wide_test_acc``: each preset trained for its
  ``config.epochs``.
* ``noise_confident_share``: share of 1,000 uniform-noise images the trained lesson network answers
  with a top output above 0.9; ``doubt_noise_confident_share`` and ``doubt_test_acc``: the same after
  training with "teach it to doubt".
* ``true_labels_train_acc_1ep``, ``random_labels_train_acc_1ep``, ``random_labels_test_acc``: one epoch
  from the same initial weights on true and on shuffled labels (training accuracy against the labels
  each copy trains on).
* ``minima_test_acc_spread``, ``minima_line_barrier``: three seeds of the lesson network.
* ``weights_init_correlation``: mean over the first hidden layer's neurons of the correlation between a
  neuron's trained incoming weights and its initial ones.
* issue 11 (``--part issue11`` runs only these): ``draw_confidence_blank``, ``draw_confidence_noise``,
  ``draw_mean_digit_corr``, ``draw_transfer_share`` (asking the lesson network to draw each digit);
  ``shift3_acc_plain``, ``shift3_acc_augmented``, ``centred_acc_augmented``, ``shift3_rate_ratio`` (moved
  digits, and training on them); ``book_noise_confident_share`` (median and range over seeds 0-4) and
  ``book_test_acc`` (the video's recipe).

Usage: ``python benchmarks/lesson_claims.py [--data DIR] [--minima-epochs 10] [--book-epochs 30]
[--part all|issue11] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitviz.core import experiments as ex
from digitviz.core.confidence import sure_as_share
from digitviz.core.data import load_mnist
from digitviz.core.drawing import correlation, draw_digit, mean_digit_images
from digitviz.core.probe import probe
from digitviz.core.training import PRESETS, Trainer
from digitviz.core.transforms import iter_rotation_curve, shift_curve

DOUBT = 0.1  # share of each mini-batch replaced by "no digit" noise in the doubt run
CONFIDENT = 0.9  # a top output above this counts as a confident answer
N_NOISE = 1000
LINE_EXAMPLES = 10_000  # training examples on which the cost along the line is measured


def say(*lines):
    for line in lines:
        print(line, flush=True)


def figure(name, value):
    say(f"{name}: {value:.4f}")


def train(data, config, epochs):
    """A Trainer after ``epochs`` full epochs of ``config``."""
    tr = Trainer(data, config)
    tr.history.path_stride = 1 << 62  # no descent path needed here
    for _ in range(epochs):
        tr.run_epoch()
    return tr


def ex_net(config, theta):
    """A network of ``config`` holding ``theta``."""
    net = config.network()
    net.set_theta(theta)
    return net


def noise_probe(net, data):
    """The input panel's overconfidence probe: uniform noise against test digits."""
    return probe(
        net,
        data.images_as("test", net.dtype),
        data.test_labels,
        np.random.default_rng(2017),
        n=N_NOISE,
        kind="uniform",
        threshold=CONFIDENT,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "mnist",
        help="folder with the four MNIST files (default: ../shared/data/mnist from the repo root)",
    )
    ap.add_argument("--minima-epochs", type=int, default=10, help="epochs per seed for the minima figures")
    ap.add_argument("--book-epochs", type=int, default=30, help="epochs per seed of the book preset (5 seeds)")
    ap.add_argument(
        "--part",
        choices=("all", "issue11"),
        default="all",
        help="issue11: only the figures of issue 11 (drawing, moved digits, book preset)",
    )
    ap.add_argument("--quick", action="store_true", help="1 epoch everywhere (a smoke test, not the claims)")
    args = ap.parse_args(argv)
    data = load_mnist(args.data)
    t_start = time.perf_counter()

    def epochs_of(config):
        return 1 if args.quick else config.epochs

    if args.part == "issue11":
        with threadpool_limits(limits=1):
            issue11(data, args, epochs_of)
        say(f"# total {time.perf_counter() - t_start:.0f} s, BLAS pinned to 1 thread")
        return

    with threadpool_limits(limits=1):
        say(
            "# The lesson's claims, measured on MNIST (60,000 training / 10,000 test digits); lesson quotes"
            " are paraphrased."
        )

        # presets
        say(
            "# lesson: the network as described gets about 96% of new images right; playing with the hidden"
            " layers and a few tweaks brings it to 98%."
        )
        trained = {}
        for name in ("lesson", "tweaked", "wide"):
            cfg = PRESETS[name]
            t = time.perf_counter()
            tr = trained[name] = train(data, cfg, epochs_of(cfg))
            say(
                f"# {name}: {cfg.sizes}, {cfg.activation}, {cfg.cost}, lr {cfg.lr:g}, batch {cfg.batch_size},"
                f" momentum {cfg.momentum:g}, {epochs_of(cfg)} epochs, {time.perf_counter() - t:.0f} s"
            )
            figure(f"{name}_test_acc", tr.evaluate("test").accuracy)

        # noise, and teaching it to doubt
        lesson = trained.pop("lesson")
        others = {name: noise_probe(tr.net, data) for name, tr in trained.items()}
        trained.clear()
        say(
            "# lesson: show the trained network random noise and it still answers, as confidently as for a"
            " real digit; nothing in its training ever asked it to be unsure.",
            f"# share of {N_NOISE:,} uniform-noise images whose top output is above {CONFIDENT} (lesson preset)",
        )
        p = noise_probe(lesson.net, data)
        say(
            f"# for comparison, test digits answered above {CONFIDENT}: {p.digits_confident_share:.1%}; median top"
            f" output on noise {np.median(p.noise_top):.3f}, on digits {np.median(p.digits_top):.3f}",
            "# the noise was answered as digits 0-9: "
            + " ".join(str(int(c)) for c in p.noise_answers)
            + " (noise lies far from every digit: a network answers it with one or two favourite digits, and how"
            " sure it is of them differs from network to network; see the minima seeds below)",
        )
        figure("noise_confident_share", p.noise_confident_share)
        say(
            "# the same probe on the softmax presets (outputs are probabilities there): "
            + ", ".join(
                f"{name} {q.noise_confident_share:.3f} (median top output {np.median(q.noise_top):.2f})"
                for name, q in others.items()
            )
        )
        doubt_cfg = replace(PRESETS["lesson"], doubt=DOUBT)
        say(
            f"# teach it to doubt (our addition): TrainConfig(doubt={DOUBT}): {DOUBT:.0%} of every mini-batch"
            " is uniform noise whose desired output is 'no digit' (all ten outputs 0); same epochs as lesson"
        )
        doubt = train(data, doubt_cfg, epochs_of(doubt_cfg))
        p = noise_probe(doubt.net, data)
        say(
            f"# after doubt: test digits answered above {CONFIDENT}: {p.digits_confident_share:.1%}; median top"
            f" output on noise {np.median(p.noise_top):.3f}"
        )
        figure("doubt_noise_confident_share", p.noise_confident_share)
        figure("doubt_test_acc", doubt.evaluate("test").accuracy)
        del doubt

        # what training did to the first layer (the lesson network)
        say(
            "# lesson: the first layer's weights, drawn as images, look almost random, with only loose"
            " patterns, not the edges and loops one hoped for.",
            "# mean over the 16 first-layer neurons of corr(trained incoming weights, initial ones), lesson preset",
        )
        W0 = lesson.net.layout.views(lesson.theta0)[0][0]
        figure("weights_init_correlation", ex.init_correlation(W0, lesson.net.weights[0]))
        say(
            "# low: training carried the first-layer weights far from their random start (their size grew"
            f" {np.linalg.norm(lesson.net.weights[0]) / np.linalg.norm(W0):.1f}x); their random look is not"
            " leftover initialisation"
        )
        del lesson

        # true against random labels
        cfg = PRESETS["lesson"]
        steps = -(-len(data.train_labels) // cfg.batch_size)
        say(
            "# lesson (Zhang et al. 2017): with shuffled labels a network can reach the same training accuracy"
            " by memorising, but its test accuracy is chance.",
            "# lesson (Arpit et al. 2017): on random labels the cost falls slowly, almost linearly; with true"
            " labels it fiddles around at first, then drops fast.",
            "# here: one epoch of the lesson preset, two copies from the same initial weights, same example"
            " order; training accuracy on all 60,000 examples against the labels each copy trains on",
        )
        records = ex.compare_labels(data, cfg, steps=steps, every=steps, n_probe=None, n_test_probe=None)
        (last,) = deque(records, maxlen=1)  # only the last record is wanted
        figure("true_labels_train_acc_1ep", last.true.train_acc)
        figure("random_labels_train_acc_1ep", last.shuffled.train_acc)
        figure("random_labels_test_acc", last.shuffled.test_acc)
        say(
            "# the 13,002-parameter network is far too small to memorise 60,000 random labels in an epoch;"
            " the app's 'Random labels' tab can use fewer examples and a wider net to watch memorisation."
        )

        # many minima
        m_epochs = 1 if args.quick else args.minima_epochs
        say(
            "# lesson: the local minima a network finds are of roughly equal quality.",
            f"# lesson preset from seeds 0, 1, 2, {m_epochs} epochs each; the line runs between seeds 0 and 1,"
            f" cost on the first {LINE_EXAMPLES:,} training examples, 51 points",
        )
        results = [
            r for r in ex.train_seeds(data, cfg, seeds=(0, 1, 2), epochs=m_epochs) if isinstance(r, ex.SeedResult)
        ]
        accs = [r.test_acc for r in results]
        say("# test accuracies: " + ", ".join(f"seed {r.seed} {r.test_acc:.4f}" for r in results))
        figure("minima_test_acc_spread", max(accs) - min(accs))
        X = data.images_as("train")[:LINE_EXAMPLES]
        line = ex.line_barrier(cfg.network(), results[0].theta, results[1].theta, X, data.train_labels[:LINE_EXAMPLES])
        say(
            f"# cost at the two ends {line.costs[0]:.4f} and {line.costs[-1]:.4f}, highest on the line"
            f" {line.costs.max():.4f} at t = {line.t[np.argmax(line.costs)]:.2f}: between two minima there is a"
            " hill (hidden neurons can be relabelled, so the two networks are far apart)"
        )
        figure("minima_line_barrier", line.barrier)
        shares = [noise_probe(ex_net(cfg, r.theta), data).noise_confident_share for r in results]
        say(
            "# the same noise probe on these three networks: noise_confident_share "
            + ", ".join(f"seed {r.seed} {v:.3f}" for r, v in zip(results, shares))
        )

        issue11(data, args, epochs_of)

    say(f"# total {time.perf_counter() - t_start:.0f} s, BLAS pinned to 1 thread")


def rate_ratio(data, plain_cfg, moved_cfg, steps=3000, rounds=3):
    """Median over interleaved rounds of (examples/s training ``moved_cfg``) / (examples/s ``plain_cfg``)."""

    def rate(cfg):
        tr = Trainer(data, cfg)
        tr.history.path_stride = 1 << 62
        for _ in range(100):
            tr.step()
        t = time.perf_counter()
        for _ in range(steps):
            tr.step()
        return steps * cfg.batch_size / (time.perf_counter() - t)

    pairs = [(rate(plain_cfg), rate(moved_cfg)) for _ in range(rounds)]
    return float(np.median([m / p for p, m in pairs])), pairs


def issue11(data, args, epochs_of):
    """The figures of issue 11: drawing, moved digits, the book preset."""
    cfg = PRESETS["lesson"]
    X_test = data.images_as("test")
    y_test = np.asarray(data.test_labels)
    digits = np.arange(10)

    # 1. ask it to draw
    t = time.perf_counter()
    first, second = (train(data, replace(cfg, seed=s), epochs_of(cfg)) for s in (0, 1))
    say(
        f"# issue 11: lesson preset, seeds 0 and 1, {epochs_of(cfg)} epochs each ({time.perf_counter() - t:.0f} s):"
        f" test accuracy {first.evaluate('test').accuracy:.4f} and {second.evaluate('test').accuracy:.4f}",
        "# lesson: the network 'has no idea how to draw digits'. Here: projected gradient descent on the 784 pixels"
        " (weights fixed), lowering the lesson's cost against one-hot k, 300 steps of length 1 (L2, pixel space),"
        " pixels clipped to [0, 1]; digits 0-9 at once",
    )
    M = mean_digit_images(data.images_as("train"), data.train_labels)
    t = time.perf_counter()
    blank = draw_digit(first.net, digits, "blank")
    dt = time.perf_counter() - t
    noisy = [draw_digit(first.net, digits, "noise", rng=np.random.default_rng(s)) for s in (0, 1, 2)]
    say(
        f"# drawing ten digits at once, 300 steps: {dt * 1000:.0f} ms",
        "# from blank, output k per digit: " + " ".join(f"{c:.2f}" for c in blank.confidence),
        "# from noise (seed 0), output k per digit: " + " ".join(f"{c:.2f}" for c in noisy[0].confidence),
        f"# mean pixel of the drawings: from blank {blank.images.mean():.3f}, from noise {noisy[0].images.mean():.3f}",
    )
    figure("draw_confidence_blank", float(np.median(blank.confidence)))
    figure("draw_confidence_noise", float(np.median(noisy[0].confidence)))
    corr_blank = correlation(blank.images, M)
    corr_noise = correlation(np.concatenate([d.images for d in noisy]), np.tile(M, (3, 1)))
    say(
        "# corr(drawn from blank, average training image of its digit) per digit: "
        + " ".join(f"{c:.2f}" for c in corr_blank),
        f"# the same from noise (three seeds): median {np.median(corr_noise):.3f}",
    )
    figure("draw_mean_digit_corr", float(np.median(corr_blank)))
    drawn = np.concatenate([d.images for d in noisy])
    calls = second.net.predict(drawn)
    say(
        "# a second network (seed 1) on the 30 drawings from noise (ten digits, noise seeds 0-2) answers: "
        + " ".join(str(int(c)) for c in calls)
        + f"; on the ten from blank it calls {np.mean(second.net.predict(blank.images) == digits):.0%} right"
    )
    figure("draw_transfer_share", float(np.mean(calls == np.tile(digits, 3))))
    del second

    # 2. moved digits
    say(
        "# lesson: it only ever saw centred, unmoving digits. Every test digit shifted by s whole pixels in its own"
        " random direction (round(s (cos phi, sin phi)), seed 0), or rotated by a degrees (random sense, seed 0)"
    )
    t = time.perf_counter()
    plain_shift = shift_curve(first.net, X_test, y_test, range(9), seed=0)
    dt = time.perf_counter() - t
    plain_rot = [acc for _, acc in iter_rotation_curve(first.net, X_test, y_test, range(0, 46, 5), seed=0)]
    say(
        "# plain lesson network, accuracy at shifts 0-8: "
        + " ".join(f"{a:.3f}" for a in plain_shift)
        + f" ({dt * 1000:.0f} ms for the curve on 10,000 digits)",
        "# at rotations 0, 5, ..., 45 degrees: " + " ".join(f"{a:.3f}" for a in plain_rot),
    )
    figure("shift3_acc_plain", float(plain_shift[3]))
    moved_cfg = replace(cfg, shift_px=3)
    t = time.perf_counter()
    moved = train(data, moved_cfg, epochs_of(cfg))
    say(
        f"# trained on moved digits: TrainConfig(shift_px=3), each training image shifted by -3..3 px in x and y,"
        f" {epochs_of(cfg)} epochs like the plain one ({time.perf_counter() - t:.0f} s)"
    )
    moved_shift = shift_curve(moved.net, X_test, y_test, range(9), seed=0)
    moved_rot = [acc for _, acc in iter_rotation_curve(moved.net, X_test, y_test, range(0, 46, 5), seed=0)]
    say(
        "# augmented network, accuracy at shifts 0-8: " + " ".join(f"{a:.3f}" for a in moved_shift),
        "# at rotations 0, 5, ..., 45 degrees: " + " ".join(f"{a:.3f}" for a in moved_rot),
    )
    figure("shift3_acc_augmented", float(moved_shift[3]))
    figure("centred_acc_augmented", float(moved_shift[0]))
    del moved
    ratio, pairs = rate_ratio(data, cfg, moved_cfg)
    say(
        "# training rate, examples/s plain / shifted +-3 px, 3 interleaved rounds of 3,000 steps: "
        + ", ".join(f"{p:,.0f} / {m:,.0f}" for p, m in pairs)
    )
    figure("shift3_rate_ratio", ratio)
    ratio_rot, pairs = rate_ratio(data, cfg, replace(cfg, shift_px=3, rotate_deg=15))
    say(
        "# the same with rotations of up to +-15 degrees as well: "
        + ", ".join(f"{p:,.0f} / {m:,.0f}" for p, m in pairs)
        + f"; ratio {ratio_rot:.2f}"
    )

    # 5. the book's recipe
    lesson_probe = noise_probe(first.net, data)
    share = sure_as_share(np.median(lesson_probe.noise_top), lesson_probe.digits_top)
    say(
        f"# lesson preset seed 0: median top output on noise {np.median(lesson_probe.noise_top):.3f}, share above"
        f" {CONFIDENT} {lesson_probe.noise_confident_share:.3f}; that median is as sure as for {share:.0%} of real"
        " test digits"
    )
    del first
    book = PRESETS["book"]
    b_epochs = 1 if args.quick else args.book_epochs
    say(
        "# lesson: shown noise, the video's network answers as confidently as for a real digit. The video's network"
        " was trained with the book's code: N(0, 1) weights and biases, sigmoid, quadratic, eta 3 on half the cost"
        f" (1.5 here), mini-batch 10, 30 epochs. book preset, seeds 0-4, {b_epochs} epochs each"
        + ("" if b_epochs == book.epochs else f" (NOT the recipe's {book.epochs}: --book-epochs)")
    )
    shares, accs, sure = [], [], []
    for seed in range(5):
        t = time.perf_counter()
        tr = train(data, replace(book, seed=seed), b_epochs)
        p = noise_probe(tr.net, data)
        shares.append(p.noise_confident_share)
        accs.append(tr.evaluate("test").accuracy)
        sure.append(sure_as_share(np.median(p.noise_top), p.digits_top))
        say(
            f"# book seed {seed}: test accuracy {accs[-1]:.4f}, noise above {CONFIDENT}: {shares[-1]:.3f}, median top"
            f" output on noise {np.median(p.noise_top):.3f} (as sure as for {sure[-1]:.0%} of real digits),"
            f" answered as 0-9: {' '.join(str(int(c)) for c in p.noise_answers)} ({time.perf_counter() - t:.0f} s)"
        )
    figure("book_noise_confident_share", float(np.median(shares)))
    say(f"book_noise_confident_share_range: {min(shares):.4f} {max(shares):.4f}")
    figure("book_test_acc", float(np.median(accs)))
    say(f"# book_test_acc is the median over seeds 0-4; range {min(accs):.4f}-{max(accs):.4f}")


if __name__ == "__main__":
    main()
