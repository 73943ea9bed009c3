"""Issue 12: in presentation mode every view stays legible and unclipped at 1280x720 and at 1920x1080.

The window (on toy data, after a few steps, with the app's own theme) enters presentation mode on a
screen of each size. Then every panel presentation mode can show is brought to the front the way Show me
does it (every Experiments and Draw & move tab included), and every tour chapter's Show me is played. After
each, no text may leave its view or overlap other text, no label, button or tab title may be cut, and no
dock may need a horizontal scrollbar (the checks of tests/gui/legibility.py, as in test_layout.py).
"""

import pytest
from PySide6.QtCore import QRect

from digitviz.core import tour

from . import legibility

SIZES = [(1280, 720), (1920, 1080)]
A, B = (1280, 720), (1920, 1080)


def _fronts(w):
    """(name, bring it to the front as Show me does) for the tour alone and every panel, tabs included."""
    out = [("lesson", lambda: w.driver.raise_panel("lesson"))]
    for name, panel in w.panels.items():
        if name == "lesson":
            continue
        out.append((name, lambda n=name: w.driver.raise_panel(n)))
        tabs = getattr(panel, "tabs", None)
        if tabs is not None and hasattr(panel, "show_tab"):
            for i in range(1, tabs.count()):
                out.append(
                    (
                        f"{name}/{tabs.tabText(i)}",
                        lambda n=name, i=i, t=tabs: (w.driver.raise_panel(n), t.setCurrentIndex(i)),
                    )
                )
    return out


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    from PySide6.QtCore import QSettings

    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow

    from . import FAST, ToyData

    style, sheet = qapp.style().name(), qapp.styleSheet()
    make_app()  # as the app looks: its style and stylesheet (fonts, paddings)
    settings = QSettings(str(tmp_path_factory.mktemp("present") / "digitviz.ini"), QSettings.IniFormat)
    w = MainWindow(data=ToyData(), config=FAST, settings=settings)
    w.confirm = lambda title, text: True
    w.speed.setValue(w.speed.maximum())
    w.resize(1280, 800)
    w.show()
    yield w
    w.presentation.leave()
    w.quit_without_asking()
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)


def _settle(qtbot, w):
    """Presentation mode's dock layout, and the text fitted to it, all done."""
    from PySide6.QtWidgets import QApplication

    qtbot.waitUntil(w.presentation.settled, timeout=10000)
    for _ in range(3):  # a resize fits text, which may lay out again
        QApplication.processEvents()
    qtbot.waitUntil(w.presentation.settled, timeout=10000)


def _idle(w):
    snap = w.controller.latest
    return snap is not None and not snap.running and not w.controller.running


def _present(qtbot, w, width, height):
    w.presentation.leave()
    w.presentation.screen_rect = lambda: QRect(0, 0, width, height)
    w.presentation.enter()
    from PySide6.QtWidgets import QApplication

    for _ in range(5):  # full screen arrives late: on the offscreen platform, as its 800x800 screen ...
        QApplication.processEvents()
    w.resize(width, height)  # ... which is smaller than a projector's
    qtbot.waitUntil(lambda: (w.width(), w.height()) == (width, height), timeout=10000)
    _settle(qtbot, w)


@pytest.mark.parametrize("size", SIZES, ids=[f"{a}x{b}" for a, b in SIZES])
def test_every_panel_in_front_is_legible_in_presentation_mode(window, qtbot, size):
    w = window
    if w.controller.latest is None or w.controller.latest.step < 30:
        w.controller.worker.step(30)
        qtbot.waitUntil(
            lambda: w.controller.latest is not None and w.controller.latest.step >= 30 and _idle(w), timeout=10000
        )
    _present(qtbot, w, *size)
    assert w.presentation.active and not w.timeline_bar.isVisible()
    problems = []
    for name, front in _fronts(w):
        front()
        _settle(qtbot, w)
        assert w.docks["lesson"].isVisible(), name
        found = legibility.all_problems(w, scroll=True)
        problems += [f"{size[0]}x{size[1]} {name}: {p}" for p in found]
    problems = sorted(set(problems))
    assert not problems, f"{len(problems)} legibility problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("size", SIZES, ids=[f"{a}x{b}" for a, b in SIZES])
