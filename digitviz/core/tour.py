"""The lesson as a guided tour: its chapters as data, and their text rendered from the live run.

A chapter is a short text in the lesson's words whose numbers come from the user's own run (never
constants written in advance), plus a *Show me* plan: a list of plain actions (reset, step, feed an
input, bring a panel to the front, ...) that the GUI plays through its app driver. This module
knows nothing about Qt: :func:`facts_from` turns a network's parameters, the input shown and a few
counters into a :class:`Facts`, and :func:`render` fills a chapter's template from it.

Imports: NumPy and the standard library only (and :mod:`digitviz.core.network` for forward passes).
"""

from __future__ import annotations

import math
import re
import string
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .network import Layout, Network

if TYPE_CHECKING:
    from .history import EpochRecord
    from .training import TrainConfig

MAX_WORDS = 90  # a chapter's text, numbers aside
NOISE_SEED = 7  # the noise image chapter 7 shows and quotes
DRAW_DIGIT = 3  # the digit chapter 7 asks the network to draw, starting from that noise
SHIFT_DIGIT = 0  # the test digit chapter 8 moves ...
SHIFT_PIXELS = 4  # ... this many pixels to the right
STRETCH = 100  # steps averaged at the start and at the end of a run (step lengths)


@dataclass(frozen=True)
class Chapter:
    """One chapter of the tour.

    Attributes
    ----------
    id : str
        Stable key (remembered between sessions).
    title : str
    template : str
        Plain text with ``{name}`` fields taken from :meth:`Facts.fields`; paragraphs split by a blank line.
    needs : tuple of str
        The facts the text quotes; :func:`render` says how to get them when one is missing.
    show : tuple of tuple
        The *Show me* plan, one ``(verb, *args)`` per action, played in order by the GUI:
        ``("reset", preset)``, ``("step", n)``, ``("play",)``, ``("pause",)``, ``("speed", batches_per_s)``
        (None: as fast as it goes), ``("raise", panel[, tab])``,
        ``("feed_test_digit", i)``, ``("feed_noise", seed)``, ``("feed_shifted", i, dx, dy)``,
        ``("weights_mode", mode)``, ``("select_neuron", layer, i)``, ``("hook", name, *args)`` (a view that
        may not exist yet; skipped when the app has none).
    state : str
        In plain words, the state *Show me* leaves the app in (shown under the button).
    """

    id: str
    title: str
    template: str
    needs: tuple = ()
    show: tuple = ()
    state: str = ""

    def words(self) -> int:
        """Words of the template, each ``{field}`` counted as one."""
        return count_words(re.sub(r"\{[^}]*\}", "N", self.template))


