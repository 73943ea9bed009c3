"""The main window's files: save and load a network (.npz, no pickle), export the diagram as PNG.

:class:`FilesMixin` is part of :class:`~digitviz.gui.main_window.MainWindow` (it uses its
``controller``, ``diagram``, ``alert`` banner and ``_discard_ok``). Every failure is one line in the
alert banner, never a traceback.

Imports: PySide6, :mod:`digitviz.core.persist` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from digitviz import __version__
from digitviz.core.network import Network

from .banners import escape


class FilesMixin:
    """File menu: save, load, export and their dialogs."""

    def save_network(self, path) -> Path | None:
        from digitviz.core.persist import save_network

        snap = self.controller.latest
        if snap is None:
            return None
        net = Network.from_config(snap.config, snap.theta)
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
        self.controller.load(net, config, meta)
        gen = self.controller.generation + 1
        step = meta.get("step")
        self._saved_mark = (gen, step if isinstance(step, int) else 0)  # the worker continues the file's count
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
        self.alert_restore.hide()
        self.alert.show_text(escape(message))
