"""How long a 30-second recording of the whole 1280x800 window takes to encode (target: under 30 s).

Drives the real MainWindow offscreen at 1280x800 on MNIST with the lesson preset, training at full speed,
and grabs 450 frames (30 s at 15 fps) exactly as File > Record does (QWidget.grab, the step and accuracy
painted in, copied into a NumPy array). Then it encodes those same frames with
:func:`digitviz.core.record.encode_frames`, as MP4 (if imageio-ffmpeg is installed) and as GIF, and prints
one figure a line, ``name: value unit``:

- grab_ms: median cost of one frame on the GUI thread (grab + burn-in + copy);
- record_encode_s: MP4 encoding wall time, and its ratio to the 30 s budget (the target: ratio < 1);
- record_encode_gif_s: the same for GIF (halved to 640x400), and its ratio to 30 s;
- baseline_copy_s: copying the 450 frames once (memory bandwidth on this machine now), and the encode/copy
  ratio, so a run on a busy machine can be told from a slower encoder;
- replay_encode_s (and replay_encode_gif_s): File > Record... as a replay of the timeline of the run just
  trained, 30 s at 15 fps of the whole window, as the app does it (a moment rendered per tick of a timer on
  the GUI thread, shown, grabbed and put back; encoded meanwhile by the job), from the start to the file in
  place, with its ratio to the 30 s budget (the target: ratio < 1) and to the copy baseline;
  replay_tick_ms: median GUI-thread time of one tick of the replay's timer (a few moments shown and grabbed,
  the window put back once), replay_gui_ms_per_moment: the GUI thread's time per moment, and
  replay_backlog_max: the most frames that waited for the encoder (at the bound, the encoder was the
  bottleneck; well under it, the GUI thread was).

Usage: python benchmarks/record_speed.py [--data DIR] [--frames 450] [--fps 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--frames", type=int, default=450)
    p.add_argument("--fps", type=float, default=15.0)
    a = p.parse_args(argv)

    import numpy as np
    from PySide6.QtCore import QSettings

    from digitviz.core import record
    from digitviz.core.data import load_mnist
    from digitviz.core.training import PRESETS
    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow
    from digitviz.gui.recorder import BACKLOG, burn_in, caption, to_array

    app = make_app([])
    ds = load_mnist(a.data)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.IniFormat)
        w = MainWindow(data=ds, config=PRESETS["lesson"], settings=settings)
        w.resize(1280, 800)
        w.speed.setValue(w.speed.maximum())  # full speed (the app starts at 10 batches/s for a first look)
        w.show()
        t0 = time.perf_counter()
        while w.controller.latest is None and time.perf_counter() - t0 < 10:
            app.processEvents()
        w.controller.play()
        frames, grab = [], []
        next_t = time.perf_counter()
        while len(frames) < a.frames:
            app.processEvents()
            if time.perf_counter() >= next_t:
                next_t += 1 / 60  # frames arrive as the window repaints while training
                snap = w.controller.latest
                g0 = time.perf_counter()
                frames.append(to_array(burn_in(w.grab().toImage(), caption(snap))))
                grab.append(time.perf_counter() - g0)
        w.controller.pause()
        h, wd = frames[0].shape[:2]
        print(f"# {len(frames)} frames of {wd}x{h}, last at step {w.controller.latest.step:,}")
        print(f"grab_ms: {1000 * statistics.median(grab):.1f} ms")

        c0 = time.perf_counter()
        copies = [f.copy() for f in frames]
        base = time.perf_counter() - c0
        del copies
        budget = len(frames) / a.fps
        print(f"baseline_copy_s: {base:.3f} s")
        for fmt, name in (("mp4", "record_encode_s"), ("gif", "record_encode_gif_s")):
            why = record.missing_for(fmt)
            if why:
                print(f"# {name}: skipped ({why})")
                continue
            out = Path(tmp) / f"bench.{fmt}"
            r = record.encode_frames(frames, out, a.fps)
            print(f"{name}: {r.seconds:.2f} s")
            print(f"{name}_ratio_to_{budget:g}s: {r.seconds / budget:.3f}")
            print(f"{name}_ratio_to_copy: {r.seconds / base:.0f}")
            print(f"{name}_file_mb: {out.stat().st_size / 1e6:.1f} MB")
        for fmt, name in (("mp4", "replay_encode_s"), ("gif", "replay_encode_gif_s")):
            why = record.missing_for(fmt)
            if why:
                print(f"# {name}: skipped ({why})")
                continue
            rec = w._recorder()
            out = Path(tmp) / f"replay.{fmt}"
            done = []
            rec.finished.connect(done.append)
            rec.failed.connect(done.append)
            t0 = time.perf_counter()
            if not w.record_replay(out, "window", fps=a.fps, duration_s=budget):
                print(f"# {name}: did not start ({w.alert.label.text()})")
                continue
            while not done:
                app.processEvents()
                time.sleep(0.001)
            total = time.perf_counter() - t0
            rec.finished.disconnect(done.append)
            rec.failed.disconnect(done.append)
            if done[0] != str(out):
                print(f"# {name}: failed ({done[0]})")
                continue
            r = rec.last_replay
            kept = len(w.controller.timeline_steps())
            print(f"# replay of {len(r.runs)} of {kept} kept moments, {rec.last_result.frames} frames")
            print(f"replay_tick_ms: {1000 * statistics.median(r.tick_s):.1f} ms")
            print(f"replay_gui_ms_per_moment: {1000 * sum(r.tick_s) / len(r.runs):.1f} ms")
            print(f"replay_backlog_max: {r.max_backlog} frames (of {BACKLOG} allowed)")
            print(f"{name}: {total:.2f} s")
            print(f"{name}_ratio_to_{budget:g}s: {total / budget:.3f}")
            print(f"{name}_ratio_to_copy: {total / base:.0f}")
            print(f"{name}_file_mb: {out.stat().st_size / 1e6:.1f} MB")
        w.shutdown()
        w.close()
        del np
    return 0


if __name__ == "__main__":
    sys.exit(main())