def count_words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][\w'’.,%-]*", text))


@dataclass(frozen=True)
class Facts:
    """Numbers of the live run that the chapters quote; ``None`` where not known (yet).

    Attributes
    ----------
    sizes : tuple of int
        Neurons per layer of the live network.
    n_params, n_weights, n_biases : int
        Counted from the live network's layout.
    preset : str
        Name of the preset the live settings match ("" for custom).
    seed : int
    step, epoch : int
    digit_label : int
        True digit of the input shown (-1 unknown).
    digit_outputs : tuple of float, length n_out
        The network's ten outputs for it.
    shown_noise : bool or None
        Whether the input shown is the tour's noise image (chapter 7 quotes the answer to what is on
        screen once its drawing replaced the noise); None when no input is shown.
    digit_cost : float
        Sum of the squared differences between those outputs and the one-hot target.
    train_cost : float
        The same cost averaged over all training images (``n_train`` of them).
    cost_before, cost_after : float
        The last single step's mini-batch cost before and after it; ``report_step`` is that step.
    test_acc, train_acc : float
        After the last finished epoch.
    target : float
        Where the preset levels off.
    step_first, step_last : float
        Average length of a step (|change of theta| per step) at the start and at the end of the run.
    step_span : tuple of int
        Steps between which ``step_last`` was measured.
    noise_digit : int; noise_top : float
        The answer to the tour's noise image and its output.
    noise_rank : float
        Share of the test digits whose top output is at most ``noise_top``: how sure it is of the noise,
        measured against how sure it is of real digits.
    shift_label, shift_centred, shift_moved : int
        A test digit, the answer for it centred and moved by ``shift_pixels`` pixels.
    weight_change : float
        |W1 now - W1 initial| / |W1 initial| of the first hidden layer.
    """

    sizes: tuple = ()
    n_params: int | None = None
    n_weights: int | None = None
    n_biases: int | None = None
    preset: str = ""
    seed: int | None = None
    step: int | None = None
    epoch: int | None = None
    digit_label: int = -1
    digit_outputs: tuple | None = None
    shown_noise: bool | None = None
    digit_cost: float | None = None
    train_cost: float | None = None
    n_train: int | None = None
    cost_before: float | None = None
    cost_after: float | None = None
    report_step: int | None = None
    test_acc: float | None = None
    train_acc: float | None = None
    target: float | None = None
    step_first: float | None = None
    step_last: float | None = None
    step_span: tuple | None = None
    noise_digit: int | None = None
    noise_top: float | None = None
    noise_rank: float | None = None
    shift_label: int | None = None
    shift_centred: int | None = None
    shift_moved: int | None = None
    shift_pixels: int = SHIFT_PIXELS
    weight_change: float | None = None
    extra: dict = field(default_factory=dict)

    def known(self, name: str) -> bool:
        return _value(self, name) is not None

    def fields(self) -> dict:
        """Every quotable field as display text (missing ones as "?")."""
        f = self
        out = {}

        def put(name: str, value: object, fmt: Callable[[Any], str]) -> None:
            out[name] = "?" if value is None else fmt(value)

        put("sizes", "-".join(map(str, f.sizes)) if f.sizes else None, str)
        put("n_in", f.sizes[0] if f.sizes else None, lambda v: f"{v:,}")
        put("side", round(math.sqrt(f.sizes[0])) if f.sizes else None, str)
        put("hidden", " and ".join(map(str, f.sizes[1:-1])) if len(f.sizes) > 2 else None, str)
        put("n_hidden_layers", len(f.sizes) - 2 if f.sizes else None, _number_word)
        put("n_out", f.sizes[-1] if f.sizes else None, str)
        put("n_params", f.n_params, lambda v: f"{v:,}")
        put("n_weights", f.n_weights, lambda v: f"{v:,}")
        put("n_biases", f.n_biases, lambda v: f"{v:,}")
        put("preset", f.preset or "custom", str)
        put("seed", f.seed, str)
        put("step", f.step, lambda v: f"{v:,}")
        put("epoch", f.epoch, lambda v: f"{v:,}")
        put("digit_label", f.digit_label if f.digit_label >= 0 else None, str)
        put("digit_outputs", f.digit_outputs, lambda v: ", ".join(f"{a:.2f}" for a in v))
        put("digit_answer", None if f.digit_outputs is None else int(np.argmax(f.digit_outputs)), str)
        put("digit_top", None if f.digit_outputs is None else max(f.digit_outputs), lambda v: f"{v:.2f}")
        put("draw_digit", DRAW_DIGIT, str)
        # chapter 7: once the drawing replaced the noise on screen, the answer quoted is the drawing's
        put(
            "drawn_note",
            ()
            if f.shown_noise is not False or f.digit_outputs is None
            else (int(np.argmax(f.digit_outputs)), max(f.digit_outputs)),
            lambda v: (
                ""
                if not v
                else f" On screen now instead of the noise (after Show me: its drawing), it sees a {v[0]}, "
                f"with an output of {v[1]:.2f}."
            ),
        )
        put("digit_cost", f.digit_cost, lambda v: f"{v:.2f}")
        put("train_cost", f.train_cost, lambda v: f"{v:.2f}")
        put("n_train", f.n_train, lambda v: f"{v:,}")
        put("cost_before", f.cost_before, lambda v: f"{v:.4f}")
        put("cost_after", f.cost_after, lambda v: f"{v:.4f}")
        put("report_step", f.report_step, lambda v: f"{v:,}")
        put(
            "cost_drop",
            None
            if f.cost_before is None or f.cost_after is None
            else 1 - f.cost_after / f.cost_before
            if f.cost_before
            else 0.0,
            lambda v: f"{v:.1%}",
        )
        put("test_acc", f.test_acc, lambda v: f"{v:.1%}")
        put("train_acc", f.train_acc, lambda v: f"{v:.1%}")
        put(
            "acc_gap",
            None if f.test_acc is None or f.train_acc is None else f.train_acc - f.test_acc,
            lambda v: f"{100 * v:.1f} points",
        )
        put("target", f.target, lambda v: f"{v:.0%}")
        put("step_first", f.step_first, lambda v: f"{v:.3g}")
        put("step_last", f.step_last, lambda v: f"{v:.3g}")
        put(
            "step_ratio",
            None if f.step_first is None or f.step_last is None or not f.step_last else f.step_first / f.step_last,
            lambda v: f"{v:.1f}",
        )
        put("passes", f.epoch, lambda v: f"{v:,} pass" + ("" if v == 1 else "es"))
        put(
            "step_compare",
            None if f.step_first is None or not f.step_last or not f.step_first else f.step_first / f.step_last,
            lambda v: f"{v:.1f} times shorter" if v >= 1 else f"{1 / v:.1f} times longer",
        )
        put(
            "shift_note",
            None if f.shift_centred is None or f.shift_moved is None else f.shift_moved != f.shift_centred,
            lambda v: "" if v else " (this one survives the move; move it further, or try other digits)",
        )
        put("stretch", STRETCH, str)
        put(
            "step_note",
            None if f.step_first is None or not f.step_last else f.step_first / f.step_last >= 1.2,
            lambda v: "" if v else " (a mini-batch's slope stays noisy; the average cost's slope is what flattens)",
        )
        put("step_span", f.step_span, lambda v: f"{v[0]:,} to {v[1]:,}")
        put("noise_digit", f.noise_digit, str)
        put("noise_top", f.noise_top, lambda v: f"{v:.2f}")
        put("shift_label", f.shift_label, str)
        put("shift_centred", f.shift_centred, str)
        put("shift_moved", f.shift_moved, str)
        put("shift_pixels", f.shift_pixels, str)
        put(
            "weight_change",
            f.weight_change,
            lambda v: f"{v:.1f} times their starting size" if v >= 2 else f"{v:.0%} of their starting size",
        )
        put("noise_rank", f.noise_rank, lambda v: f"{v:.0%}")
        return out


def _value(f: Facts, name: str) -> object:
    """The raw value behind a field name (derived fields need their sources)."""
    derived: dict[str, str | tuple[str, ...]] = {
        "n_in": "sizes",
        "side": "sizes",
        "hidden": "sizes",
        "n_hidden_layers": "sizes",
        "n_out": "sizes",
        "digit_answer": "digit_outputs",
        "digit_top": "digit_outputs",
        "cost_drop": ("cost_before", "cost_after"),
        "acc_gap": ("test_acc", "train_acc"),
        "step_ratio": ("step_first", "step_last"),
        "passes": "epoch",
        "step_compare": ("step_first", "step_last"),
        "step_note": ("step_first", "step_last"),
        "shift_note": ("shift_centred", "shift_moved"),
    }
    src = derived.get(name, name)
    if isinstance(src, tuple):
        vals = [_value(f, s) for s in src]
        return None if any(v is None for v in vals) else vals
    v = getattr(f, src, None)
    if src == "sizes":
        return v or None
    if src == "digit_label":
        return v if v is not None and v >= 0 else None
    return v


def _number_word(n: int) -> str:
    return ("no", "one", "two", "three", "four", "five")[n] if 0 <= n <= 5 else str(n)


# the chapters ------------------------------------------------------------------------------------------------

PAPERS = (
    ("Michael Nielsen, Neural Networks and Deep Learning (2015)", "http://neuralnetworksanddeeplearning.com"),
    (
        "Zhang, Bengio, Hardt, Recht, Vinyals: Understanding deep learning requires rethinking generalization (2017)",
        "https://arxiv.org/abs/1611.03530",
    ),
    ("Arpit et al.: A closer look at memorization in deep networks (2017)", "https://arxiv.org/abs/1706.05394"),
    ("Choromanska et al.: The loss surfaces of multilayer networks (2015)", "https://arxiv.org/abs/1412.0233"),
)

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        "network",
        "The network",
        "A {side}x{side} image is {n_in} numbers between 0 and 1, one per pixel: the first layer. "
        "Then come {n_hidden_layers} hidden layers of {hidden} neurons, and {n_out} outputs, one per digit; "
        "the brightest output is the answer.\n\n"
        "Every connection has a weight and every neuron a bias: {n_weights} weights and {n_biases} biases, "
        "{n_params} numbers in all, counted from the network you are running. Learning means finding good "
        "values for all of them.",
        needs=("n_in", "n_params"),
        show=(("feed_test_digit", 0), ("raise", "input")),
        state="A test digit in the diagram and the input panel.",
    ),
    Chapter(
        "random_start",
        "A random start is lousy",
        "Before training the weights are random. Shown test digit {digit_label}, the ten outputs are {digit_outputs}; "
        "the answer should be 1 at {digit_label} and 0 elsewhere.\n\n"
        "The cost of this one example is the sum of the squared differences: {digit_cost}. Big means lousy. "
        "Averaged over all {n_train} training images the cost is {train_cost}: one number that says how bad "
        "the network is. Training is making that average small.",
        needs=("digit_outputs", "digit_cost", "train_cost"),
        show=(("pause",), ("reset", "lesson"), ("feed_test_digit", 0), ("raise", "input")),
        state="A fresh lesson network from the seed; a test digit and its ten outputs.",
    ),
    Chapter(
        "one_step",
        "Gradient descent, one step",
        "The cost is a function of {n_params} inputs: every weight and bias. Its negative gradient says how to "
        "nudge each one to lower the cost fastest, and which nudges matter most.\n\n"
        "One step: take a mini-batch of examples, compute the gradient by backpropagation, move every "
        "parameter a little. Step {report_step} took this batch's cost from {cost_before} to {cost_after} "
        "({cost_drop} lower). The Gradient tab lists the 20 biggest nudges.",
        needs=("cost_before", "cost_after"),
        show=(("pause",), ("step", 1), ("raise", "experiments", "gradient")),
        state="Exactly one more step; the readout by Step shows its cost before and after.",
    ),
    Chapter(
        "learn",
        "Watch it learn",
        "Now many steps, one mini-batch after another. The cost curve falls, noisily; after every pass over "
        "the training data the network is tested on 10,000 digits it never trained on.\n\n"
        "Your run ({preset} settings, after {passes}) answers {test_acc} of them right. The lesson quotes about "
        "96%. This exact network, sigmoid and the squared-difference cost with plain steps, levels off near "
        "{target}. The tweaked preset (same size) reaches 96%, the wide one 98%.",
        needs=("test_acc",),
        # as fast as it goes: at the first launch's 10 batches/s one pass over MNIST takes 10 minutes
        show=(("raise", "curves"), ("speed", None), ("play",)),
        state="Training runs as fast as it goes; the learning curves are in front.",
    ),
    Chapter(
        "downhill",
        "Downhill to a local minimum",
        "Picture the cost as a landscape and the network as a ball rolling downhill; the landscape panel "
        "draws a slice of it, with the path.\n\n"
        "A step is the learning rate times the slope, so steps should shrink as the ground flattens. Your "
        "first {stretch} steps averaged {step_first}, steps {step_span} {step_last}: {step_compare}{step_note}. "
        "It settles in a valley, a local minimum; nothing promises it is the lowest.",
        needs=("step_first", "step_last"),
        show=(("pause",), ("raise", "landscape")),
        state="Training paused; the cost landscape with the descent path is in front.",
    ),
    Chapter(
        "hidden",
        "What the hidden neurons look for",
        "The lesson hoped the first hidden layer would pick up edges and the second loops and lines. Each tile "
        "here is one neuron's {n_in} incoming weights, drawn as an image: blue positive, orange negative.\n\n"
        "They look almost random. Training moved the first layer's weights by {weight_change}, "
        "and what it found is not edges: whatever works to lower the cost. Compare initial, now and change.",
        needs=("weight_change",),
        show=(("raise", "weights"), ("weights_mode", "now"), ("select_neuron", 1, 0)),
        state="The weights panel in front, showing now, first neuron selected.",
    ),
    Chapter(
        "nonsense",
        "Confident nonsense",
        "Give the network random noise, not a digit at all. It still answers: this noise is a {noise_digit}, "
        "with an output of {noise_top} (1 means certain): as sure as for {noise_rank} of real test digits. "
        'It cannot say "none of these": it was only ever asked which digit.\n\n'
        "Nor can it draw: asked for its favourite image of a {draw_digit}, starting from this noise, it nudges "
        "the pixels towards a {draw_digit}, and the image still looks like noise.{drawn_note} The Overconfidence probe "
        "tab measures this on a thousand noise images.",
        needs=("noise_digit", "noise_top", "noise_rank"),
        show=(("feed_noise", NOISE_SEED), ("raise", "input"), ("hook", "ask_to_draw", DRAW_DIGIT)),
        state=f"The noise in the input panel and the diagram, then the network's drawing of a {DRAW_DIGIT} from it.",
    ),
    Chapter(
        "centred",
        "Only centred digits",
        "Every training image has its digit centred in the frame. The network never saw a moved one.\n\n"
        "Test digit {shift_label}: centred, your network says {shift_centred}. Moved {shift_pixels} pixels "
        "to the right, the same digit to our eyes, it says {shift_moved}{shift_note}. Its weights are tied to pixel "
        "places, not to shapes.",
        needs=("shift_centred", "shift_moved"),
        show=(("feed_shifted", SHIFT_DIGIT, SHIFT_PIXELS, 0), ("raise", "input"), ("hook", "shift_view")),
        state="The moved test digit in the input panel.",
    ),
    Chapter(
        "memorise",
        "Memorising or learning",
        "Does it learn what digits look like, or memorise the answers? Your run gets {train_acc} of the "
        "training images and {test_acc} of unseen test images right, a gap of {acc_gap}.\n\n"
        "Press Train in the Random labels tab: with true labels the training cost falls much faster, there is "
        "structure to find. With shuffled labels it can only memorise, slowly (a network this small barely "
        "can), and learns nothing about new digits.",
        needs=("train_acc", "test_acc"),
        show=(("pause",), ("raise", "experiments", "labels")),
        state="The Random labels tab in front.",
    ),
    Chapter(
        "minima",
        "Many minima of about equal quality",
        "Start from another seed and gradient descent ends somewhere else: other weights, other weight "
        "images. Yet the test accuracy hardly changes.\n\n"
        "Your run, seed {seed}, reached {test_acc}. Press Train in the Many minima tab to start from several "
        "seeds: the accuracies stay close while the weights differ. With {n_params} parameters there are many valleys, "
        "and most are about as deep.",
        needs=("seed", "test_acc"),
        show=(("pause",), ("raise", "experiments", "minima")),
        state="The Many minima tab in front.",
    ),
    Chapter(
        "further",
        "Further reading",
        "The lesson's network is the one in Michael Nielsen's free book, Neural Networks and Deep Learning. "
        "The memorising question comes from Zhang et al. (2017), Understanding deep learning requires "
        "rethinking generalization, and Arpit et al. (2017), A closer look at memorization in deep networks. "
        "The many-minima picture comes from Choromanska et al. (2015), The loss surfaces of multilayer "
        "networks.\n\nYour network has taken {step} steps so far; keep poking at it.",
        needs=(),
        show=(("raise", "curves"),),
        state="Nothing changes; the curves are in front.",
    ),
)

