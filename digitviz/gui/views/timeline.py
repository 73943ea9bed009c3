"""The timeline bar under the diagram: a slider over the kept moments of the run, "now" at its right end.

A dumb view: the window tells it how many moments there are (:meth:`set_points`) and what to say
(:meth:`set_text`); it tells the window where the user moved (``moved(index)``; ``index == n`` is
"now") and when "Continue from here" or "Now" is pressed.

Imports: PySide6 only (and :mod:`digitviz.gui.colors`).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from .. import colors


class TimelineBar(QWidget):
    """Slider over ``n`` kept moments plus "now".

    Signals
    -------
    moved(int)
        The user moved to moment ``index`` (``0 .. n``; ``n`` is now: the live network).
    continue_clicked()
        "Continue from here": train on from the moment shown, as a new run.
    """

    moved = Signal(int)
    continue_clicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("timelineBar")
        # one row when there is room; in a narrow window the text and buttons go on a second row, so the
        # bar never holds the diagram (and the docks beside it) wider than the window allows
        rows = QVBoxLayout(self)
        rows.setContentsMargins(4, 0, 4, 2)
        rows.setSpacing(2)
        lay, self._second = QHBoxLayout(), QHBoxLayout()
        for row in (lay, self._second):
            row.setSpacing(6)
            rows.addLayout(row)
        self._first = lay
        self._two_rows = False
        title = QLabel("Going back in time")
        title.setStyleSheet(f"color: {colors.MUTED};")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("timeline")
        self.slider.setFocusPolicy(Qt.NoFocus)  # the arrow keys stay the training keys
        self.slider.setRange(0, 0)
        self.slider.setMinimumWidth(80)
        self.slider.setToolTip(
            "Drag to a past moment of this run: the diagram, the input panel's answer, the "
            "weight images and the landscape's marker show the network as it was then "
            "(training pauses). The right end is now."
        )
        self.slider.valueChanged.connect(self._on_value)
        self.text = QLabel("now")
        self.text.setMinimumWidth(210)
        self.text.setStyleSheet(f"color: {colors.FOREGROUND};")
        self.now_button = QPushButton("Now")
        self.now_button.setToolTip("Back to the live network")
        self.now_button.setFocusPolicy(Qt.TabFocus)
        self.now_button.clicked.connect(self.go_now)
        self.continue_button = QPushButton("Continue from here")
        self.continue_button.setToolTip(
            "Put these weights back into training as a new run (the current run "
            "stays in the learning curves for comparison)"
        )
        self.continue_button.setFocusPolicy(Qt.TabFocus)
        self.continue_button.clicked.connect(self.continue_clicked)
        self.title = title
        for w in (title, self.slider):
            lay.addWidget(w)
        lay.setStretchFactor(self.slider, 1)
        for w in (self.text, self.now_button, self.continue_button):
            lay.addWidget(w)
        self._second.addStretch(1)
        self._quiet = False
        self.set_past(False)

    def _row_widths(self) -> tuple[int, int, int]:
        """(one row, the slider's row, the text's row): the widths each arrangement needs."""
        m = self.layout().contentsMargins()
        pad = m.left() + m.right()
        first = self.title.sizeHint().width() + 6 + self.slider.minimumWidth()
        second = sum(w.sizeHint().width() for w in (self.text, self.now_button, self.continue_button)) + 12
        return first + 6 + second + pad, first + pad, second + pad

    def minimumSizeHint(self) -> QSize:
        """As narrow as the two-row arrangement allows."""
        _one, first, second = self._row_widths()
        return QSize(max(first, second), super().minimumSizeHint().height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._arrange(self.width() < self._row_widths()[0])

    def _arrange(self, two_rows: bool):
        if two_rows == self._two_rows:
            return
        self._two_rows = two_rows
        for i, w in enumerate((self.text, self.now_button, self.continue_button)):
            (self._second if two_rows else self._first).removeWidget(w)
            (self._first if two_rows else self._second).removeWidget(w)
            if two_rows:
                self._second.insertWidget(i, w)
            else:
                self._first.addWidget(w)
        self.updateGeometry()

    @property
    def n_points(self) -> int:
        return self.slider.maximum()

    @property
    def at_now(self) -> bool:
        return self.slider.value() == self.slider.maximum()

    def set_points(self, n: int):
        """``n`` kept moments (the slider has ``n + 1`` positions); at "now", it stays at now."""
        n = max(0, int(n))
        if n == self.slider.maximum():
            return
        was_now = self.at_now
        self._quiet = True
        try:
            self.slider.setMaximum(n)
            if was_now:
                self.slider.setValue(n)
        finally:
            self._quiet = False

    def set_index(self, i: int, emit: bool = True):
        self._quiet = not emit
        try:
            self.slider.setValue(int(i))
        finally:
            self._quiet = False

    def go_now(self):
        self.set_index(self.slider.maximum())
        self.moved.emit(self.slider.maximum())  # also when already there (a state to leave)

    def set_text(self, text: str):
        self.text.setText(text)
        self._arrange(self.width() < self._row_widths()[0])  # a longer text may need the second row

    def set_past(self, past: bool):
        self.now_button.setEnabled(past)
        self.continue_button.setEnabled(past)

    def state(self) -> tuple:
        """What the bar shows (position, text, past or not), for :meth:`set_state` to put back."""
        return self.slider.value(), self.text.text(), self.continue_button.isEnabled()

    def set_state(self, state: tuple):
        """Show ``state`` (from :meth:`state`) again, without emitting ``moved``."""
        value, text, past = state
        self.set_index(value, emit=False)
        self.set_text(text)
        self.set_past(past)

    def _on_value(self, v):
        if not self._quiet:
            self.moved.emit(int(v))
