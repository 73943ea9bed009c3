"""Settings panel: presets, the architecture, and the live knobs of gradient descent.

The panel only edits a :class:`~digitviz.core.training.TrainConfig`; it knows nothing about threads.
Edits that keep the weights (learning rate, its decay, mini-batch size, momentum, L2, doubt) are
emitted as ``live_changed(dict)`` and applied at once. Edits that need new weights (layer sizes,
activation, cost, seed, random labels, a preset) are emitted as ``reset_requested(TrainConfig)``;
the main window asks the user and either resets or calls :meth:`set_config` to undo the edit.

Imports: PySide6 widgets and :mod:`digitviz.core`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from digitviz.core.network import ACTIVATIONS, COSTS, MAX_PARAMS, Layout
from digitviz.core.training import PRESET_BLURBS, PRESETS, TrainConfig, format_lr, preset_of

MAX_HIDDEN = 4096
ACTIVATION_NAMES = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "tanh"}
COST_NAMES = {"quadratic": "Quadratic (the lesson's)", "cross_entropy": "Cross-entropy (softmax)"}
LIVE_KEYS = ("lr", "lr_decay", "batch_size", "momentum", "l2", "doubt")


def parse_hidden(text: str) -> tuple | None:
    """``"16 16"`` -> ``(16, 16)``; ``""`` -> ``()`` (no hidden layer); None when invalid."""
    parts = re.split(r"[\s,x-]+", text.strip())
    parts = [p for p in parts if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        return None
    if len(sizes) > 6 or any(not (1 <= s <= MAX_HIDDEN) for s in sizes):
        return None
    if Layout((784, *sizes, 10)).size > MAX_PARAMS:  # too big to train, save and load again
        return None
    return sizes


class SettingsPanel(QWidget):
    """Edits the training settings.

    Signals
    -------
    live_changed(dict)
        Settings that apply without new weights, e.g. ``{"lr": 0.5}``.
    reset_requested(TrainConfig)
        A complete new config that needs new random weights.
    """

    live_changed = Signal(object)
    reset_requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("SettingsPanel")
        self._config = PRESETS["lesson"]
        self._updating = False
        self._generation = None
        self._epoch = 0  # epochs the worker has finished: the decay applied so far

        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name.capitalize(), name)
        self.preset.addItem("Custom", "")
        self.preset.setToolTip("Start from a known-good set of settings (needs new random weights)")
        self.blurb = QLabel()
        self.blurb.setObjectName("blurb")
        self.blurb.setWordWrap(True)

        self.hidden = QLineEdit()
        self.hidden.setValidator(QRegularExpressionValidator(QRegularExpression(r"^[\d\s,]*$"), self))
        self.hidden.setPlaceholderText("e.g. 16 16")
        self.hidden.setToolTip(
            "Neurons in each hidden layer, separated by spaces (the lesson: 16 16).\n"
            "Empty: no hidden layer. Press Enter to apply; needs new random weights."
        )
        self.activation = QComboBox()
        for a in ACTIVATIONS:
            self.activation.addItem(ACTIVATION_NAMES.get(a, a), a)
        self.activation.setToolTip("How a hidden neuron squashes its weighted sum W a + b")
        self.cost = QComboBox()
        for c in COSTS:
            self.cost.addItem(COST_NAMES.get(c, c), c)
        self.cost.setToolTip(
            "Quadratic: sum of squared differences from the desired output (the lesson's).\n"
            "Cross-entropy: softmax outputs, -log of the right answer's probability."
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seeds the random weights, the order of the examples and the noise")
        self.random_labels = QCheckBox("Random labels")
        self.random_labels.setToolTip(
            "Shuffle the training labels: the network can still memorise them,\n"
            "but the test accuracy stays at chance (~10%)"
        )

        self.lr = _dspin(0.0001, 1000.0, 4, 0.1, "Learning rate η: how far each step moves downhill (applies at once)")
        self.lr.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
        self.effective_lr = QLabel()
        self.effective_lr.setObjectName("effective_lr")
        self.effective_lr.setWordWrap(True)
        self.effective_lr.setToolTip(
            "The rate the next step uses: the learning rate times the decay\nonce for every finished epoch"
        )
        self.lr_decay = _dspin(0.01, 1.0, 3, 0.05, "The learning rate is multiplied by this after every epoch")
        self.batch = QSpinBox()
        self.batch.setRange(1, 10000)
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip("Examples averaged in each step's gradient (the lesson's mini-batch)")
        self.momentum = _dspin(0.0, 0.99, 2, 0.05, "Momentum μ: each step keeps this share of the previous step")
        self.l2 = _dspin(0.0, 1.0, 5, 0.0001, "L2 penalty λ: pulls every weight a little towards zero each step")
        self.doubt = QSpinBox()
        self.doubt.setRange(0, 50)
        self.doubt.setSuffix(" %")
        self.doubt.setKeyboardTracking(False)
        self.doubt.setToolTip(
            "Teach it to doubt: this share of each mini-batch is random noise\n"
            'whose desired answer is "no digit" (all outputs dark)'
        )

        self.shift = QSpinBox()
        self.shift.setRange(0, 8)
        self.shift.setPrefix("± ")
        self.shift.setSuffix(" px")
        self.shift.setKeyboardTracking(False)
        self.shift.setToolTip(
            "Train on moved digits: each training image is shifted by a random whole number\n"
            "of pixels, up to this many, left/right and up/down (0: the centred digits)"
        )
        self.rotate = QSpinBox()
        self.rotate.setRange(0, 45)
        self.rotate.setPrefix("± ")
        self.rotate.setSuffix(" °")
        self.rotate.setKeyboardTracking(False)
        self.rotate.setToolTip("... and rotated by a random angle of up to this many degrees")

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)  # a narrow dock puts a field under its label
        form.addRow("Preset", self.preset)
        form.addRow(self.blurb)
        form.addRow(_heading("Network  (changing these resets)"))
        form.addRow("Hidden layers", self.hidden)
        form.addRow("Activation", self.activation)
        form.addRow("Cost", self.cost)
        form.addRow("Seed", self.seed)
        form.addRow(self.random_labels)  # the whole row: its text never squeezed into the field column
        form.addRow(_heading("Gradient descent  (applies live)"))
        form.addRow("Learning rate", self.lr)
        form.addRow("", self.effective_lr)  # right under the field: legible however narrow the dock
        form.addRow("Rate decay / epoch", self.lr_decay)
        form.addRow("Mini-batch", self.batch)
        form.addRow("Momentum", self.momentum)
        form.addRow("L2", self.l2)
        form.addRow("Teach it to doubt", self.doubt)
        form.addRow("Moved digits: shift", self.shift)
        form.addRow("Moved digits: rotate", self.rotate)

        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scroll)

        self.set_config(self._config)
        self.preset.activated.connect(self._on_preset)
        self.hidden.editingFinished.connect(self._on_arch)
        self.activation.activated.connect(self._on_arch)
        self.cost.activated.connect(self._on_arch)
        self.seed.editingFinished.connect(self._on_arch)
        self.random_labels.toggled.connect(self._on_arch)
        for w in (self.lr, self.lr_decay, self.batch, self.momentum, self.l2, self.doubt, self.shift, self.rotate):
            w.valueChanged.connect(self._on_live)

    # the contract

    def on_snapshot(self, snap):
        """Follow the worker's config after a reset or a loaded network (a new generation).

        Between resets the panel is the source of truth: a snapshot published before the worker
        saw the user's latest edit must not undo it.
        """
        if snap.generation != self._generation:
            self._generation = snap.generation
            if snap.config != self._config:
                self.set_config(snap.config)
        if snap.epoch != self._epoch:
            self._epoch = snap.epoch
            self._show_effective_lr()

    def _show_effective_lr(self):
        """Whenever decay is on, the rate in use now (``lr_at(epochs finished)``) beside the field."""
        c = self._config
        on = c.lr_decay != 1
        if on:
            n = self._epoch
            self.effective_lr.setText(f"now {format_lr(c.lr_at(n))} (after {n} epoch{'s' * (n != 1)} of decay)")
        self.effective_lr.setVisible(on)

    def set_dataset(self, ds):
        pass

    # state

    @property
    def config(self) -> TrainConfig:
        return self._config

    def set_config(self, config: TrainConfig):
        """Show ``config`` without emitting anything."""
        self._config = config
        self._updating = True
        try:
            name = preset_of(config)
            self.preset.setCurrentIndex(self.preset.findData(name))
            self.blurb.setText(PRESET_BLURBS.get(name, "Your own settings."))
            self.hidden.setText(" ".join(str(s) for s in config.sizes[1:-1]))
            self.activation.setCurrentIndex(self.activation.findData(config.activation))
            self.cost.setCurrentIndex(self.cost.findData(config.cost))
            self.seed.setValue(config.seed)
            self.random_labels.setChecked(config.random_labels)
            self.lr.setValue(config.lr)
            self.lr_decay.setValue(config.lr_decay)
            self.batch.setValue(config.batch_size)
            self.momentum.setValue(config.momentum)
            self.l2.setValue(config.l2)
            self.doubt.setValue(round(config.doubt * 100))
            self.shift.setValue(config.shift_px)
            self.rotate.setValue(round(config.rotate_deg))
        finally:
            self._updating = False
        self._show_effective_lr()

    def _edited(self) -> TrainConfig | None:
        hidden = parse_hidden(self.hidden.text())
        if hidden is None:
            return None
        c = self._config
        return replace(
            c,
            sizes=(c.sizes[0], *hidden, c.sizes[-1]),
            activation=self.activation.currentData(),
            cost=self.cost.currentData(),
            seed=self.seed.value(),
            random_labels=self.random_labels.isChecked(),
        )

    def _on_arch(self, *_):
        if self._updating:
            return
        new = self._edited()
        if new is None:
            self.hidden.setStyleSheet("border-color: #e06c75;")
            self.hidden.setToolTip(
                f"Give 1 to 6 layer sizes between 1 and 4096, e.g. 16 16, at most {MAX_PARAMS:,} parameters in all"
            )
            return
        self.hidden.setStyleSheet("")
        if new != self._config:
            self.reset_requested.emit(new)

    def _on_preset(self, index):
        name = self.preset.itemData(index)
        if self._updating or not name:
            return
        new = PRESETS[name]
        if new != self._config:
            self.reset_requested.emit(new)

    def _on_live(self, *_):
        if self._updating:
            return
        values = dict(
            lr=self.lr.value(),
            lr_decay=self.lr_decay.value(),
            batch_size=self.batch.value(),
            momentum=self.momentum.value(),
            l2=self.l2.value(),
            doubt=self.doubt.value() / 100,
            shift_px=self.shift.value(),
            rotate_deg=float(self.rotate.value()),
        )
        changes = {k: v for k, v in values.items() if getattr(self._config, k) != v}
        if not changes:
            return
        try:
            self._config = replace(self._config, **changes)
        except ValueError:
            return
        name = preset_of(self._config)
        self._updating = True
        self.preset.setCurrentIndex(self.preset.findData(name))
        self.blurb.setText(PRESET_BLURBS.get(name, "Your own settings."))
        self._updating = False
        self._show_effective_lr()
        self.live_changed.emit(changes)


def _dspin(lo, hi, decimals, step, tip):
    w = QDoubleSpinBox()
    w.setRange(lo, hi)
    w.setDecimals(decimals)
    w.setSingleStep(step)
    w.setKeyboardTracking(False)
    w.setToolTip(tip)
    return w


def _heading(text):
    label = QLabel(text)
    label.setObjectName("heading")
    label.setWordWrap(True)
    return label
