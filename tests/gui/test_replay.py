"""File ▸ Record… as a replay of the timeline: one frame per kept moment with its step burned in, read
back from the GIF; cancel leaves nothing and the window as it was; training may go on meanwhile."""

import numpy as np
import pytest

from digitviz.core import record, replay
from digitviz.gui.recorder import RecordDialog, burn_in, to_array


def _train(w, qtbot, steps):
    """``steps`` single steps: every one is a kept moment (the timeline's dense head)."""
    for s in range(w.controller.latest.step + 1, steps + 1):
        w.act_step.trigger()
        qtbot.waitUntil(lambda s=s: w.controller.latest.step == s, timeout=5000)
    qtbot.waitUntil(lambda: len(w.controller.timeline_steps()) == steps + 1, timeout=5000)
    qtbot.waitUntil(lambda: _settled(w), timeout=5000)


def _settled(w):
    """The window has drawn the latest snapshot: the diagram, the input panel and the timeline bar."""
    snap = w.controller.latest
    return (
        w.controller._framed is snap
        and w._drawn_key is not None
        and w._drawn_key[0] == id(w._past_theta(snap))
        and w.panels["input"]._theta_ref is (snap.theta if w.past is None else w.past[2])
        and w.timeline_bar.n_points == len(w.controller.timeline_steps())
    )


def _shown(w):
    """What the diagram draws now (its activations) and the parameters the input panel answers with."""
    st = w.diagram._state
    return [a.copy() for a in st.activations] + [np.array(w.panels["input"]._theta_ref)]


def _text_mask(shape, text):
    """The caption's bright text pixels as the GIF would carry them (same burn-in, same halving)."""
    from PySide6.QtGui import QImage

    blank = QImage(shape[1], shape[0], QImage.Format_RGB888)
    blank.fill(0)
    ref = record._gif_shrink(record._even(to_array(burn_in(blank, text))))
    return ref.min(axis=2) > 170


def _caption_read_back(frame, candidates):
    """Index of the candidate caption whose text pixels best match ``frame``'s bright pixels in the
    caption's box, with the pixels it gets wrong, and those the runner-up gets wrong."""
    stack = np.array(candidates)
    rows, cols = np.flatnonzero(stack.any(axis=(0, 2))), np.flatnonzero(stack.any(axis=(0, 1)))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    bright = frame.min(axis=2)[box] > 170
    wrong = np.array([(bright ^ m[box]).sum() for m in stack])
    best = int(np.argmin(wrong))
    return best, int(wrong[best]), int(np.sort(wrong)[1])


def test_a_replay_writes_one_frame_per_kept_moment_with_its_step_burned_in(make_window, qtbot, tmp_path):
    import imageio.v3 as iio

    w = make_window()
    _train(w, qtbot, 24)
    steps = w.controller.timeline_steps()
    assert len(steps) >= 25 and steps[0] == 0
    before = _shown(w)
    path = tmp_path / "replay.gif"
    assert w.record_replay(path, "diagram", fps=10, moments_per_s=10)
    with qtbot.waitSignal(w.recorder.finished, timeout=30000) as sig:
        pass
    assert sig.args == [str(path)]
    frames = iio.imread(path, index=None)
    assert len(frames) == len(steps)
    notes = replay.accuracy_notes(steps, [(r.step, r.test_acc) for r in w.controller.latest.epochs])
    texts = [replay.caption(s, n) for s, n in zip(steps, notes, strict=True)]
    assert w.recorder.last_replay.captions == texts
    size = w.diagram.grab().size()
    masks = [_text_mask((size.height(), size.width()), t) for t in texts]
    assert masks[0].shape == frames.shape[1:3]
    for i, frame in enumerate(frames):  # read back: each frame's caption is its own moment's, no other
        found, wrong, runner_up = _caption_read_back(frame, masks)
        assert found == i and wrong < runner_up, (i, found, wrong, runner_up)
    # the network changes from frame to frame (not only the caption): the first and last differ above it
    top = frames.shape[1] * 3 // 4
    assert np.abs(frames[0, :top].astype(int) - frames[-1, :top]).mean() > 1
    # the window shows what it showed before: the live network, not the last replayed moment
    assert w.past is None and w.recorder.replaying is False
    for a, b in zip(before, _shown(w), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("replay.gif", "digitviz.ini")]