CHAPTER_IDS = tuple(c.id for c in CHAPTERS)


def chapter(key: int | str) -> Chapter:
    """A chapter by id or by index."""
    if isinstance(key, int):
        return CHAPTERS[key]
    return CHAPTERS[CHAPTER_IDS.index(key)]


MISSING_HINT = {
    "digit_outputs": "show it a test digit",
    "digit_cost": "show it a test digit",
    "train_cost": "load the training data",
    "cost_before": "take one single step",
    "cost_after": "take one single step",
    "test_acc": "train at least one full pass",
    "train_acc": "train at least one full pass",
    "step_first": f"train at least {2 * STRETCH} steps",
    "step_last": f"train at least {2 * STRETCH} steps",
    "weight_change": "train for a while",
    "shift_centred": "load the test digits",
    "shift_moved": "load the test digits",
}


def missing(ch: Chapter, facts: Facts) -> list[str]:
    """The facts ``ch`` quotes that are not known yet."""
    return [n for n in ch.needs if not facts.known(n)]


def render(ch: Chapter, facts: Facts) -> str:
    """The chapter's text with the live numbers; plain text, paragraphs separated by a blank line.

    Unknown numbers show as "?", followed by one line saying what gives them (Show me does).
    """
    fmt = string.Formatter()
    values = facts.fields()
    text = "".join(
        lit + (values.get(name, "?") if name is not None else "") for lit, name, _spec, _conv in fmt.parse(ch.template)
    )
    gaps = missing(ch, facts)
    if gaps:
        hints = sorted({MISSING_HINT.get(n, "press Show me") for n in gaps})
        text += "\n\n(The ? are numbers of your run still to come: " + "; ".join(hints) + ". Show me does it.)"
    return text


