"""The Lesson panel in the main window: walking the whole tour with Show me, live numbers, presentation mode."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from digitviz.core import tour

from .. import FAST


def live_net(w):
    snap = w.controller.latest
    net = snap.config.network()
    net.set_theta(snap.theta)
    return net


def in_front(w, name):
    return w._dock_shown(name)


def idle(w):
    return not w.controller.running


def test_walk_the_whole_tour_with_show_me(make_window, qtbot):
    w = make_window()
    lesson, inp = w.panels["lesson"], w.panels["input"]
    ds = w.dataset
    grads = {}  # step -> |grad C| of every step of the live run, as the frames deliver them

    def record(snap):
        if snap.generation != grads.get("gen"):
            grads.clear()
            grads["gen"] = snap.generation
        grads.update(zip(snap.new_steps.tolist(), snap.new_grad_norms.tolist()))

    w.controller.frame.connect(record)
    assert w.docks["lesson"].isVisible() and lesson.index == 0

    # 1. the network: a test digit on the diagram; the count comes from the live layout
    lesson.show_me()
    assert inp.source == "test" and inp.test_index == 0
    assert in_front(w, "input")
    assert "13,002" in lesson.plain_text and "12,960 weights and 42 biases" in lesson.plain_text

    # 2. a random start: train a whole epoch first, so that resetting must ask
    w.act_epoch.trigger()
    qtbot.waitUntil(lambda: bool(w.controller.latest.epochs) and idle(w), timeout=10000)
    gen = w.controller.generation
    asked = []
    w.confirm = lambda title, text: asked.append(text) or False
    lesson.next()
    assert lesson.index == 1
    assert not lesson.show_me()  # the user said no: nothing reset, nothing lost
    assert asked and "not saved" in asked[0]
    assert w.controller.generation == gen and "kept" in lesson.status.text()
    w.confirm = lambda title, text: True
    assert lesson.show_me()
    qtbot.waitUntil(lambda: w.controller.generation == gen + 1, timeout=5000)
    qtbot.waitUntil(lambda: len(w.panels["curves"].runs) == 1, timeout=5000)  # the trained run is kept
    assert w.controller.latest.step == 0 and w.controller.config.seed == FAST.seed
    np.testing.assert_array_equal(w.controller.latest.theta, FAST.network().theta)  # reset with the seed
    assert inp.source == "test" and in_front(w, "input")
    qtbot.waitUntil(lambda: "?" not in lesson.plain_text, timeout=5000)
    net = live_net(w)
    out = net.feedforward(ds.images_as("test")[:1])[0]
    assert ", ".join(f"{a:.2f}" for a in out) in lesson.plain_text
    assert f"{tour.example_cost(out, ds.test_labels[0]):.2f}" in lesson.plain_text
    avg = tour.average_cost(net, ds.images_as("train"), ds.train_labels)
    assert f"{avg:.2f}" in lesson.plain_text and "all 600 training images" in lesson.plain_text

    # 3. one step: exactly one more step, the readout shows the cost before and after
    step0 = w.controller.latest.step
    lesson.next()
    assert "?" in lesson.plain_text  # no single step yet in this run
    lesson.show_me()
    qtbot.waitUntil(lambda: w.driver.last_step() is not None and idle(w), timeout=5000)
    qtbot.waitUntil(lambda: "→" in w.step_readout.text(), timeout=5000)
    assert w.controller.latest.step == step0 + 1
    _, s, before, after = w.driver.last_step()
    assert s == step0 + 1
    assert f"{before:.4f}" in w.step_readout.text() and f"{after:.4f}" in w.step_readout.text()
    qtbot.waitUntil(lambda: f"{before:.4f}" in lesson.plain_text, timeout=2000)
    assert f"{after:.4f}" in lesson.plain_text and f"Step {s} " in lesson.plain_text
    assert in_front(w, "experiments") and w.panels["experiments"].tabs.currentIndex() == 0

    # 4. watch it learn: training runs as fast as it goes, the curves in front; the accuracy quoted is the
    # live one
    from digitviz.gui.actions import DEFAULT_SPEED

    w.speed.setValue(DEFAULT_SPEED)  # as at a first launch: 10 batches/s, an epoch of MNIST in 10 minutes
    lesson.next()
    lesson.show_me()
    assert in_front(w, "curves") and w.speed.value() == w.speed.maximum()
    # (and more than twice tour.STRETCH steps: chapter 5 compares the first and the latest STRETCH steps,
    # which must not overlap; how far training got past two epochs before the pause landed was a race)
    qtbot.waitUntil(
        lambda: len(w.controller.latest.epochs) >= 2 and w.controller.latest.step > 2 * tour.STRETCH, timeout=20000
    )
    w.controller.pause()
    qtbot.waitUntil(lambda: idle(w), timeout=5000)
    acc = w.controller.latest.test_acc
    qtbot.waitUntil(lambda: f"{acc:.1%}" in lesson.plain_text, timeout=2000)

    # 5. downhill: paused, the landscape in front, step lengths measured on this run's path
    lesson.next()
    lesson.show_me()
    assert idle(w) and in_front(w, "landscape")
    last = w.controller.latest.step  # paused: wait for the frame that delivers it
    qtbot.waitUntil(lambda: last in grads, timeout=2000)
    steps = sorted(k for k in grads if k != "gen")
    assert steps == list(range(1, w.controller.latest.step + 1))
    np.testing.assert_array_equal(w.panels["curves"].steps.steps(), steps)  # each step once, in order
    g = np.array([grads[k] for k in steps])  # a step is the learning rate times the gradient's length
    first, last = FAST.lr * g[: tour.STRETCH].mean(), FAST.lr * g[-tour.STRETCH :].mean()
    qtbot.waitUntil(lambda: f"averaged {first:.3g}," in lesson.plain_text, timeout=2000)
    assert f" {last:.3g}: " in lesson.plain_text

    # 6. the hidden neurons: the weights panel in front, first neuron selected
    lesson.next()
    lesson.show_me()
    assert in_front(w, "weights") and w.panels["weights"].mode == "now"
    assert w.panels["weights"]._selected == 0

    # 7. confident nonsense: the tour's noise image on the input panel; its answer quoted live; and the
    # Draw & move panel in front, drawing a 3 from that noise (its drawing then lands in the input panel)
    lesson.next()
    lesson.show_me()
    claims = w.panels["claims"]
    assert in_front(w, "claims") and claims.tabs.currentWidget() is claims.draw and claims.draw.running
    np.testing.assert_array_equal(inp.x, tour.noise_image(tour.NOISE_SEED))
    out = live_net(w).feedforward(tour.noise_image()[None])[0]
    assert f"a {int(np.argmax(out))}, with an output of {out.max():.2f}" in lesson.plain_text
    tops = live_net(w).feedforward(ds.images_as("test")).max(axis=1)
    assert f"as sure as for {np.mean(tops <= out.max()):.0%} of real test digits" in lesson.plain_text
    qtbot.waitUntil(lambda: not claims.draw.running, timeout=20000)
    assert claims.draw.last is not None and int(claims.draw.last.k[0]) == 3 and claims.draw.last.step > 0
    assert in_front(w, "input")  # the drawing is sent to the input panel, raised
    np.testing.assert_array_equal(inp.x, np.clip(claims.draw.last.images[0], 0, 1))
    assert lesson.status.text() == "Done."  # the ask-it-to-draw hook is wired (gui/driver.py _claims_hooks)

    # 8. only centred digits: the moved test digit is on the input panel
    lesson.next()
    lesson.show_me()
    moved = tour.shift_image(ds.images_as("test")[tour.SHIFT_DIGIT], tour.SHIFT_PIXELS, 0)
    np.testing.assert_array_equal(inp.x, moved)
    # the shift_view hook: the move is the input panel's own (Reset puts the digit back); robustness measured
    assert inp.source == "test" and inp.move[:2] == (tour.SHIFT_PIXELS, 0)
    assert claims.robustness.running or claims.robustness.runs
    inp.reset_move()
    np.testing.assert_array_equal(inp.x, ds.images_as("test")[tour.SHIFT_DIGIT])
    inp.move_by(tour.SHIFT_PIXELS, 0)
    answer = int(live_net(w).predict(moved[None])[0])
    assert f"it says {answer}" in lesson.plain_text

    # 9, 10: the experiments' tabs
    lesson.next()
    lesson.show_me()
    assert in_front(w, "experiments") and w.panels["experiments"].tabs.currentIndex() == 1
    lesson.next()
    lesson.show_me()
    assert in_front(w, "experiments") and w.panels["experiments"].tabs.currentIndex() == 2

    # 11. further reading
    lesson.next()
    assert lesson.index == len(tour.CHAPTERS) - 1 and not lesson.next_button.isEnabled()
    lesson.show_me()
    assert in_front(w, "curves")
    assert f"{w.controller.latest.step:,} steps" in lesson.plain_text


def test_chapter_7_quotes_what_the_input_panel_shows_after_show_me(make_window, qtbot):
    """The text quoted the noise's answer while the drawing of a 3 then stood in the input panel: it names
    both, the noise's answer and, once the drawing is on screen, the drawing's as the input panel shows it."""
    w = make_window()
    lesson, inp, claims = w.panels["lesson"], w.panels["input"], w.panels["claims"]
    lesson.go(tour.CHAPTER_IDS.index("nonsense"))
    assert lesson.show_me()
    out = live_net(w).feedforward(tour.noise_image()[None])[0]
    noise_quote = f"this noise is a {int(np.argmax(out))}, with an output of {out.max():.2f}"
    lesson.refresh()
    assert noise_quote in lesson.plain_text
    qtbot.waitUntil(lambda: not claims.draw.running, timeout=20000)
    np.testing.assert_array_equal(inp.x, np.clip(claims.draw.last.images[0], 0, 1))  # the drawing is shown
    shown = f"it sees a {inp.answer_label.text()}, with an output of {inp.outputs.max():.2f}."
    assert inp.confidence_label.text() == f"output {inp.outputs.max():.2f}"  # as the input panel writes it
    qtbot.waitUntil(lambda: shown in lesson.plain_text, timeout=3000)  # the text follows within a refresh
    assert noise_quote in lesson.plain_text  # and still names the noise's answer as the noise's


def test_hooks_registered_by_the_integrator_are_called(make_window):
    w = make_window()
    called = []
    w.driver.hooks["ask_to_draw"] = lambda k: called.append(k)
    lesson = w.panels["lesson"]
    lesson.go(tour.CHAPTER_IDS.index("nonsense"))
    lesson.show_me()
    assert called == [3] and "not in this version" not in lesson.status.text()


def test_page_keys_chapter_list_and_remembered_chapter(make_window, qtbot, settings):
    w = make_window()
    lesson = w.panels["lesson"]
    w.diagram.setFocus()
    qtbot.keyClick(w.diagram, Qt.Key_PageDown)
    qtbot.keyClick(w.diagram, Qt.Key_PageDown)
    assert lesson.index == 2
    qtbot.keyClick(w.diagram, Qt.Key_PageUp)
    assert lesson.index == 1
    lesson.chapter_list.setCurrentIndex(5)
    assert lesson.index == 5 and lesson.title.text() == tour.CHAPTERS[5].title
    w.docks["lesson"].close()
    assert not w.docks["lesson"].isVisible()
    w.act_lesson.trigger()  # Help ▸ Lesson Tour reopens it
    assert w.docks["lesson"].isVisible()
    w.close()
    w2 = make_window()
    assert w2.panels["lesson"].index == 5


@pytest.fixture
def themed():
    """The app's own stylesheet, as digitviz runs with it (restored afterwards)."""
    from PySide6.QtWidgets import QApplication

    from digitviz.gui.style import stylesheet

    app = QApplication.instance()
    old = app.styleSheet()
    app.setStyleSheet(stylesheet())
    yield
    app.setStyleSheet(old)


