"""How fast the desktop app trains and draws, compared with training headless in the same process.

Drives the real MainWindow at 1280x800 with every panel shown, on real MNIST, with the lesson preset.
Prints one figure a line, ``name: value unit``; comment lines start with '#'.

- headless_rate / in_app_rate: examples/s of a Trainer loop (BLAS pinned to one thread, an evaluation at
  each epoch's end, exactly what the app's worker does) and of the app playing at full speed. They are
  measured in alternating rounds (headless first in even rounds, the app first in odd ones), so that a
  busy machine slows both alike; the ratio is the median of the per-round ratios (target >= 0.95).
  Fair to both: the fused engine is compiled (or loaded from its disk cache) and both have trained before
  the first round, so no round pays for compiling or trains on NumPy meanwhile; both train the same
  preset on the same engine with one BLAS thread. The headless loop calls ``run_steps(1000)``, no more
  calls than the worker's ~15 ms chunks; the engine cuts both at the same kinds of points (path points,
  probe checks, epoch ends; the app's timeline too), and the kernel calls per 1,000 steps are printed.
  The app's count is taken from the snapshots themselves, between their arrival times.
  On Linux the training thread's time is split (from /proc schedstat) into running, waiting for a core
  (the machine's other load) and blocked (in the app: waits for the GIL), and printed as comments.
- in_app_rate_ratio_unloaded (Linux): the same per-round ratio with each rate taken per second the
  training thread was running or blocked, not waiting for a core: what the ratio would be on a machine
  with a core free for each thread. On a shared machine (and with Linux's autogroup scheduling, which
  gives one session's threads one share) the GUI thread's CPU time comes out of the training thread's
  share, which an idle machine does not do; the GIL waits still count.
- diagram_repaint_ms: median of one full diagram update (forward pass + diagram state + set_state) and
  a synchronous repaint (target < 8).
- step_latency_ms: median from triggering Step to the diagram's repaint showing the new step (< 50).
- startup_s: a fresh interpreter launching the app, until the window is first shown (< 2 s; MNIST
  loads in the background).

Usage: python benchmarks/app_speed.py [--data DIR] [--seconds 3] [--rounds 5]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP_SCRIPT = """
import sys, time
from PySide6.QtWidgets import QApplication
from digitviz.gui.app import main
def shown(window):
    print("SHOWN", flush=True)
    QApplication.instance().quit()
sys.exit(main(data_dir=sys.argv[1], on_shown=shown))
"""


def startup_seconds(data_dir) -> float:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = home  # never read or write the user's QSettings
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-c", STARTUP_SCRIPT, str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for line in p.stdout:
            if line.startswith("SHOWN"):
                dt = time.perf_counter() - t0
                break
        else:
            dt = float("nan")
        p.wait(30)
    return dt


class KernelCalls:
    """Counts the fused engine's kernel calls (each one ends where the engine must stop and give the GIL back)."""

    def __init__(self):
        from digitviz.core import fused

        self.n = 0
        call = fused._call

        def counted(*args):
            self.n += 1
            return call(*args)

        fused._call = counted


class ThreadTimes:
    """A thread's wall time split into running, waiting for a core and blocked, from /proc (Linux; else nothing)."""

    def __init__(self, tid: int | None):
        self.path = f"/proc/self/task/{tid}/schedstat" if tid else ""
        self.parts: list[tuple[float, float, float]] = []

    def _read(self):
        try:
            with open(self.path) as f:
                run, wait, _ = f.read().split()
            return time.perf_counter(), int(run) / 1e9, int(wait) / 1e9
        except (OSError, ValueError):
            return None

    def start(self):
        self._t0 = self._read()

    def stop(self):
        t1 = self._read()
        if self._t0 is not None and t1 is not None:
            wall, run, wait = (b - a for a, b in zip(self._t0, t1))
            self.parts.append((run / wall, wait / wall, max(0.0, wall - run - wait) / wall))

    def busy(self, i: int) -> float:
        """Share of round ``i``'s wall time the thread was running or blocked (NaN if not measured)."""
        return self.parts[i][0] + self.parts[i][2] if i < len(self.parts) else float("nan")

    def summary(self) -> str:
        if not self.parts:
            return "not measured"
        med = [statistics.median(p[i] for p in self.parts) for i in range(3)]
        return f"running {med[0]:.0%}, waiting for a core {med[1]:.0%}, blocked {med[2]:.1%} (medians)"


