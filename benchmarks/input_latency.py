"""Measure how long a pen movement on the input panel takes to reach the answer bars and the network diagram.

A stroke is replayed as real mouse events (``QTest.mouseMove`` on the drawing canvas, one every
8 ms like a 125 Hz mouse) while the Qt event loop runs. Each movement's latency is the time from
its event until the first repaint that shows it: the panel's throttle (at most 60 updates/s) may
hold a movement back, then the drawing is prepared as MNIST, the output bars are set, the
``input_changed`` signal updates the diagram, and the event loop paints. So every cost on the way
counts, waiting in the throttle included.

The real path is used when it can be: ``digitviz.gui.main_window.MainWindow``, its network
diagram and its ``input_changed`` wiring. If the window holds no input panel (the panel list does
not register one), an ``InputPanel`` is docked into it and wired with the window's own
``_connect_panel``, the same call the window makes for its panels. Without a working main window,
the panel drives a bare ``NetworkView`` through ``core.diagram.diagram_state``. The first ``#``
line says which path was measured.

Prints one figure a line, ``name: value unit``:

* ``pen_to_answer_ms``: median latency, training paused.
* ``pen_to_answer_p90_ms``: its 90th percentile.
* ``pen_to_answer_training_ms``: median latency while the network trains (main window only).
* ``answer_updates_per_s``: how often bars and diagram were updated while drawing.

Usage: ``python benchmarks/input_latency.py [--data DIR] [--moves 300]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QGraphicsView

MOUSE_INTERVAL_S = 0.008


def stroke_path(n, side):
    """``n`` canvas points along a loopy figure-of-eight, as a hand drawing an 8 over and over."""
    t = np.linspace(0, 2 * np.pi * max(1, n // 150), n)
    x = 0.5 + 0.22 * np.sin(t)
    y = 0.5 + 0.32 * np.sin(t) * np.cos(t) * 1.6
    return [QPoint(int(a * side), int(b * side)) for a, b in zip(x, y)]


class Recorder:
    """Matches each mouse movement with the first time both the bars and the diagram were repainted
    after an update that included it.

    Repaints are seen by wrapping the ``paintEvent`` of the bars' and the diagram's graphics views,
    so "painted" means Qt has rasterised them, not merely that an update was scheduled.
    """

    def __init__(self, watched):
        self.t_move = []
        self.latency = []
        self.covered = 0  # movements already matched with a repaint
        self.pending_upto = None  # movements included in the newest update not yet on screen
        self.need = set()
        self.updates = 0
        self.watched = watched  # name -> QGraphicsView
        for name, view in watched.items():
            orig = view.paintEvent

            def painted(ev, orig=orig, name=name):
                orig(ev)
                self.on_paint(name)

            view.paintEvent = painted  # PySide dispatches the virtual to the instance attribute

    def on_update(self, *_):
        # runs after the window's slot (connected earlier), so the bars and the diagram are set
        self.updates += 1
        self.pending_upto = len(self.t_move)
        self.need = set(self.watched)

    def on_paint(self, name):
        if self.pending_upto is None:
            return
        self.need.discard(name)
        if self.need:
            return
        now = time.perf_counter()
        for k in range(self.covered, self.pending_upto):
            self.latency.append(now - self.t_move[k])
        self.covered = self.pending_upto
        self.pending_upto = None

    def release(self):
        for view in self.watched.values():
            del view.paintEvent


def graphics_view_of(widget):
    """The QGraphicsView that paints ``widget`` (itself or its first such child)."""
    if isinstance(widget, QGraphicsView):
        return widget
    return widget.findChild(QGraphicsView)


def measure(app, panel, diagram, n_moves):
    """Press, ``n_moves`` movements at 125 Hz, release; returns latencies (ms) and updates per second."""
    watched = {"bars": panel.bars}
    if diagram is not None:
        watched["diagram"] = graphics_view_of(diagram)
    rec = Recorder(watched)
    r = panel.canvas.target_rect()
    off = QPoint(int(r.x()), int(r.y()))
    pts = stroke_path(n_moves + 1, r.width())
    panel.input_changed.connect(rec.on_update)
    panel.clear()
    app.processEvents()
    QTest.mousePress(panel.canvas, Qt.LeftButton, Qt.NoModifier, pts[0] + off)
    app.processEvents()
    rec.pending_upto = None
    t_start = time.perf_counter()
    for k, p in enumerate(pts[1:]):
        target = t_start + k * MOUSE_INTERVAL_S
        while time.perf_counter() < target:  # keep the event loop running between movements
            app.processEvents()
        rec.t_move.append(time.perf_counter())
        QTest.mouseMove(panel.canvas, p + off)
        app.processEvents()
    deadline = time.perf_counter() + 1.0  # let the throttle and the last repaints deliver
    while rec.covered < len(rec.t_move) and time.perf_counter() < deadline:
        app.processEvents()
    elapsed = time.perf_counter() - t_start
    QTest.mouseRelease(panel.canvas, Qt.LeftButton, Qt.NoModifier, pts[-1] + off)
    app.processEvents()
    panel.input_changed.disconnect(rec.on_update)
    rec.release()
    return np.array(rec.latency) * 1000.0, rec.updates / elapsed, len(rec.t_move)


def wait_for(app, cond, timeout=10.0):
    t = time.perf_counter() + timeout
    while not cond() and time.perf_counter() < t:
        app.processEvents()
        time.sleep(0.002)
    return cond()


def main_window_path(app, ds):
    """The app's window with its diagram; returns (window, panel, description) or None."""
    try:
        from digitviz.core.training import PRESETS
        from digitviz.gui.main_window import MainWindow
        from digitviz.gui.panels.input import InputPanel
    except Exception as e:  # noqa: BLE001 - any failure: measure without the main window
        print(f"# main window unavailable ({type(e).__name__}: {e})", file=sys.stderr)
        return None
    tmp = tempfile.mkdtemp(prefix="digitviz-bench-")
    settings = QSettings(str(Path(tmp) / "digitviz.ini"), QSettings.IniFormat)
    try:
        w = MainWindow(data=ds, config=PRESETS["lesson"], settings=settings, load_data=ds is not None)
    except Exception as e:  # noqa: BLE001 - any failure: measure without the main window
        print(f"# main window failed ({type(e).__name__}: {e})", file=sys.stderr)
        return None
    w.confirm = lambda title, text: True
    if not hasattr(w.diagram, "set_state"):
        w.close()
        return None
    panel = next((p for p in w.panels.values() if isinstance(p, InputPanel)), None)
    how = "MainWindow with its own input panel"
    if panel is None:
        panel = InputPanel()
        dock = QDockWidget("Input", w)
        dock.setObjectName("input")
        dock.setWidget(panel)
        w.addDockWidget(Qt.LeftDockWidgetArea, dock)
        w.panels["input"] = panel
        w.docks["input"] = dock
        w._connect_panel(panel)  # the window's own wiring: input_changed -> diagram
        panel.set_dataset(ds)
        how = "MainWindow (its NetworkView and input_changed wiring) with an InputPanel docked in by this script"
    w.resize(1400, 900)
    w.show()
    QTest.qWaitForWindowExposed(w)
    if not wait_for(app, lambda: w.controller.latest is not None):
        print("# the training controller published no snapshot", file=sys.stderr)
        w.close()
        return None
    w._feed(panel)
    return w, panel, how


