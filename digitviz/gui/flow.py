"""``FlowLayout``: a row of widgets that wraps onto more lines when the room is narrow.

Button bars use it so that a narrow dock shows its buttons on two lines instead of cutting them
off or asking for a horizontal scrollbar: its minimum width is its widest item, not the row's sum.

Imports: PySide6 only.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    """Left-to-right items, wrapped at the layout's width (height follows: ``hasHeightForWidth``)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4, margin: int = 0):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(margin, margin, margin, margin)

    def addItem(self, item: QLayoutItem):
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i: int):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i: int):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect):
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """One line: every item side by side."""
        items = self._shown()
        m = self.contentsMargins()
        w = sum(i.sizeHint().width() for i in items) + self._spacing * max(0, len(items) - 1)
        h = max((i.sizeHint().height() for i in items), default=0)
        return QSize(w + m.left() + m.right(), h + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        """The widest item: everything else wraps."""
        m = self.contentsMargins()
        size = QSize()
        for i in self._shown():
            size = size.expandedTo(i.minimumSize().expandedTo(i.sizeHint()))
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _shown(self):
        return [i for i in self._items if not (i.widget() is not None and i.widget().isHidden())]

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h = r.x(), r.y(), 0
        for item in self._shown():
            hint = item.sizeHint()
            if x > r.x() and x + hint.width() > r.right() + 1:
                x, y, line_h = r.x(), y + line_h + self._spacing, 0
            if move:
                w = min(hint.width(), r.width())
                item.setGeometry(QRect(QPoint(x, y), QSize(w, hint.height())))
            x += hint.width() + self._spacing
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y() + m.bottom()


def flow_row(*widgets: QWidget, spacing: int = 4) -> QWidget:
    """A widget holding ``widgets`` in a :class:`FlowLayout` (a wrapping row)."""
    holder = QWidget()
    holder.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
    lay = FlowLayout(holder, spacing=spacing)
    for w in widgets:
        lay.addWidget(w)
    return holder
