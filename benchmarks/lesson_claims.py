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

Usage: ``python benchmarks/lesson_claims.py [--data DIR] [--minima-epochs 10] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitviz.core import experiments as ex  # noqa: E402
from digitviz.core.data import load_mnist  # noqa: E402
from digitviz.core.probe import probe  # noqa: E402
from digitviz.core.training import PRESETS, Trainer  # noqa: E402

DOUBT = 0.1       # share of each mini-batch replaced by "no digit" noise in the doubt run
CONFIDENT = 0.9   # a top output above this counts as a confident answer
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
    return probe(net, data.images_as("test", net.dtype), data.test_labels, np.random.default_rng(2017),
                 n=N_NOISE, kind="uniform", threshold=CONFIDENT)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist",
                    help="folder with the four MNIST files (default: ../shared/data/mnist from the repo root)")
    ap.add_argument("--minima-epochs", type=int, default=10, help="epochs per seed for the minima figures")
    ap.add_argument("--quick", action="store_true", help="1 epoch everywhere (a smoke test, not the claims)")
    args = ap.parse_args(argv)
    data = load_mnist(args.data)
    t_start = time.perf_counter()

    def epochs_of(config):
        return 1 if args.quick else config.epochs

    with threadpool_limits(limits=1):
        say("# The lesson's claims, measured on MNIST (60,000 training / 10,000 test digits); lesson quotes"
            " are paraphrased.")

        # presets
        say("# lesson: the network as described gets about 96% of new images right; playing with the hidden"
            " layers and a few tweaks brings it to 98%.")
        trained = {}
        for name in ("lesson", "tweaked", "wide"):
            cfg = PRESETS[name]
            t = time.perf_counter()
            tr = trained[name] = train(data, cfg, epochs_of(cfg))
            say(f"# {name}: {cfg.sizes}, {cfg.activation}, {cfg.cost}, lr {cfg.lr:g}, batch {cfg.batch_size},"
                f" momentum {cfg.momentum:g}, {epochs_of(cfg)} epochs, {time.perf_counter() - t:.0f} s")
            figure(f"{name}_test_acc", tr.evaluate("test").accuracy)

        # noise, and teaching it to doubt
        lesson = trained.pop("lesson")
        others = {name: noise_probe(tr.net, data) for name, tr in trained.items()}
        trained.clear()
        say("# lesson: show the trained network random noise and it still answers, as confidently as for a"
            " real digit; nothing in its training ever asked it to be unsure.",
            f"# share of {N_NOISE:,} uniform-noise images whose top output is above {CONFIDENT} (lesson preset)")
        p = noise_probe(lesson.net, data)
        say(f"# for comparison, test digits answered above {CONFIDENT}: {p.digits_confident_share:.1%}; median top"
            f" output on noise {np.median(p.noise_top):.3f}, on digits {np.median(p.digits_top):.3f}",
            "# the noise was answered as digits 0-9: " + " ".join(str(int(c)) for c in p.noise_answers)
            + " (noise lies far from every digit: a network answers it with one or two favourite digits, and how"
            " sure it is of them differs from network to network; see the minima seeds below)")
        figure("noise_confident_share", p.noise_confident_share)
        say("# the same probe on the softmax presets (outputs are probabilities there): "
            + ", ".join(f"{name} {q.noise_confident_share:.3f} (median top output {np.median(q.noise_top):.2f})"
                        for name, q in others.items()))
        doubt_cfg = replace(PRESETS["lesson"], doubt=DOUBT)
        say(f"# teach it to doubt (our addition): TrainConfig(doubt={DOUBT}): {DOUBT:.0%} of every mini-batch"
            " is uniform noise whose desired output is 'no digit' (all ten outputs 0); same epochs as lesson")
        doubt = train(data, doubt_cfg, epochs_of(doubt_cfg))
        p = noise_probe(doubt.net, data)
        say(f"# after doubt: test digits answered above {CONFIDENT}: {p.digits_confident_share:.1%}; median top"
            f" output on noise {np.median(p.noise_top):.3f}")
        figure("doubt_noise_confident_share", p.noise_confident_share)
        figure("doubt_test_acc", doubt.evaluate("test").accuracy)
        del doubt

        # what training did to the first layer (the lesson network)
        say("# lesson: the first layer's weights, drawn as images, look almost random, with only loose"
            " patterns, not the edges and loops one hoped for.",
            "# mean over the 16 first-layer neurons of corr(trained incoming weights, initial ones), lesson preset")
        W0 = lesson.net.layout.views(lesson.theta0)[0][0]
        figure("weights_init_correlation", ex.init_correlation(W0, lesson.net.weights[0]))
        say("# low: training carried the first-layer weights far from their random start (their size grew"
            f" {np.linalg.norm(lesson.net.weights[0]) / np.linalg.norm(W0):.1f}x); their random look is not"
            " leftover initialisation")
        del lesson

        # true against random labels
        cfg = PRESETS["lesson"]
        steps = -(-len(data.train_labels) // cfg.batch_size)
        say("# lesson (Zhang et al. 2017): with shuffled labels a network can reach the same training accuracy"
            " by memorising, but its test accuracy is chance.",
            "# lesson (Arpit et al. 2017): on random labels the cost falls slowly, almost linearly; with true"
            " labels it fiddles around at first, then drops fast.",
            "# here: one epoch of the lesson preset, two copies from the same initial weights, same example"
            " order; training accuracy on all 60,000 examples against the labels each copy trains on")
        last = None
        for last in ex.compare_labels(data, cfg, steps=steps, every=steps, n_probe=None, n_test_probe=None):
            pass
        figure("true_labels_train_acc_1ep", last.true.train_acc)
        figure("random_labels_train_acc_1ep", last.shuffled.train_acc)
        figure("random_labels_test_acc", last.shuffled.test_acc)
        say("# the 13,002-parameter network is far too small to memorise 60,000 random labels in an epoch;"
            " the app's 'Random labels' tab can use fewer examples and a wider net to watch memorisation.")

        # many minima
        m_epochs = 1 if args.quick else args.minima_epochs
        say("# lesson: the local minima a network finds are of roughly equal quality.",
            f"# lesson preset from seeds 0, 1, 2, {m_epochs} epochs each; the line runs between seeds 0 and 1,"
            f" cost on the first {LINE_EXAMPLES:,} training examples, 51 points")
        results = [r for r in ex.train_seeds(data, cfg, seeds=(0, 1, 2), epochs=m_epochs)
                   if isinstance(r, ex.SeedResult)]
        accs = [r.test_acc for r in results]
        say("# test accuracies: " + ", ".join(f"seed {r.seed} {r.test_acc:.4f}" for r in results))
        figure("minima_test_acc_spread", max(accs) - min(accs))
        X = data.images_as("train")[:LINE_EXAMPLES]
        line = ex.line_barrier(cfg.network(), results[0].theta, results[1].theta, X,
                               data.train_labels[:LINE_EXAMPLES])
        say(f"# cost at the two ends {line.costs[0]:.4f} and {line.costs[-1]:.4f}, highest on the line"
            f" {line.costs.max():.4f} at t = {line.t[np.argmax(line.costs)]:.2f}: between two minima there is a"
            " hill (hidden neurons can be relabelled, so the two networks are far apart)")
        figure("minima_line_barrier", line.barrier)
        shares = [noise_probe(ex_net(cfg, r.theta), data).noise_confident_share for r in results]
        say("# the same noise probe on these three networks: noise_confident_share "
            + ", ".join(f"seed {r.seed} {v:.3f}" for r, v in zip(results, shares)))

    say(f"# total {time.perf_counter() - t_start:.0f} s, BLAS pinned to 1 thread")


if __name__ == "__main__":
    main()