def bare_view_path(app, ds):
    """InputPanel + NetworkView, wired as the window would: input_changed -> diagram_state -> set_state."""
    from digitviz.core.diagram import diagram_state
    from digitviz.core.snapshot import Snapshot
    from digitviz.core.training import PRESETS
    from digitviz.gui.panels.input import InputPanel
    from digitviz.gui.views.network_view import NetworkView

    cfg = PRESETS["lesson"]
    net = cfg.network()
    panel, view = InputPanel(), NetworkView()
    panel.set_dataset(ds)
    panel.on_snapshot(Snapshot(step=0, epoch=0, examples_seen=0, theta=net.theta.copy(), config=cfg))
    panel.input_changed.connect(lambda x, label: x is not None and view.set_state(diagram_state(net, x, label)))
    panel.resize(520, 700)
    view.resize(900, 700)
    panel.show()
    view.show()
    QTest.qWaitForWindowExposed(panel)
    return (panel, view), panel, "InputPanel + NetworkView (set_state(diagram_state(...))) without the main window"


def panel_only_path(app, ds):
    """The InputPanel alone: pen -> prepared image, output bars, and their repaint; no diagram."""
    from digitviz.core.snapshot import Snapshot
    from digitviz.core.training import PRESETS
    from digitviz.gui.panels.input import InputPanel

    cfg = PRESETS["lesson"]
    panel = InputPanel()
    panel.set_dataset(ds)
    panel.on_snapshot(Snapshot(step=0, epoch=0, examples_seen=0, theta=cfg.network().theta.copy(), config=cfg))
    panel.resize(520, 700)
    panel.show()
    QTest.qWaitForWindowExposed(panel)
    return panel, panel, "InputPanel alone (bars only, no network diagram)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        default=str(ROOT.parent / "shared" / "data" / "mnist"),
        help="MNIST folder (default: ../shared/data/mnist from the repository root)",
    )
    ap.add_argument("--moves", type=int, default=300, help="pen movements per measurement (>= 100)")
    ap.add_argument(
        "--path",
        choices=("auto", "bare", "panel"),
        default="auto",
        help="auto: the main window if it works, else the bare view; bare: InputPanel + NetworkView; "
        "panel: the InputPanel alone, no diagram (to see the panel's own share)",
    )
    args = ap.parse_args(argv)

    app = QApplication.instance() or QApplication(["input_latency"])
    import digitviz.gui  # noqa: F401  (pyqtgraph options)

    try:
        from digitviz.gui.style import stylesheet

        app.setStyle("Fusion")
        app.setStyleSheet(stylesheet())
    except Exception:  # noqa: BLE001 - unthemed is fine for timing
        pass

    ds = None
    try:
        from digitviz.core.data import load_mnist

        ds = load_mnist(args.data)
    except Exception as e:  # noqa: BLE001 - any failure: measure without test digits
        print(f"# no MNIST ({e}); measuring without test digits", file=sys.stderr)

    found = main_window_path(app, ds) if args.path == "auto" else None
    window = None
    if found is not None:
        window, panel, how = found
        diagram = window.diagram
    elif args.path == "panel":
        _, panel, how = panel_only_path(app, ds)
        diagram = None
    else:
        (_, diagram), panel, how = bare_view_path(app, ds)
    print(
        f"# path: {how}; QPA platform {app.platformName()}; mouse events every "
        f"{MOUSE_INTERVAL_S * 1000:.0f} ms; latency = mouse event -> end of the first repaint of both the bars "
        f"and the diagram after an update that includes it"
    )

    measure(app, panel, diagram, 40)  # warm-up: caches, first paints
    lat, rate, n = measure(app, panel, diagram, max(100, args.moves))
    print(f"pen_to_answer_ms: {np.median(lat):.1f} ms")
    print(f"pen_to_answer_p90_ms: {np.percentile(lat, 90):.1f} ms")
    print(f"answer_updates_per_s: {rate:.0f} 1/s")
    print(f"pen_movements: {n} count")
    print(f"pen_movements_answered: {len(lat)} count")

    if window is not None and ds is not None:
        window.toggle_play()
        wait_for(app, lambda: window.controller.latest.running, timeout=5)
        lat_t, _, _ = measure(app, panel, diagram, max(100, args.moves))
        window.toggle_play()
        print(f"pen_to_answer_training_ms: {np.median(lat_t):.1f} ms")
        print(f"pen_to_answer_training_p90_ms: {np.percentile(lat_t, 90):.1f} ms")
    if window is not None:
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