def test_a_slow_replay_holds_each_moment(make_window, qtbot, tmp_path):
    import imageio.v3 as iio

    w = make_window()
    _train(w, qtbot, 6)
    k = len(w.controller.timeline_steps())
    path = tmp_path / "slow.gif"
    assert w.record_replay(path, "diagram", fps=10, moments_per_s=10 / 3)  # 3 frames a moment
    with qtbot.waitSignal(w.recorder.finished, timeout=30000):
        pass
    assert w.recorder.queued == 3 * k and len(w.recorder.last_replay.captions) == k
    # Pillow writes a held moment as one GIF frame shown three times as long
    durations = [iio.immeta(path, index=i)["duration"] for i in range(k)]
    assert len(iio.imread(path, index=None)) == k and set(durations) == {300}


def test_cancel_leaves_no_file_and_the_window_untouched_and_training_goes_on(make_window, qtbot, tmp_path):
    w = make_window()
    _train(w, qtbot, 12)
    w.go_to_moment(3)  # the user is looking at a past moment: the replay must leave it so
    qtbot.waitUntil(lambda: _settled(w), timeout=5000)
    past, bar = w.past, w.timeline_bar.state()
    before = _shown(w)
    out = tmp_path / "rec"
    out.mkdir()
    assert w.record_replay(out / "r.gif", "window", fps=15, duration_s=60)  # 900 frames: time to cancel
    qtbot.waitUntil(lambda: w.recorder._replay is not None and w.recorder._replay.done >= 3, timeout=20000)
    assert w.past is past and w.timeline_bar.state() == bar  # between frames the window is as it was
    with qtbot.waitSignal(w.recorder.failed, timeout=10000) as sig:
        w.recorder.dialog.canceled.emit()  # its Cancel button
    assert "cancelled" in sig.args[0] and "nothing was written" in sig.args[0]
    qtbot.waitUntil(lambda: list(out.iterdir()) == [], timeout=5000)
    assert w.past is past and w.timeline_bar.state() == bar and w.recorder.dialog is None
    for a, b in zip(before, _shown(w), strict=True):
        np.testing.assert_array_equal(a, b)
    step = w.controller.latest.step
    w.timeline_bar.go_now()
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step > step + 5, timeout=10000)
    w.act_play.trigger()


@pytest.mark.parametrize("target", ["diagram", "window"])
def test_training_goes_on_during_a_replay_and_the_window_ends_on_now(make_window, qtbot, tmp_path, target):
    w = make_window()
    _train(w, qtbot, 10)
    steps = w.controller.timeline_steps()
    assert w.record_replay(tmp_path / "r.gif", target, fps=15, moments_per_s=15)
    w.act_play.trigger()
    with qtbot.waitSignal(w.recorder.finished, timeout=30000):
        pass
    qtbot.waitUntil(lambda: w.controller.latest.step > steps[-1] + 5, timeout=10000)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=5000)
    qtbot.waitUntil(lambda: _settled(w), timeout=5000)  # the diagram and the input panel show now
    assert w.past is None and w.timeline_bar.at_now
    assert [c.split("  ·  ")[0] for c in w.recorder.last_replay.captions] == [f"replay · step {s}" for s in steps]


def test_mp4_without_imageio_ffmpeg_says_so(make_window, qtbot, tmp_path, monkeypatch):
    import sys

    w = make_window()
    _train(w, qtbot, 3)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if not installed
    assert not w.record_replay(tmp_path / "r.mp4", "diagram", duration_s=2)
    assert "pip install 'digitviz[video]'" in w.alert.label.text()
    assert not [p for p in tmp_path.iterdir() if p.name != "digitviz.ini"]
    dlg = RecordDialog(w, w.controller.timeline_steps(), record.missing_for("mp4"))
    assert not dlg.fmt.model().item(1).isEnabled()
    dlg.deleteLater()


def test_an_empty_timeline_or_a_too_long_replay_is_one_line(make_window, tmp_path):
    w = make_window()
    w.controller.timeline_steps = lambda: np.zeros(0, np.int64)
    assert not w.record_replay(tmp_path / "r.gif", duration_s=2)
    assert "timeline is empty" in w.alert.label.text()
    w.controller.timeline_steps = lambda: np.arange(10)
    assert not w.record_replay(tmp_path / "r.gif", duration_s=10_000)
    assert "choose a faster speed" in w.alert.label.text()


@pytest.mark.parametrize("pace, value, frames", [(0, 5.0, 30), (1, 4.0, 60)])
def test_the_dialog_offers_a_replay_and_says_how_long_it_will_be(qtbot, pace, value, frames):
    dlg = RecordDialog(None, np.arange(10))
    qtbot.addWidget(dlg)
    assert not dlg.speed.isEnabled() and not dlg.measure.isEnabled() and dlg.every.isEnabled()
    dlg.source.setCurrentIndex(1)
    assert dlg.speed.isEnabled() and dlg.measure.isEnabled() and not dlg.every.isEnabled()
    assert dlg.choice().measure == 0
    dlg.measure.setValue(1000)
    dlg.pace.setCurrentIndex(pace)
    dlg.speed.setValue(value)
    assert f"{frames} frames" in dlg.summary.text()
    c = dlg.choice()
    assert c.replay and c.fps == 15 and c.measure == 1000
    assert (c.moments_per_s, c.duration_s) == ((value, None) if pace == 0 else (None, value))
    if pace == 1:
        dlg.speed.setValue(1000.0)  # 15,000 frames: refused, and OK with it
        assert "at most" in dlg.summary.text()
        assert not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()