def test_presentation_mode_enters_and_restores(themed, make_window, qtbot):
    from PySide6.QtWidgets import QApplication

    w = make_window()
    lesson = w.panels["lesson"]
    geometry, state = w.saveGeometry(), w.saveState()
    visible = {n: d.isVisible() for n, d in w.docks.items()}
    qss = QApplication.instance().styleSheet()
    pt = lesson.text.font().pointSizeF()
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.panels["curves"].steps.n == 1, timeout=5000)
    curve = w.panels["curves"].ema_curve
    width = curve.opts["pen"].widthF()

    w.presentation.action.trigger()  # F11
    assert w.presentation.active and w.isFullScreen()
    assert w.docks["lesson"].isVisible()
    assert not any(d.isVisible() for n, d in w.docks.items() if n != "lesson")
    assert lesson.text.font().pointSizeF() >= 1.4 * pt
    assert pg_width(curve) > width
    assert "font-size: 10pt" in qss and "font-size: 13.5pt" in QApplication.instance().styleSheet()

    qtbot.keyClick(w, Qt.Key_Escape)
    assert not w.presentation.active and not w.isFullScreen()
    assert not w.presentation.action.isChecked()
    qtbot.waitUntil(lambda: w.saveState() == state, timeout=2000)
    assert w.saveGeometry() == geometry
    assert {n: d.isVisible() for n, d in w.docks.items()} == visible
    assert QApplication.instance().styleSheet() == qss
    assert lesson.text.font().pointSizeF() == pt and pg_width(curve) == width


def pg_width(item):
    import pyqtgraph as pg

    return pg.mkPen(item.opts["pen"]).widthF()


def test_scale_font_sizes():
    from digitviz.gui.presentation import scale_font_sizes

    assert (
        scale_font_sizes("QWidget { font-size: 10pt; } b { font-size:9px }", 1.5)
        == "QWidget { font-size: 15pt; } b { font-size: 13.5px }"
    )
