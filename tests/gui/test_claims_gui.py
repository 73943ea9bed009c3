"""Issue 11 in the window: what each neuron wants on the diagram, going back in time, moving the digit."""

import numpy as np
from PySide6.QtCore import QPoint, Qt

from digitviz.core.network import Network, one_hot


def _idle_at(qtbot, w, step):
    qtbot.waitUntil(lambda: w.controller.latest.step == step and not w.controller.latest.running, timeout=10000)
    qtbot.waitUntil(lambda: w.controller.latest is w.controller._framed, timeout=2000)  # its frame is drawn


def test_wants_mode_draws_each_neurons_backprop(make_window, qtbot):
    w = make_window()
    w.act_step.trigger()
    _idle_at(qtbot, w, 1)
    inp = w.panels["input"]
    inp.show_test_digit(3)  # a labelled example on the diagram
    w.diagram.setFocus()
    qtbot.keyClick(w.diagram, Qt.Key_W)
    assert w.act_wants.isChecked() and w._wants
    s = w.diagram._state
    assert s.edge_mode == "wants" and s.label == inp.label
    # the core's backprop of that one example, with the weights of the snapshot shown
    net = Network.from_config(w.controller.config, w.controller.latest.theta)
    net64 = Network(net.sizes, net.activation, net.cost_name, np.float64, seed=None, init=None)
    net64.set_theta(net.theta.astype(np.float64))
    cost, grad = net64.backprop(inp.x[None].astype(np.float64), one_hot([inp.label], 10, np.float64))
    gv = net64.layout.views(np.array(grad))
    L = len(gv) - 1
    a_out = s.activations[-1]
    y = one_hot([inp.label], 10, np.float64)[0]
    np.testing.assert_allclose(s.wants[-1], -2 * (a_out - y), rtol=1e-5, atol=1e-7)  # the output's 2(a - y)
    for l in range(L):  # hidden: -dC/da = -(W^T dC/dz of the next layer); dC/dz is backprop's bias gradient
        np.testing.assert_allclose(s.wants[l], -(net64.weights[l + 1].T @ gv[l + 1][1]), rtol=1e-4, atol=1e-7)
    for l, e in enumerate(s.edges):  # every drawn connection: minus this example's gradient
        np.testing.assert_allclose(e.value, -gv[l][0][e.dst, e.src], rtol=1e-4, atol=1e-7)
    assert abs(s.example_cost - cost) < 1e-4
    # what is drawn: each neuron's colour level is its wish over the layer's largest
    drawn = w.diagram.wants_drawn
    np.testing.assert_allclose(drawn, np.concatenate([v / np.abs(v).max() for v in s.wants]), rtol=1e-6)
    assert -1 <= drawn.min() < 0 < drawn.max() <= 1
    # hover: the value of one output neuron
    w.diagram._show_neuron_info(len(s.sizes) - 1, inp.label)
    assert f"{s.wants[-1][inp.label]:+.4f}" in w.diagram._info_html
    qtbot.keyClick(w.diagram, Qt.Key_W)
    assert not w._wants and w.diagram._state.edge_mode == "weights" and w.diagram.wants_drawn is None


def test_timeline_goes_back_and_continues_as_a_new_run(make_window, qtbot):
    w = make_window()
    c = w.controller
    c.worker.step(40)
    _idle_at(qtbot, w, 40)
    steps = c.timeline_steps()
    np.testing.assert_array_equal(steps, np.arange(41))  # the first steps: every one
    bar = w.timeline_bar
    assert bar.n_points == 41 and bar.at_now
    bar.slider.setValue(12)  # as the user drags
    kept, theta = c.theta_at(12)
    assert kept == 12 and w.past[1] == 12
    np.testing.assert_array_equal(w._net.theta, theta)  # the diagram
    np.testing.assert_array_equal(w.panels["input"].net.theta, theta)  # the input panel's answer
    np.testing.assert_array_equal(w.panels["weights"]._theta, theta)  # the weight images
    assert w.panels["landscape"]._snap.step == 12 and w.panels["landscape"]._snap.theta is w.past[2]
    assert not np.array_equal(theta, c.latest.theta)
    assert "step 12 of 40" in bar.text.text()
    gen = c.generation
    runs = len(w.panels["curves"].runs)
    bar.continue_button.click()
    qtbot.waitUntil(lambda: c.generation == gen + 1, timeout=5000)
    np.testing.assert_array_equal(c.latest.theta, theta)  # exactly the weights of step 12
    assert w.past is None and bar.at_now
    qtbot.waitUntil(lambda: c.latest is c._framed, timeout=2000)
    qtbot.waitUntil(lambda: len(w.panels["curves"].runs) == runs + 1, timeout=2000)  # the old run stays
    c.worker.step(3)
    qtbot.waitUntil(lambda: c.latest.step == 3 and not c.latest.running, timeout=5000)
    qtbot.waitUntil(lambda: len(c.timeline_steps()) == 4, timeout=2000)  # the new run's own timeline


