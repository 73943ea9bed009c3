"""The tour's chapters and their live numbers (core, no Qt)."""

import string
from dataclasses import replace

import numpy as np
import pytest

from digitviz.core import tour
from digitviz.core.training import PRESETS, EpochRecord

VERBS = {
    "reset",
    "step",
    "play",
    "speed",
    "pause",
    "raise",
    "feed_test_digit",
    "feed_noise",
    "feed_shifted",
    "weights_mode",
    "select_neuron",
    "hook",
}


@pytest.fixture
def data(rng):
    X = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    return X, y


def facts(config, theta, data, **kw):
    return tour.facts_from(config, theta, shown=(data[0][3], int(data[1][3])), train=data, test=data, **kw)


def test_parameter_count_from_the_layout():
    assert tour.parameter_count((784, 16, 16, 10)) == (13002, 12960, 42)
    assert tour.parameter_count((784, 256, 10)) == (784 * 256 + 256 * 10 + 266, 784 * 256 + 2560, 266)


def test_example_cost_is_the_sum_of_squared_differences():
    a = np.array([0.1, 0.9, 0.2, 0, 0, 0, 0, 0, 0, 0.5])
    assert tour.example_cost(a, 1) == pytest.approx(0.01 + 0.01 + 0.04 + 0.25)


def test_average_cost_averages_the_example_costs(data):
    net = PRESETS["lesson"].network()
    X, y = data
    out = net.feedforward(X)
    want = np.mean([tour.example_cost(out[i], y[i]) for i in range(len(y))])
    assert tour.average_cost(net, X, y, batch=64) == pytest.approx(want, rel=1e-5)


def test_step_lengths_keep_the_first_and_latest_stretch():
    sl = tour.StepLengths(n=3)
    sl.add([1, 2, 3], [1.0, 2.0, 3.0], lr=0.5)
    assert sl.summary() is None  # the two stretches would overlap
    sl.add([4, 5, 6, 7], [0.4, 0.2, 0.2, 0.2], lr=0.5)
    first, last, span = sl.summary()
    assert first == pytest.approx(1.0) and last == pytest.approx(0.1) and span == (5, 7)
    sl.add([7, 3], [100.0, 100.0], lr=1.0)  # steps already seen (a merged snapshot) are not counted twice
    assert sl.summary()[1] == pytest.approx(0.1)
    sl.clear()
    assert sl.summary() is None


def test_shift_image_moves_one_pixel_where_expected():
    x = np.zeros(784, np.float32)
    x[10 * 28 + 5] = 1
    moved = tour.shift_image(x, 4, -2).reshape(28, 28)
    assert moved[8, 9] == 1 and moved.sum() == 1
    x[27] = 1  # the right edge falls off, never wraps round
    assert tour.shift_image(x, 1, 0).reshape(28, 28)[0, 0] == 0


def test_chapters_are_short_plain_and_complete():
    assert len(tour.CHAPTERS) >= 11
    assert len(set(tour.CHAPTER_IDS)) == len(tour.CHAPTERS)
    known = set(tour.Facts().fields())
    for ch in tour.CHAPTERS:
        assert ch.words() <= tour.MAX_WORDS, (ch.id, ch.words())
        names = {n for _, n, _, _ in string.Formatter().parse(ch.template) if n}
        assert names <= known, (ch.id, names - known)
        assert set(ch.needs) <= names
        assert ch.show and all(action[0] in VERBS for action in ch.show), ch.id
    closing = tour.CHAPTERS[-1].template
    for who in ("Nielsen", "Zhang", "Arpit", "Choromanska"):
        assert who in closing


def test_change_the_run_and_the_text_changes(data):
    lesson = PRESETS["lesson"]
    wide = PRESETS["wide"]
    f_lesson = facts(lesson, lesson.network().theta, data)
    f_wide = facts(wide, wide.network().theta, data)
    ch1 = tour.chapter("network")
    assert "13,002" in tour.render(ch1, f_lesson)
    assert f"{tour.parameter_count(wide.sizes)[0]:,}" in tour.render(ch1, f_wide)
    # another seed: other outputs for the same digit, another cost
    other = replace(lesson, seed=5)
    f_other = facts(other, other.network().theta, data)
    ch2 = tour.chapter("random_start")
    t0, t1 = tour.render(ch2, f_lesson), tour.render(ch2, f_other)
    assert t0 != t1
    assert f"{f_lesson.digit_cost:.2f}" in t0 and f"{f_other.digit_cost:.2f}" in t1
    assert f"{f_lesson.train_cost:.2f}" in t0
    out = lesson.network().feedforward(data[0][3:4])[0]
    assert f"{tour.example_cost(out, data[1][3]):.2f}" in t0
    assert ", ".join(f"{a:.2f}" for a in out) in t0


