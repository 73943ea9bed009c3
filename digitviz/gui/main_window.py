"""The main window: the network diagram in the middle, dock panels around it, training controls on top.

The window wires things together and does no maths of its own beyond one forward pass per frame for
the diagram. Training runs on the :class:`~digitviz.gui.controller.TrainingController`'s thread; on
each frame (the controller's ``frame`` signal) the window updates the status bar, hands the snapshot
to every visible panel (``on_snapshot``) and redraws the diagram for the input being shown: the
user's (from a panel's ``input_changed``) or else the training example of the snapshot.

Panels come from :func:`digitviz.gui.panels.panel_specs`, one dock each. Data is loaded and
downloaded on plain threads that deliver through queued signals, so the window shows at once.

Imports: PySide6, pyqtgraph (via the views), :mod:`digitviz.core` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QFrame, QHBoxLayout,
                               QHeaderView, QLabel, QMainWindow, QMessageBox, QProgressDialog, QPushButton,
                               QScrollArea, QSizePolicy, QSlider, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout,
                               QWidget)

from digitviz import __version__
from digitviz.core.data import DataError, default_cache_dir, find_data_dir, load_mnist
from digitviz.core.network import Network
from digitviz.core.training import PRESETS, TrainConfig

from .controller import TrainingController, merge_snapshots
from .panels import panel_specs
from .style import icon
from .worker import DIVERGED_PREFIX

log = logging.getLogger(__name__)

# Speed control: batches per second at each slider position; None = as fast as it goes.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, None)
SETTINGS_VERSION = 1
PANEL_HZ = 2              # while training, a costly panel is updated this often ...
CHEAP_UPDATE_S = 0.002    # ... and a panel whose update takes less CPU than this, at every frame
NO_DATA_TEXT = ("<b>No MNIST data yet.</b> Download it (about 11 MB) or open a folder that holds the four "
                "MNIST files. Meanwhile the untrained network already answers any input you give it.")


def speed_text(bps) -> str:
    return "as fast as it goes" if bps is None else f"{bps:g} batch{'es' if bps != 1 else ''}/s"


class DataLoader(QObject):
    """Loads MNIST on a plain thread; the result arrives on the GUI thread through a queued signal."""

    loaded = Signal(object, str)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    def load(self, folder):
        self._thread = threading.Thread(target=self._run, args=(str(folder),), name="digitviz-load", daemon=True)
        self._thread.start()

    def _run(self, folder):
        try:
            ds = load_mnist(folder)
            ds.images_as("train")  # convert once here, not on the training thread
            ds.images_as("test")
        except DataError as e:
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - any failure becomes one line for the user
            self.failed.emit(f"{folder}: could not load MNIST ({type(e).__name__}: {e})")
        else:
            self.loaded.emit(ds, folder)

    def join(self, timeout=2.0):
        if self._thread is not None:
            self._thread.join(timeout)


class Downloader(QObject):
    """Runs :func:`digitviz.core.fetch.fetch_mnist` on a plain thread, reporting through signals."""

    progress = Signal(int, int)   # bytes done, bytes total (all four files)
    finished = Signal(str)        # destination folder
    failed = Signal(str)

    def __init__(self, parent=None, fetch=None):
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._fetch = fetch

    def start(self, dest):
        from digitviz.core import fetch as fetch_mod

        fetch = self._fetch or fetch_mod.fetch_mnist
        sizes = {name: size for name, (_, size) in fetch_mod.OFFICIAL.items()}
        total = sum(sizes.values())
        done_files: dict[str, int] = {}
        last = [0.0]

        def progress(name, done, size):
            done_files[name] = done
            now = time.perf_counter()
            if now - last[0] >= 0.05 or done == size:  # at most 20 updates a second reach the GUI
                last[0] = now
                self.progress.emit(sum(done_files.values()), total)

        def run():
            try:
                path = fetch(dest, progress=progress, cancel=self._cancel.is_set)
            except Exception as e:  # noqa: BLE001 - FetchError and anything unexpected: one line
                self.failed.emit(str(e) or type(e).__name__)
            else:
                self.finished.emit(str(path))

        self._cancel.clear()
        self._thread = threading.Thread(target=run, name="digitviz-fetch", daemon=True)
        self._thread.start()

    def cancel(self):
        self._cancel.set()

    def join(self, timeout=2.0):
        if self._thread is not None:
            self._thread.join(timeout)


class Banner(QFrame):
    """A one-line message above the diagram with a few buttons and a close cross."""

    def __init__(self, name, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.RichText)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        lay.addWidget(self.label, 1)
        self._buttons = lay
        self.close_button = QToolButton()
        self.close_button.setObjectName("dismiss")
        self.close_button.setText("×")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        lay.addWidget(self.close_button)
        self.hide()

    def add_button(self, text, slot, tip="", primary=False) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        if primary:
            b.setObjectName("primary")
        b.clicked.connect(slot)
        self._buttons.insertWidget(self._buttons.count() - 1, b)
        return b

    def show_text(self, text):
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """The digitviz window.

    Parameters
    ----------
    data_dir : str or Path, optional
        MNIST folder to load in the background (else ``DIGITVIZ_DATA``, the cache, or the last folder).
    data : Dataset, optional
        Already-loaded data (tests, the benchmark); skips loading.
    config : TrainConfig, optional
        Starting settings (default: the last ones used, else the lesson preset).
    settings : QSettings, optional
        Where layout and settings are remembered (tests pass a temporary ini file).
    load_data : bool
        False: do not look for data at all (the no-data state).

    Attributes
    ----------
    controller : TrainingController
    diagram : NetworkView
    panels : dict of str to QWidget
        Panel widgets by spec name; ``docks`` likewise.
    confirm : callable(title, text) -> bool
        Asks the user a yes/no question; tests replace it.
    """

    def __init__(self, data_dir=None, data=None, config: TrainConfig | None = None, settings: QSettings | None = None,
                 load_data=True, parent=None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("digitviz: watch a network learn to read digits")
        self.setWindowIcon(icon("app"))
        self.settings = settings if settings is not None else QSettings("digitviz", "digitviz")
        self.confirm = self._ask
        self.dataset = data
        self.data_folder = None
        self._user_input = None      # (x, label) from a panel, or None: follow training
        self._gradient_edges = False
        self._shown_gradient = None  # (generation, step, per-layer values) from a panel's gradient_shown
        self._drawn_key = None
        self._net: Network | None = None
        self._saved_mark = None      # (generation, step) last saved or loaded
        self._panel_errors: set = set()
        self._closing = False
        self._status_cache: dict = {}
        self._pending: dict = {}      # panel name -> snapshot not yet delivered (merged)
        self._panel_due: dict = {}    # panel name -> perf_counter time of its next update while training

        config = config or self._remembered_config() or PRESETS["lesson"]
        self.controller = TrainingController(data, config, parent=self)
        self.loader = DataLoader(self)
        self.loader.loaded.connect(self._on_data_loaded)
        self.loader.failed.connect(self._on_data_failed)
        self.downloader: Downloader | None = None
        self.download_dialog: QProgressDialog | None = None

        self._build_central()
        self._build_actions()
        self._build_toolbar()
        self._build_docks()
        self._build_menus()
        self._build_status()
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._restore_layout()

        c = self.controller
        c.frame.connect(self._on_frame)
        c.message.connect(self._on_message)
        c.step_reported.connect(self._on_step_report)
        for panel in self.panels.values():
            self._call(panel, "set_dataset", data)
        c.start()

        if data is None and load_data:
            self._find_and_load(data_dir)
        elif data is None:
            self._show_no_data()

    # building

    def _build_central(self):
        central = QWidget()
        central.setObjectName("central")
        lay = QVBoxLayout(central)
        lay.setContentsMargins(6, 6, 6, 0)
        lay.setSpacing(6)
        self.data_banner = Banner("banner")
        self.download_button = self.data_banner.add_button(
            "Download MNIST", self.download_mnist, f"Download the four files (about 11 MB) into {default_cache_dir()}",
            primary=True)
        self.open_button = self.data_banner.add_button("Open folder…", self.open_data_folder,
                                                       "Choose a folder holding the four MNIST files")
        self.alert = Banner("alert")
        self.alert_reset = self.alert.add_button("Reset the network", self._reset_from_alert,
                                                 "New random weights from the seed; the current ones are lost")
        lay.addWidget(self.data_banner)
        lay.addWidget(self.alert)
        try:
            from .views.network_view import NetworkView

            self.diagram = NetworkView()
        except Exception:  # noqa: BLE001 - the app still trains and plots without its diagram
            log.exception("network diagram unavailable")
            self.diagram = QLabel("The network diagram could not be created.")
            self.diagram.setAlignment(Qt.AlignCenter)
        self.diagram.setMinimumSize(320, 240)
        lay.addWidget(self.diagram, 1)
        for name, slot in (("neuron_clicked", self._on_neuron_clicked),):
            sig = getattr(self.diagram, name, None)
            if sig is not None:
                sig.connect(slot)
        self.setCentralWidget(central)

    def _action(self, text, slot, shortcuts=(), tip="", icon_name=None, checkable=False) -> QAction:
        a = QAction(text, self)
        if icon_name:
            a.setIcon(icon(icon_name))
        if shortcuts:
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
            a.setShortcutContext(Qt.WindowShortcut)
        keys = " or ".join(QKeySequence(s).toString(QKeySequence.NativeText) for s in shortcuts)
        a.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        a.setStatusTip(tip or text)
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(slot)
        self.addAction(a)  # shortcuts work even when the toolbar is hidden
        return a

    def _build_actions(self):
        c = self.controller
        self.act_play = self._action("Play", self.toggle_play, ["Space"], "Train continuously; press again to pause",
                                     "play")
        self.act_step = self._action("Step", self.step_once, ["Right"],
                                     "One step of gradient descent on one mini-batch", "step")
        self.act_epoch = self._action("Epoch", c.step_epoch, ["Shift+Right", "Ctrl+Right"],
                                      "Train to the end of this pass over the 60,000 images, then test", "epoch")
        self.act_reset = self._action("Reset", self.reset_network, ["Ctrl+R"],
                                      "New random weights from the seed; training starts over", "reset")
        self.act_open = self._action("Open Data Folder…", self.open_data_folder, ["Ctrl+O"],
                                     "Load MNIST from a folder holding its four files", "open")
        self.act_download = self._action("Download MNIST…", self.download_mnist, [],
                                         "Download MNIST (about 11 MB) into the cache folder", "download")
        self.act_save = self._action("Save Network…", self.save_network_dialog, ["Ctrl+S"],
                                     "Save the weights and settings to a .npz file")
        self.act_load = self._action("Load Network…", self.load_network_dialog, ["Ctrl+L"],
                                     "Continue from a saved network")
        self.act_export = self._action("Export Diagram as PNG…", self.export_png_dialog, ["Ctrl+E"],
                                       "Save the network diagram as an image")
        self.act_quit = self._action("Quit", self.close, ["Ctrl+Q"], "Close digitviz")
        self.act_gradient = self._action("Colour Connections by −Gradient", self.set_gradient_edges, ["G"],
                                         "Colour connections by the last single step's nudges (minus the "
                                         "gradient) instead of the weights", checkable=True)
        self.act_reset_layout = self._action("Reset Layout", self.reset_layout, [],
                                             "Put every panel back where it started")
        self.act_shortcuts = self._action("Keyboard Shortcuts", self.show_shortcuts, ["F1"], "List every shortcut")
        self.act_about = self._action("About digitviz", self.show_about, [], "About digitviz")

    def _build_toolbar(self):
        tb = self.addToolBar("Training")
        tb.setObjectName("training_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for a in (self.act_play, self.act_step, self.act_epoch, self.act_reset):
            tb.addAction(a)
        self.step_readout = QLabel("")
        self.step_readout.setObjectName("stepReadout")
        self.step_readout.setToolTip("The last single step on its own mini-batch: the batch's cost before → after\n"
                                     "the step, and how far the step moved the parameters (η·|∇C|)")
        tb.addWidget(self.step_readout)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        tb.addWidget(spacer)
        tb.addSeparator()
        slow = QLabel("1 batch/s")
        slow.setObjectName("speedEnd")
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setObjectName("speed")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setPageStep(1)
        self.speed.setFixedWidth(150)
        self.speed.setFocusPolicy(Qt.NoFocus)  # keep the arrow keys for stepping
        fast = QLabel("max")
        fast.setObjectName("speedEnd")
        fast.setToolTip("As fast as it goes")
        tb.addWidget(QLabel("Speed "))
        tb.addWidget(slow)
        tb.addWidget(self.speed)
        tb.addWidget(fast)
        pos = self.settings.value("speed", len(SPEEDS) - 1)
        try:
            pos = int(pos)
        except (TypeError, ValueError):
            pos = len(SPEEDS) - 1
        self.speed.setValue(min(max(pos, 0), len(SPEEDS) - 1))
        self.speed.valueChanged.connect(self._on_speed)
        self._on_speed(self.speed.value())
        self.toolbar = tb

    def _build_docks(self):
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.specs = {}
        self.setDockNestingEnabled(True)
        # the right column (input: canvas, 28x28, bars) keeps the full height; the curves below
        # span the settings and the diagram
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        for spec in panel_specs():
            try:
                panel = spec.factory()
            except Exception:  # noqa: BLE001 - one broken panel must not keep the window from opening
                log.exception("panel %s could not be created", spec.name)
                continue
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(spec.name)
            # A scroll area lets a dock be smaller than its panel's minimum size: the window never
            # grows past the screen because of one panel, and the user can squeeze any dock.
            holder = QScrollArea()
            holder.setObjectName(f"{spec.name}_scroll")
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.NoFrame)
            holder.setWidget(panel)
            dock.setWidget(holder)
            dock.setFeatures(QDockWidget.DockWidgetClosable | QDockWidget.DockWidgetMovable
                             | QDockWidget.DockWidgetFloatable)
            self.addDockWidget(spec.area, dock)
            if spec.tab_with and spec.tab_with in self.docks:
                self.tabifyDockWidget(self.docks[spec.tab_with], dock)
            if not spec.visible:
                dock.hide()
            tv = dock.toggleViewAction()
            if spec.shortcut:
                tv.setShortcut(QKeySequence(spec.shortcut))
            tv.setToolTip(f"Show or hide the {spec.title} panel")
            dock.visibilityChanged.connect(lambda visible, p=panel: visible and self._feed(p))
            self.specs[spec.name] = spec
            self.panels[spec.name] = panel
            self.docks[spec.name] = dock
            self._connect_panel(panel)
        # tabbed docks: show the first of each group
        for spec in self.specs.values():
            if not spec.tab_with and spec.name in self.docks:
                self.docks[spec.name].raise_()
        self._size_docks()

    def _size_docks(self):
        """Default dock sizes, as shares of the window: the diagram in the middle keeps the most room."""
        w, h = max(self.width(), 800), max(self.height(), 600)
        for area, orient, cap in ((Qt.LeftDockWidgetArea, Qt.Horizontal, 0.22 * w),
                                  (Qt.RightDockWidgetArea, Qt.Horizontal, 0.3 * w),
                                  (Qt.BottomDockWidgetArea, Qt.Vertical, 0.36 * h)):
            names = [n for n in self.docks if self.specs[n].area == area]
            if not names:
                continue
            hints = [self.panels[n].sizeHint() for n in names]
            want = max((hint.width() if orient == Qt.Horizontal else hint.height()) for hint in hints) + 16
            size = int(min(max(want, 240), cap))
            docks = [self.docks[n] for n in names if not self.specs[n].tab_with]
            self.resizeDocks(docks, [size] * len(docks), orient)

    def _connect_panel(self, panel):
        for name, slot in (("input_changed", self._on_input_changed), ("send_to_input", self._on_send_to_input),
                           ("parameters_picked", self._on_parameters_picked), ("live_changed", self._on_live_changed),
                           ("reset_requested", self._on_reset_requested), ("neuron_selected", self._on_tile_selected),
                           ("gradient_shown", self._on_gradient_shown)):
            sig = getattr(panel, name, None)
            if sig is not None and hasattr(sig, "connect"):
                sig.connect(slot)
        if hasattr(panel, "set_path_source"):
            panel.set_path_source(self.controller.path_points)  # the whole descent path, kept even while hidden
        sig = getattr(self.diagram, "parameters_picked", None)
        if sig is not None and not getattr(self, "_diagram_picks_connected", False):
            sig.connect(self._on_parameters_picked)
            self._diagram_picks_connected = True

    def _build_menus(self):
        mb = self.menuBar()
        f = mb.addMenu("&File")
        for a in (self.act_open, self.act_download, None, self.act_save, self.act_load, None, self.act_export,
                  None, self.act_quit):
            f.addSeparator() if a is None else f.addAction(a)
        t = mb.addMenu("&Training")
        for a in (self.act_play, self.act_step, self.act_epoch, None, self.act_reset):
            t.addSeparator() if a is None else t.addAction(a)
        v = mb.addMenu("&View")
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(self.act_gradient)
        v.addSeparator()
        v.addAction(self.act_reset_layout)
        h = mb.addMenu("&Help")
        h.addAction(self.act_shortcuts)
        h.addAction(self.act_about)

    def _build_status(self):
        sb = self.statusBar()
        self.status_labels = {}
        for key, tip in (("epoch", "Finished passes over the 60,000 training images"),
                         ("step", "Steps of gradient descent (one per mini-batch)"),
                         ("seen", "Training examples looked at so far"),
                         ("accuracy", "Share of the 10,000 test images answered right, after the last epoch"),
                         ("rate", "Training speed")):
            label = QLabel()
            label.setObjectName(key)
            label.setToolTip(tip)
            sb.addPermanentWidget(label)
            self.status_labels[key] = label
        self._set_status("epoch", "epoch 0")
        self._set_status("step", "step 0")
        self._set_status("seen", "0 examples seen")
        self._set_status("accuracy", "test accuracy —")
        self._set_status("rate", "paused")

    # settings

    def _remembered_config(self) -> TrainConfig | None:
        raw = self.settings.value("config")
        if not raw:
            return None
        try:
            return TrainConfig.from_dict(json.loads(raw))
        except (TypeError, ValueError):
            return None

    def _restore_layout(self):
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            w, h = (1440, 900) if screen is None else (min(1600, int(0.92 * screen.width())),
                                                     min(1000, int(0.92 * screen.height())))
            self.resize(w, h)
            self._size_docks()
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state, SETTINGS_VERSION)
        if self.settings.value("gradientEdges", False) in (True, "true"):
            self.act_gradient.setChecked(True)

    def _save_settings(self):
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("windowState", self.saveState(SETTINGS_VERSION))
        s.setValue("speed", self.speed.value())
        s.setValue("gradientEdges", self._gradient_edges)
        config = self.controller.config
        if config is not None:
            s.setValue("config", json.dumps(config.to_dict()))
        if self.data_folder:
            s.setValue("dataFolder", str(self.data_folder))
        s.sync()

    def reset_layout(self):
        self.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in self.docks.values():
            spec = self.specs[dock.objectName()]
            dock.setFloating(False)
            dock.setVisible(spec.visible)

    # data

    def _find_and_load(self, data_dir):
        try:
            folder = find_data_dir(data_dir)
        except DataError as e:
            self._show_no_data(str(e))
            return
        if folder is None:
            last = self.settings.value("dataFolder")
            if last:
                try:
                    folder = find_data_dir(last)
                except DataError:
                    folder = None
        if folder is None:
            self._show_no_data()
            return
        self.load_data_folder(folder)

    def load_data_folder(self, folder):
        """Load MNIST from ``folder`` in the background."""
        self.statusBar().showMessage(f"Loading MNIST from {folder}…")
        self.loader.load(folder)

    def _show_no_data(self, why=""):
        text = NO_DATA_TEXT if not why else f"<b>{_escape(why)}</b><br>{NO_DATA_TEXT}"
        self.data_banner.show_text(text)
        self._refresh_diagram(force=True)

    @Slot(object, str)
    def _on_data_loaded(self, ds, folder):
        if self._closing:
            return
        self.dataset = ds
        self.data_folder = folder
        self.data_banner.hide()
        self.statusBar().showMessage(f"MNIST loaded from {folder}: {len(ds.train_labels):,} training and "
                                     f"{len(ds.test_labels):,} test images", 6000)
        self.controller.set_data(ds)
        for panel in self.panels.values():
            self._call(panel, "set_dataset", ds)

    @Slot(str)
    def _on_data_failed(self, message):
        self.statusBar().clearMessage()
        self._show_no_data(message)

    def open_data_folder(self, folder=None):
        """Ask for (or take) a folder and load MNIST from it."""
        if not folder:
            folder = QFileDialog.getExistingDirectory(self, "Folder holding the four MNIST files",
                                                      str(self.data_folder or Path.home()))
            if not folder:
                return
        self.load_data_folder(folder)

    def download_mnist(self, dest=None, fetch=None):
        """Download MNIST on a thread with a cancellable progress dialog, then load it."""
        if self.downloader is not None:
            return
        dest = Path(dest) if dest else default_cache_dir()
        self.downloader = Downloader(self, fetch=fetch)
        dlg = QProgressDialog("Downloading MNIST (about 11 MB)…", "Cancel", 0, 1000, self)
        dlg.setWindowTitle("Download MNIST")
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setValue(0)
        dlg.canceled.connect(self.downloader.cancel)
        self.download_dialog = dlg
        self.downloader.progress.connect(self._on_download_progress)
        self.downloader.finished.connect(self._on_download_finished)
        self.downloader.failed.connect(self._on_download_failed)
        self.downloader.start(dest)
        dlg.show()

    @Slot(int, int)
    def _on_download_progress(self, done, total):
        if self.download_dialog is not None and total:
            self.download_dialog.setValue(int(1000 * done / total))
            self.download_dialog.setLabelText(f"Downloading MNIST… {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _end_download(self):
        if self.download_dialog is not None:
            self.download_dialog.canceled.disconnect()
            self.download_dialog.close()
            self.download_dialog.deleteLater()
            self.download_dialog = None
        self.downloader = None

    @Slot(str)
    def _on_download_finished(self, folder):
        self._end_download()
        self.load_data_folder(folder)

    @Slot(str)
    def _on_download_failed(self, message):
        self._end_download()
        if message == "cancelled":
            self.statusBar().showMessage("Download cancelled; nothing partial was kept.", 6000)
        else:
            self._show_no_data(f"Download failed: {message}")

    # training controls

    def toggle_play(self):
        self.controller.toggle()

    def step_once(self):
        self.controller.step_once()

    def _trained_unsaved(self) -> bool:
        snap = self.controller.latest
        return bool(snap and snap.epochs and (snap.generation, snap.step) != self._saved_mark)

    def _discard_ok(self, action: str) -> bool:
        """True when nothing trained would be lost, or the user agrees to lose it."""
        if not self._trained_unsaved():
            return True
        snap = self.controller.latest
        return self.confirm(
            f"{action}?",
            f"{action} discards the trained network ({snap.step:,} steps, test accuracy "
            f"{snap.test_acc:.1%}), which is not saved. Continue?")

    def reset_network(self, config: TrainConfig | None = None):
        if not self._discard_ok("Reset"):
            return False
        self.alert.hide()
        self.controller.reset(config)
        return True

    def _reset_from_alert(self):
        self.alert.hide()
        self.controller.reset()

    def _on_speed(self, pos):
        bps = SPEEDS[pos]
        self.controller.set_speed(bps)
        self.speed.setToolTip(f"Training speed: {speed_text(bps)}")

    @Slot(object)
    def _on_live_changed(self, changes):
        self.controller.update_config(**changes)

    @Slot(object)
    def _on_reset_requested(self, config):
        snap = self.controller.latest
        panel = self.sender()
        if snap is not None and snap.step > 0:
            ok = self.confirm("Start over with new weights?",
                              "This change needs a new network with fresh random weights; the current "
                              f"one ({snap.step:,} steps of training) will be discarded.")
            if not ok:
                if hasattr(panel, "set_config"):
                    panel.set_config(snap.config)
                return
        self.alert.hide()
        if hasattr(panel, "set_config"):
            panel.set_config(config)
        self.controller.reset(config)

    @Slot(str)
    def _on_message(self, message):
        if message.startswith(DIVERGED_PREFIX):
            self.alert_reset.show()
            self.alert.show_text(_escape(message))
        elif message.startswith("No training data"):
            self.statusBar().showMessage(message, 6000)
        else:
            self.alert_reset.hide()
            self.alert.show_text(_escape(message))

    @Slot(object)
    def _on_step_report(self, snap):
        r = snap.step_report
        self.step_readout.setText(f"batch cost {r.cost_before:.4f} → {r.cost_after:.4f}   step η·|∇C| {r.step_norm:.3g}")

    def set_gradient_edges(self, on: bool):
        self._gradient_edges = bool(on)
        if hasattr(self.diagram, "set_edge_mode"):
            self.diagram.set_edge_mode("gradient" if on else "weights")
        self._refresh_diagram(force=True)

    # input shown in the diagram

    @Slot(object, int)
    def _on_input_changed(self, x, label=-1):
        if x is None:
            self._user_input = None
        else:
            x = np.asarray(x, np.float32).reshape(-1).copy()
            x.flags.writeable = False
            self._user_input = (x, int(label))
        self._refresh_diagram(force=True)

    @Slot(object, int)
    def _on_send_to_input(self, x, label=-1):
        for panel in self.panels.values():
            if hasattr(panel, "show_image"):
                panel.show_image(x, label)
                return
        self._on_input_changed(x, label)

    @Slot(int, int)
    def _on_parameters_picked(self, i, j):
        for panel in self.panels.values():
            if hasattr(panel, "use_parameters"):
                panel.use_parameters(i, j)
                dock = self.docks[_name_of(self.panels, panel)]
                dock.show()
                dock.raise_()
                return

    @Slot(int, int)
    def _on_neuron_clicked(self, layer, index):
        # the diagram shows the neuron's details itself; a first-hidden-layer neuron is also its weight tile
        if layer == 1:
            for panel in self.panels.values():
                if hasattr(panel, "select_neuron") and hasattr(panel, "neuron_selected"):
                    panel.select_neuron(index)

    @Slot(int)
    def _on_tile_selected(self, index):
        if hasattr(self.diagram, "select_neuron"):
            self.diagram.select_neuron(1, index)

    @Slot(object)
    def _on_gradient_shown(self, values):
        """A panel shows one step's negative gradient: in gradient mode the diagram colours connections by it."""
        snap = self.controller.latest
        self._shown_gradient = (snap.generation if snap else 0, snap.step if snap else 0, values)
        if self._gradient_edges:  # only when the user asked for gradient colours (View menu, G)
            self._refresh_diagram(force=True)

    # frames

    @Slot(object)
    def _on_frame(self, snap):
        self._update_status(snap)
        if snap.running and self.step_readout.text():
            self.step_readout.setText("")  # the single-step readout is about a step no longer shown
        self._update_play(snap.running)
        self._refresh_diagram()
        now = time.perf_counter()
        for name, panel in self.panels.items():
            if not (self._dock_shown(name) or getattr(panel, "always_feed", False)):
                self._pending.pop(name, None)  # fed the latest snapshot when shown again (the contract)
                continue
            pending = self._pending.pop(name, None)
            if pending is not None and pending.generation == snap.generation:
                snap_for_panel = merge_snapshots(pending, snap)
            else:
                snap_for_panel = snap
            if snap.running and now < self._panel_due.get(name, 0.0):
                self._pending[name] = snap_for_panel  # delivered, merged, at the panel's next turn
                continue
            cpu = time.thread_time()
            self._call(panel, "on_snapshot", snap_for_panel)
            cost = time.thread_time() - cpu
            # While training, a panel whose update costs more than CHEAP_UPDATE_S waits 1 / PANEL_HZ s
            # before its next one: the diagram keeps its frame rate, and training keeps the GIL.
            self._panel_due[name] = now + (1.0 / PANEL_HZ if cost > CHEAP_UPDATE_S else 0.0)

    def _dock_shown(self, name) -> bool:
        """Whether a dock's panel is on screen: a dock behind another tab still says isVisible()."""
        dock = self.docks[name]
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

    def _feed(self, panel):
        snap = self.controller.latest
        if snap is not None:
            self._call(panel, "on_snapshot", snap)

    def _call(self, panel, method, *args):
        """Call a panel's contract method; a failing panel is logged once and never stops the window."""
        fn = getattr(panel, method, None)
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:  # noqa: BLE001
            key = (id(panel), method)
            if key not in self._panel_errors:
                self._panel_errors.add(key)
                log.error("panel %s.%s failed:\n%s", type(panel).__name__, method, traceback.format_exc())

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
            self.act_play.setToolTip("Pause training (Space)" if running else "Train continuously (Space)")

    def _refresh_diagram(self, force=False):
        """One forward pass on the GUI thread for the input shown, then redraw the diagram."""
        if not hasattr(self.diagram, "set_state"):
            return
        snap = self.controller.latest
        config = self.controller.config
        if self._user_input is not None:
            x, label = self._user_input
        elif snap is not None and snap.example is not None:
            x, label = snap.example, snap.example_label
        else:
            x, label = _BLANK, -1
        report = snap.step_report if snap is not None else None
        shown = self._shown_gradient
        if shown is not None and snap is not None and shown[:2] != (snap.generation, snap.step):
            shown = self._shown_gradient = None  # a panel's gradient is of a step no longer shown
        gradient = self._gradient_edges and (report is not None or shown is not None)
        key = (id(snap.theta) if snap is not None else None, id(x), gradient, id(shown))
        if key == self._drawn_key and not force:
            return
        self._drawn_key = key
        net = self._network_for(config)
        if snap is not None:
            net.set_theta(snap.theta)
        edge_values = None
        if gradient and shown is not None:
            edge_values = [np.asarray(v) for v in shown[2]]
        elif gradient:
            edge_values = [w for w, _ in net.layout.views(-np.asarray(report.grad))]
        from digitviz.core.diagram import diagram_state

        top_k = getattr(self.diagram, "top_k", None)
        state = diagram_state(net, x, label, top_k=top_k, edge_values=edge_values)
        self.diagram.set_state(state)
        self.diagram_updates = getattr(self, "diagram_updates", 0) + 1

    def _network_for(self, config: TrainConfig) -> Network:
        net = self._net
        want = (tuple(config.sizes), config.activation, config.cost, np.dtype(config.dtype))
        if net is None or (net.sizes, net.activation, net.cost_name, net.dtype) != want:
            net = self._net = config.network()  # seeded: the right untrained weights before any snapshot
        return net

    # files

    def save_network(self, path) -> Path | None:
        from digitviz.core.persist import save_network

        snap = self.controller.latest
        if snap is None:
            return None
        net = snap.config.network()
        net.set_theta(snap.theta)
        meta = dict(step=snap.step, epoch=snap.epoch, examples_seen=snap.examples_seen,
                    test_acc=None if math.isnan(snap.test_acc) else snap.test_acc, app=f"digitviz {__version__}")
        try:
            out = save_network(path, net, snap.config, meta)
        except OSError as e:
            self._error(f"Could not save the network: {e.strerror or e}")
            return None
        self._saved_mark = (snap.generation, snap.step)
        self.statusBar().showMessage(f"Saved the network to {out}", 6000)
        return out

    def load_network(self, path) -> bool:
        from digitviz.core.persist import PersistError, load_network

        try:
            net, config, meta = load_network(path)
        except PersistError as e:
            self._error(f"Could not load the network: {e}")
            return False
        if config.sizes[0] != 784 or config.sizes[-1] != 10:
            self._error(f"Could not load the network: {Path(path).name} is not a 784-…-10 digit network")
            return False
        if not self._discard_ok("Loading a network"):
            return False
        self.controller.load(net, config)
        gen = self.controller.generation + 1
        self._saved_mark = (gen, 0)
        step = meta.get("step")
        self.statusBar().showMessage(f"Loaded {Path(path).name}" + (f" (trained {step:,} steps)" if step else ""), 6000)
        return True

    def export_png(self, path) -> bool:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        ok = self.diagram.grab().save(str(path), "PNG")
        if ok:
            self.statusBar().showMessage(f"Saved the diagram to {path}", 6000)
        else:
            self._error(f"Could not write {path}")
        return ok

    def save_network_dialog(self):
        snap = self.controller.latest
        name = f"digitviz-step{snap.step if snap else 0}.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save network", str(Path.home() / name),
                                              "digitviz network (*.npz)")
        if path:
            self.save_network(path)

    def load_network_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Load network", str(Path.home()), "digitviz network (*.npz)")
        if path:
            self.load_network(path)

    def export_png_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export diagram", str(Path.home() / "digitviz.png"),
                                              "PNG image (*.png)")
        if path:
            self.export_png(path)

    def _error(self, message):
        """One line, no traceback: in the alert banner (non-modal)."""
        self.alert_reset.hide()
        self.alert.show_text(_escape(message))

    # dialogs

    def _ask(self, title, text) -> bool:
        return QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.Cancel,
                                    QMessageBox.Cancel) == QMessageBox.Yes

    def show_shortcuts(self):
        rows = []
        seen = set()
        for a in self.actions() + [d.toggleViewAction() for d in self.docks.values()]:
            keys = ", ".join(k.toString(QKeySequence.NativeText) for k in a.shortcuts())
            text = "Play / Pause" if a is self.act_play else a.text().replace("&", "")
            if a is self.act_step:
                text = "Step one mini-batch"
            elif a is self.act_epoch:
                text = "Train to the end of the epoch"
            elif a.isCheckable() and a in [d.toggleViewAction() for d in self.docks.values()]:
                text = f"Show / hide {text}"
            if keys and text not in seen:
                seen.add(text)
                rows.append((text, keys))
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2)
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
        buttons.rejected.connect(dlg.reject)
        lay = QVBoxLayout(dlg)
        lay.addWidget(table)
        lay.addWidget(buttons)
        dlg.resize(460, 40 + 30 * (len(rows) + 2))
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.show()
        self.shortcuts_dialog = dlg
        return dlg

    def show_about(self):
        QMessageBox.about(
            self, "About digitviz",
            f"<h3>digitviz {__version__}</h3>"
            "<p>Watch a small neural network (784-16-16-10) learn to read handwritten digits by gradient "
            "descent, one mini-batch at a time, after 3Blue1Brown's lesson <i>Gradient descent, how neural "
            "networks learn</i>.</p><p>NumPy for the maths, PySide6 and pyqtgraph for the pictures. MIT licence.</p>")

    # closing

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self):
        """Remember the layout and settings, stop every background thread (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self._save_settings()
        if self.downloader is not None:
            self.downloader.cancel()
            self.downloader.join(2.0)
        for panel in self.panels.values():
            self._call(panel, "shutdown")  # optional: panels with background jobs stop their threads
        self.controller.shutdown(2000)
        self.loader.join(2.0)


_BLANK = np.zeros(784, np.float32)
_BLANK.flags.writeable = False


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _name_of(mapping, value):
    for k, v in mapping.items():
        if v is value:
            return k
    raise KeyError(value)
