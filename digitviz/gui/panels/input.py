"""The input panel: draw a digit, or pick noise, a test digit or a picture, and see the network's answer.

Everything the network is shown goes through MNIST's own preparation
(:func:`digitviz.core.inputs.prepare_drawing`): the 28x28 image beside the canvas is exactly
what the network sees. The ten output bars and the big answer follow the pen live, and every
new input is announced with ``input_changed(x, label)`` (at most ~60 times a second) so that the
network diagram follows it too.

The canvas, the 28x28 view and the bars are dumb views (:mod:`digitviz.gui.views`); this panel holds
the state (source, label, network) and decides what they show.

Imports: NumPy, PySide6, :mod:`digitviz.core`, :mod:`digitviz.gui.colors` and :mod:`digitviz.gui.views`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import datasets
from digitviz.core.confidence import sure_as_text
from digitviz.core.inputs import noise, prepare_drawing, prepare_image
from digitviz.core.network import Network
from digitviz.core.transforms import shift_images, warp_images

from .. import colors, shortcuts
from ..flow import flow_row
from ..jobs import JobRunner
from ..style import ERROR, style_panel, text_style
from ..views.drawing_canvas import DrawingCanvas
from ..views.images import qimage_to_gray
from ..views.output_bars import OutputBars
from ..views.pixel_view import PixelView

MIN_EMIT_INTERVAL_S = 1 / 60  # throttle of live updates while drawing
MAX_IMAGE_SIDE = 560  # larger pictures are shrunk by Qt before the NumPy preparation
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)"

# Sources of the current input (what the source line says and what the canvas shows)
TRAINING, DRAWING, NOISE, TEST, FILE, EXTERNAL = "training", "drawing", "noise", "test", "file", "external"


IDENTITY = (0, 0, 0.0, 1.0)  # (dx right, dy down in whole pixels, angle in degrees anticlockwise, scale)
ROTATE_STEP = 15.0
SCALE_STEP = 1.1


def move_text(move) -> str:
    """``(2, -1, 15.0, 1.1)`` -> ``"moved 2 px right, 1 px up, turned 15° left, scaled ×1.10"``."""
    dx, dy, angle, scale = move
    parts = []
    if dx:
        parts.append(f"{abs(dx)} px {'right' if dx > 0 else 'left'}")
    if dy:
        parts.append(f"{abs(dy)} px {'down' if dy > 0 else 'up'}")
    if angle:
        parts.append(f"turned {abs(angle):g}° {'left' if angle > 0 else 'right'}")
    if scale != 1.0:
        parts.append(f"scaled ×{scale:.2f}")
    return "moved " + ", ".join(parts) if parts else "not moved"


def _digits_top_work(control, config, theta, X):
    """On a job thread: the network's top output for every test digit (None when cancelled)."""
    net = Network.from_config(config, theta)
    out = np.empty(len(X), np.float64)
    for i in range(0, len(X), 2000):
        if control():
            return None
        out[i : i + 2000] = net.feedforward(X[i : i + 2000]).max(axis=1)
    return out


def _button(text, tip, slot, parent=None):
    """A button calling ``slot``; its tooltip names the key the shortcut table gives ``slot``."""
    b = QPushButton(text, parent)
    b.setToolTip(shortcuts.with_keys(tip, "input", slot.__name__))
    b.clicked.connect(slot)
    b.setFocusPolicy(Qt.TabFocus)
    return b


