"""The drawing canvas: a square surface over a NumPy array, with a soft round brush and per-stroke undo.

Consecutive mouse positions are joined by soft capsules (:func:`digitviz.core.inputs.draw_segment`),
so a fast pen leaves a smooth line. Only the region a stroke touched is repainted.

Imports: NumPy, PySide6, :func:`digitviz.core.inputs.draw_segment` and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from digitviz.core.inputs import draw_segment

from .. import colors
from .images import array_to_qimage, color_table, to_u8

CANVAS_SIZE = 280  # resolution of the drawing array; the widget scales it to fit
BRUSH_RADIUS = 10.5  # canvas pixels: ~MNIST's stroke width once a digit is shrunk to 20 px
BRUSH_SOFTNESS = 7.0
UNDO_DEPTH = 40


class DrawingCanvas(QWidget):
    """A square drawing surface backed by a NumPy array, with a soft round brush and per-stroke undo.

    Signals
    -------
    stroke_started()
        The pen went down (before anything is painted).
    changed()
        The drawing changed (a pen movement painted, or clear/undo).
    drag_moved(int, int)
        Shift+drag (nothing is painted): ``(0, 0)`` when the button goes down, then the whole pixels
        of the 28x28 image the pointer has moved right and down since (emitted when that changes).

    Attributes
    ----------
    canvas : ndarray, shape (size, size), float32 in [0, 1]
        The drawing, light ink on black; index [row, col].
    """

    stroke_started = Signal()
    changed = Signal()
    drag_moved = Signal(int, int)

    def __init__(self, size=CANVAS_SIZE, radius=BRUSH_RADIUS, softness=BRUSH_SOFTNESS, parent=None):
        super().__init__(parent)
        self.size_px = size
        self.radius = radius
        self.softness = softness
        self.canvas = np.zeros((size, size), np.float32)
        self._undo: list[np.ndarray] = []
        self._last: tuple | None = None  # last pen position in canvas pixels while drawing
        self._drag: tuple | None = None  # Shift+drag: (start x, y in canvas pixels, last whole-pixel move)
        self._hover: QPointF | None = None
        self._preview: QImage | None = None  # an image shown instead of the drawing
        self._preview_caption = ""
        # The drawing as 8-bit colour indices, shared with the QImage painted (updated per stroke region)
        self._u8 = np.zeros((size, size), np.uint8)
        self._image = QImage(self._u8.data, size, size, size, QImage.Format_Indexed8)
        self._image.setColorTable(color_table())
        self.hint = "Draw a digit here"
        self._hint_painted = False  # the last paint drew the hint (a stroke then repaints everything)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.CrossCursor)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setToolTip(
            "Draw with the mouse (or a pen). The drawing is shrunk and centred as MNIST's "
            "digits were before the network sees it. Shift+drag moves the image by whole pixels."
        )

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
            self._u8[...] = to_u8(self.canvas)
            self.update()
        else:
            rows, cols = region
            self._u8[rows, cols] = to_u8(self.canvas[rows, cols])
            if self._hint_painted:
                self.update()  # the first stroke on an empty canvas: the hint must go everywhere, not just here
            else:
                self.update(self._widget_rect(rows, cols))  # repaint only what the pen touched
        self.changed.emit()

    def _widget_rect(self, rows: slice, cols: slice) -> QRect:
        r = self.target_rect()
        k = r.width() / self.size_px
        return (
            QRectF(
                r.x() + cols.start * k,
                r.y() + rows.start * k,
                (cols.stop - cols.start) * k,
                (rows.stop - rows.start) * k,
            )
            .toAlignedRect()
            .adjusted(-2, -2, 2, 2)
        )

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
        if ev.modifiers() & Qt.ShiftModifier:  # move the image shown, do not draw
            x, y = self.to_canvas(ev.position())
            self._drag = (x, y, (0, 0))
            self.drag_moved.emit(0, 0)  # a drag begins
            return
        self.stroke_started.emit()
        self._preview = None
        self._push_undo()
        p = self.to_canvas(ev.position())
        self._last = p
        self._touch(draw_segment(self.canvas, p, p, self.radius, self.softness))

    def mouseMoveEvent(self, ev):
        old, self._hover = self._hover, ev.position()
        self.update(self._ring_rect(old).united(self._ring_rect(self._hover)))  # the brush outline
        if self._drag is not None:
            x, y = self.to_canvas(ev.position())
            k = 28 / self.size_px  # the network's pixels per canvas pixel
            d = (int(round((x - self._drag[0]) * k)), int(round((y - self._drag[1]) * k)))
            if d != self._drag[2]:
                self._drag = (self._drag[0], self._drag[1], d)
                self.drag_moved.emit(*d)
            return
        if self._last is None:
            return
        p = self.to_canvas(ev.position())
        region = draw_segment(self.canvas, self._last, p, self.radius, self.softness)
        self._last = p
        if region is not None:
            self._touch(region)

    def mouseReleaseEvent(self, ev):
        if ev.button() == Qt.LeftButton:
            self._drag = None
        if ev.button() == Qt.LeftButton and self._last is not None:
            self._last = None
            self.changed.emit()

    def leaveEvent(self, ev):
        self._hover = None
        self.update()

    def paintEvent(self, ev):
        p = QPainter(self)
        r = self.target_rect()
        self._hint_painted = False
        if self._preview is not None:
            p.drawImage(r, self._preview)  # nearest: the 28x28 pixels stay visible
            self._caption(p, r, self._preview_caption)
        else:
            p.setRenderHint(QPainter.SmoothPixmapTransform, True)
            p.drawImage(r, self._image)  # clipped by Qt to the region being repainted
            self._hint_painted = bool(self.hint and self.is_empty)
            if self._hint_painted:
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
