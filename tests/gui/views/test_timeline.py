"""views/timeline.py: the bar under the diagram never holds the window's middle wider than it has room for."""

from PySide6.QtWidgets import QWidget

from digitviz.gui.views.timeline import TimelineBar

from .. import legibility


def test_a_narrow_bar_puts_its_text_and_buttons_on_a_second_row(qtbot):
    bar = TimelineBar()
    qtbot.addWidget(bar)
    bar.set_points(30)
    bar.set_text("now: step 30 · 31 moments kept")
    one_row = sum(w.sizeHint().width() for w in bar.findChildren(QWidget))  # its parts side by side
    # its minimum is the two-row width: the docks beside the diagram keep their share of a 1024 px window
    assert bar.minimumSizeHint().width() < 0.8 * one_row
    bar.resize(bar.minimumSizeHint().width(), 80)
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.waitUntil(lambda: bar.text.y() > bar.slider.y() + bar.slider.height() // 2)  # below the slider
    assert not legibility.widget_problems(bar)
    bar.resize(one_row + 40, 40)
    qtbot.waitUntil(lambda: abs(bar.text.y() - bar.slider.y()) < bar.slider.height())  # one row again
    assert not legibility.widget_problems(bar)