def test_a_dialog_without_kept_moments_offers_live_recording_only(qtbot):
    dlg = RecordDialog(None, np.zeros(0, np.int64))
    qtbot.addWidget(dlg)
    assert not dlg.source.model().item(1).isEnabled()


def test_a_replay_ends_on_the_network_of_now_when_it_is_past_the_last_kept_moment(make_window, qtbot, tmp_path):
    w = make_window()
    _train(w, qtbot, 5)
    kept = w.controller.timeline_steps()
    w.controller.timeline_steps = lambda: kept[:-2]  # as when the worker keeps only every stride-th step
    asked, shown = [], []
    theta_at, grab = w.controller.theta_at, w.grab
    w.controller.theta_at = lambda s: asked.append(s) or theta_at(s)
    w.grab = lambda: shown.append((w.panels["input"].x.copy(), w.diagram._state.activations[0].copy())) or grab()
    x, _ = w._replay_input()
    assert w.record_replay(tmp_path / "r.gif", "window", fps=10, moments_per_s=10)
    with qtbot.waitSignal(w.recorder.finished, timeout=30000):
        pass
    captions = w.recorder.last_replay.captions
    assert [c.split("  ·  ")[0] for c in captions] == [f"replay · step {s}" for s in [0, 1, 2, 3, 5]]
    assert asked == [0, 1, 2, 3]  # the last frame is the live network, not the timeline's step 3 again
    # each moment on one digit, in the diagram and in the input panel (it was following training)
    assert len(shown) == 5 and all(np.array_equal(a, x) and np.allclose(b, x) for a, b in shown)
    assert w.panels["input"].x is not x and np.array_equal(w.panels["input"].x, w.controller.latest.example)


def test_closing_the_window_during_a_replay_stops_it_and_leaves_no_file(make_window, qtbot, tmp_path):
    w = make_window()
    _train(w, qtbot, 8)
    out = tmp_path / "rec"
    out.mkdir()
    assert w.record_replay(out / "r.gif", "window", fps=15, duration_s=60)
    qtbot.waitUntil(lambda: w.recorder._replay.done >= 2, timeout=20000)
    w.close()  # every job is cancelled (shutdown_all): the replay's timer stops at its next tick
    qtbot.waitUntil(lambda: w.recorder._timer is None, timeout=5000)
    qtbot.waitUntil(lambda: list(out.iterdir()) == [], timeout=5000)


def test_each_moment_measured_first_on_test_images_says_its_own_accuracy(make_window, qtbot, tmp_path):
    from digitviz.core.training import evaluate

    w = make_window()
    _train(w, qtbot, 8)
    steps = w.controller.timeline_steps()
    assert w.record_replay(tmp_path / "m.gif", "diagram", fps=10, moments_per_s=10, measure=150)
    assert w.measure_dialog is not None
    with qtbot.waitSignal(w._recorder().finished, timeout=30000):
        pass
    assert w.measure_dialog is None
    ds, net = w.dataset, w.controller.latest.config.network()
    X, y = ds.scaled("test")[:150], ds.test_labels[:150]
    want = [evaluate(net, X, y, theta=w.controller.theta_at(s)[1]).accuracy for s in steps]
    assert w.recorder.last_replay.captions == [
        f"replay · step {s}  ·  epoch 0  ·  test accuracy {a:.1%} on 150 test images" for s, a in zip(steps, want)
    ]


def test_cancel_while_measuring_writes_nothing_and_starts_no_replay(make_window, qtbot, tmp_path):
    w = make_window()
    _train(w, qtbot, 8)
    assert w.record_replay(tmp_path / "m.gif", "window", fps=10, moments_per_s=10, measure=200)
    w.measure_dialog.canceled.emit()  # its Cancel button, before the job could deliver anything
    qtbot.waitUntil(lambda: w.measure_dialog is None, timeout=5000)
    assert "nothing was written" in w.statusBar().currentMessage()
    assert w.recorder.job is None and w.recorder.last_replay is None and w.past is None
    assert not list(tmp_path.glob("*.gif")) and not list(tmp_path.glob(".*"))