# facts from the live run -------------------------------------------------------------------------------------


def parameter_count(sizes: Sequence[int]) -> tuple[int, int, int]:
    """``(all, weights, biases)`` of a fully connected network of ``sizes``, from its layout."""
    layout = Layout(sizes)
    n_w = sum(s[0].stop - s[0].start for s in layout.slices)
    return layout.size, n_w, layout.size - n_w


def example_cost(outputs: np.ndarray, label: int) -> float:
    """The lesson's cost of one example: sum over the outputs of (a_j - y_j)^2, y one-hot at ``label``."""
    a = np.asarray(outputs, np.float64).reshape(-1)
    y = np.zeros_like(a)
    y[int(label)] = 1.0
    return float(np.sum((a - y) ** 2))


def average_cost(net: Network, X: np.ndarray, labels: np.ndarray, batch: int = 10000) -> float:
    """Sum of squared differences to the one-hot targets, averaged over the rows of ``X`` (N, n_in)."""
    labels = np.asarray(labels, np.intp)
    total = 0.0
    for i in range(0, len(X), batch):
        a = np.asarray(net.feedforward(X[i : i + batch]), np.float64)
        a[np.arange(len(a)), labels[i : i + batch]] -= 1.0
        total += float(np.einsum("ij,ij->", a, a))
    return total / max(len(X), 1)


