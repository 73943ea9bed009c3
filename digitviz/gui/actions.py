"""The main window's actions, toolbar, menus, status bar and the F1 list of shortcuts.

Keys come from the one table :data:`digitviz.gui.shortcuts.SHORTCUTS`: an action here names its
``(owner, slot)`` entry, never a key. :class:`ActionsMixin` is part of
:class:`~digitviz.gui.main_window.MainWindow`; it uses the window's ``controller``, ``settings``,
``docks`` and the slots the table names.

Imports: PySide6 and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitviz import __version__
from digitviz.core import datasets

from . import shortcuts
from .style import icon

# Speed control: batches per second at each slider position; None = as fast as it goes.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, None)
# A first launch starts where the diagram visibly changes batch by batch (Epoch ignores the slider).
DEFAULT_SPEED = SPEEDS.index(10)


def speed_text(bps) -> str:
    return "as fast as it goes" if bps is None else f"{bps:g} batch{'es' if bps != 1 else ''}/s"


def shortcut_rows() -> list[tuple[str, str]]:
    """``(what it does, keys)`` for every shortcut, in the table's order: what F1 shows."""
    return [(s.text, shortcuts.key_text(s.keys)) for s in shortcuts.SHORTCUTS]


class _ResizeWatcher(QObject):
    """Calls ``callback`` after a watched widget is resized."""

    def __init__(self, parent, callback):
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Resize:
            self.callback()
        return False


