"""The input panel: draw a digit, or pick noise, a test digit or a picture, and see the network's answer.

Everything the network is shown goes through MNIST's own preparation
(:func:`digitviz.core.inputs.prepare_drawing`): the 28x28 image beside the canvas is exactly
what the network sees. The ten output bars and the big answer follow the pen live, and every
new input is announced with ``input_changed(x, label)`` (at most ~60 times a second) so that the
network diagram follows it too.

The canvas is a plain QWidget over a NumPy array: consecutive mouse positions are joined by
soft capsules (:func:`digitviz.core.inputs.draw_segment`), so a fast pen leaves a smooth line.

Imports: NumPy, PySide6, pyqtgraph, :mod:`digitviz.core` and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QApplication, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from digitviz.core.inputs import draw_segment, noise, prepare_drawing, prepare_image
from digitviz.core.network import Network

from .. import colors
from ..style import ERROR, style_panel, text_style

CANVAS_SIZE = 280            # resolution of the drawing array; the widget scales it to fit
BRUSH_RADIUS = 10.5          # canvas pixels: ~MNIST's stroke width once a digit is shrunk to 20 px
BRUSH_SOFTNESS = 7.0
UNDO_DEPTH = 40
MIN_EMIT_INTERVAL_S = 1 / 60  # throttle of live updates while drawing
MAX_IMAGE_SIDE = 560          # larger pictures are shrunk by Qt before the NumPy preparation
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)"

# Sources of the current input (what the source line says and what the canvas shows)
TRAINING, DRAWING, NOISE, TEST, FILE, EXTERNAL = "training", "drawing", "noise", "test", "file", "external"


def _grey_table():
    lut = colors.ACTIVATION_CMAP.getLookupTable(0.0, 1.0, 256, alpha=False)
    return [QColor(int(r), int(g), int(b)).rgb() for r, g, b in lut]


_TABLE = None


def _color_table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _grey_table()
    return _TABLE


def _to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)


def array_to_qimage(a: np.ndarray) -> QImage:
    """An indexed QImage (the activation colour map) of a 2-D array in [0, 1]; owns its pixels."""
    u8 = np.ascontiguousarray(_to_u8(a))
    h, w = u8.shape
    img = QImage(u8.data, w, h, w, QImage.Format_Indexed8)
    img.setColorTable(_color_table())
    return img.copy()  # detach from the NumPy buffer


def qimage_to_gray(img: QImage) -> np.ndarray:
    """Grey levels in [0, 1] (1 = white) of any QImage, shape ``(H, W)``, float32.

    Transparent pixels are laid over a ground that contrasts with the opaque ones (white under
    dark ink, black under light ink), so a transparent PNG of a digit keeps its strokes.
    """
    rgba = img.convertToFormat(QImage.Format_RGBA8888)
    h, w = rgba.height(), rgba.width()
    buf = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.sizeInBytes())
    px = buf.reshape(h, rgba.bytesPerLine())[:, :w * 4].reshape(h, w, 4).astype(np.float32) / 255.0
    lum = px[..., 0] * 0.299 + px[..., 1] * 0.587 + px[..., 2] * 0.114
    alpha = px[..., 3]
    if alpha.min() < 0.98:
        opaque = alpha > 0.5
        ground = 1.0 if (not opaque.any() or float(lum[opaque].mean()) < 0.5) else 0.0
        lum = lum * alpha + ground * (1.0 - alpha)
    return lum


class DrawingCanvas(QWidget):
    """A square drawing surface backed by a NumPy array, with a soft round brush and per-stroke undo.

    Signals
    -------
    stroke_started()
        The pen went down (before anything is painted).
    changed()
        The drawing changed (a pen movement painted, or clear/undo).

    Attributes
    ----------
    canvas : ndarray, shape (size, size), float32 in [0, 1]
        The drawing, light ink on black; index [row, col].
    """

    stroke_started = Signal()
    changed = Signal()

    def __init__(self, size=CANVAS_SIZE, radius=BRUSH_RADIUS, softness=BRUSH_SOFTNESS, parent=None):
        super().__init__(parent)
        self.size_px = size
        self.radius = radius
        self.softness = softness
        self.canvas = np.zeros((size, size), np.float32)
        self._undo: list[np.ndarray] = []
        self._last: tuple | None = None  # last pen position in canvas pixels while drawing
        self._hover: QPointF | None = None
        self._preview: QImage | None = None  # an image shown instead of the drawing
        self._preview_caption = ""
        # The drawing as 8-bit colour indices, shared with the QImage painted (updated per stroke region)
        self._u8 = np.zeros((size, size), np.uint8)
        self._image = QImage(self._u8.data, size, size, size, QImage.Format_Indexed8)
        self._image.setColorTable(_color_table())
        self.hint = "Draw a digit here"
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.CrossCursor)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setToolTip("Draw with the mouse (or a pen). The drawing is shrunk and centred as MNIST's "
                        "digits were before the network sees it.")

    def sizeHint(self):
        return QSize(self.size_px + 8, self.size_px + 8)

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, w):
        return w

    # model

    @property
    def is_empty(self) -> bool:
        return not self.canvas.any()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def _push_undo(self):
        self._undo.append(self.canvas.copy())
        if len(self._undo) > UNDO_DEPTH:
            del self._undo[0]

    def clear(self):
        """Erase the drawing (undoable)."""
        if not self.is_empty:
            self._push_undo()
        self.canvas[...] = 0.0
        self._touch()

    def undo(self) -> bool:
        """Restore the drawing as it was before the last stroke (or clear); False if nothing to undo."""
        if not self._undo:
            return False
        self.canvas[...] = self._undo.pop()
        self._touch()
        return True

    def set_preview(self, image28: np.ndarray | None, caption: str = ""):
        """Show ``image28`` (a 2-D array in [0, 1]) instead of the drawing; ``None`` shows the drawing."""
        if image28 is None and self._preview is None:
            return  # already showing the drawing: no repaint
        self._preview = None if image28 is None else array_to_qimage(image28)
        self._preview_caption = caption
        self.update()

    @property
    def showing_preview(self) -> bool:
        return self._preview is not None

    def _touch(self, region=None):
        """The drawing changed (inside ``region``, canvas ``(rows, cols)`` slices, or anywhere)."""
        if region is None:
            self._u8[...] = _to_u8(self.canvas)
            self.update()
        else:
            rows, cols = region
            self._u8[rows, cols] = _to_u8(self.canvas[rows, cols])
            self.update(self._widget_rect(rows, cols))  # repaint only what the pen touched
        self.changed.emit()

    def _widget_rect(self, rows: slice, cols: slice) -> QRect:
        r = self.target_rect()
        k = r.width() / self.size_px
        return QRectF(r.x() + cols.start * k, r.y() + rows.start * k, (cols.stop - cols.start) * k,
                      (rows.stop - rows.start) * k).toAlignedRect().adjusted(-2, -2, 2, 2)

    def _ring_rect(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        rad = self.radius * self.target_rect().width() / self.size_px + 2
        return QRectF(pos.x() - rad, pos.y() - rad, 2 * rad, 2 * rad).toAlignedRect()

    # geometry

    def target_rect(self) -> QRectF:
        """Where the canvas is drawn inside the widget (a centred square)."""
        side = max(1.0, min(self.width(), self.height()) - 2.0)
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        """Widget position -> canvas ``(x, y)`` in canvas pixels."""
        r = self.target_rect()
        k = self.size_px / r.width()
        return (pos.x() - r.x()) * k, (pos.y() - r.y()) * k

    # events

    def mousePressEvent(self, ev):
        if ev.button() != Qt.LeftButton:
            return super().mousePressEvent(ev)
        self.stroke_started.emit()
        self._preview = None
        self._push_undo()
        p = self.to_canvas(ev.position())
        self._last = p
        self._touch(draw_segment(self.canvas, p, p, self.radius, self.softness))

    def mouseMoveEvent(self, ev):
        old, self._hover = self._hover, ev.position()
        self.update(self._ring_rect(old).united(self._ring_rect(self._hover)))  # the brush outline
        if self._last is None:
            return
        p = self.to_canvas(ev.position())
        region = draw_segment(self.canvas, self._last, p, self.radius, self.softness)
        self._last = p
        if region is not None:
            self._touch(region)

    def mouseReleaseEvent(self, ev):
        if ev.button() == Qt.LeftButton and self._last is not None:
            self._last = None
            self.changed.emit()

    def leaveEvent(self, ev):
        self._hover = None
        self.update()

    def paintEvent(self, ev):
        p = QPainter(self)
        r = self.target_rect()
        if self._preview is not None:
            p.drawImage(r, self._preview)  # nearest: the 28x28 pixels stay visible
            self._caption(p, r, self._preview_caption)
        else:
            p.setRenderHint(QPainter.SmoothPixmapTransform, True)
            p.drawImage(r, self._image)  # clipped by Qt to the region being repainted
            if self.hint and self.is_empty:
                p.setPen(QColor(colors.MUTED))
                f = p.font()
                f.setPointSizeF(f.pointSizeF() * 1.2)
                p.setFont(f)
                p.drawText(r, Qt.AlignCenter, self.hint)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setPen(QPen(QColor(58, 63, 74), 1))
        p.setBrush(Qt.NoBrush)
        p.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self._hover is not None and r.contains(self._hover):
            rad = self.radius * r.width() / self.size_px
            p.setPen(QPen(QColor(255, 224, 138, 140), 1))
            p.drawEllipse(self._hover, rad, rad)
        p.end()

    def _caption(self, p: QPainter, r: QRectF, text: str):
        if not text:
            return
        band = QRectF(r.x(), r.bottom() - 24, r.width(), 24)
        p.fillRect(band, QColor(20, 22, 26, 190))
        p.setPen(QColor(colors.FOREGROUND))
        p.drawText(band, Qt.AlignCenter, text)


class PixelView(QWidget):
    """The 28x28 image the network sees, drawn with crisp pixels."""

    def __init__(self, side=28, parent=None):
        super().__init__(parent)
        self._img = array_to_qimage(np.zeros((side, side)))
        self.setMinimumSize(84, 84)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.setToolTip("What the network sees: 28 x 28 grey levels, ink shrunk to fit 20 x 20 and "
                        "centred on its centre of mass, as in MNIST.")

    def sizeHint(self):
        return QSize(140, 140)

    def set_image(self, img2d: np.ndarray):
        self._img = array_to_qimage(img2d)
        self.update()

    def paintEvent(self, ev):
        p = QPainter(self)
        side = max(1, min(self.width(), self.height()) - 2)
        r = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        p.drawImage(r, self._img)
        p.setPen(QPen(QColor(58, 63, 74), 1))
        p.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
        p.end()


class OutputBars(pg.PlotWidget):
    """Ten bars, one per digit, with their values written above them."""

    def __init__(self, n=10, parent=None):
        super().__init__(parent=parent)
        self.n = n
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMinimumHeight(110)
        pi = self.getPlotItem()
        pi.setContentsMargins(2, 2, 2, 2)
        pi.hideAxis("left")
        ax = pi.getAxis("bottom")
        ax.setTicks([[(i, str(i)) for i in range(n)]])
        ax.setStyle(tickLength=0)
        f = QFont()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        ax.setTickFont(f)
        self.setXRange(-0.6, n - 0.4, padding=0)
        self.setYRange(0, 1.0, padding=0)
        pi.getViewBox().setDefaultPadding(0)
        self._base = pg.mkBrush(74, 110, 150)
        self._top = pg.mkBrush(colors.HIGHLIGHT)
        self._truth_pen = pg.mkPen(colors.TRUTH, width=2)
        self._no_pen = pg.mkPen(None)
        self._bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.72, brush=self._base,
                                     pen=pg.mkPen(None))
        self.addItem(self._bars)
        self._texts = []
        for i in range(n):
            t = pg.TextItem("", color=colors.FOREGROUND, anchor=(0.5, 1.0))
            t.setPos(i, 0.02)
            self.addItem(t)
            self._texts.append(t)
        self._truth = pg.TextItem("true", color=colors.TRUTH, anchor=(0.5, 0.0))
        self._truth.setVisible(False)
        self.addItem(self._truth)
        self.values = np.zeros(n)
        self._label = -1
        self._shown = [""] * n

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        if any(getattr(self, "_shown", ())):  # the value labels' placement depends on the height in pixels
            self.set_values(self.values, self._label)

    def set_values(self, values: np.ndarray | None, label: int = -1):
        """Show ``values`` (shape ``(n,)``; None empties the bars); outline the true ``label``."""
        if values is None:
            values = np.zeros(self.n)
            texts = [""] * self.n
        else:
            texts = [f"{v:.2f}" for v in values]
        values = np.asarray(values, dtype=np.float64)
        self.values = values
        self._label = label
        self._shown = texts
        top = int(values.argmax()) if values.any() else -1
        brushes = [self._top if i == top else self._base for i in range(self.n)]
        pens = [self._truth_pen if i == label else self._no_pen for i in range(self.n)]
        self._bars.setOpts(height=np.maximum(values, 0.004), brushes=brushes, pens=pens)
        # A value sits just above its bar; for a tall bar the label goes inside, so it never clips.
        # The view's height in pixels turns the text height into data units.
        h_px = max(self.getPlotItem().getViewBox().height(), 1.0)
        text_h = 20.0 / h_px
        for i, (t, v, s) in enumerate(zip(self._texts, values, texts)):
            v = min(max(float(v), 0.0), 1.0)
            t.setText(s)
            inside = v + text_h > 0.97
            t.setAnchor((0.5, 0.0) if inside else (0.5, 1.0))
            t.setColor(colors.BACKGROUND if inside and i == top else
                       colors.HIGHLIGHT if i == top else colors.FOREGROUND)
            t.setPos(i, v - 0.01 if inside else v + 0.01)
        if 0 <= label < self.n:
            v = min(max(float(values[label]), 0.0), 1.0)
            inside = v + 2 * text_h > 0.97
            self._truth.setAnchor((0.5, 0.0) if inside else (0.5, 1.0))
            self._truth.setPos(label, (v - text_h) if inside else (v + text_h + 0.01))
            self._truth.setColor(colors.BACKGROUND if inside and label == top else colors.TRUTH)
        self._truth.setVisible(bool(0 <= label < self.n and values.any()))


def _button(text, tip, slot, shortcut=None, parent=None):
    b = QPushButton(text, parent)
    b.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.NativeText)})" if shortcut else tip)
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

        self.pixels = PixelView(parent=self)
        sees = QLabel("What the network sees")
        sees.setStyleSheet(f"color: {colors.MUTED};")
        sees.setAlignment(Qt.AlignCenter)

        self.answer_label = QLabel("–")
        self.answer_label.setAlignment(Qt.AlignCenter)
        self.answer_label.setStyleSheet(text_style(colors.HIGHLIGHT, 46, bold=True))
        self.answer_label.setToolTip("The network's answer: the digit whose output neuron is brightest")
        self.confidence_label = QLabel("")
        self.confidence_label.setAlignment(Qt.AlignCenter)
        self.confidence_label.setStyleSheet(text_style(colors.FOREGROUND, 15))
        self.truth_label = QLabel("")
        self.truth_label.setAlignment(Qt.AlignCenter)
        self.truth_label.setWordWrap(True)

        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(sees)
        right.addWidget(self.pixels, 1)
        right.addSpacing(6)
        right.addWidget(self.answer_label)
        right.addWidget(self.confidence_label)
        right.addWidget(self.truth_label)
        right.addStretch(1)

        self.source_label = QLabel("")
        self.source_label.setStyleSheet(f"color: {colors.FOREGROUND};")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {ERROR};")
        self.message_label.hide()

        B = lambda *a: _button(*a, parent=self)  # noqa: E731
        self.clear_button = B("Clear", "Erase the drawing", self.clear, "C")
        self.undo_button = B("Undo", "Undo the last stroke", self.undo, "Ctrl+Z")
        self.uniform_button = B("Uniform noise", "A new image of uniform random pixels, as in the lesson",
                                lambda: self.show_noise("uniform"), "N")
        self.gaussian_button = B("Gaussian noise", "A new image of Gaussian noise: mean 0.5, sd 0.25, clipped "
                                 "to [0, 1]", lambda: self.show_noise("gaussian"), "G")
        self.blank_button = B("Blank", "An empty black image", lambda: self.show_noise("blank"), "B")
        self.prev_button = B("◀", "Previous test digit", self.previous_test_digit, "[")
        self.next_button = B("▶", "Next test digit", self.next_test_digit, "]")
        self.random_button = B("Random", "A random test digit", self.random_test_digit, "R")
        self.mistake_button = B("Next mistake", "Jump to the next test digit the network gets wrong",
                                self.next_mistake, "M")
        self.open_button = B("Open image…", "Run a PNG or JPEG picture of a digit through the same "
                             "preparation (dark ink on light paper is inverted); or drop a file here",
                             self.open_image_dialog, "O")
        self.follow_button = B("Follow training", "Let the network diagram show the examples being trained on "
                               "again", self.follow_training, "F")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(36)

        def row(caption, *widgets):
            h = QHBoxLayout()
            h.setSpacing(4)
            lab = QLabel(caption)
            lab.setStyleSheet(f"color: {colors.MUTED};")
            lab.setFixedWidth(64)
            h.addWidget(lab)
            for w in widgets:
                h.addWidget(w)
            h.addStretch(1)
            return h

        controls = QVBoxLayout()
        controls.setSpacing(3)
        controls.addLayout(row("Draw", self.clear_button, self.undo_button, self.open_button))
        controls.addLayout(row("Noise", self.uniform_button, self.gaussian_button, self.blank_button))
        controls.addLayout(row("Test set", self.prev_button, self.next_button, self.random_button,
                               self.mistake_button))
        controls.addLayout(row("", self.follow_button))

        self.bars = OutputBars(parent=self)
        self.bars_title = QLabel("")
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

        for keys, slot in (("C", self.clear), ("Ctrl+Z", self.undo), ("N", lambda: self.show_noise("uniform")),
                           ("G", lambda: self.show_noise("gaussian")), ("B", lambda: self.show_noise("blank")),
                           ("[", self.previous_test_digit), ("]", self.next_test_digit),
                           ("R", self.random_test_digit), ("M", self.next_mistake),
                           ("O", self.open_image_dialog), ("F", self.follow_training)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
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
        if ds is None:
            self._test_X = self._test_labels = None
        else:
            self._test_X = ds.images_as("test", np.float32)
            self._test_labels = np.asarray(ds.test_labels, np.intp)
        self._pred_cache = None
        self.test_index = -1
        self._update_enabled()

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

    def _set_input(self, x, label, source, emit=True):
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
        return ("Raw sigmoid activations of the ten output neurons. Each lies between 0 and 1 on its own: "
                f"they are not probabilities and need not sum to 1 (here they sum to {out.sum():.2f}).")

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
        if s == TRAINING:
            text = "Following training: the example being trained on" + (
                f" (label {self.label})" if self.label >= 0 else "")
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
        self.source_label.setText(text)

    def _update_enabled(self):
        has_test = self._test_X is not None
        for b in (self.prev_button, self.next_button, self.random_button):
            b.setEnabled(has_test)
        self.mistake_button.setEnabled(has_test and self.net is not None)

    def _say(self, text: str):
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
