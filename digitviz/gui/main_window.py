"""The main window: the network diagram in the middle, dock panels around it, training controls on top.

The window wires things together and does no maths of its own beyond one forward pass per frame for
the diagram. Training runs on the :class:`~digitviz.gui.controller.TrainingController`'s thread; on
each frame (the controller's ``frame`` signal) the window updates the status bar, hands the snapshot
to every visible panel (``on_snapshot``) and redraws the diagram for the input being shown: the
user's (from a panel's ``input_changed``) or else the training example of the snapshot.

Panels come from the registry :mod:`digitviz.gui.panels`, one dock each, wired as it declares.
Data is loaded and downloaded as jobs (:mod:`digitviz.gui.jobs`) that deliver through queued
signals, so the window shows at once.

The window is composed of parts, each in its own module: :class:`~digitviz.gui.actions.ActionsMixin`
(actions with the shortcut table's keys, toolbar, menus, status bar, F1), :class:`~digitviz.gui.docks.DocksMixin`
(docks, wires, remembered layout), :class:`~digitviz.gui.files.FilesMixin` (save, load, export) and
:class:`~digitviz.gui.banners.Banner`. This module keeps what ties them together: data, training
controls, messages, frames and the diagram.

Imports: PySide6, pyqtgraph (via the views), :mod:`digitviz.core` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import datasets
from digitviz.core.data import DataError, default_cache_dir, find_data_dir, load_mnist
from digitviz.core.network import Network
from digitviz.core.training import PRESETS, TrainConfig

from . import driver, presentation, shortcuts
from .actions import SPEEDS, ActionsMixin, speed_text  # noqa: F401 (still importable from here)
from .banners import Banner, progress_dialog
from .banners import escape as _escape
from .controller import TrainingController, merge_snapshots
from .docks import SETTINGS_VERSION, DocksMixin
from .files import FilesMixin
from .jobs import Job, JobRunner, shutdown_all
from .style import icon
from .timetravel import TIME_PANELS, TimelineMixin

log = logging.getLogger(__name__)

PANEL_HZ = 2  # while training, a costly panel is updated this often ...
CHEAP_UPDATE_S = 0.002  # ... and a panel whose update takes less CPU than this, at every frame
NO_DATA_TEXT = (
    "<b>No MNIST data yet.</b> Download it (about 11 MB) or open a folder that holds the four "
    "MNIST files. Play, Step and Epoch wait for it; meanwhile the untrained network already answers "
    "any input you give it."
)


def _load_work(_control, folder: str):
    """On a job thread: ``(Dataset, folder, None)``, or ``(None, folder, one-line message)``.

    The test images are converted once here, not on the training thread; the training set stays
    uint8 (the Trainer converts each batch it gathers).
    """
    try:
        ds = load_mnist(folder)
        ds.images_as("test")
    except DataError as e:
        return None, folder, str(e)
    except Exception as e:  # noqa: BLE001 - any failure becomes one line for the user
        return None, folder, f"{folder}: could not load MNIST ({type(e).__name__}: {e})"
    return ds, folder, None


def _download_work(control, fetch, dest):
    """On a job thread: fetch MNIST into ``dest``, reporting the bytes done of all four files.

    Returns ``(folder, None)`` or ``(None, one-line message)`` (``"cancelled"`` after a stop).
    """
    done_files: dict[str, int] = {}

    def progress(name, done, _size):
        done_files[name] = done
        control.report(sum(done_files.values()))  # the runner batches them: at most 20 a second

    try:
        return str(fetch(dest, progress=progress, cancel=control)), None
    except Exception as e:  # noqa: BLE001 - FetchError and anything unexpected: one line
        return None, str(e) or type(e).__name__


class MainWindow(ActionsMixin, DocksMixin, FilesMixin, TimelineMixin, QMainWindow):
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
    panels : dict of str to Panel
        Panel widgets by registry name (:mod:`digitviz.gui.panels`); ``docks`` and ``specs`` likewise.
    confirm : callable(title, text) -> bool
        Asks the user a yes/no question; tests replace it.
    """

    def __init__(
        self,
        data_dir=None,
        data=None,
        config: TrainConfig | None = None,
        settings: QSettings | None = None,
        load_data=True,
        parent=None,
    ):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("digitviz: watch a network learn to read digits")
        self.setWindowIcon(icon("app"))
        self.settings = settings if settings is not None else QSettings("digitviz", "digitviz")
        self.confirm = self._ask
        self.dataset = data
        self.data_folder = None
        self._user_input = None  # (x, label) from a panel, or None: follow training
        self._gradient_edges = False
        self._wants = False  # the diagram shows what each neuron wants (backprop of the example)
        self._shown_gradient = None  # (generation, step, per-layer values) from a panel's gradient_shown
        self._drawn_key = None
        self._net: Network | None = None
        self._saved_mark = None  # (generation, step) last saved or loaded
        self._panel_errors: set = set()
        self._closing = False
        self._quit_asked = False  # quit_without_asking: closing does not ask
        self._status_cache: dict = {}
        self._pending: dict = {}  # panel name -> snapshot not yet delivered (merged)
        self._panel_due: dict = {}  # panel name -> perf_counter time of its next update while training

        config = config or self._remembered_config() or PRESETS["lesson"]
        self.controller = TrainingController(data, config, parent=self)
        self.jobs = JobRunner(self, interval=0.05)  # data loading and download
        self.downloader: Job | None = None
        self.download_dialog: QProgressDialog | None = None

        self.docks_settled = False  # True once the docks were sized for the window shown (tests wait for it)
        self._regrow_timer = QTimer(self)
        self._regrow_timer.setSingleShot(True)
        self._regrow_timer.setInterval(50)
        self._regrow_timer.timeout.connect(self._after_resize)
        self._build_central()
        self._build_actions()
        self._build_toolbar()
        self._build_docks()
        self._build_menus()
        self._build_status()
        # the lesson tour acts through the app driver (gui/driver.py); presentation mode (gui/presentation.py)
        self.driver = driver.install(self)
        self.presentation = presentation.install(self)
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._restore_layout()

        c = self.controller
        c.frame.connect(self._on_frame)
        c.message.connect(self._on_message)
        c.step_reported.connect(self._on_step_report)
        for panel in self.panels.values():
            self._call(panel, "set_dataset", data)
        c.start()

        self._set_can_train(data is not None)  # enabled when data arrives
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
            "Download MNIST",
            self.download_mnist,
            f"Download the four files (about 11 MB) into {default_cache_dir()}",
            primary=True,
        )
        self.open_button = self.data_banner.add_button(
            "Open folder…", self.open_data_folder, "Choose a folder holding the four MNIST files"
        )
        self.alert = Banner("alert")
        self.alert_restore = self.alert.add_button(
            "Go back", self._restore_from_alert, "Put back the recent good weights kept before training went wrong"
        )
        self.alert_reset = self.alert.add_button(
            "Reset the network", self._reset_from_alert, "New random weights from the seed; the current ones are lost"
        )
        self.alert_restore.hide()
        lay.addWidget(self.data_banner)
        lay.addWidget(self.alert)
        try:
            from .views.network_view import NetworkView

            self.diagram = NetworkView()
        except Exception:  # logged; the app still trains and plots without its diagram
            log.exception("network diagram unavailable")
            self.diagram = QLabel("The network diagram could not be created.")
            self.diagram.setAlignment(Qt.AlignCenter)
        self.diagram.setMinimumSize(320, 240)
        lay.addWidget(self.diagram, 1)  # its signals are wired with the panels' (panels.WIRES)
        self._build_timeline(lay)  # going back in time (gui/timetravel.py)
        self.setCentralWidget(central)

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
        self.jobs.submit(_load_work, str(folder), channel="data", on_done=self._on_load_done)

    def _on_load_done(self, result):
        ds, folder, message = result
        if ds is None:
            self._on_data_failed(message)
        else:
            self._on_data_loaded(ds, folder)

    def _show_no_data(self, why=""):
        text = NO_DATA_TEXT if not why else f"<b>{_escape(why)}</b><br>{NO_DATA_TEXT}"
        self.data_banner.show_text(text)
        self._set_can_train(False)
        self._refresh_diagram(force=True)

    def _set_can_train(self, can: bool):
        """Play, Step and Epoch need training data: without it they are disabled, and their tooltips say why."""
        for a, tip in (
            (self.act_play, "Train continuously"),
            (self.act_step, "One step of gradient descent"),
            (self.act_epoch, "Train to the end of this pass over the training images"),
        ):
            a.setEnabled(can)
            keys = shortcuts.key_text(shortcuts.keys_for("window", a.data()))
            a.setToolTip(
                f"{tip} ({keys})"
                if can
                else f"{tip}: needs training data first (the banner above the diagram: Download MNIST or Open folder…)"
            )
        self._update_first_hint()

    def _update_first_hint(self, snap=None):
        """Before the first step, the toolbar says what to press; the step readout takes its place after."""
        snap = snap if snap is not None else self.controller.latest
        fresh = snap is None or (snap.step == 0 and not snap.running)
        if fresh and self.act_step.isEnabled():
            keys = shortcuts.key_text(shortcuts.keys_for("window", "step_once")).replace("Right", "→")
            self._readout_style(hint=True)
            self.set_step_readout(
                f"Press {keys} to take one step of gradient descent (Space plays)",
                f"Press {keys} for one step, Space to play",
            )
        elif self.step_readout.property("hint"):
            self._readout_style(hint=False)
            self.set_step_readout("")

    def _readout_style(self, hint: bool):
        """The first-launch hint in plain text; the step readout bold and larger (the stylesheet colours them)."""
        label = self.step_readout
        label.setProperty("hint", hint)
        f = label.font()
        f.setBold(not hint)
        f.setPointSizeF(self._readout_pt * (1.0 if hint else 1.2))
        label.setFont(f)
        label.style().unpolish(label)
        label.style().polish(label)

    @Slot(object, str)
    def _on_data_loaded(self, ds, folder):
        if self._closing:
            return
        old = self.dataset
        self.dataset = ds
        self.data_folder = folder
        self.data_banner.hide()
        new, was = datasets.of(ds), datasets.of(old)
        self._set_can_train(True)
        self.setWindowTitle(f"digitviz: {new.title}")  # which dataset is loaded (core.datasets)
        self._set_status("dataset", new.title)
        self.statusBar().showMessage(
            f"{new.title} loaded from {folder}: {len(ds.train_labels):,} training and "
            f"{len(ds.test_labels):,} test images",
            6000,
        )
        self.controller.set_data(ds)
        if hasattr(self.diagram, "set_class_names"):  # the output neurons take the dataset's class names
            self.diagram.set_class_names(None if new.digits else new.class_names, new.short_names)
        snap = self.controller.latest
        if (
            old is not None
            and was.kind != new.kind
            and snap is not None
            and snap.step > 0
            and self.confirm(
                "Reset the network?",
                f"Its weights were trained on {was.title}, not {new.title}. Start over with "
                "new random weights? (No keeps them.)",
            )
        ):
            self.alert.hide()
            self.controller.reset()
        for panel in self.panels.values():
            self._call(panel, "set_dataset", ds)

    @Slot(str)
    def _on_data_failed(self, message):
        self.statusBar().clearMessage()
        if self.dataset is not None:
            # the data in use stays, and so does everything trained on it: say so, not "no data"
            kept = f"kept the data from {self.data_folder}" if self.data_folder else "kept the data already loaded"
            self.alert_reset.hide()
            self.alert_restore.hide()
            self.alert.show_text(f"{_escape(message)}: {_escape(kept)}; the network and its training are unchanged.")
            return
        self._show_no_data(message)

    def open_data_folder(self, folder=None):
        """Ask for (or take) a folder and load MNIST from it."""
        if not folder:
            folder = QFileDialog.getExistingDirectory(
                self, "Folder holding the four MNIST files", str(self.data_folder or Path.home())
            )
            if not folder:
                return
        self.load_data_folder(folder)

    def download_mnist(self, dest=None, fetch=None, dataset="mnist"):
        """Download MNIST (or ``dataset``: "fashion", "kmnist") on a thread with a cancellable progress
        dialog, then load it."""
        if self.downloader is not None:
            return
        from functools import partial

        from digitviz.core import fetch as fetch_mod

        info = datasets.info(dataset)
        dest = Path(dest) if dest else (default_cache_dir() if info.key == "mnist" else info.cache_dir())
        total = sum(size for _, size in info.checksums.values())
        if fetch is None:
            fetch = partial(fetch_mod.fetch_dataset, info.key)
        job = self.jobs.submit(
            _download_work,
            fetch,
            dest,
            channel="download",
            on_progress=lambda done: self._on_download_progress(done[-1], total),
            on_done=self._on_download_done,
            on_cancelled=lambda: self._on_download_failed("cancelled"),
        )  # stopped before it began
        if job is None:  # shutting down
            return
        self.downloader = job
        # Cancel: fetch sees the stop between chunks and removes the partial file
        self.download_dialog = progress_dialog(
            f"Downloading {info.title} ({info.size_text})…", f"Download {info.title}", 1000, self, on_cancel=job.stop
        )

    @Slot(int, int)
    def _on_download_progress(self, done, total):
        if self.download_dialog is not None and total:
            self.download_dialog.setValue(int(1000 * done / total))
            self.download_dialog.setLabelText(f"Downloading… {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _end_download(self):
        if self.download_dialog is not None:
            self.download_dialog.canceled.disconnect()
            self.download_dialog.close()
            self.download_dialog.deleteLater()
            self.download_dialog = None
        self.downloader = None

    def _on_download_done(self, result):
        folder, message = result
        if folder is None:
            self._on_download_failed(message)
        else:
            self._on_download_finished(folder)

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

    def step_epoch(self):
        self.controller.step_epoch()

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
            f"{snap.test_acc:.1%}), which is not saved. Continue?",
        )

    def reset_network(self, config: TrainConfig | None = None):
        if not self._discard_ok("Reset"):
            return False
        self.alert.hide()
        self.controller.reset(config)
        return True

    def _reset_from_alert(self):
        self.alert.hide()
        self.controller.reset()

    def toggle_presentation(self):
        self.presentation.toggle()

    def leave_presentation(self):
        self.presentation.leave()

    def _restore_from_alert(self):
        self.alert.hide()
        self.controller.restore_good()

    @Slot(object)
    def update_config(self, changes):
        """Settings that apply at the next batch (``{"lr": 0.5, ...}``), from the settings panel."""
        self.controller.update_config(**changes)

    @Slot(object)
    def reset_with(self, config):
        """The settings panel asks for a new network of ``config``: asks first when training would be lost."""
        snap = self.controller.latest
        settings = self.panels["settings"]
        if snap is not None and snap.step > 0:
            ok = self.confirm(
                "Start over with new weights?",
                "This change needs a new network with fresh random weights; the current "
                f"one ({snap.step:,} steps of training) will be discarded.",
            )
            if not ok:
                settings.set_config(snap.config)
                return
        self.alert.hide()
        settings.set_config(config)
        self.controller.reset(config)

    @Slot(object)
    def _on_message(self, snap):
        """A snapshot with a new message: decided by its typed ``event``, never by its words."""
        from digitviz.core.snapshot import Event

        message, event = snap.message, snap.event
        if event is Event.NO_DATA:
            self.statusBar().showMessage(message, 6000)
            return
        if event is Event.RESTORED:
            self.alert.hide()
            self.statusBar().showMessage(message, 8000)
            return
        point = snap.restore_point if event is Event.DIVERGED else None
        self.alert_reset.setVisible(event is Event.DIVERGED)
        self.alert_restore.setVisible(point is not None and point[0] < snap.step)
        if point is not None:
            step, acc = point
            self.alert_restore.setText(f"Go back to step {step:,}" + ("" if math.isnan(acc) else f" ({acc:.1%})"))
        self.alert.show_text(_escape(message))

    @Slot(object)
    def _on_step_report(self, snap):
        r = snap.step_report
        self._readout_style(hint=False)
        self.set_step_readout(
            f"batch cost {r.cost_before:.4f} → {r.cost_after:.4f}   step η·|∇C| {r.step_norm:.3g}",
            f"cost {r.cost_before:.4f} → {r.cost_after:.4f} · η·|∇C| {r.step_norm:.3g}",
        )

    def set_gradient_edges(self, on: bool):
        self._gradient_edges = bool(on)
        if hasattr(self.diagram, "set_edge_mode"):
            self.diagram.set_edge_mode("gradient" if on else "weights")
        self._refresh_diagram(force=True)

    def set_wants_mode(self, on: bool):
        """ "What each neuron wants": the diagram shows backprop of the example on it (W, toolbar)."""
        self._wants = bool(on)
        if self.act_wants.isChecked() != self._wants:
            self.act_wants.setChecked(self._wants)
        if hasattr(self.diagram, "set_wants_mode"):
            self.diagram.set_wants_mode(self._wants)
        self._refresh_diagram(force=True)

    # input shown in the diagram

    @Slot(object, int)
    def show_input(self, x, label=-1):
        """Show ``x`` (784,) in the diagram, labelled ``label``; ``None`` follows the training examples again."""
        if x is None:
            self._user_input = None
        else:
            x = np.asarray(x, np.float32).reshape(-1).copy()
            x.flags.writeable = False
            self._user_input = (x, int(label))
        self._refresh_diagram(force=True)

    _on_input_changed = show_input

    @Slot(object)
    def show_gradient(self, values):
        """A panel shows one step's negative gradient: in gradient mode the diagram colours connections by it."""
        snap = self.controller.latest
        self._shown_gradient = (snap.generation if snap else 0, snap.step if snap else 0, values)
        if self._gradient_edges:  # only when the user asked for gradient colours (View menu, G)
            self._refresh_diagram(force=True)

    # frames

    @Slot(object)
    def _on_frame(self, snap):
        self._update_status(snap)
        if snap.running and self.step_readout.text() and not self.step_readout.property("hint"):
            self.set_step_readout("")  # the single-step readout is about a step no longer shown
        self._update_first_hint(snap)
        self._update_play(snap.running)
        self._timeline_frame(snap)
        self._refresh_diagram()
        now = time.perf_counter()
        for name, panel in self.panels.items():
            if not (self._dock_shown(name) or self.specs[name].always_feed):
                self._pending.pop(name, None)  # fed the latest snapshot when shown again (the contract)
                continue
            pending = self._pending.pop(name, None)
            if pending is not None and pending.generation == snap.generation:
                snap_for_panel = merge_snapshots(pending, snap)
            else:
                snap_for_panel = snap
            if snap.running and now < self._panel_due.get(name, 0.0) and not self.specs[name].same_frame:
                self._pending[name] = snap_for_panel  # delivered, merged, at the panel's next turn
                continue
            if self.past is not None and name in TIME_PANELS:
                snap_for_panel = self._time_view(snap_for_panel)  # they show the moment chosen
            cpu = time.thread_time()
            self._call(panel, "on_snapshot", snap_for_panel)
            cost = time.thread_time() - cpu
            # While training, a panel whose update costs more than CHEAP_UPDATE_S waits 1 / PANEL_HZ s
            # before its next one: the diagram keeps its frame rate, and training keeps the GIL.
            self._panel_due[name] = now + (1.0 / PANEL_HZ if cost > CHEAP_UPDATE_S else 0.0)

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
        theta = self._past_theta(snap)
        key = (id(theta), id(x), gradient, id(shown), self._wants)
        if key == self._drawn_key and not force:
            return
        self._drawn_key = key
        from digitviz.core.experiments import gradient_edge_values

        net = self._network_for(config)
        if theta is not None:
            net.set_theta(theta)
        edge_values = None
        if gradient and shown is not None:
            edge_values = [np.asarray(v) for v in shown[2]]
        elif gradient:
            edge_values = gradient_edge_values(net.layout, report.grad)
        from digitviz.core.diagram import diagram_state

        top_k = getattr(self.diagram, "top_k", None)
        state = diagram_state(net, x, label, top_k=top_k, edge_values=edge_values, wants=self._wants)
        self.diagram.set_state(state)
        self.diagram_updates = getattr(self, "diagram_updates", 0) + 1

    def _network_for(self, config: TrainConfig) -> Network:
        net = self._net
        if net is None or net.arch_key != config.arch_key:
            net = self._net = Network.from_config(config)  # seeded: the right untrained weights before any snapshot
        return net

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if getattr(self, "presentation", None) is not None and self.presentation.active:
            return  # presentation mode sizes the docks, and puts them back exactly on leaving
        self._regrow_timer.start()  # once the window settles: docks squeezed earlier widen again; tab titles fit

    # closing

    def closeEvent(self, event):
        """Ctrl+Q or the window's close button: asks first, as Reset does, when a trained network is unsaved."""
        if not self._closing and not self._quit_asked and not self._discard_ok("Quit"):
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def quit_without_asking(self):
        """Close now, saving settings and stopping threads, without a question (Ctrl+C in the terminal, SIGTERM)."""
        self._quit_asked = True
        self.close()

    def shutdown(self):
        """Remember the layout and settings, stop every background thread (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self._save_settings()
        shutdown_all(1.0)  # every job of the window and its panels: all cancelled at once, then ≤ 1 s
        for name, panel in self.panels.items():
            if self.specs[name].stoppable:
                self._call(panel, "shutdown")  # panels with background jobs stop their threads
        self.controller.shutdown(2000)


_BLANK = np.zeros(784, np.float32)
_BLANK.flags.writeable = False