class StepLengths:
    """The first and the latest ``n`` step lengths of a run, eta x |grad C| per step (O(n) memory).

    The lesson's step is the learning rate times the slope; its length shrinks as the cost flattens.

    Parameters
    ----------
    n : int
        Steps per stretch.
    """

    def __init__(self, n: int = STRETCH) -> None:
        self.n = int(n)
        self.clear()

    def clear(self) -> None:
        self.first: list[float] = []
        self.last: deque = deque(maxlen=self.n)  # (step, length)

    def add(self, steps: np.ndarray, grad_norms: np.ndarray, lr: float) -> None:
        """Record steps ``steps`` (K,) with gradient lengths ``grad_norms`` (K,) taken at learning rate ``lr``."""
        for s, g in zip(np.asarray(steps).tolist(), np.asarray(grad_norms, np.float64).tolist()):
            if self.last and s <= self.last[-1][0]:
                continue
            length = float(lr) * g
            if len(self.first) < self.n:
                self.first.append(length)
            self.last.append((int(s), length))

    def summary(self) -> tuple[float, float, tuple[int, int]] | None:
        """``(mean of the first n, mean of the latest n, (first, last step of the latest))``, or None
        before ``2 n`` steps (the two stretches must not overlap)."""
        if len(self.first) < self.n or not self.last or self.last[0][0] <= self.n:
            return None
        last = [v for _, v in self.last]
        return float(np.mean(self.first)), float(np.mean(last)), (self.last[0][0], self.last[-1][0])


