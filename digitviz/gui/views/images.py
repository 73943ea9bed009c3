"""Arrays to QImages and back: the activation colour map as an indexed palette, grey levels of any picture.

Imports: NumPy, PySide6 and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from .. import colors


def _grey_table():
    lut = colors.ACTIVATION_CMAP.getLookupTable(0.0, 1.0, 256, alpha=False)
    return [QColor(int(r), int(g), int(b)).rgb() for r, g, b in lut]


_TABLE = None


def color_table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _grey_table()
    return _TABLE


def to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)


def array_to_qimage(a: np.ndarray) -> QImage:
    """An indexed QImage (the activation colour map) of a 2-D array in [0, 1]; owns its pixels."""
    u8 = np.ascontiguousarray(to_u8(a))
    h, w = u8.shape
    img = QImage(u8.data, w, h, w, QImage.Format_Indexed8)
    img.setColorTable(color_table())
    return img.copy()  # detach from the NumPy buffer


def qimage_to_gray(img: QImage) -> np.ndarray:
    """Grey levels in [0, 1] (1 = white) of any QImage, shape ``(H, W)``, float32.

    Transparent pixels are laid over a ground that contrasts with the opaque ones (white under
    dark ink, black under light ink), so a transparent PNG of a digit keeps its strokes.
    """
    rgba = img.convertToFormat(QImage.Format_RGBA8888)
    h, w = rgba.height(), rgba.width()
    buf = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.sizeInBytes())
    px = buf.reshape(h, rgba.bytesPerLine())[:, : w * 4].reshape(h, w, 4).astype(np.float32) / 255.0
    lum = px[..., 0] * 0.299 + px[..., 1] * 0.587 + px[..., 2] * 0.114
    alpha = px[..., 3]
    if alpha.min() < 0.98:
        opaque = alpha > 0.5
        ground = 1.0 if (not opaque.any() or float(lum[opaque].mean()) < 0.5) else 0.0
        lum = lum * alpha + ground * (1.0 - alpha)
    return lum
