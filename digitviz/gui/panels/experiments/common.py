"""Small shared pieces of the experiments tabs: plot styling, run colours, digit thumbnails, presets.

Imports: NumPy, PySide6, pyqtgraph, digitviz.gui.colors and digitviz.core.
"""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLayout, QProgressBar, QVBoxLayout, QWidget

from digitviz.core.training import PRESETS, TrainConfig

from ...colors import FOREGROUND, MUTED, NEGATIVE, POSITIVE, run_color  # noqa: F401 (re-exported for the tabs)
from ...fit import fit_plot_text
from ...jobs import JobRunner

CURRENT = "current settings"
SIZES = (60_000, 10_000, 2_000, 500)
# Below this height (a bottom dock tab is ~250 px) a tab lays its parts out side by side and folds its
# explanation into a tooltip; above it (a floated or enlarged dock) it stacks them and shows the text.
SHORT = 420
SHORT_MIN_HEIGHT = 200  # what a tab asks for at least: the short layout fits in it


class DockTab(QWidget):
    """Base of the tabs: a minimum height that the short layout fits in, and no height-for-width.

    The panel sits in a scroll area in its dock. Wrapped labels give a layout height-for-width, and the
    scroll area then asks for the preferred height of everything (a 20-row table, tall plots) and scrolls;
    a tab that is in its tall layout would also ask for that layout's minimum, though the tab switches to
    the short one as soon as it gets less than ``SHORT``.
    """

    def hasHeightForWidth(self):
        return False

    def minimumSizeHint(self):
        s = super().minimumSizeHint()
        return QSize(s.width(), min(s.height(), SHORT_MIN_HEIGHT))

    # background jobs (digitviz.gui.jobs): at most one per tab

    job = None  # the running Job, if any
    jobs = None  # the tab's JobRunner, made on first use

    def start_job(self, work):
        """Run ``work(stop)`` as a job; ``stop()`` turns True when the user stops it (or the app quits).

        Its signals go to this tab's ``_on_progress(items)``, ``_on_done(result, stopped)``,
        ``_on_failed(message)`` and ``_on_job_finished()``, where defined.
        """
        if self.jobs is None:
            self.jobs = JobRunner(self)
        job = self.job = self.jobs.submit(work, channel="tab")
        if job is None:  # the runner is shut down (the window is closing): nothing runs
            return
        # connected after submit: a job delivers nothing before the GUI thread returns to its event loop
        if hasattr(self, "_on_progress"):
            job.progress.connect(self._on_progress)
        if hasattr(self, "_on_done"):
            ref = weakref.ref(job)  # not the job itself: a connection holding its sender is a cycle
            job.done.connect(lambda result, ref=ref: self._on_done(result, ref().stopped))
        if hasattr(self, "_on_failed"):
            job.failed.connect(self._on_failed)
        if hasattr(self, "_on_job_finished"):
            job.finished.connect(self._on_job_finished)

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Cancel this tab's job and wait for its thread (the window is closing). True when it ended."""
        if self.jobs is None:
            return True
        self.jobs.cancel()
        return self.jobs.wait(timeout)


class TrainingTab(DockTab):
    """A tab that trains networks of its own from the dataset and the app's current settings."""

    data = None  # the Dataset, or None
    current_config = None  # the app's TrainConfig, from the latest snapshot

    def set_dataset(self, ds):
        self.data = ds
        self._update_buttons()

    def on_snapshot(self, snap):
        self.current_config = snap.config

    @property
    def running(self) -> bool:
        return self.job is not None

    def _update_buttons(self):
        """Enable or disable the tab's buttons (the subclass knows which)."""


def job_progress() -> tuple[QProgressBar, QLabel]:
    """A slim progress bar (0-1000, no text) and a wrapped status line, for a tab's background job."""
    bar = QProgressBar()
    bar.setRange(0, 1000)
    bar.setTextVisible(False)
    bar.setMaximumHeight(8)
    status = QLabel("")
    status.setWordWrap(True)
    return bar, status


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
    shrinkable_title(plot)
    fit_plot_text(plot)  # the title and axis labels shrink, then elide, in a small plot


def shrinkable_title(plot: pg.PlotItem):
    """Let a plot be narrower than its title: the title is then cut at the plot's edges, but the plot
    stays whole (pyqtgraph makes a title's width the plot's minimum, and a narrow plot then spills out
    of its view)."""
    lab = plot.titleLabel

    def update_min():
        r = lab.itemRect()
        lab.setMinimumWidth(0)
        lab.setMinimumHeight(r.height())
        lab._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, r.height()),
            Qt.SizeHint.PreferredSize: (r.width(), r.height()),
            Qt.SizeHint.MaximumSize: (-1, -1),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        lab.updateGeometry()

    lab.updateMin = update_min
    update_min()


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
    box.setToolTip(
        "The settings of the networks this experiment trains: the ones in the Settings panel,\nor one of the presets"
    )
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
    return ", ".join(
        [
            "-".join(map(str, c.sizes)) + f" {c.activation}",
            c.cost.replace("_", "-"),
            f"lr {c.lr:g}",
            f"batch {c.batch_size}",
            *extra,
            f"seed {c.seed}",
        ]
    )


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


def column(*items, width=None, stretch=True) -> QWidget:
    """A compact vertical column of widgets and layouts (e.g. a tab's controls at its left)."""
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    for it in items:
        if isinstance(it, QLayout):
            lay.addLayout(it)
        else:
            lay.addWidget(it)
    if stretch:
        lay.addStretch(1)
    if width:
        w.setFixedWidth(width)
    return w


def row(*items, stretch_last=False) -> QHBoxLayout:
    """Widgets side by side with no margins."""
    lay = QHBoxLayout()
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    for i, it in enumerate(items):
        lay.addWidget(it, 1 if stretch_last and i == len(items) - 1 else 0)
    return lay


class FoldingNote:
    """A tab's explanation: a wrapped muted line at the bottom when the tab is tall, else the tooltip of a
    short "What to look for" label, so a wide-and-short tab keeps its room for the plots."""

    def __init__(self, text: str):
        self.text = text
        self.label = note(text)
        self.info = QLabel("<u>What to look for?</u>")
        self.info.setStyleSheet(f"color: {MUTED};")
        self.info.setToolTip(f"<qt>{text}</qt>")  # rich text: Qt wraps it
        self.info.setCursor(Qt.WhatsThisCursor)
        self.fit(0)

    def fit(self, height: int):
        tall = height >= SHORT
        self.label.setVisible(tall)
        self.info.setVisible(not tall)
