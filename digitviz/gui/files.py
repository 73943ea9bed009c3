"""The main window's files: save and load a network (.npz, no pickle), export the diagram as PNG, run
settings (JSON), recordings (GIF/MP4, :mod:`digitviz.gui.recorder`), plots as PNG/SVG and curves as CSV.

:class:`FilesMixin` is part of :class:`~digitviz.gui.main_window.MainWindow` (it uses its
``controller``, ``diagram``, ``alert`` banner and ``_discard_ok``). Every failure is one line in the
alert banner, never a traceback.

Imports: PySide6, :mod:`digitviz.core.persist` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QSpinBox,
)

from digitviz import __version__
from digitviz.core import datasets
from digitviz.core.network import Network

from .banners import escape


def _svg_of(item, path) -> None:
    """``item``'s part of its scene as SVG, drawn by Qt's own SVG generator."""
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    r = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(int(r.width()), int(r.height())))
    gen.setViewBox(QRectF(0, 0, r.width(), r.height()))
    gen.setTitle("digitviz plot")
    painter = QPainter(gen)
    try:
        item.scene().render(painter, QRectF(0, 0, r.width(), r.height()), r)
    finally:
        painter.end()
    if not Path(path).is_file():
        raise OSError(f"could not write {path}")


@contextlib.contextmanager
def _hint_hidden(diagram):
    """The diagram without its hover hint line (an exported picture has no mouse over it)."""
    info = getattr(diagram, "_info", None)
    shown = info is not None and info.isVisible()
    if shown:
        info.setVisible(False)
    try:
        yield
    finally:
        if shown:
            info.setVisible(True)


class FilesMixin:
    """File menu: save, load, export and their dialogs."""

    def save_network(self, path) -> Path | None:
        from digitviz.core.persist import save_network

        snap = self.controller.latest
        if snap is None:
            return None
        net = Network.from_config(snap.config, snap.theta)
        meta = dict(
            step=snap.step,
            epoch=snap.epoch,
            examples_seen=snap.examples_seen,
            test_acc=None if math.isnan(snap.test_acc) else snap.test_acc,
            app=f"digitviz {__version__}",
        )
        if self.dataset is not None:
            meta["dataset"] = datasets.of(self.dataset).key
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
        self.controller.load(net, config, meta)
        gen = self.controller.generation + 1
        step = meta.get("step")
        self._saved_mark = (gen, step if isinstance(step, int) else 0)  # the worker continues the file's count
        trained_on = meta.get("dataset")
        note = ""
        if (
            trained_on in datasets.DATASETS
            and self.dataset is not None
            and datasets.info(trained_on).kind != datasets.of(self.dataset).kind
        ):
            note = f"; trained on {datasets.info(trained_on).title}, {datasets.of(self.dataset).title} is loaded"
        self.statusBar().showMessage(
            f"Loaded {Path(path).name}" + (f" (trained {step:,} steps)" if step else "") + note, 8000
        )
        return True

    def export_png(self, path) -> bool:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        with _hint_hidden(self.diagram):
            ok = self.diagram.grab().save(str(path), "PNG")
        if ok:
            self.statusBar().showMessage(f"Saved the diagram to {path}", 6000)
        else:
            self._error(f"Could not write {path}")
        return ok

    def save_network_dialog(self):
        snap = self.controller.latest
        name = f"digitviz-step{snap.step if snap else 0}.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save network", str(Path.home() / name), "digitviz network (*.npz)")
        if path:
            self.save_network(path)

    def load_network_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Load network", str(Path.home()), "digitviz network (*.npz)")
        if path:
            self.load_network(path)

    def export_png_dialog(self):
        path, _ = QFileDialog.getSaveFileName(
            self, "Export diagram", str(Path.home() / "digitviz.png"), "PNG image (*.png)"
        )
        if path:
            self.export_png(path)

    def _error(self, message):
        """One line, no traceback: in the alert banner (non-modal)."""
        self.alert_reset.hide()
        self.alert_restore.hide()
        self.alert.show_text(escape(message))

    # --- issue 13: downloads of the other datasets, run settings, recording, plot and CSV export ---

    def download_fashion(self):
        self.download_mnist(dataset="fashion")

    def download_kmnist(self):
        self.download_mnist(dataset="kmnist")

    def _record_actions(self) -> list:
        """The File menu's entries of this block (actions.py places them)."""
        self.act_save_run = self._action(
            "Save Run Settings…",
            "save_run_settings_dialog",
            "Save the preset, every setting, the seed and the dataset: the same "
            "run, step for step, with `digitviz --run FILE` or Open Run Settings",
        )
        self.act_open_run = self._action(
            "Open Run Settings…", "open_run_settings_dialog", "Start over with the settings of a saved run"
        )
        self.act_record = self._action(
            "Record…",
            "toggle_recording",
            "Record the diagram or the window while training, or a replay of the timeline, as a GIF or an MP4",
        )
        self.act_export_plot = self._action(
            "Export Plot…", "export_plot_dialog", "Save a plot as PNG (any resolution) or SVG, or its curves as CSV"
        )
        self.act_export_runs = self._action(
            "Export Runs as CSV…", "export_runs_dialog", "The kept runs: settings and accuracies, one row each"
        )
        return [
            None,
            self.act_save_run,
            self.act_open_run,
            None,
            self.act_record,
            self.act_export_plot,
            self.act_export_runs,
        ]

    # run settings

    def save_run_settings(self, path) -> Path | None:
        from digitviz.core.runfile import save_run

        snap = self.controller.latest
        config = snap.config if snap is not None else self.controller.config
        try:
            out = save_run(path, config, dataset=datasets.of(self.dataset).key)
        except OSError as e:
            self._error(f"Could not save the run settings: {e.strerror or e}")
            return None
        self.statusBar().showMessage(f"Saved the run settings to {out}", 6000)
        return out

    def open_run_settings(self, path) -> bool:
        """Start over with a run file's settings (asks before losing a trained run)."""
        from digitviz.core.runfile import RunFileError, load_run

        try:
            run = load_run(path)
        except RunFileError as e:
            self._error(f"Could not open the run settings: {e}")
            return False
        return self.apply_run(run, Path(path).name)

    def apply_run(self, run, name="") -> bool:
        if not self._discard_ok("Opening run settings"):
            return False
        self.alert.hide()
        if "settings" in self.panels:
            self._call(self.panels["settings"], "set_config", run.config)
        self.controller.reset(run.config)
        have = datasets.of(self.dataset) if self.dataset is not None else None
        note = ""
        if have is not None and have.key != run.dataset:
            note = f"; it was trained on {datasets.info(run.dataset).title}, {have.title} is loaded"
        self.statusBar().showMessage(f"Run settings {name} applied{note}", 8000)
        return True

    def save_run_settings_dialog(self):
        path, _ = QFileDialog.getSaveFileName(
            self, "Save run settings", str(Path.home() / "digitviz-run.json"), "digitviz run settings (*.json)"
        )
        if path:
            self.save_run_settings(path)

    def open_run_settings_dialog(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Open run settings", str(Path.home()), "digitviz run settings (*.json)"
        )
        if path:
            self.open_run_settings(path)

    # recording

    def _recorder(self):
        rec = getattr(self, "recorder", None)
        if rec is None:
            from .recorder import Recorder

            rec = self.recorder = Recorder(self.controller, self)
            rec.finished.connect(lambda p: self.statusBar().showMessage(f"Saved the recording to {p}", 8000))
            rec.failed.connect(lambda m: self._error(f"Recording: {m}"))
            rec.state.connect(lambda on: self.act_record.setText("Stop Recording" if on else "Record…"))
        return rec

    def start_recording(self, path, target="diagram", every=10, fps=15.0) -> bool:
        """Record ``target`` ("diagram" or "window") into ``path`` (.gif/.mp4) every ``every`` steps."""
        widget = self if target == "window" else self.diagram
        why = self._recorder().start(widget, path, every=every, fps=fps)
        if why:
            self._error(f"Cannot record: {why}")
            return False
        self.statusBar().showMessage(
            f"Recording to {path}: one frame every {every} steps; File ▸ Stop Recording ends it", 8000
        )
        return True

    def stop_recording(self):
        rec = getattr(self, "recorder", None)
        if rec is not None:
            rec.stop()

    def toggle_recording(self):
        rec = getattr(self, "recorder", None)
        if rec is not None and rec.recording:
            rec.stop()
        else:
            self.record_dialog()

    def record_dialog(self):
        from digitviz.core import record

        from .recorder import RecordDialog

        dlg = RecordDialog(self, self.controller.timeline_steps(), record.missing_for("mp4"))
        if dlg.exec() != QDialog.Accepted:
            return
        c = dlg.choice()
        kind = "MP4 video" if c.fmt == "mp4" else "Animated GIF"
        name = f"digitviz-replay.{c.fmt}" if c.replay else f"digitviz.{c.fmt}"
        path, _ = QFileDialog.getSaveFileName(self, "Record to", str(Path.home() / name), f"{kind} (*.{c.fmt})")
        if not path:
            return
        if not path.lower().endswith(f".{c.fmt}"):
            path += f".{c.fmt}"
        if c.replay:
            self.record_replay(
                path, c.target, c.fps, moments_per_s=c.moments_per_s, duration_s=c.duration_s, measure=c.measure
            )
        else:
            self.start_recording(path, c.target, c.every, c.fps)

    # plots

    def plot_items(self) -> dict:
        """Every pyqtgraph plot on screen, by "<dock title>: <plot title>"."""
        import pyqtgraph as pg

        found = {}
        for name, panel in self.panels.items():
            title = self.docks[name].windowTitle() if name in self.docks else name
            views = panel.findChildren(pg.GraphicsView)
            for view in views:
                for item in view.scene().items():
                    if isinstance(item, pg.PlotItem):
                        label = item.titleLabel.text if item.titleLabel.text else f"plot {len(found) + 1}"
                        key = f"{title}: {label}"
                        while key in found:
                            key += "'"
                        found[key] = item
        return found

    def export_plot(self, item, path, width: int | None = None) -> Path | None:
        """``item`` (a PlotItem) as PNG (``width`` pixels wide), SVG, or its curves as CSV, by suffix."""
        import pyqtgraph.exporters as pge

        from digitviz.core.export import write_columns_csv

        path = Path(path)
        suffix = path.suffix.lower()
        try:
            if suffix == ".csv":
                cols = {}
                for k, curve in enumerate(item.listDataItems()):
                    x, y = curve.getData()
                    if x is None:
                        continue
                    name = curve.name() or f"curve {k + 1}"
                    cols[f"{name} x"], cols[f"{name} y"] = x, y
                return write_columns_csv(path, cols)
            if suffix == ".svg":
                try:
                    pge.SVGExporter(item).export(str(path))
                except ValueError:  # pyqtgraph 0.14 cannot parse Qt 6.11's SVG paths ("M x y"): Qt's own
                    _svg_of(item, path)
            else:
                if suffix != ".png":
                    path = path.with_suffix(".png")
                ex = pge.ImageExporter(item)
                if width:
                    ex.parameters()["width"] = int(width)
                ex.export(str(path))
        except (OSError, ValueError, RuntimeError) as e:
            self._error(f"Could not export the plot: {e}")
            return None
        self.statusBar().showMessage(f"Saved the plot to {path}", 6000)
        return path

    def export_plot_dialog(self):
        items = self.plot_items()
        if not items:
            self._error("No plot to export")
            return
        dlg = QDialog(self)
        dlg.setWindowTitle("Export plot")
        form = QFormLayout(dlg)
        which = QComboBox()
        which.addItems(list(items))
        fmt = QComboBox()
        fmt.addItems(["PNG image", "SVG drawing", "CSV of its curves"])
        width = QSpinBox()
        width.setRange(100, 8000)
        width.setValue(1600)
        width.setSuffix(" px wide")
        form.addRow("Plot", which)
        form.addRow("As", fmt)
        form.addRow("PNG size", width)
        fmt.currentIndexChanged.connect(lambda i: width.setEnabled(i == 0))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        if dlg.exec() != QDialog.Accepted:
            return
        ext = ("png", "svg", "csv")[fmt.currentIndex()]
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", str(Path.home() / f"digitviz-plot.{ext}"), f"{fmt.currentText()} (*.{ext})"
        )
        if path:
            if not path.lower().endswith(f".{ext}"):
                path += f".{ext}"
            self.export_plot(items[which.currentText()], path, width.value())

    def export_runs(self, path) -> Path | None:
        """The kept runs of the learning-curves panel (and the live one), one CSV row each."""
        from digitviz.core.export import write_rows_csv

        rows = []
        for run in getattr(self.panels.get("curves"), "runs", []):
            ep = np.asarray(run.epochs)
            rows.append(
                dict(
                    run=run.number,
                    name=run.name,
                    epochs_done=len(ep),
                    final_test_pct=float(ep[-1, 2]) if len(ep) else None,
                    best_test_pct=float(ep[:, 2].max()) if len(ep) else None,
                    **run.config.to_dict(),
                )
            )
        snap = self.controller.latest
        if snap is not None:
            acc = None if math.isnan(snap.test_acc) else 100 * snap.test_acc
            rows.append(
                dict(
                    run="live",
                    name="current run",
                    epochs_done=snap.epoch,
                    final_test_pct=acc,
                    step=snap.step,
                    **snap.config.to_dict(),
                )
            )
        try:
            out = write_rows_csv(path, rows)
        except OSError as e:
            self._error(f"Could not export the runs: {e.strerror or e}")
            return None
        self.statusBar().showMessage(f"Saved {len(rows)} run(s) to {out}", 6000)
        return out

    def export_runs_dialog(self):
        path, _ = QFileDialog.getSaveFileName(
            self, "Export runs", str(Path.home() / "digitviz-runs.csv"), "CSV (*.csv)"
        )
        if path:
            self.export_runs(path)