def test_input_moves_by_whole_pixels_and_resets(make_window, qtbot):
    w = make_window()
    inp = w.panels["input"]
    inp.show_test_digit(0)
    x0 = inp.x.copy()
    for b in (1, 1, 3):  # → → ↓
        inp.move_buttons[b].click()
    img = x0.reshape(28, 28)
    moved = np.zeros_like(img)
    moved[1:, 2:] = img[:-1, :-2]
    np.testing.assert_array_equal(inp.x.reshape(28, 28), moved)
    np.testing.assert_array_equal(w.diagram._state.activations[0], moved.reshape(-1))  # the answer follows
    assert "2 px right, 1 px down" in inp.source_label.text()
    for _ in range(10):  # many turns and scalings: always from the original, nothing accumulates
        inp.move_buttons[4].click()
        inp.move_buttons[7].click()
    for _ in range(10):
        inp.move_buttons[5].click()
        inp.move_buttons[6].click()
    assert inp.move[2] == 0 and abs(inp.move[3] - 1) < 1e-9
    np.testing.assert_array_equal(inp.x.reshape(28, 28), moved)
    # Shift+drag on the canvas: whole pixels of the 28x28 image
    canvas = inp.canvas
    r = canvas.target_rect()
    px = r.width() / 28
    start = QPoint(int(r.center().x()), int(r.center().y()))
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, start)
    qtbot.mouseMove(canvas, QPoint(int(start.x() - 3 * px), start.y()))
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, QPoint(int(start.x() - 3 * px), start.y()))
    assert inp.move[:2] == (-1, 1) and canvas.is_empty  # nothing was drawn
    inp.reset_move_button.click()
    np.testing.assert_array_equal(inp.x, x0)
    assert inp.move == (0, 0, 0.0, 1.0)


def test_noise_answer_says_how_sure_against_real_digits(make_window, qtbot):
    from digitviz.core.confidence import sure_as_text

    w = make_window()
    inp = w.panels["input"]
    inp.show_uniform_noise()
    qtbot.waitUntil(lambda: inp.sure_label.text() != "", timeout=5000)
    net = Network.from_config(w.controller.config, w.controller.latest.theta)
    tops = net.feedforward(inp._test_X).max(axis=1)
    assert inp.sure_label.text() == sure_as_text(float(inp.outputs.max()), tops)
    inp.show_test_digit(0)
    assert inp.sure_label.text() == ""  # only next to a noise answer


def test_moving_the_slider_while_training_pauses_and_stays_there(make_window, qtbot):
    w = make_window()
    c = w.controller
    c.worker.step(30)
    _idle_at(qtbot, w, 30)
    with qtbot.waitSignal(c.frame, timeout=5000, check_params_cb=lambda snap: snap.running) as framed:
        w.toggle_play()  # wait for a frame of the running network (the latest snapshot may be newer)
    running = framed.args[0]
    w.timeline_bar.slider.setValue(5)
    assert w.past is not None and w.past[1] == 5
    assert running.running
    w._on_frame(running)  # a frame of the run from before the worker read the pause
    assert w.past is not None and w.past[1] == 5
    qtbot.waitUntil(lambda: not c.latest.running and c.latest is c._framed, timeout=5000)
    assert w.past is not None and w.past[1] == 5  # the running frames before the pause did not end it
    np.testing.assert_array_equal(w._net.theta, c.theta_at(5)[1])
    w.toggle_play()  # Play: back to now
    qtbot.waitUntil(lambda: w.past is None, timeout=5000)
    w.toggle_play()
    qtbot.waitUntil(lambda: not c.latest.running, timeout=5000)
