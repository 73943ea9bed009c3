"""Banners: a one-line message above the diagram with a few buttons and a close cross; and the one way
the window shows progress with Cancel (:func:`progress_dialog`).

The window has two: the data banner (no MNIST yet: Download, Open folder) and the alert (training
diverged, a file could not be read: Reset the network). Text is rich text: escape it with :func:`escape`.

Imports: PySide6 only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressDialog, QPushButton, QToolButton


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


def escape(text: str) -> str:
    """Plain text made safe for a rich-text label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def progress_dialog(text, title, maximum, parent, value=0, on_cancel=None) -> QProgressDialog:
    """A progress dialog with Cancel, shown at once at ``value`` of ``maximum``, that stays open at the end
    (its owner closes it: the work may still have a last step after the bar is full)."""
    dlg = QProgressDialog(text, "Cancel", 0, max(1, int(maximum)), parent)
    dlg.setWindowTitle(title)
    dlg.setMinimumDuration(0)
    dlg.setAutoClose(False)
    dlg.setAutoReset(False)
    dlg.setValue(value)
    if on_cancel is not None:
        dlg.canceled.connect(on_cancel)
    dlg.show()
    return dlg
