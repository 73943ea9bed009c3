"""Training speed and accuracy of the core, against baselines measured in the same run.

Prints one figure a line, ``name: value unit`` (comments start with '#'):
- ``examples_per_s_b{10,100}_f{32,64}``: 784-16-16-10, sigmoid, quadratic, plain SGD, one BLAS thread,
  the NumPy engine one ``step()`` at a time;
- ``fused_examples_per_s_b{10,100}``: the same on the fused engine (the default), whole epochs of
  ``Trainer.run_steps``, CPU seconds of the process;
- ``jax_*`` and ``jax_ratio_b{10,100}`` (fused / JAX): the same network, cost and SGD step in JAX, a
  jit-compiled epoch (``lax.scan`` over the mini-batches, the gather inside), float32, one thread
  (``XLA_FLAGS``), interleaved with ours in the same rounds, whole epochs, when ``import jax`` works
  (``pip install jax==0.10.2 jaxlib==0.10.2``);
- ``torch_*`` and ``torch_ratio_b{10,100}``: the same network and step in PyTorch (CPU, one thread),
  when ``import torch`` works (``pip install torch==2.13.0``);
- ``book_examples_per_s_b10`` / ``book_ratio_b10``: the book's algorithm (network.py: one column
  vector at a time inside each mini-batch), rewritten for Python 3 with NumPy, in this file;
- ``matmul_gflops`` and ``rate_vs_flop_floor_b100``: how close the fused engine's b100 rate gets to
  the machine's float32 matrix-multiply rate (NumPy's BLAS, one thread) for the same arithmetic; in the
  same rounds ``kernel_vs_flop_floor_b100``: a bare kernel call over a whole epoch (no divergence watch,
  no path points, no Python between steps), so the gap between the two is the driver's
  (``Trainer.run_steps``) and the watch's; and ``run_epoch_examples_per_s_b100``: 60,000 examples per
  CPU-second of a whole ``Trainer.run_epoch``, its evaluation of the 70,000 training and test images included;
- per preset: the epoch and the seconds of training until test accuracy first reaches its target,
  and the best test accuracy; plus ``lesson_best_acc`` for the best schedule we found for the
  lesson's exact network and cost.

Run: ``python benchmarks/train_speed.py --data ../shared/data/mnist`` (about 2-3 minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

# JAX on one core, like everything else here; must be set before jax is imported
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitviz.core.data import load_mnist
from digitviz.core.training import PRESET_TARGETS, PRESETS, TrainConfig, Trainer

SIZES = (784, 16, 16, 10)


def fig(name, value, unit=""):
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def rate(step, batch, seconds=1.0, repeats=3):
    """Median examples per CPU-second of ``step()`` over ``repeats`` windows (after warm-up).

    CPU time of this thread (``time.thread_time``), not wall time: with BLAS pinned to one thread
    the two agree on an idle machine, and a busy shared machine does not distort the figure.
    """
    for _ in range(50):
        step()
    rates = []
    for _ in range(repeats):
        n, t0 = 0, time.thread_time()
        while (t := time.thread_time()) - t0 < seconds:
            for _ in range(20):
                step()
            n += 20 * batch
        rates.append(n / (t - t0))
    return statistics.median(rates)


def ours(data, batch, dtype):
    tr = Trainer(data, TrainConfig(sizes=SIZES, batch_size=batch, dtype=dtype), engine="numpy")
    return rate(tr.step, batch)


def fused_epoch_rate(tr):
    """Examples per CPU-second (process) of one whole epoch of ``tr`` on its engine, evaluation excluded."""
    if tr.epoch_done or tr.step_count == 0:
        tr.run_steps(1)  # start the epoch (and warm up) outside the timing
    n0, t0 = tr.examples_seen, time.process_time()
    tr.run_steps(1 << 30)  # to the end of the epoch
    return (tr.examples_seen - n0) / (time.process_time() - t0)


def bare_kernel_epoch_rate(tr):
    """Examples per CPU-second (process) of one kernel call over a whole epoch of ``tr``'s network and
    data (a copy of its parameters, a fresh order): what the fused engine's arithmetic costs alone."""
    from digitviz.core import fused

    fused.warm_up()
    net, B = tr.net, tr.config.batch_size
    U = np.ascontiguousarray(tr.U_train).reshape(-1).view()
    U.flags.writeable = False
    order = np.random.default_rng(tr.step_count).permutation(tr.n_train).astype(np.int64)
    m = -(-len(order) // B)
    theta = net.theta.copy()
    t0 = time.process_time()
    done, status, _, _ = fused._call(
        theta, np.zeros_like(theta), net.layout, net.activation, net.cost_name, U, np.zeros(0, tr.dtype),
        tr.train_labels, order, B, m, np.array([tr.opt.lr, 0, 0], tr.dtype), np.zeros(m, np.int64),
        np.zeros(0, tr.dtype), 0.0, 1, np.array([1.0]), 1e30, np.array([np.nan, np.nan, np.inf, 0.0]),
    )  # fmt: skip
    seconds = time.process_time() - t0
    assert done == m, (done, status)
    return len(order) / seconds


def fused_trainer(data, batch):
    return Trainer(data, TrainConfig(sizes=SIZES, batch_size=batch), engine="fused")


def jax_epoch(data, batch):
    """``run()`` trains one whole epoch in JAX (jit-compiled, ``lax.scan`` over the mini-batches) and
    returns examples per CPU-second; same network, cost, init scale and SGD step as ours."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    X = jnp.asarray(data.images_as("train", np.float32))
    Y = jnp.asarray(np.eye(10, dtype=np.float32)[data.train_labels])
    net = TrainConfig(sizes=SIZES).network()
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(net.weights, net.biases)]
    n = (len(data.train_labels) // batch) * batch

    def cost(p, xb, yb):
        a = xb
        for w, b in p:
            a = jax.nn.sigmoid(a @ w.T + b)
        return jnp.sum((a - yb) ** 2) / xb.shape[0]

    grad = jax.grad(cost)

    @jax.jit
    def epoch(p, order):
        def step(p, idx):
            g = grad(p, X[idx], Y[idx])
            return jax.tree_util.tree_map(lambda w, dw: w - 1.5 * dw, p, g), None

        return jax.lax.scan(step, p, order.reshape(-1, batch))[0]

    rng = np.random.default_rng(0)
    state = [params]
    jax.block_until_ready(epoch(params, jnp.asarray(rng.permutation(n)[:n], jnp.int32)))  # compile

    def run():
        order = jnp.asarray(rng.permutation(len(data.train_labels))[:n], jnp.int32)
        t0 = time.process_time()
        state[0] = jax.block_until_ready(epoch(state[0], order))
        return n / (time.process_time() - t0)

    return run, jax.__version__


def torch_rate(data, batch):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X = torch.from_numpy(np.array(data.images_as("train", np.float32)))  # writable copy for torch
    Y = torch.nn.functional.one_hot(torch.from_numpy(data.train_labels.astype(np.int64)), 10).float()
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 16),
        torch.nn.Sigmoid(),
        torch.nn.Linear(16, 16),
        torch.nn.Sigmoid(),
        torch.nn.Linear(16, 10),
        torch.nn.Sigmoid(),
    )
    opt = torch.optim.SGD(model.parameters(), lr=1.5)
    order = torch.randperm(len(X))
    pos = [0]

    def step():
        if pos[0] + batch > len(X):
            pos[0] = 0
        idx = order[pos[0] : pos[0] + batch]
        pos[0] += batch
        xb, yb = X[idx], Y[idx]
        opt.zero_grad(set_to_none=True)
        loss = ((model(xb) - yb) ** 2).sum() / batch
        loss.backward()
        opt.step()

    return rate(step, batch), torch.__version__


def book_rate(data, batch):
    """The book's network.py algorithm: per-example backprop on column vectors, summed per batch."""
    rng = np.random.default_rng(0)
    sizes = SIZES
    weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    X = data.images_as("train", np.float64)
    labels = data.train_labels
    eta = 3.0
    pos = [0]

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    def backprop(x, y):
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(biases, weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sig(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sig(zs[-1]) * (1 - sig(zs[-1]))
        nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
        for l in range(2, len(sizes)):
            sp = sig(zs[-l]) * (1 - sig(zs[-l]))
            delta = np.dot(weights[-l + 1].T, delta) * sp
            nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def step():
        if pos[0] + batch > len(X):
            pos[0] = 0
        nb = [np.zeros(b.shape) for b in biases]
        nw = [np.zeros(w.shape) for w in weights]
        for i in range(pos[0], pos[0] + batch):
            y = np.zeros((10, 1))
            y[labels[i]] = 1.0
            dnb, dnw = backprop(X[i].reshape(784, 1), y)
            nb = [a + d for a, d in zip(nb, dnb)]
            nw = [a + d for a, d in zip(nw, dnw)]
        pos[0] += batch
        for k in range(len(weights)):
            weights[k] -= (eta / batch) * nw[k]
            biases[k] -= (eta / batch) * nb[k]

    return rate(step, batch, seconds=1.0)


def matmul_gflops(n=4000):
    """float32 GEMM rate on shapes like one training step at mini-batch 100 (one thread)."""
    a = np.random.default_rng(0).random((100, 784), np.float32)
    w = np.random.default_rng(1).random((16, 784), np.float32)
    out = np.empty((100, 16), np.float32)
    best = 0.0
    for _ in range(3):
        # CPU seconds, like the training rates it is compared with (wall time would count the time the
        # shared machine gave to others, and lift the floor ratio on a busy machine)
        t0 = time.process_time()
        for _ in range(n):
            np.matmul(a, w.T, out=out)
        best = max(best, n * 2 * 100 * 784 * 16 / (time.process_time() - t0) / 1e9)
    return best


def flops_per_example(sizes):
    # forward: 2*n_in*n_out per layer; backward: weight gradient for every layer (same), and the
    # delta passed down for every layer but the first: about 3x forward in all
    fwd = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    back = fwd + sum(2 * a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    return fwd + back


def time_to_target(data, cfg, target, max_epochs=None):
    """(epoch, seconds of training, wall seconds incl. evaluation) when test accuracy first reaches
    ``target``, and the best test accuracy seen."""
    tr = Trainer(data, cfg, engine="fused")
    hit, best, t0 = None, 0.0, time.perf_counter()
    for _ in range(max_epochs or cfg.epochs):
        rec = tr.run_epoch()
        best = max(best, rec.test_acc)
        if hit is None and rec.test_acc >= target:
            hit = (rec.epoch, tr.train_seconds, time.perf_counter() - t0)
            if max_epochs is None:
                break
    return hit, best, tr


# The best schedule we found for the lesson's exact network and cost (sigmoid, quadratic,
# 784-16-16-10, mini-batch 10): only the learning rate's schedule and momentum differ.
LESSON_BEST = replace(PRESETS["lesson"], lr=1.5, lr_decay=0.9, epochs=30)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--quick", action="store_true", help="speed figures only")
    a = p.parse_args(argv)
    data = load_mnist(a.data)
    import platform

    print(
        f"# {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"numpy {np.__version__}; BLAS pinned to 1 thread; rates per CPU-second of the training thread"
    )
    with threadpool_limits(1):
        ex = {}
        for b in (10, 100):
            for dt in ("float32", "float64"):
                ex[(b, dt)] = ours(data, b, dt)
                fig(f"examples_per_s_b{b}_f{dt[-2:]}", f"{ex[(b, dt)]:.0f}", "examples/s")
        fused_rate = {}
        trainers = {b: fused_trainer(data, b) for b in (10, 100)}
        for b in (10, 100):
            fused_rate[b] = statistics.median(fused_epoch_rate(trainers[b]) for _ in range(3))
            fig(f"fused_examples_per_s_b{b}", f"{fused_rate[b]:.0f}", "examples/s")
        try:
            import jax  # noqa: F401

            have_jax = True
        except ImportError:
            have_jax = False
            print("# jax not importable: pip install jax==0.10.2 jaxlib==0.10.2 for the JAX comparison")
        if have_jax:
            for b in (10, 100):
                run, ver = jax_epoch(data, b)
                pairs = [(fused_epoch_rate(trainers[b]), run()) for _ in range(5)]  # interleaved rounds
                fig(f"jax_examples_per_s_b{b}", f"{statistics.median(j for _, j in pairs):.0f}", "examples/s")
                fig(f"jax_fused_examples_per_s_b{b}", f"{statistics.median(m for m, _ in pairs):.0f}", "examples/s")
                fig(f"jax_ratio_b{b}", f"{statistics.median(m / j for m, j in pairs):.2f}", "x")
            print(
                f"# jax {ver}, CPU, XLA_FLAGS={os.environ['XLA_FLAGS']!r}; whole epochs, 5 interleaved rounds, "
                "median; CPU seconds of the process for both"
            )
        try:
            import torch  # noqa: F401 - only whether it imports

            have_torch = True
        except ImportError:
            have_torch = False
            print("# torch not importable: pip install torch==2.13.0 for the PyTorch comparison")
        if have_torch:
            for b in (10, 100):
                # interleaved, so both see the same machine load; median of the pairs
                pairs = []
                for _ in range(3):
                    tr, ver = torch_rate(data, b)
                    pairs.append((fused_epoch_rate(trainers[b]), tr))
                tr = statistics.median(t for _, t in pairs)
                fig(f"torch_examples_per_s_b{b}", f"{tr:.0f}", "examples/s")
                fig(f"torch_ratio_b{b}", f"{statistics.median(m / t for m, t in pairs):.2f}", "x")
            print(
                f"# torch {ver}, CPU, torch.set_num_threads(1), same network, cost and SGD step; "
                "ours: fused engine, whole epochs"
            )
        book = book_rate(data, 10)
        fig("book_examples_per_s_b10", f"{book:.0f}", "examples/s")
        fig("book_ratio_b10", f"{ours(data, 10, 'float32') / book:.1f}", "x")
        print("# book_ratio_b10: the NumPy engine's step() against the book's per-example loop")
        gf = matmul_gflops()
        floor = gf * 1e9 / flops_per_example(SIZES)
        fig("matmul_gflops", f"{gf:.1f}", "GFLOP/s")
        fig("flop_floor_examples_per_s", f"{floor:.0f}", "examples/s")
        # interleaved with the GEMM rate itself: the floor moves with the machine's load
        rounds = []
        for _ in range(5):
            f = matmul_gflops(1500) * 1e9 / flops_per_example(SIZES)
            rounds.append((fused_epoch_rate(trainers[100]), bare_kernel_epoch_rate(trainers[100]), f))
        fig("kernel_examples_per_s_b100", f"{statistics.median(k for _, k, _ in rounds):.0f}", "examples/s")
        fig("kernel_vs_flop_floor_b100", f"{statistics.median(k / f for _, k, f in rounds):.2f}", "")
        fig("rate_vs_flop_floor_b100", f"{statistics.median(m / f for m, _, f in rounds):.2f}", "")
        print(
            "# rate_vs_flop_floor_b100: fused engine (Trainer.run_steps), whole epochs at mini-batch 100, against "
            "the GEMM floor measured in the same round (median of 5); kernel_*: one bare kernel call a round"
        )
        epochs = []
        for _ in range(3):
            t0 = time.process_time()
            trainers[100].run_epoch()
            epochs.append(trainers[100].n_train / (time.process_time() - t0))
        fig("run_epoch_examples_per_s_b100", f"{statistics.median(epochs):.0f}", "examples/s")
        fig("numpy_rate_vs_flop_floor_b100", f"{ex[(100, 'float32')] / floor:.2f}", "")
        # the wide preset was already near its GEMM floor on NumPy: the fused engine must not be slower
        wide = {e: Trainer(data, PRESETS["wide"], engine=e) for e in ("fused", "numpy")}
        pairs = []
        for _ in range(3):
            r = {e: fused_epoch_rate(tr) for e, tr in wide.items()}  # run_steps: step() loops on NumPy
            pairs.append(r["fused"] / r["numpy"])
        fig("wide_fused_vs_numpy_epoch_rate", f"{statistics.median(pairs):.2f}", "x")
        if a.quick:
            return
        for name in ("lesson", "tweaked", "wide"):
            cfg, target = PRESETS[name], PRESET_TARGETS[name]
            hit, best, tr = time_to_target(data, cfg, target, max_epochs=cfg.epochs if name == "lesson" else None)
            pct = round(target * 100)
            if hit:
                fig(f"{name}_epochs_to_{pct}", hit[0], "epochs")
                fig(f"{name}_s_to_{pct}", f"{hit[1]:.1f}", "s")
                fig(f"{name}_wall_s_to_{pct}", f"{hit[2]:.1f}", "s")
            else:
                fig(f"{name}_s_to_{pct}", "nan", "s")
                print(f"# {name} did not reach {target:.0%} in {cfg.epochs} epochs")
            fig(f"{name}_preset_best_acc", f"{best:.4f}")
        _, best, _ = time_to_target(data, LESSON_BEST, 1.01, max_epochs=LESSON_BEST.epochs)
        fig("lesson_best_acc", f"{best:.4f}")
        print(
            f"# lesson_best_acc: 784-16-16-10 sigmoid quadratic, batch 10, lr {LESSON_BEST.lr} "
            f"x{LESSON_BEST.lr_decay}/epoch, momentum {LESSON_BEST.momentum}, {LESSON_BEST.epochs} epochs, "
            "best test accuracy over the epochs"
        )


if __name__ == "__main__":
    main()