def shift_image(x: np.ndarray, dx: int, dy: int, side: int = 28) -> np.ndarray:
    """``x`` (side*side,) moved ``dx`` pixels right and ``dy`` down, zeros coming in (no wrap-around)."""
    img = np.asarray(x, np.float32).reshape(side, side)
    out = np.zeros_like(img)
    h0, h1 = max(dy, 0), side + min(dy, 0)
    w0, w1 = max(dx, 0), side + min(dx, 0)
    out[h0:h1, w0:w1] = img[h0 - dy : h1 - dy, w0 - dx : w1 - dx]
    return out.reshape(-1)


def noise_image(seed: int = NOISE_SEED, n_in: int = 784) -> np.ndarray:
    """The tour's noise image: uniform pixels in [0, 1] from ``seed`` (the same each time)."""
    return np.random.default_rng(seed).random(n_in, dtype=np.float32)


def facts_from(
    config: TrainConfig,
    theta: np.ndarray,
    *,
    shown: tuple[np.ndarray, int] | None = None,
    train: tuple[np.ndarray, np.ndarray] | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    report: tuple[int, float, float] | None = None,
    epochs: Sequence[EpochRecord] = (),
    step_summary: tuple[float, float, tuple[int, int]] | None = None,
    step: int | None = None,
    epoch: int | None = None,
    preset: str = "",
    target: float | None = None,
    initial_theta: np.ndarray | None = None,
    train_cost_cache: float | None = None,
    wanted: set[str] | None = None,
) -> Facts:
    """Collect what the chapters quote from the live run.

    Parameters
    ----------
    config : TrainConfig
        The live settings (sizes, activation, cost, seed).
    theta : ndarray, shape (P,)
        The live parameters.
    shown : (ndarray (n_in,), int) or None
        The input on the diagram and its true label (-1 unknown).
    train, test : (X (N, n_in) float in [0, 1], labels (N,)) or None
    report : (step, cost_before, cost_after) or None
        The last single step.
    epochs : sequence of EpochRecord
        Epoch records (``train_acc``, ``test_acc``).
    step_summary : (float, float, (int, int)) or None
        :meth:`StepLengths.summary` of the run.
    initial_theta : ndarray (P,) or None
        The run's starting parameters (for the weight change).
    train_cost_cache : float or None
        An already computed average training cost for this ``theta`` (the caller caches it).
    wanted : set of str or None
        The fields needed: the costly ones (``train_cost``, ``noise_rank``: a pass over a whole data set)
        are computed only when listed. None: all.
    """
    net = Network(config.sizes, config.activation, config.cost, np.dtype(config.dtype), seed=None, init=None)
    net.set_theta(theta)
    n, n_w, n_b = parameter_count(config.sizes)
    kw: dict = {
        "sizes": tuple(config.sizes),
        "n_params": n,
        "n_weights": n_w,
        "n_biases": n_b,
        "preset": preset,
        "seed": config.seed,
        "step": step,
        "epoch": epoch,
        "target": target,
    }
    if shown is not None and shown[0] is not None:
        x, label = shown
        x = np.asarray(x, np.float32).reshape(-1)
        kw["shown_noise"] = bool(np.array_equal(x, noise_image(NOISE_SEED, config.sizes[0])))
        out = np.asarray(net.feedforward(x.reshape(1, -1))[0], np.float64)
        kw["digit_outputs"] = tuple(float(v) for v in out)
        kw["digit_label"] = int(label)
        if 0 <= int(label) < len(out):
            kw["digit_cost"] = example_cost(out, label)
    if train is not None and (wanted is None or "train_cost" in wanted):
        kw["n_train"] = len(train[1])
        kw["train_cost"] = train_cost_cache if train_cost_cache is not None else average_cost(net, *train)
    if report is not None:
        kw["report_step"], kw["cost_before"], kw["cost_after"] = int(report[0]), float(report[1]), float(report[2])
    if epochs:
        last = epochs[-1]
        kw["test_acc"] = float(last.test_acc)
        if not math.isnan(last.train_acc):
            kw["train_acc"] = float(last.train_acc)
    if step_summary is not None:
        kw["step_first"], kw["step_last"], kw["step_span"] = step_summary
    noise = noise_image(NOISE_SEED, config.sizes[0])
    out = np.asarray(net.feedforward(noise.reshape(1, -1))[0])
    kw["noise_digit"], kw["noise_top"] = int(np.argmax(out)), float(np.max(out))
    if test is not None and (wanted is None or "noise_rank" in wanted):
        tops = np.max(net.feedforward(test[0]), axis=1)
        kw["noise_rank"] = float(np.mean(tops <= kw["noise_top"]))
    if test is not None and len(test[1]) > SHIFT_DIGIT and config.sizes[0] == 784:
        X, labels = test
        x = np.asarray(X[SHIFT_DIGIT], np.float32)
        both = np.stack([x, shift_image(x, SHIFT_PIXELS, 0)])
        answers = np.argmax(net.feedforward(both), axis=1)
        kw["shift_label"] = int(labels[SHIFT_DIGIT])
        kw["shift_centred"], kw["shift_moved"] = int(answers[0]), int(answers[1])
    if initial_theta is not None:
        w0 = np.asarray(initial_theta, np.float64)[net.layout.slices[0][0]]
        w1 = np.asarray(theta, np.float64)[net.layout.slices[0][0]]
        norm = float(np.linalg.norm(w0))
        if norm > 0:
            kw["weight_change"] = float(np.linalg.norm(w1 - w0)) / norm
    return Facts(**kw)


__all__ = [
    "CHAPTERS",
    "CHAPTER_IDS",
    "DRAW_DIGIT",
    "MAX_WORDS",
    "PAPERS",
    "Chapter",
    "Facts",
    "StepLengths",
    "average_cost",
    "chapter",
    "count_words",
    "example_cost",
    "facts_from",
    "missing",
    "noise_image",
    "parameter_count",
    "render",
    "shift_image",
]