def test_every_chapters_show_me_is_legible_in_presentation_mode(window, qtbot, size):
    w = window
    lesson, claims = w.panels["lesson"], w.panels.get("claims")
    _present(qtbot, w, *size)
    problems = []
    for i, ch in enumerate(tour.CHAPTERS):
        lesson.go(i)
        assert lesson.show_me(), ch.id
        if ch.id == "learn":  # Show me plays: a few steps are enough to look at
            qtbot.waitUntil(lambda: w.controller.latest.step > 0, timeout=5000)
            w.controller.pause()
        qtbot.waitUntil(lambda: _idle(w), timeout=10000)
        if claims is not None:
            qtbot.waitUntil(lambda: not claims.draw.running, timeout=20000)  # chapter 7 draws a 3
        _settle(qtbot, w)
        assert w.presentation.active and w.docks["lesson"].isVisible(), ch.id
        found = legibility.all_problems(w, scroll=True)
        where = f"chapter {i + 1} ({ch.id})"
        problems += [f"{size[0]}x{size[1]} {where}: {p}" for p in found]
    problems = sorted(set(problems))
    assert not problems, f"{len(problems)} legibility problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("size", SIZES, ids=[f"{a}x{b}" for a, b in SIZES])
def test_the_step_readout_is_whole_and_on_screen_in_presentation_mode(window, qtbot, size):
    # it was listed as known: no room in the toolbar; it now moves to the status bar when the toolbar is short
    w = window
    _present(qtbot, w, *size)
    qtbot.waitUntil(lambda: _idle(w), timeout=10000)
    with qtbot.waitSignal(w.controller.step_reported, timeout=10000) as blocker:
        w.step_once()  # the readout may still show an earlier step's text: this step's own report
    r = blocker.args[0].step_report
    qtbot.waitUntil(lambda: _idle(w), timeout=10000)
    qtbot.waitUntil(lambda: f"{r.cost_after:.4f}" in w.step_readout.text(), timeout=5000)
    _settle(qtbot, w)
    label = w.step_readout
    assert w.presentation.active
    assert legibility.shown(label)
    assert f"{r.cost_before:.4f}" in label.text() and f"{r.cost_after:.4f}" in label.text()
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    corner = label.mapTo(w, label.rect().bottomRight())
    assert corner.x() <= w.width() and corner.y() <= w.height()
    assert not legibility.widget_problems(w.toolbar) and not legibility.widget_problems(w.statusBar())


def test_a_label_styled_while_presenting_is_as_large_and_comes_back_normal(window, qtbot):
    from PySide6.QtWidgets import QLabel

    from digitviz.gui import style

    w = window
    w.presentation.leave()
    before = QLabel("before", w.panels["input"])
    before.setStyleSheet(style.text_style("#ffffff", 10))
    _present(qtbot, w, 1280, 720)
    assert "font-size: 13.5pt" in before.styleSheet()  # scaled on entering
    before.setStyleSheet(style.text_style("#ff0000", 10))  # a panel restyles it while presenting
    assert "font-size: 13.5pt" in before.styleSheet()  # text_style reads the presentation scale
    w.presentation.leave()
    assert style.font_scale() == 1.0
    assert "font-size: 10pt" in before.styleSheet()  # restyled while presenting: back to its normal size
    assert "font-size: 10pt" in style.text_style("#ffffff", 10)
    before.deleteLater()


def test_plots_get_larger_tick_labels_and_fewer_of_them_and_back(window, qtbot):
    import pyqtgraph as pg

    w = window
    w.presentation.leave()
    w.driver.raise_panel("curves")
    axis = w.panels["curves"].findChildren(pg.GraphicsView)[0].scene().items()
    axis = next(a for a in axis if isinstance(a, pg.AxisItem))
    font, density = axis.style.get("tickFont"), axis._tickDensity
    _present(qtbot, w, 1280, 720)
    w.driver.raise_panel("curves")
    _settle(qtbot, w)
    assert axis.style["tickFont"].pointSizeF() > (font.pointSizeF() if font is not None else 9.0)
    assert axis._tickDensity < density
    w.presentation.leave()
    assert axis.style.get("tickFont") == font and axis._tickDensity == density
