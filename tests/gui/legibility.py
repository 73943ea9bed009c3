"""Legibility checks for the layout test: text that leaves its view, overlaps other text or is clipped.

Each check returns a list of one-line problems (empty: all legible). They look at what is on screen:
pyqtgraph text items (``pg.TextItem``, ``pg.LabelItem``, axis labels and tick labels) in every visible
``QGraphicsView``, and labels, buttons, check boxes and tab titles among the widgets.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QCheckBox,
    QGraphicsView,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTabBar,
    QToolButton,
    QWidget,
)

TOL = 1.0  # px of overlap tolerated (antialiased edges)
TOL_Y = 3.0  # px of vertical overlap tolerated: a text item's line box includes leading above and below the ink
EDGE = 3.0  # px a text's estimated ink may reach past its view's edge (rotated labels' rects are rounded out)


def _name(w) -> str:
    parts = []
    while w is not None and len(parts) < 4:
        if w.objectName():
            parts.append(w.objectName())
        w = w.parentWidget()
    return "/".join(reversed(parts)) or "?"


def shown(w: QWidget) -> bool:
    """On screen: visible, with a size, and not hidden behind a tab (a hidden dock tab's widget is not visible)."""
    return w.isVisible() and w.width() > 0 and w.height() > 0 and not w.visibleRegion().isEmpty()


def _text_rects(view: QGraphicsView) -> list[tuple[str, QRectF]]:
    """Every visible text of the view's scene, as (text, rect in viewport pixels)."""
    out = []
    scene = view.scene()
    if scene is None:
        return out
    for item in scene.items():
        if not item.isVisible() or not _visible_chain(item):
            continue
        if isinstance(item, pg.TextItem):
            text = item.textItem.toPlainText().strip()
            clip = _clip_rect(item)
            if text and (clip is None or clip.intersects(_ink_rect(item.textItem))):  # wholly clipped: not shown
                out.append((text, _to_view(view, _ink_rect(item.textItem))))
        elif isinstance(item, pg.LabelItem):
            text = item.item.toPlainText().strip()
            if text:
                out.append((text, _to_view(view, _ink_rect(item.item))))
        elif isinstance(item, pg.AxisItem):
            out.extend(_axis_texts(view, item))
    return out


def _clip_rect(item):
    """The scene rect of the nearest ancestor that clips its children (a ViewBox), or None."""
    from PySide6.QtWidgets import QGraphicsItem

    parent = item.parentItem()
    while parent is not None:
        if parent.flags() & QGraphicsItem.ItemClipsChildrenToShape:
            return parent.sceneBoundingRect()
        parent = parent.parentItem()
    return None


def _visible_chain(item) -> bool:
    while item is not None:
        if not item.isVisible() or item.opacity() == 0:
            return False
        item = item.parentItem()
    return True


def _ink_rect(text_item) -> QRectF:
    """A QGraphicsTextItem's text in scene coordinates, without the document's margin around it."""
    m = text_item.document().documentMargin()
    r = text_item.boundingRect().adjusted(m, m, -m, -m)
    return text_item.mapRectToScene(r)


def _to_view(view, rect: QRectF) -> QRectF:
    return QRectF(view.mapFromScene(rect).boundingRect())


def _axis_texts(view, axis: pg.AxisItem) -> list[tuple[str, QRectF]]:
    out = []
    if axis.style.get("showValues", True) and axis.width() > 0 and axis.height() > 0:
        img = QImage(8, 8, QImage.Format_ARGB32)
        p = QPainter(img)
        try:
            specs = axis.generateDrawSpecs(p)
        finally:
            p.end()
        if specs is not None:
            for rect, _flags, text in specs[2]:
                # the axis draws the text inside rect; the ink is the text's own width, centred or aligned
                out.append((f"tick {text}", _to_view(view, axis.mapRectToScene(QRectF(rect)))))
    if axis.label.isVisible() and axis.label.toPlainText().strip():
        out.append((axis.label.toPlainText().strip(), _to_view(view, _ink_rect(axis.label))))
    return out


def _ink(text: str, rect: QRectF, view) -> QRectF:
    """A tick label's rect is its cell; its ink is narrower: the text's advance, centred in the cell."""
    if not text.startswith("tick "):
        return rect
    fm = view.fontMetrics()
    w = min(rect.width(), fm.horizontalAdvance(text[5:]) * 1.0)
    return QRectF(rect.center().x() - w / 2, rect.y(), w, rect.height())


def view_problems(view: QGraphicsView, where: str) -> list[str]:
    """Text items of ``view`` that leave its viewport or overlap one another."""
    problems = []
    bounds = QRectF(view.viewport().rect()).adjusted(-EDGE, -EDGE, EDGE, EDGE)
    texts = _text_rects(view)
    for text, r in texts:
        if not bounds.contains(r):
            problems.append(f"{where}: {text[:40]!r} leaves its view ({_fmt(r)} not in {_fmt(bounds)})")
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            (a, ra), (b, rb) = texts[i], texts[j]
            inter = ra.adjusted(TOL, TOL_Y, -TOL, -TOL_Y).intersected(rb.adjusted(TOL, TOL_Y, -TOL, -TOL_Y))
            if inter.width() > 0 and inter.height() > 0 and not (ra.contains(rb) and a.startswith("tick")):
                problems.append(f"{where}: {a[:30]!r} overlaps {b[:30]!r}")
    return problems


def _fmt(r) -> str:
    return f"{r.x():.0f},{r.y():.0f} {r.width():.0f}x{r.height():.0f}"


def widget_problems(root: QWidget) -> list[str]:
    """Labels, buttons and tab titles under ``root`` whose text does not fit the room they have."""
    problems = []
    for w in root.findChildren(QWidget):
        if not shown(w):
            continue
        if isinstance(w, QLabel) and w.text().strip() and w.pixmap().isNull():
            if w.wordWrap():
                need = w.heightForWidth(w.contentsRect().width()) if w.hasHeightForWidth() else w.sizeHint().height()
                if need > w.height() + 2:
                    problems.append(f"{_name(w)}: wrapped label {w.text()[:40]!r} needs {need} px of {w.height()}")
            elif w.sizeHint().width() > w.width() + 1 and not w.property("elided"):
                problems.append(f"{_name(w)}: label {w.text()[:40]!r} needs {w.sizeHint().width()} px of {w.width()}")
        elif isinstance(w, (QPushButton, QCheckBox, QRadioButton)) and w.text().strip():
            need = w.sizeHint().width()
            if need > w.width() + 1:
                problems.append(f"{_name(w)}: {type(w).__name__} {w.text()[:30]!r} needs {need} px of {w.width()}")
        elif isinstance(w, QTabBar):
            bar = w.rect()
            for i in range(w.count()):
                r = w.tabRect(i)
                if w.isTabVisible(i) and (r.left() < bar.left() or r.right() > bar.right() + 1):
                    problems.append(f"{_name(w)}: tab {w.tabText(i)!r} is cut off ({r} in {bar})")
                fm = w.fontMetrics()
                if w.elideMode() == 0 and fm.horizontalAdvance(w.tabText(i)) > r.width():  # Qt.ElideNone
                    problems.append(f"{_name(w)}: tab title {w.tabText(i)!r} does not fit")
    return problems


def scroll_problems(root: QWidget) -> list[str]:
    """Scroll areas that need a horizontal scrollbar."""
    out = []
    for s in root.findChildren(QAbstractScrollArea):
        if isinstance(s, QGraphicsView) or not shown(s):
            continue
        if isinstance(s, QScrollArea) and s.horizontalScrollBar().maximum() > 0:
            inner = s.widget()
            need = inner.minimumSizeHint().width() if inner else "?"
            out.append(
                f"{_name(s)}: needs a horizontal scrollbar (content {need} px wide, room {s.viewport().width()} px)"
            )
    return out


def graphics_problems(root: QWidget) -> list[str]:
    out = []
    for v in root.findChildren(QGraphicsView):
        if shown(v):
            out.extend(view_problems(v, _name(v)))
    return out


def all_problems(root: QWidget, scroll: bool = True) -> list[str]:
    return graphics_problems(root) + widget_problems(root) + (scroll_problems(root) if scroll else [])


__all__ = [
    "all_problems",
    "graphics_problems",
    "scroll_problems",
    "shown",
    "view_problems",
    "widget_problems",
    "QAbstractButton",
    "QRect",
    "QToolButton",
]
