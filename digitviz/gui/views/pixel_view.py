"""The 28x28 image the network sees, drawn with crisp pixels.

Imports: NumPy and PySide6.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .images import array_to_qimage


class PixelView(QWidget):
    """The 28x28 image the network sees, drawn with crisp pixels."""

    def __init__(self, side=28, parent=None):
        super().__init__(parent)
        self._img = array_to_qimage(np.zeros((side, side)))
        self.setMinimumSize(84, 84)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.setToolTip(
            "What the network sees: 28 x 28 grey levels, ink shrunk to fit 20 x 20 and "
            "centred on its centre of mass, as in MNIST."
        )

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