class InputPanel(QWidget):
    """Draw, pick noise, test digits or pictures; see what the network sees and what it answers.

    Follows the panel contract of docs/architecture.md.

    Signals
    -------
    input_changed(object, int)
        ``(x (784,) float32 in [0, 1], label or -1)``: a new input for the network diagram
        (throttled to ~60 Hz while drawing). ``(None, -1)`` asks to follow the training example again.

    Attributes
    ----------
    x : ndarray, shape (784,), float32
        The current input as the network sees it.
    label : int
        Its true digit (a test digit or a training example), else -1.
    source : str
        Where it came from: "training", "drawing", "noise", "test", "file" or "external".
    outputs : ndarray, shape (10,) or None
        The network's output for ``x`` (None before the first snapshot).
    rng : numpy.random.Generator
        Seeded generator of the noise images and random test digits.
    """

    input_changed = Signal(object, int)

    def __init__(self, seed: int = 0, parent=None):
        super().__init__(parent)
        self.rng = np.random.default_rng(seed)
        self.net: Network | None = None
        self._arch = None
        self._theta_ref = None
        self._theta_version = 0
        self._pred_cache: tuple[int, np.ndarray] | None = None
        self.dataset = None
        self._test_X = None
        self._test_labels = None
        self.test_index = -1
        self.noise_count = 0
        self.x = np.zeros(784, np.float32)
        self.label = -1
        self.source = TRAINING
        self.outputs: np.ndarray | None = None
        self._last_emit = -1.0
        self._dirty = False
        self._example_ref = None
        self._noise_kind = "uniform"
        self._file_name = ""
        # moving the digit: the image before any move, and the move applied to it (never accumulated)
        self.original = self.x
        self.move = IDENTITY
        self._drag_from = IDENTITY
        # the test set's top outputs, per (generation, step), for the noise answer's comparison
        self._snap_key = None
        self._config = None
        self._digits_top: tuple | None = None  # (key, top outputs (10000,))
        self._digits_top_pending = None
        self.jobs = JobRunner(self)

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._flush)

        style_panel(self)
        self._build()
        self._update_enabled()
        self._update_source_line()

    # construction

    def _build(self):
        self.canvas = DrawingCanvas(parent=self)
        self.canvas.stroke_started.connect(self._on_stroke_started)
        self.canvas.changed.connect(self._on_drawing_changed)
        self.canvas.drag_moved.connect(self._on_drag_moved)

        self.pixels = PixelView(parent=self)
        sees = QLabel("What the network sees")
        sees.setStyleSheet(f"color: {colors.MUTED};")
        sees.setAlignment(Qt.AlignCenter)
        sees.setWordWrap(True)

        self.answer_label = QLabel("–")
        self.answer_label.setAlignment(Qt.AlignCenter)
        self.answer_label.setStyleSheet(text_style(colors.HIGHLIGHT, 46, bold=True))
        self.answer_label.setToolTip("The network's answer: the digit whose output neuron is brightest")
        self.confidence_label = QLabel("")
        self.confidence_label.setAlignment(Qt.AlignCenter)
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setStyleSheet(text_style(colors.FOREGROUND, 15))
        self.truth_label = QLabel("")
        self.truth_label.setAlignment(Qt.AlignCenter)
        self.truth_label.setWordWrap(True)
        self.sure_label = QLabel("")
        self.sure_label.setAlignment(Qt.AlignCenter)
        self.sure_label.setWordWrap(True)
        self.sure_label.setStyleSheet(f"color: {colors.MUTED};")
        self.sure_label.setToolTip(
            "How this top output compares with the top outputs the same network gives "
            "the 10,000 real test digits: a hesitant-looking answer to noise may still be "
            "surer than most real ones"
        )

        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(sees)
        right.addWidget(self.pixels, 1)
        right.addSpacing(6)
        right.addWidget(self.answer_label)
        right.addWidget(self.confidence_label)
        right.addWidget(self.truth_label)
        right.addWidget(self.sure_label)
        right.addStretch(1)

        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet(f"color: {colors.FOREGROUND};")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {ERROR};")
        self.message_label.hide()

        B = lambda *a: _button(*a, parent=self)  # noqa: E731 - a one-letter shorthand keeps one button a line
        self.clear_button = B("Clear", "Erase the drawing", self.clear)
        self.undo_button = B("Undo", "Undo the last stroke", self.undo)
        self.uniform_button = B(
            "Uniform noise", "A new image of uniform random pixels, as in the lesson", self.show_uniform_noise
        )
        self.gaussian_button = B(
            "Gaussian noise",
            "A new image of Gaussian noise: mean 0.5, sd 0.25, clipped to [0, 1]",
            self.show_gaussian_noise,
        )
        self.blank_button = B("Blank", "An empty black image", self.show_blank)
        self.prev_button = B("◀", "Previous test digit", self.previous_test_digit)
        self.next_button = B("▶", "Next test digit", self.next_test_digit)
        self.random_button = B("Random", "A random test digit", self.random_test_digit)
        self.mistake_button = B("Next mistake", "Jump to the next test digit the network gets wrong", self.next_mistake)
        self.open_button = B(
            "Open image…",
            "Run a PNG or JPEG picture of a digit through the same "
            "preparation (dark ink on light paper is inverted); or drop a file here",
            self.open_image_dialog,
        )
        self.follow_button = B(
            "Follow training", "Let the network diagram show the examples being trained on again", self.follow_training
        )
        for b in (self.prev_button, self.next_button):
            b.setMinimumWidth(36)

        def row(caption, *widgets):
            h = QHBoxLayout()
            h.setSpacing(4)
            lab = QLabel(caption)
            lab.setStyleSheet(f"color: {colors.MUTED};")
            lab.setFixedWidth(64)
            lab.setAlignment(Qt.AlignLeft | Qt.AlignTop)
            h.addWidget(lab)
            h.addWidget(flow_row(*widgets), 1)  # the buttons wrap in a narrow dock instead of being cut off
            return h

        controls = QVBoxLayout()
        controls.setSpacing(3)
        controls.addLayout(row("Draw", self.clear_button, self.undo_button, self.open_button))
        controls.addLayout(row("Noise", self.uniform_button, self.gaussian_button, self.blank_button))
        controls.addLayout(row("Test set", self.prev_button, self.next_button, self.random_button, self.mistake_button))
        controls.addLayout(row("", self.follow_button))
        controls.addLayout(self._build_move(row))

        self.bars = OutputBars(parent=self)
        self.bars_title = QLabel("")
        self.bars_title.setWordWrap(True)
        self.bars_title.setStyleSheet(f"color: {colors.MUTED};")

        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.canvas, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.addWidget(self.source_label, 1, 0, 1, 2)
        grid.addLayout(controls, 2, 0, 1, 2)
        grid.addWidget(self.message_label, 3, 0, 1, 2)
        grid.addWidget(self.bars_title, 4, 0, 1, 2)
        grid.addWidget(self.bars, 5, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(5, 1)

        # the keys are in the one table of gui/shortcuts.py; the main window makes them window-wide
        self.shortcut_actions = shortcuts.install(self, "input")
        self.setAcceptDrops(True)
        self._update_bars_title()

    # panel contract

    def on_snapshot(self, snap):
        """Use the snapshot's parameters for the answer (a new Network only if the architecture changed)."""
        cfg = snap.config
        arch = cfg.arch_key
        if arch != self._arch:
            self.net = Network.from_config(cfg, snap.theta)
            self._arch = arch
            self._theta_ref = None
            self._update_bars_title()
            self._update_enabled()
        new_theta = snap.theta is not self._theta_ref
        self._snap_key = (snap.generation, snap.step)
        self._config = cfg
        if new_theta:
            self.net.set_theta(snap.theta)
            self._theta_ref = snap.theta
            self._theta_version += 1
        if self.source == TRAINING and snap.example is not None and snap.example is not self._example_ref:
            self._example_ref = snap.example
            self._set_input(np.asarray(snap.example, np.float32), int(snap.example_label), TRAINING, emit=False)
        elif new_theta:
            self._update_answer()  # the same input, a changed network

    def set_dataset(self, ds):
        """Test digits become available (or not, with ``None``)."""
        self.dataset = ds
        self.bars.set_class_names(datasets.short_names(ds))  # Fashion-MNIST: "T-shirt", ... under the bars
        if ds is None:
            self._test_X = self._test_labels = None
        else:
            self._test_X = ds.images_as("test", np.float32)
            self._test_labels = np.asarray(ds.test_labels, np.intp)
        self._pred_cache = None
        index, self.test_index = self.test_index, -1
        self._update_enabled()
        # what came from the old data goes: a test digit is the new set's own (same index), a training
        # example the next snapshot's
        if self.source == TEST:
            if ds is None:
                self.follow_training()
            else:
                self.show_test_digit(max(index, 0))
        elif self.source == TRAINING:
            self._example_ref = None
            if ds is None:
                self.pixels.set_image(np.zeros((28, 28), np.float32))
        self._update_source_line()

    # inputs

    def show_image(self, x, label: int = -1):
        """Show an image sent from another panel: ``x`` of shape (784,) or (28, 28) in [0, 1]."""
        x = np.clip(np.asarray(x, np.float32).reshape(-1), 0.0, 1.0)
        self._set_input(x, int(label), EXTERNAL)

    def show_noise(self, kind: str = "uniform"):
        """A new noise image (``"uniform"``, ``"gaussian"`` or ``"blank"``) from the panel's generator."""
        self.noise_count += 1
        self._noise_kind = kind
        self._set_input(noise(self.rng, kind), -1, NOISE)

    def show_uniform_noise(self):
        self.show_noise("uniform")

    def show_gaussian_noise(self):
        self.show_noise("gaussian")

    def show_blank(self):
        self.show_noise("blank")

    def show_test_digit(self, index: int):
        """Show test digit ``index`` (wrapped around the test set) with its true label."""
        if self._test_X is None:
            self._say("No test digits: MNIST is not loaded.")
            return
        self.test_index = int(index) % len(self._test_X)
        self._set_input(self._test_X[self.test_index].copy(), int(self._test_labels[self.test_index]), TEST)

    def next_test_digit(self):
        self.show_test_digit(self.test_index + 1)

    def previous_test_digit(self):
        self.show_test_digit(self.test_index - 1 if self.test_index >= 0 else -1)

    def random_test_digit(self):
        if self._test_X is not None:
            self.show_test_digit(int(self.rng.integers(len(self._test_X))))

    def test_predictions(self) -> np.ndarray | None:
        """The network's answer for every test digit (cached until the parameters change)."""
        if self.net is None or self._test_X is None:
            return None
        if self._pred_cache is None or self._pred_cache[0] != self._theta_version:
            self._pred_cache = (self._theta_version, self.net.predict(self._test_X))
        return self._pred_cache[1]

    def next_mistake(self):
        """Jump to the next test digit (after the current one, wrapping) that the network gets wrong."""
        preds = self.test_predictions()
        if preds is None:
            self._say("Next mistake needs a network and the test digits.")
            return
        wrong = np.flatnonzero(preds != self._test_labels)
        if len(wrong) == 0:
            self._say("The network gets every test digit right.")
            return
        after = wrong[wrong > self.test_index]
        self.show_test_digit(int(after[0] if len(after) else wrong[0]))

    def clear(self):
        self.canvas.clear()
        self._switch_to_drawing()

    def undo(self):
        if self.canvas.undo():
            self._switch_to_drawing()

    def follow_training(self):
        """Hand the diagram back to the training examples: emits ``(None, -1)``."""
        self.source = TRAINING
        self._example_ref = None
        self.canvas.set_preview(None)
        self._update_source_line()
        self.input_changed.emit(None, -1)

    def open_image_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture of a digit", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path) -> bool:
        """Load a picture, prepare it as MNIST and show it; a plain message (no exception) on failure."""
        path = Path(path)
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)
        img = reader.read()
        if img.isNull():
            why = reader.errorString() or "unknown error"
            self._say(f"Could not open {path.name}: {why}. Pick a PNG or JPEG picture of a digit.")
            return False
        if max(img.width(), img.height()) > MAX_IMAGE_SIDE:
            img = img.scaled(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        try:
            x = prepare_image(qimage_to_gray(img))
        except ValueError as e:
            self._say(f"Could not use {path.name}: {e}")
            return False
        self._file_name = path.name
        self._set_input(x, -1, FILE)
        if not x.any():
            self._say(f"{path.name} looks blank: no ink found.")
        return True

    # moving the digit (the lesson: "it only ever saw centred, unmoving digits")

    def _build_move(self, row):
        M = self._move_button
        self.move_buttons = [
            M("←", "Move the digit one pixel left", lambda: self.move_by(-1, 0)),
            M("→", "Move the digit one pixel right", lambda: self.move_by(1, 0)),
            M("↑", "Move the digit one pixel up", lambda: self.move_by(0, -1)),
            M("↓", "Move the digit one pixel down", lambda: self.move_by(0, 1)),
            M("⟲", f"Turn the digit {ROTATE_STEP:g}° anticlockwise", lambda: self.turn_by(ROTATE_STEP)),
            M("⟳", f"Turn the digit {ROTATE_STEP:g}° clockwise", lambda: self.turn_by(-ROTATE_STEP)),
            M("−", f"Shrink the digit (×1/{SCALE_STEP:g})", lambda: self.scale_by(1 / SCALE_STEP)),
            M("+", f"Enlarge the digit (×{SCALE_STEP:g})", lambda: self.scale_by(SCALE_STEP)),
        ]
        for b in self.move_buttons:
            b.setFixedWidth(36)
            b.setStyleSheet("padding-left: 0px; padding-right: 0px;")  # the glyphs fit the narrow button
        self.reset_move_button = M("Reset", "Put the digit back as it was", self.reset_move)
        return row("Move", *self.move_buttons, self.reset_move_button)

    def _move_button(self, text, tip, slot):
        b = QPushButton(text, self)
        b.setToolTip(tip + "; Shift+drag on the canvas moves it too. The answer follows.")
        b.clicked.connect(slot)
        b.setFocusPolicy(Qt.TabFocus)
        return b

    def move_by(self, dx: int, dy: int):
        """Move the digit ``dx`` whole pixels right and ``dy`` down (added to the current move)."""
        dx0, dy0, a, sc = self.move
        self.set_move((dx0 + int(dx), dy0 + int(dy), a, sc))

    def turn_by(self, degrees: float):
        dx, dy, a, sc = self.move
        self.set_move((dx, dy, a + float(degrees), sc))

    def scale_by(self, factor: float):
        dx, dy, a, sc = self.move
        self.set_move((dx, dy, a, sc * float(factor)))

    def reset_move(self):
        self.set_move(IDENTITY)

    def set_move(self, move):
        """Show the original image moved by ``move = (dx, dy, angle, scale)`` (whole pixels right and
        down, degrees anticlockwise, factor), always computed from the original: nothing accumulates."""
        angle = float(move[2]) % 360.0
        angle = angle - 360.0 if angle > 180 else angle
        scale = float(np.clip(move[3], 0.25, 4.0))
        scale = 1.0 if abs(scale - 1.0) < 1e-9 else scale
        move = (max(-27, min(27, int(move[0]))), max(-27, min(27, int(move[1]))), angle, scale)
        if self.source == TRAINING:  # the training example changes every step: keep the one moved
            self.source = EXTERNAL
        if move[2] == 0.0 and move[3] == 1.0:
            x = shift_images(self.original, move[0], move[1])  # whole pixels: exact
        else:
            x = warp_images(self.original, move[2], move[3], move[0], move[1])
        x = np.asarray(x, np.float32)
        self.move = move
        self._set_input(x, self.label, self.source, moved=True)
        if self.source == DRAWING:
            self.canvas.set_preview(None if move == IDENTITY else x.reshape(28, 28), "moved — draw to go on")

    def _on_drag_moved(self, dx, dy):
        """Shift+drag on the canvas: ``(0, 0)`` when it begins, then the whole pixels moved since."""
        if (dx, dy) == (0, 0):
            self._drag_from = self.move
            return
        base = self._drag_from
        self.set_move((base[0] + dx, base[1] + dy, base[2], base[3]))

    # next to a noise answer: "as sure as for X% of real digits"

    def _update_sure(self, top: float):
        if self.source != NOISE:
            self.sure_label.setText("")
            return
        key = self._snap_key
        have = self._digits_top
        if have is not None and have[0] == key:
            self.sure_label.setText(sure_as_text(top, have[1]))
            return
        self.sure_label.setText("")
        if self._test_X is None or self.net is None or key is None or self._digits_top_pending == key:
            return
        self._digits_top_pending = key  # computed once per network moment, off the GUI thread (~10 ms)
        self.jobs.submit(
            _digits_top_work,
            self._config,
            self._theta_ref,
            self._test_X,
            channel="digits_top",
            on_done=lambda top_all, key=key: self._on_digits_top(key, top_all),
        )

    def _on_digits_top(self, key, top_all):
        self._digits_top_pending = None
        if top_all is None:
            return
        self._digits_top = (key, top_all)
        if key == self._snap_key and self.outputs is not None:
            self._update_sure(float(self.outputs.max()))

    def shutdown(self):
        """Stop the background job (the window's shutdown)."""
        self.jobs.shutdown()

    # drag and drop of picture files

    def dragEnterEvent(self, ev):
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev):
        for u in ev.mimeData().urls():
            if u.isLocalFile():
                self.open_image(u.toLocalFile())
                break

    # internals

    def _on_stroke_started(self):
        if self.source != DRAWING:
            # a new drawing starts on a clean canvas; Ctrl+Z brings the old one back
            self.canvas.clear()
        self.source = DRAWING
        self.label = -1
        self._say("")

    def _switch_to_drawing(self):
        self.canvas.set_preview(None)
        if self.source != DRAWING:
            self.source = DRAWING
            self.label = -1
            self._update_source_line()
        self._on_drawing_changed()

    def _on_drawing_changed(self):
        if self.source != DRAWING:
            return
        self._dirty = True
        now = time.perf_counter()
        if self._throttle.isActive():
            return
        wait = MIN_EMIT_INTERVAL_S - (now - self._last_emit)
        if wait <= 0:
            self._flush()  # leading edge: the first movement after a pause answers at once
        else:
            self._throttle.start(max(1, int(wait * 1000 + 0.5)))

    def _flush(self):
        if not self._dirty or self.source != DRAWING:
            return
        self._dirty = False
        self._set_input(prepare_drawing(self.canvas.canvas), -1, DRAWING)

    def _set_input(self, x, label, source, emit=True, moved=False):
        if not moved:  # a new image: the moves start again from it
            self.original = x
            self.move = IDENTITY
            if source == DRAWING and self.canvas.showing_preview:
                self.canvas.set_preview(None)  # drawing on after a move: the drawing itself again
        self.x = x
        self.label = label
        if source != self.source or source != DRAWING:
            self._say("")
        self.source = source
        self.pixels.set_image(x.reshape(28, 28))
        if source in (NOISE, TEST, FILE, EXTERNAL):
            self.canvas.set_preview(x.reshape(28, 28), self._preview_caption())
        elif source == TRAINING:
            self.canvas.set_preview(None)
        self._update_answer()
        self._update_source_line()
        if emit:
            self._last_emit = time.perf_counter()
            self.input_changed.emit(x.copy(), label)

    def _update_answer(self):
        if self.net is None:
            self.outputs = None
            self.bars.set_values(None)
            self.answer_label.setText("–")
            self.confidence_label.setText("no network yet")
            self.truth_label.setText(self._truth_text(None))
            return
        out = self.net.feedforward(self.x)[0].astype(np.float64)
        self.outputs = out
        top = int(out.argmax())
        self.bars.set_values(out, self.label)
        self.answer_label.setText(str(top))
        if self.net.cost_name == "cross_entropy":
            self.confidence_label.setText(f"{out[top]:.0%} sure")
        else:
            self.confidence_label.setText(f"output {out[top]:.2f}")
        self.truth_label.setText(self._truth_text(top))
        self._update_sure(float(out[top]))
        tip = self._bars_tooltip(out)
        self.bars.setToolTip(tip)
        self.confidence_label.setToolTip(tip)

    def _truth_text(self, answer):
        if self.label < 0:
            self._set_truth_color(colors.MUTED)
            return "no true label" if self.source in (NOISE, DRAWING, FILE) else ""
        right = answer == self.label
        self._set_truth_color(colors.TRUTH if right else ERROR)
        return f"true label {self.label}" + ("" if answer is None else ("  ✓" if right else "  ✗"))

    def _set_truth_color(self, color):
        if color != getattr(self, "_truth_color", None):  # restyling costs ~0.3 ms: only on change
            self._truth_color = color
            self.truth_label.setStyleSheet(f"color: {color};")

    def _bars_tooltip(self, out):
        if self.net is not None and self.net.cost_name == "cross_entropy":
            return "Softmax outputs: probabilities that sum to 1."
        return (
            "Raw sigmoid activations of the ten output neurons. Each lies between 0 and 1 on its own: "
            f"they are not probabilities and need not sum to 1 (here they sum to {out.sum():.2f})."
        )

    def _update_bars_title(self):
        if self.net is not None and self.net.cost_name == "cross_entropy":
            self.bars_title.setText("Outputs: softmax probabilities (sum to 1)")
        else:
            self.bars_title.setText("Outputs: raw sigmoid activations (need not sum to 1)")
        self.bars_title.setToolTip(self._bars_tooltip(np.zeros(10)) if self.net is None else "")

    def _preview_caption(self):
        if self.source == NOISE:
            return f"{self._noise_kind} noise — draw to replace"
        if self.source == TEST:
            return f"test digit #{self.test_index} — draw to replace"
        if self.source == FILE:
            return f"{self._file_name} — draw to replace"
        return "sent here — draw to replace"

    def _update_source_line(self):
        s = self.source
        if s == TRAINING and self.dataset is None:
            text = "No training data yet: draw a digit, or load MNIST to watch training"
        elif s == TRAINING:
            text = "Following training: the example being trained on" + (
                f" (label {self.label})" if self.label >= 0 else ""
            )
        elif s == DRAWING:
            text = "Your drawing"
        elif s == NOISE:
            text = f"{self._noise_kind.capitalize()} noise, image #{self.noise_count}"
        elif s == TEST:
            text = f"Test digit #{self.test_index} of {len(self._test_X):,}"
        elif s == FILE:
            text = f"Picture: {self._file_name}"
        else:
            text = "Image sent from another panel"
        if self.move != IDENTITY:
            text += " · " + move_text(self.move)
        self.source_label.setText(text)

    def _update_enabled(self):
        has_test = self._test_X is not None
        for b in (self.prev_button, self.next_button, self.random_button):
            b.setEnabled(has_test)
        self.mistake_button.setEnabled(has_test and self.net is not None)

    def _say(self, text: str):
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
