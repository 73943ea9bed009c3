"""Small shared pieces of the experiments tabs: plot styling, run colours, digit thumbnails, presets.

Imports: NumPy, PySide6, pyqtgraph, digitviz.gui.colors and digitviz.core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel

from digitviz.core.training import PRESETS, TrainConfig

from ..colors import FOREGROUND, MUTED, NEGATIVE, POSITIVE  # noqa: F401 (re-exported for the tabs)

# one colour per run or seed; the first two are the true-labels / shuffled-labels pair of run 1
RUN_COLORS = ("#4aa3ff", "#ff9a3c", "#7ee2a8", "#d68cff", "#ffe08a", "#ff6b8b", "#6fe0e0", "#b0b8c8")
CURRENT = "current settings"
SIZES = (60_000, 10_000, 2_000, 500)


def run_color(i: int) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)]


def style_plot(plot: pg.PlotItem, title: str = "", left: str = "", bottom: str = ""):
    """Title and axis labels in the panel's muted style, a faint grid, no mouse menu clutter."""
    if title:
        plot.setTitle(title, color=FOREGROUND, size="10pt")
    if left:
        plot.setLabel("left", left, color=MUTED)
    if bottom:
        plot.setLabel("bottom", bottom, color=MUTED)
    plot.showGrid(x=True, y=True, alpha=0.12)
    plot.setMenuEnabled(False)
    plot.hideButtons()


def dashed(color, width=2.0):
    pen = pg.mkPen(color, width=width, style=Qt.DashLine)
    pen.setCosmetic(True)
    return pen


def solid(color, width=2.0):
    pen = pg.mkPen(color, width=width)
    pen.setCosmetic(True)
    return pen


def chance_line(plot: pg.PlotItem, y=0.1, text: str | None = "chance (10%)"):
    opts = dict(label=text, labelOpts=dict(position=0.92, color=MUTED, anchors=[(1, 1), (1, 1)])) if text else {}
    line = pg.InfiniteLine(pos=y, angle=0, pen=pg.mkPen(MUTED, width=1.5, style=Qt.DotLine), **opts)
    plot.addItem(line, ignoreBounds=True)
    return line


def digit_pixmap(x, size=56) -> QPixmap:
    """A grey-level thumbnail of a 784-pixel image in [0, 1] (ink bright on dark).

    Sizes that are multiples of 28 repeat pixels in NumPy (crisp, and much faster than a smooth
    rescale of many thumbnails).
    """
    a = np.clip(np.asarray(x, np.float32).reshape(28, 28), 0, 1)
    g = (a * 255).astype(np.uint8)
    k = size // 28
    if k > 1:
        g = g.repeat(k, axis=0).repeat(k, axis=1)
    g = np.ascontiguousarray(g)
    n = g.shape[0]
    img = QImage(g.data, n, n, n, QImage.Format_Grayscale8).copy()  # copy: own the pixels
    pm = QPixmap.fromImage(img)
    return pm if n == size else pm.scaled(size, size, Qt.KeepAspectRatio, Qt.SmoothTransformation)


def digit_icon(x, size=56) -> QIcon:
    return QIcon(digit_pixmap(x, size))


def network_combo() -> QComboBox:
    """Which network an experiment trains: the app's current settings or a preset."""
    box = QComboBox()
    box.addItem(CURRENT)
    for name in PRESETS:
        box.addItem(name)
    box.setToolTip("The settings of the networks this experiment trains: the ones in the Settings panel,\n"
                   "or one of the presets")
    return box


def size_combo(default=60_000) -> QComboBox:
    box = QComboBox()
    for n in SIZES:
        box.addItem(f"{n:,} training digits", n)
    box.setCurrentIndex(SIZES.index(default))
    box.setToolTip("How many training examples to use; fewer examples make random labels easier to memorise")
    return box


def chosen_config(box: QComboBox, current: TrainConfig | None) -> tuple[str, TrainConfig]:
    name = box.currentText()
    if name == CURRENT:
        return ("settings", current) if current is not None else ("lesson", PRESETS["lesson"])
    return name, PRESETS[name]


def describe_config(c: TrainConfig) -> str:
    """One line of settings, e.g. ``784-16-16-10 sigmoid, quadratic, lr 1.5, batch 10``."""
    extra = []
    if c.momentum:
        extra.append(f"momentum {c.momentum:g}")
    if c.lr_decay != 1:
        extra.append(f"decay {c.lr_decay:g}")
    if c.l2:
        extra.append(f"L2 {c.l2:g}")
    if c.doubt:
        extra.append(f"doubt {c.doubt:g}")
    return ", ".join(["-".join(map(str, c.sizes)) + f" {c.activation}", c.cost.replace("_", "-"),
                      f"lr {c.lr:g}", f"batch {c.batch_size}", *extra, f"seed {c.seed}"])


def note(text="") -> QLabel:
    """A wrapped, muted explanation line."""
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setStyleSheet(f"color: {MUTED};")
    return lab


def qcolor(c, alpha=255) -> QColor:
    q = QColor(c)
    q.setAlpha(alpha)
    return q