class ActionsMixin:
    """Actions (with the table's keys), toolbar, menus, status bar, F1 and About, for the main window."""

    def _action(self, text, slot: str, tip="", icon_name=None, checkable=False) -> QAction:
        """An action on the window calling the method ``slot`` (looked up when triggered), with the keys
        the shortcut table gives ``("window", slot)``, if any."""
        getattr(self, slot)  # loud: the method must exist
        a = QAction(text, self)
        if icon_name:
            a.setIcon(icon(icon_name))
        keys = shortcuts.keys_for("window", slot, default=())
        if keys:
            a.setShortcuts([QKeySequence(s) for s in keys])
            a.setShortcutContext(Qt.WindowShortcut)
        a.setToolTip(f"{tip or text} ({shortcuts.key_text(keys)})" if keys else (tip or text))
        a.setStatusTip(tip or text)
        a.setData(slot)
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(lambda on: getattr(self, slot)(on))
        else:
            a.triggered.connect(lambda _checked=False: getattr(self, slot)())
        self.addAction(a)  # shortcuts work even when the toolbar is hidden
        return a

    def _build_actions(self):
        self.act_play = self._action("Play", "toggle_play", "Train continuously; press again to pause", "play")
        self.act_step = self._action("Step", "step_once", "One step of gradient descent on one mini-batch", "step")
        self.act_epoch = self._action(
            "Epoch", "step_epoch", "Train to the end of this pass over the 60,000 images, then test", "epoch"
        )
        self.act_reset = self._action(
            "Reset", "reset_network", "New random weights from the seed; training starts over", "reset"
        )
        self.act_open = self._action(
            "Open Data Folder…", "open_data_folder", "Load MNIST from a folder holding its four files", "open"
        )
        self.act_download = self._action(
            "Download MNIST…", "download_mnist", "Download MNIST (about 11 MB) into the cache folder", "download"
        )
        # the other IDX datasets (core.datasets): one action each, in File ▸ Download
        self.act_download_fashion = self._action(
            "Download Fashion-MNIST…",
            "download_fashion",
            "Download Fashion-MNIST (clothes, about 30 MB) into its cache folder",
        )
        self.act_download_kmnist = self._action(
            "Download Kuzushiji-MNIST…",
            "download_kmnist",
            "Download KMNIST (ten hiragana, about 21 MB) into its cache folder",
        )
        self.act_save = self._action(
            "Save Network…", "save_network_dialog", "Save the weights and settings to a .npz file"
        )
        self.act_load = self._action("Load Network…", "load_network_dialog", "Continue from a saved network")
        self.act_export = self._action(
            "Export Diagram as PNG…", "export_png_dialog", "Save the network diagram as an image"
        )
        self.act_quit = self._action("Quit", "close", "Close digitviz")
        self.act_gradient = self._action(
            "Colour Connections by −Gradient",
            "set_gradient_edges",
            "Colour connections by the last single step's nudges (minus the gradient) instead of the weights",
            checkable=True,
        )
        self.act_wants = self._action(
            "What Each Neuron Wants",
            "set_wants_mode",
            "Backpropagation on the diagram: how the cost of the example shown wants "
            "each neuron's activation to change (−∂C/∂a) and each connection (−∂C/∂w)",
            checkable=True,
        )
        self.act_reset_layout = self._action("Reset Layout", "reset_layout", "Put every panel back where it started")
        self.act_shortcuts = self._action("Keyboard Shortcuts", "show_shortcuts", "List every shortcut")
        self.act_about = self._action("About digitviz", "show_about", "About digitviz")

    def set_step_readout(self, text: str, short: str = ""):
        """The step readout (or the first-step hint): ``text``, or ``short`` where ``text`` has no room."""
        self._readout_forms = (text, short or text)
        self._place_readout(new=True)

    def _place_readout(self, new=False):
        """In the toolbar if the full text fits there, else in the status bar (full, or short if need be)."""
        label = self.step_readout
        full, short = self._readout_forms
        if not new and label.text() not in (full, short):  # set directly: that text is both forms
            full = short = label.text()
            self._readout_forms = (full, short)
        fm = label.fontMetrics()
        pad = 2 * label.margin() + 8
        if fm.horizontalAdvance(full) + pad <= self._readout_slots["toolbar"].width() or not full:
            where, text = "toolbar", full
        else:
            room = self._readout_slots["status"].width()
            where, text = "status", full if fm.horizontalAdvance(full) + pad <= room else short
        slot = self._readout_slots[where]
        if label.parentWidget() is not slot:
            old = label.parentWidget()
            if old is not None and old.layout() is not None:
                old.layout().removeWidget(label)
            slot.layout().addWidget(label)
            label.show()
        if label.text() != text:
            label.setText(text)

    def _build_toolbar(self):
        self._readout_fitter = _ResizeWatcher(self, lambda: self._place_readout())
        tb = self.addToolBar("Training")
        tb.setObjectName("training_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.act_play, self.act_step, self.act_epoch, self.act_reset):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.act_wants)
        # the speed first, then the step readout: on a narrow window the readout gives up room (it is cut at
        # its end), never the speed control
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setObjectName("speed")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setPageStep(1)
        self.speed.setFixedWidth(120)
        self.speed.setFocusPolicy(Qt.NoFocus)  # keep the arrow keys for stepping
        # the speed now, in words (the slider's ends are 1 batch/s and as fast as it goes)
        self.speed_label = QLabel()
        self.speed_label.setObjectName("speedNow")
        self.speed_label.setMinimumWidth(self.speed_label.fontMetrics().horizontalAdvance("2000 batches/s  "))
        tb.addWidget(QLabel("Speed "))
        tb.addWidget(self.speed)
        tb.addWidget(self.speed_label)
        tb.addSeparator()
        self.step_readout = QLabel("")
        self.step_readout.setObjectName("stepReadout")
        self.step_readout.setToolTip(
            "The last single step on its own mini-batch: the batch's cost before → after\n"
            "the step, and how far the step moved the parameters (η·|∇C|)"
        )
        self.step_readout.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._readout_pt = self.step_readout.font().pointSizeF()
        # the readout sits in the toolbar when its text fits what the toolbar has left; in a narrow window it
        # moves to the status bar's free left part (in its short form there if needed): never cut, never lost
        self._readout_slots = {}
        for where in ("toolbar", "status"):
            slot = QWidget()
            slot.setObjectName(f"readout_{where}")
            slot.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)  # takes what is left
            lay = QHBoxLayout(slot)
            lay.setContentsMargins(0, 0, 0, 0)
            slot.installEventFilter(self._readout_fitter)
            self._readout_slots[where] = slot
        self._readout_slots["toolbar"].layout().addWidget(self.step_readout)
        self._readout_forms = ("", "")
        tb.addWidget(self._readout_slots["toolbar"])
        pos = self.settings.value("speed", DEFAULT_SPEED)
        try:
            pos = int(pos)
        except (TypeError, ValueError):
            pos = DEFAULT_SPEED
        self.speed.setValue(min(max(pos, 0), len(SPEEDS) - 1))
        self.speed.valueChanged.connect(self._on_speed)
        self._on_speed(self.speed.value())
        self.toolbar = tb

    def _on_speed(self, pos):
        bps = SPEEDS[pos]
        self.controller.set_speed(bps)
        words = "max" if bps is None else speed_text(bps)
        self.speed_label.setText(words)
        tip = (
            f"Play trains at {speed_text(bps)}; Epoch always runs at full speed.\n"
            "Slide left to watch single batches, right for speed."
        )
        self.speed.setToolTip(tip)
        self.speed_label.setToolTip(tip)

    def _build_menus(self):
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.act_open)
        d = f.addMenu("Download")
        d.setObjectName("downloadMenu")
        for a in (self.act_download, self.act_download_fashion, self.act_download_kmnist):
            d.addAction(a)
        for a in (
            None,
            self.act_save,
            self.act_load,
            None,
            self.act_export,
            *self._record_actions(),
            None,
            self.act_quit,
        ):
            f.addSeparator() if a is None else f.addAction(a)
        t = mb.addMenu("&Training")
        for a in (self.act_play, self.act_step, self.act_epoch, None, self.act_reset):
            t.addSeparator() if a is None else t.addAction(a)
        v = mb.addMenu("&View")
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(self.act_gradient)
        v.addAction(self.act_wants)
        v.addSeparator()
        v.addAction(self.act_reset_layout)
        h = mb.addMenu("&Help")
        h.addAction(self.act_shortcuts)
        h.addAction(self.act_about)

    # status bar

    def _build_status(self):
        sb = self.statusBar()
        sb.addWidget(self._readout_slots["status"], 1)  # its free left part: the step readout when narrow
        self.status_labels = {}
        for key, tip in (
            ("dataset", "The dataset loaded (File ▸ Open Data Folder, File ▸ Download)"),
            ("epoch", "Finished passes over the 60,000 training images"),
            ("step", "Steps of gradient descent (one per mini-batch)"),
            ("seen", "Training examples looked at so far"),
            ("accuracy", "Share of the 10,000 test images answered right, after the last epoch"),
            ("rate", "Training speed"),
        ):
            label = QLabel()
            label.setObjectName(key)
            label.setToolTip(tip)
            sb.addPermanentWidget(label)
            self.status_labels[key] = label
        ds = getattr(self, "dataset", None)
        self._set_status("dataset", datasets.of(ds).title if ds is not None else "no data")
        self._set_status("epoch", "epoch 0")
        self._set_status("step", "step 0")
        self._set_status("seen", "0 examples seen")
        self._set_status("accuracy", "test accuracy —")
        self._set_status("rate", "paused")

    def _set_status(self, key, text):
        if self._status_cache.get(key) != text:
            self._status_cache[key] = text
            self.status_labels[key].setText(text)

    def _update_status(self, snap):
        self._set_status("epoch", f"epoch {snap.epoch}")
        self._set_status("step", f"step {snap.step:,}")
        self._set_status("seen", f"{snap.examples_seen:,} examples seen")
        acc = snap.test_acc
        self._set_status("accuracy", "test accuracy —" if math.isnan(acc) else f"test accuracy {acc:.2%}")
        if snap.running:
            rate = snap.examples_per_s if not math.isnan(snap.examples_per_s) else self.controller.last_rate
            engine = f" ({snap.engine})" if snap.engine else ""
            self._set_status("rate", ("training…" if math.isnan(rate) else f"{rate:,.0f} examples/s") + engine)
        else:
            self._set_status("rate", "paused")

    def _update_play(self, running):
        if running != getattr(self, "_shown_running", None):
            self._shown_running = running
            self.act_play.setText("Pause" if running else "Play")
            self.act_play.setIcon(icon("pause" if running else "play"))
            if self.act_play.isEnabled():  # disabled, its tooltip says why (no data)
                self.act_play.setToolTip("Pause training (Space)" if running else "Train continuously (Space)")

    # dialogs

    def _ask(self, title, text) -> bool:
        return (
            QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
            == QMessageBox.Yes
        )

    def show_shortcuts(self) -> QDialog:
        """F1: every shortcut, from the one table, in one window (raised again on the next press)."""
        dlg = getattr(self, "shortcuts_dialog", None)
        if dlg is None:
            dlg = self.shortcuts_dialog = self._make_shortcuts_dialog()
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _make_shortcuts_dialog(self) -> QDialog:
        rows = shortcut_rows()
        dlg = QDialog(self)
        dlg.setObjectName("shortcutsDialog")
        dlg.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        for i, (text, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(text))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(dlg.reject)  # hides it: the next F1 shows the same window
        lay = QVBoxLayout(dlg)
        lay.addWidget(table)
        lay.addWidget(buttons)
        dlg.resize(520, min(40 + 30 * (len(rows) + 2), 760))
        return dlg

    def show_about(self):
        QMessageBox.about(
            self,
            "About digitviz",
            f"<h3>digitviz {__version__}</h3>"
            "<p>Watch a small neural network (784-16-16-10) learn to read handwritten digits by gradient "
            "descent, one mini-batch at a time, after 3Blue1Brown's lesson <i>Gradient descent, how neural "
            "networks learn</i>.</p><p>NumPy for the maths, PySide6 and pyqtgraph for the pictures. MIT licence.</p>",
        )
