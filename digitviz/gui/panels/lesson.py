"""The Lesson panel: a guided tour of the lesson on the user's own run.

Each chapter (:data:`digitviz.core.tour.CHAPTERS`) is a short text whose numbers come from the live
run, and a *Show me* button that plays the chapter's plan through the app driver
(:mod:`digitviz.gui.driver`): reset, step, feed an input, bring a panel to the front. The panel never
touches another panel: everything goes through the driver the main window hands it with
``set_driver``. Next/Back (and PageDown/PageUp anywhere in the window) move through the chapters, a
list jumps to one, and the chapter the user was on is remembered (QSettings ``lesson/chapter``).

The text is refreshed from the latest snapshot (``on_snapshot``) and, while the panel is visible, twice
a second (the input shown can change without a new snapshot). Only the chapter on screen is rendered;
the one costly number (the cost averaged over all training images) is cached per step.

Imports: NumPy, PySide6, :mod:`digitviz.core`, :mod:`digitviz.gui.style`.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import datasets, tour
from digitviz.core.training import PRESET_TARGETS, preset_of

from .. import shortcuts
from ..colors import MUTED
from ..style import style_panel

SETTINGS_KEY = "lesson/chapter"
REFRESH_MS = 500
TEXT_PT, TITLE_PT = 11.0, 14.0
BIG_TEXT_PT, BIG_TITLE_PT = 16.0, 21.0


class LessonPanel(QWidget):
    """The tour: chapter text with live numbers, Show me, Next/Back, a chapter list.

    Signals
    -------
    chapter_changed(int)
        The chapter on screen changed (its index).
    shown(int)
        Show me finished queueing chapter ``i``'s plan (``i``).

    Attributes
    ----------
    index : int
        The chapter on screen.
    driver : AppDriver or None
    facts : Facts or None
        The facts the text on screen was rendered from.
    status : QLabel
        What the last Show me did (or why it stopped).
    """

    chapter_changed = Signal(int)
    shown = Signal(int)
    always_feed = True  # every step's gradient length is recorded, even while the dock is hidden

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("LessonPanel")
        self.index = 0
        self.driver = None
        self.settings = None
        self.facts: tour.Facts | None = None
        self._snap = None
        self._ds = None
        self._train_cost: tuple | None = None  # ((generation, step, id(theta)), cost)
        self._initial: tuple | None = None  # (config, theta at the start)
        self._big = False
        self.lengths = tour.StepLengths()
        self._generation = None
        style_panel(self)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._show_chapter(0, save=False)

    def _build(self):
        self.chapter_list = QComboBox()
        self.chapter_list.setObjectName("chapterList")
        for i, ch in enumerate(tour.CHAPTERS):
            self.chapter_list.addItem(f"{i + 1}. {ch.title}")
        self.chapter_list.setToolTip("Jump to a chapter")
        self.chapter_list.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.chapter_list.setMinimumContentsLength(4)  # a narrow dock (1024 px window) never scrolls sideways
        self.chapter_list.currentIndexChanged.connect(lambda i: i != self.index and self.go(i))
        self.title = QLabel()
        self.title.setObjectName("lessonTitle")
        self.title.setWordWrap(True)
        self.title.setMinimumWidth(120)
        self.text = QLabel()
        self.text.setObjectName("lessonText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextBrowserInteraction)
        self.text.setOpenExternalLinks(True)
        self.text.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.MinimumExpanding)
        # the text scrolls on its own: Show me, Back and Next stay on screen however long the chapter
        # (presentation mode's large text included)
        self.text_scroll = QScrollArea()
        self.text_scroll.setObjectName("lessonTextScroll")
        self.text_scroll.setWidget(self.text)
        self.text_scroll.setWidgetResizable(True)
        self.text_scroll.setFrameShape(QFrame.NoFrame)
        self.text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.text_scroll.setMinimumHeight(60)
        # it takes the height left over, never asks for the text's full height (the dock would then scroll
        # the whole panel, Show me with it)
        self.text_scroll.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)
        self.text_scroll.setStyleSheet("QScrollArea#lessonTextScroll { background: transparent; }")
        self.text_scroll.viewport().setAutoFillBackground(False)
        self.text.setAutoFillBackground(False)
        self.show_button = QPushButton("Show me")
        self.show_button.setObjectName("primary")
        self.show_button.clicked.connect(self.show_me)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("lessonStatus")
        self.status.setWordWrap(True)
        self.back_button = QPushButton("◀")
        self.back_button.setToolTip("Back: the previous chapter (PageUp)")
        self.back_button.clicked.connect(self.back)
        # an arrow: no room taken from the chapter list in a narrow dock (at most its size hint, which
        # follows the font: presentation mode's larger one included)
        self.back_button.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next chapter (PageDown)")
        self.next_button.clicked.connect(self.next)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setAlignment(Qt.AlignCenter)
        self.where.setToolTip("PageDown / PageUp turn the pages from anywhere in the window")

        show_row = QHBoxLayout()
        show_row.addWidget(self.show_button)
        show_row.addWidget(self.state, 1)
        nav = QHBoxLayout()
        nav.setSpacing(4)
        nav.addWidget(self.back_button)
        nav.addWidget(self.chapter_list, 1)
        nav.addWidget(self.next_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)
        lay.addLayout(nav)
        lay.addWidget(self.title)
        lay.addWidget(self.text_scroll, 1)
        lay.addLayout(show_row)
        lay.addWidget(self.status)
        lay.addWidget(self.where)
        self._apply_fonts()

        # window-wide (the window adopts them): PageDown/PageUp turn the pages wherever the focus is
        shortcuts.install(self, "lesson")

    def _apply_fonts(self):
        text_pt, title_pt = (BIG_TEXT_PT, BIG_TITLE_PT) if self._big else (TEXT_PT, TITLE_PT)
        self.title.setStyleSheet(f"font-size: {title_pt}pt; font-weight: bold;")
        self.text.setStyleSheet(f"font-size: {text_pt}pt;")
        small = max(text_pt - 2, 9)
        self.state.setStyleSheet(f"color: {MUTED}; font-size: {small}pt;")
        self.status.setStyleSheet(f"color: {MUTED}; font-size: {small}pt; font-style: italic;")
        self.where.setStyleSheet(f"color: {MUTED}; font-size: {small}pt;")
        self.state.setVisible(not self._big)  # on a projector the button says enough; the text gets the room

    def sizeHint(self):
        return QSize(380, 520)

    # wiring

    def set_driver(self, driver):
        """The app's :class:`~digitviz.gui.driver.AppDriver`; also where the chapter is remembered."""
        self.driver = driver
        window = getattr(driver, "window", None)
        self.settings = getattr(window, "settings", None)
        if self.settings is not None:
            try:
                i = int(self.settings.value(SETTINGS_KEY, 0))
            except (TypeError, ValueError):
                i = 0
            self._show_chapter(min(max(i, 0), len(tour.CHAPTERS) - 1), save=False)

    def set_presentation(self, on: bool):
        """Large text for a projector (the presentation mode calls this)."""
        self._big = bool(on)
        self._apply_fonts()

    # contract

    def on_snapshot(self, snap):
        if snap.generation != self._generation:
            self._generation = snap.generation
            self.lengths.clear()
        if len(snap.new_steps):
            self.lengths.add(snap.new_steps, snap.new_grad_norms, snap.config.lr_at(snap.epoch))
        self._snap = snap
        if self.isVisible():
            self.refresh()

    def set_dataset(self, ds):
        self._ds = ds
        self._train_cost = None
        info = datasets.of(ds) if ds is not None else None  # the tour is MNIST's: say what "digit" means now
        self._data_note = (
            ""
            if info is None or info.digits
            else (
                f'\nThe tour speaks of MNIST\'s digits; {info.title} is loaded: read "digit" as its classes, '
                + ", ".join(info.class_names)
                + "."
            )
        )
        self._show_where()
        self.refresh()

    def _show_where(self):
        self.where.setText(
            f"chapter {self.index + 1} of {len(tour.CHAPTERS)} · PageDown / PageUp" + getattr(self, "_data_note", "")
        )
        self.where.setWordWrap(True)

    def showEvent(self, ev):
        super().showEvent(ev)
        self._timer.start()
        self.refresh()

    def hideEvent(self, ev):
        super().hideEvent(ev)
        self._timer.stop()

    # navigation

    @property
    def chapter(self) -> tour.Chapter:
        return tour.CHAPTERS[self.index]

    def go(self, i: int):
        self._show_chapter(min(max(int(i), 0), len(tour.CHAPTERS) - 1))

    def next(self):
        self.go(self.index + 1)

    def back(self):
        self.go(self.index - 1)

    def _show_chapter(self, i, save=True):
        changed = i != self.index
        self.index = i
        ch = self.chapter
        self.chapter_list.blockSignals(True)
        self.chapter_list.setCurrentIndex(i)
        self.chapter_list.blockSignals(False)
        self.title.setText(ch.title)
        self.text_scroll.verticalScrollBar().setValue(0)  # a new chapter is read from its start
        self.state.setText(f"Show me: {ch.state}")
        self.status.setText("")
        self._show_where()
        self.back_button.setEnabled(i > 0)
        self.next_button.setEnabled(i < len(tour.CHAPTERS) - 1)
        self._rendered = None
        self.refresh()
        if save and self.settings is not None:
            self.settings.setValue(SETTINGS_KEY, i)
        if changed:
            self.chapter_changed.emit(i)

    # the text

    def current_facts(self) -> tour.Facts | None:
        """Facts of the live run (None before the first snapshot)."""
        snap = self._snap if self.driver is None else (self.driver.latest() or self._snap)
        if snap is None:
            return None
        cfg = snap.config
        needs = set(self.chapter.needs)
        ds = self._ds if self.driver is None else (self.driver.dataset() or self._ds)
        shown = self.driver.shown_input() if self.driver is not None else None
        if shown is None and snap.example is not None:
            shown = (snap.example, snap.example_label)
        train = None
        cached = None
        if ds is not None and "train_cost" in needs:
            train = (ds.scaled("train"), np.asarray(ds.train_labels, np.intp))  # floats a chunk at a time
            key = (snap.generation, snap.step, id(snap.theta))
            if self._train_cost is not None and self._train_cost[0] == key:
                cached = self._train_cost[1]
        test = (ds.images_as("test", np.float32), np.asarray(ds.test_labels, np.intp)) if ds is not None else None
        report = None
        last = self.driver.last_step() if self.driver is not None else None
        if last is not None:
            report = last[1:]
        elif snap.step_report is not None:
            report = (snap.step, snap.step_report.cost_before, snap.step_report.cost_after)
        initial = None
        if "weight_change" in needs:
            if self._initial is None or self._initial[0] != cfg:
                self._initial = (cfg, cfg.network().theta)
            initial = self._initial[1]
        preset = preset_of(cfg)
        facts = tour.facts_from(
            cfg,
            snap.theta,
            shown=shown,
            train=train,
            test=test,
            report=report,
            epochs=snap.epochs,
            step_summary=self.lengths.summary(),
            step=snap.step,
            epoch=snap.epoch,
            preset=preset,
            target=PRESET_TARGETS.get(preset),
            initial_theta=initial,
            train_cost_cache=cached,
            wanted=needs,
        )
        if train is not None and facts.train_cost is not None and not math.isnan(facts.train_cost):
            self._train_cost = ((snap.generation, snap.step, id(snap.theta)), facts.train_cost)
        return facts

    def refresh(self):
        """Render the chapter on screen from the live run (only when its text changed)."""
        facts = self.current_facts()
        self.facts = facts
        text = tour.render(self.chapter, facts if facts is not None else tour.Facts())
        if text != getattr(self, "_rendered", None):
            self._rendered = text
            links = tour.PAPERS if self.chapter.id == "further" else ()
            self.text.setText(
                _html(text)
                + "".join(
                    f'<p style="margin-left: 8px">• <a href="{url}" style="color: #7fb7ff">{html.escape(title)}</a></p>'
                    for title, url in links
                )
            )

    @property
    def plain_text(self) -> str:
        """The chapter's text as rendered (plain)."""
        return self._rendered or ""

    # Show me

    def show_me(self) -> bool:
        """Play the chapter's plan through the driver; False if it stopped (e.g. the user kept a trained run)."""
        d = self.driver
        if d is None:
            self.status.setText("Show me needs the main window.")
            return False
        notes = []
        for action in self.chapter.show:
            verb, args = action[0], action[1:]
            if verb == "reset":
                snap = d.latest()
                had_steps = snap is not None and snap.step > 0
                if not d.reset(*args):
                    self.status.setText(
                        "Nothing was reset: your trained network is kept. Save it (Ctrl+S) "
                        "and press Show me again to start fresh."
                    )
                    return False
                if had_steps:
                    notes.append("your previous run is kept in the Learning curves' list of earlier runs")
            elif verb == "step":
                d.step(*args)
            elif verb == "play":
                d.play()
            elif verb == "pause":
                d.pause()
            elif verb == "speed":
                if not (hasattr(d, "set_speed") and d.set_speed(*args)):
                    notes.append("the training speed could not be set: raise it with the Speed slider")
            elif verb == "raise":
                d.raise_panel(*args)
            elif verb == "feed_test_digit":
                if not d.feed_test_digit(*args):
                    notes.append("no test digits: MNIST is not loaded")
            elif verb == "feed_noise":
                d.feed_image(tour.noise_image(args[0]), -1)
            elif verb == "feed_shifted":
                ds = d.dataset()
                if ds is None:
                    notes.append("no test digits: MNIST is not loaded")
                    continue
                i, dx, dy = args
                x = tour.shift_image(ds.images_as("test", np.float32)[i], dx, dy)
                d.feed_image(x, int(ds.test_labels[i]))
            elif verb == "weights_mode":
                d.set_weights_mode(*args)
            elif verb == "select_neuron":
                d.select_neuron(*args)
            elif verb == "hook" and not d.hook(*args):
                notes.append(HOOK_MISSING.get(args[0], f"the {args[0]} view is not in this version yet"))
        self.status.setText(("Done: " + "; ".join(notes) + ".") if notes else "Done.")
        self._rendered = None
        self.refresh()
        self.shown.emit(self.index)
        return True


HOOK_MISSING = {
    "ask_to_draw": 'the "ask it to draw" view is not in this version yet',
    "shift_view": "the view that moves a digit is not in this version yet; the moved digit is in the input panel",
}


def _html(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