def test_quoted_numbers_are_the_given_ones(data):
    cfg = PRESETS["lesson"]
    theta = cfg.network().theta
    f = facts(
        cfg,
        theta,
        data,
        report=(7, 0.8123, 0.7011),
        epochs=[EpochRecord(1, 600, train_acc=0.9512, test_acc=0.9403)],
        epoch=3,
        step=1234,
    )
    ch3 = tour.render(tour.chapter("one_step"), f)
    assert "0.8123" in ch3 and "0.7011" in ch3 and "Step 7 " in ch3
    ch4 = tour.render(tour.chapter("learn"), f)
    assert "94.0%" in ch4 and "3 passes" in ch4
    f2 = facts(
        cfg, theta, data, report=(8, 0.5, 0.25), epochs=[EpochRecord(1, 600, train_acc=0.9, test_acc=0.8877)], epoch=1
    )
    assert "88.8%" in tour.render(tour.chapter("learn"), f2) and "1 pass)" in tour.render(tour.chapter("learn"), f2)
    assert "0.5000" in tour.render(tour.chapter("one_step"), f2)
    assert "1,234" in tour.render(tour.chapter("further"), f)


def test_step_lengths_and_weight_change_come_from_the_run():
    cfg = PRESETS["lesson"]
    theta0 = cfg.network().theta
    f = tour.facts_from(cfg, theta0 + 1.6, step_summary=(0.5, 0.05, (1901, 2000)), initial_theta=theta0)
    text = tour.render(tour.chapter("downhill"), f)
    assert "averaged 0.5," in text and "steps 1,901 to 2,000 0.05" in text and "10.0 times shorter." in text
    f = tour.facts_from(cfg, theta0, step_summary=(0.5, 1.0, (1901, 2000)))
    text = tour.render(tour.chapter("downhill"), f)
    assert "2.0 times longer (a mini-batch's slope stays noisy" in text  # said as found
    w0 = theta0[: 784 * 16]
    f = tour.facts_from(cfg, theta0 + 1.6, initial_theta=theta0)
    assert f.weight_change == pytest.approx(np.sqrt(w0.size) * 1.6 / np.linalg.norm(w0), rel=1e-4)


def test_chapter_7_quotes_the_answer_to_what_is_on_screen(data):
    """The noise's answer while the noise is shown; once its drawing replaced it, the drawing's answer too."""
    cfg = PRESETS["lesson"]
    net = cfg.network()
    ch = tour.chapter("nonsense")
    noise = tour.noise_image()
    out = net.feedforward(noise[None])[0]
    noise_quote = f"this noise is a {int(np.argmax(out))}, with an output of {out.max():.2f}"
    with_noise = tour.facts_from(cfg, net.theta, shown=(noise.copy(), -1), test=data)
    assert with_noise.shown_noise is True
    text = tour.render(ch, with_noise)
    assert noise_quote in text and "On screen now" not in text and "?" not in text
    drawn = np.clip(noise + 0.3 * (data[0][5] - 0.5), 0, 1).astype(np.float32)  # "the drawing": another image
    d_out = net.feedforward(drawn[None])[0]
    with_drawing = tour.facts_from(cfg, net.theta, shown=(drawn, -1), test=data)
    assert with_drawing.shown_noise is False
    text = tour.render(ch, with_drawing)
    assert noise_quote in text  # the noise's answer, named as the noise's
    assert f"it sees a {int(np.argmax(d_out))}, with an output of {d_out.max():.2f}." in text  # and what is shown
    assert f"favourite image of a {tour.DRAW_DIGIT}" in text and ("hook", "ask_to_draw", tour.DRAW_DIGIT) in ch.show
    assert "On screen now" not in tour.render(ch, tour.facts_from(cfg, net.theta, test=data))  # nothing shown


def test_noise_and_shift_answers_are_the_live_network(data):
    cfg = PRESETS["lesson"]
    net = cfg.network()
    f = facts(cfg, net.theta, data)
    out = net.feedforward(tour.noise_image()[None])[0]
    assert f.noise_digit == int(np.argmax(out)) and f.noise_top == pytest.approx(float(out.max()))
    tops = net.feedforward(data[0]).max(axis=1)
    assert f.noise_rank == pytest.approx(np.mean(tops <= out.max()))
    assert tour.facts_from(cfg, net.theta, test=data, wanted={"step"}).noise_rank is None  # costly: only asked
    x = data[0][tour.SHIFT_DIGIT]
    assert f.shift_moved == int(net.predict(tour.shift_image(x, tour.SHIFT_PIXELS, 0)[None])[0])
    assert f.shift_label == int(data[1][tour.SHIFT_DIGIT])


def test_missing_numbers_say_how_to_get_them():
    text = tour.render(tour.chapter("one_step"), tour.Facts(sizes=(784, 16, 16, 10), n_params=13002))
    assert "13,002" in text and "?" in text and "take one single step" in text
    assert "?" not in tour.render(
        tour.chapter("network"), tour.facts_from(PRESETS["lesson"], PRESETS["lesson"].network().theta)
    )