def native_id(name: str) -> int | None:
    """The OS id of this process's thread whose name starts with ``name`` (Linux; QThread names the OS
    thread after its objectName), or None."""
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().startswith(name[:15]):
                    return int(tid)
    except OSError:
        pass
    return None


def headless_rate(trainer, seconds, times=None) -> float:
    from threadpoolctl import threadpool_limits

    n0 = trainer.examples_seen
    with threadpool_limits(1):
        if times:
            times.start()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            trainer.run_steps(1000)  # the trainer's engine (fused by default)
            if trainer.epoch_done:
                trainer.end_epoch()
        dt = time.perf_counter() - t0
        if times:
            times.stop()
    return (trainer.examples_seen - n0) / dt


def pump_until(app, cond, timeout=10.0):
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the app did not answer in time")


class Arrivals:
    """When each snapshot reached the GUI thread: ``(time, examples_seen, running)``."""

    def __init__(self, controller):
        from PySide6.QtCore import QObject, Slot

        class Sink(QObject):
            @Slot(object)
            def take(sink, snap):
                self.seen.append((time.perf_counter(), snap.examples_seen, snap.running))

        self.seen: list[tuple[float, int, bool]] = []
        self._sink = Sink()  # lives on the GUI thread: the worker's signal is queued to it, as to the controller
        controller.worker.snapshot.connect(self._sink.take)


def in_app_rate(app, w, seconds, arrivals=None, times=None) -> float:
    """Examples/s of the app playing at full speed for ``seconds``, from the first running snapshot to the
    last one, at their arrival times (with ``arrivals``; else from ``controller.latest`` when read)."""
    c = w.controller
    first = len(arrivals.seen) if arrivals else 0
    c.play()
    pump_until(app, lambda: c.latest.running)
    from PySide6.QtCore import QEventLoop, QTimer

    n0, t0 = c.latest.examples_seen, time.perf_counter()
    if times:
        times.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()  # the real event loop: frames, panels and painting as in the app
    n1, t1 = c.latest.examples_seen, time.perf_counter()
    if times:
        times.stop()
    c.pause()
    pump_until(app, lambda: not c.latest.running)
    if arrivals:
        run = [a for a in arrivals.seen[first:] if a[2] and a[0] <= t1]
        if len(run) >= 2:
            (t0, n0, _), (t1, n1, _) = run[0], run[-1]
    return (n1 - n0) / (t1 - t0)


def warm_up(app, w, trainer):
    """Compile (or load) the fused engine and train a little both ways, before anything is measured."""
    from threadpoolctl import threadpool_limits

    from digitviz.core import fused

    fused.warm_up()  # else the first headless round would compile, and the app train on NumPy meanwhile
    with threadpool_limits(1):
        trainer.run_steps(1000)
    c = w.controller
    step = c.step
    c.play()
    pump_until(app, lambda: c.latest.running and c.latest.engine == "fused" and c.step > step + 1000, timeout=60)
    c.pause()
    pump_until(app, lambda: not c.latest.running)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--seconds", type=float, default=3.0, help="length of each rate measurement")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)

    from PySide6.QtCore import QEvent, QObject, QSettings

    from digitviz.core.data import load_mnist
    from digitviz.core.training import PRESETS, Trainer
    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow

    print(f"# digitviz app benchmark: lesson preset, 1280x800, platform {os.environ.get('QT_QPA_PLATFORM', 'xcb')}")
    startup = startup_seconds(a.data)

    app = make_app([])
    ds = load_mnist(a.data)
    config = PRESETS["lesson"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.IniFormat)
        w = MainWindow(data=ds, config=config, settings=settings)
        w.confirm = lambda *args: True
        w.speed.setValue(w.speed.maximum())  # full speed (the app starts at 10 batches/s for a first look)
        w.resize(1280, 800)
        w.show()
        for dock in w.docks.values():
            dock.show()
        pump_until(app, lambda: w.controller.latest is not None and w.isVisible())
        for _ in range(20):
            app.processEvents()

        # rates, alternating
        trainer = Trainer(ds, config)
        warm_up(app, w, trainer)
        engines = (trainer.engine, w.controller.latest.engine)
        arrivals = Arrivals(w.controller)
        calls = KernelCalls()
        head_times, app_times = ThreadTimes(threading.get_native_id()), ThreadTimes(native_id("digitviz-train"))
        load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        ratios, head, inapp = [], [], []
        per_1000: dict[str, list[float]] = {"headless": [], "app": []}
        for i in range(a.rounds):
            rates = {}
            for which in ("headless", "app") if i % 2 == 0 else ("app", "headless"):
                calls.n, s0 = 0, (trainer.step_count if which == "headless" else w.controller.step)
                if which == "headless":
                    rates[which] = headless_rate(trainer, a.seconds, head_times)
                else:
                    rates[which] = in_app_rate(app, w, a.seconds, arrivals, app_times)
                s1 = trainer.step_count if which == "headless" else w.controller.step
                per_1000[which].append(1000 * calls.n / max(1, s1 - s0))
            head.append(rates["headless"])
            inapp.append(rates["app"])
            ratios.append(rates["app"] / rates["headless"])
        load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

        # diagram: one full update + repaint, for different inputs
        X = ds.images_as("test")
        times = []
        for i in range(40):
            t0 = time.perf_counter()
            w._on_input_changed(X[i], int(ds.test_labels[i]))
            w.diagram.repaint()
            times.append(time.perf_counter() - t0)
        w._on_input_changed(None, -1)
        repaint_ms = 1e3 * statistics.median(times[5:])

        # step latency: Step pressed -> the diagram painted with the new step
        class PaintWatch(QObject):
            painted = 0

            def eventFilter(self, obj, ev):
                if ev.type() == QEvent.Paint:
                    PaintWatch.painted += 1
                return False

        target = getattr(w.diagram, "_gv", w.diagram)
        target = target.viewport() if hasattr(target, "viewport") else target
        watch = PaintWatch()
        target.installEventFilter(watch)
        lat = []
        for _ in range(25):
            step = w.controller.step
            updates = w.diagram_updates
            t0 = time.perf_counter()
            w.act_step.trigger()
            pump_until(
                app, lambda step=step, updates=updates: w.controller.step == step + 1 and w.diagram_updates > updates
            )
            painted = PaintWatch.painted
            pump_until(app, lambda painted=painted: PaintWatch.painted > painted)
            lat.append(time.perf_counter() - t0)
        target.removeEventFilter(watch)
        w.close()

    print(
        f"# rounds of {a.seconds:g} s: headless {', '.join(f'{x:,.0f}' for x in head)}; "
        f"in app {', '.join(f'{x:,.0f}' for x in inapp)} examples/s"
    )
    print(f"# per-round ratios: {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"# engines: headless {engines[0]}, in app {engines[1]}; BLAS one thread in both")
    print(
        f"# kernel calls per 1,000 steps (median): headless {statistics.median(per_1000['headless']):.1f}, "
        f"in app {statistics.median(per_1000['app']):.1f}"
    )
    print(f"# training thread, headless: {head_times.summary()}")
    print(f"# training thread, in app: {app_times.summary()}")
    print(f"# load average (1 min) {load0:.1f} before the rounds, {load1:.1f} after, on {os.cpu_count()} cores")
    print(f"headless_rate: {statistics.median(head):.0f} examples/s")
    print(f"in_app_rate: {statistics.median(inapp):.0f} examples/s")
    print(f"in_app_rate_ratio: {statistics.median(ratios):.2f}")
    unloaded = [r * head_times.busy(i) / app_times.busy(i) for i, r in enumerate(ratios)]
    if not any(math.isnan(u) for u in unloaded):
        print(f"# per-round ratios without the waits for a core: {', '.join(f'{u:.2f}' for u in unloaded)}")
        print(f"in_app_rate_ratio_unloaded: {statistics.median(unloaded):.2f}")
    print(f"diagram_repaint_ms: {repaint_ms:.1f} ms")
    print(f"step_latency_ms: {1e3 * statistics.median(lat):.1f} ms")
    print(f"startup_s: {startup:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
