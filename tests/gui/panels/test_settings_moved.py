"""Settings panel: the "moved digits" options apply live; the book preset is offered."""

from dataclasses import replace

from digitviz.core.training import PRESETS
from digitviz.gui.panels.settings import SettingsPanel


def test_moved_digit_options_apply_live_and_follow_the_config(qtbot):
    w = SettingsPanel()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.live_changed) as blocker:
        w.shift.setValue(3)
    assert blocker.args[0] == {"shift_px": 3} and w.config.shift_px == 3
    with qtbot.waitSignal(w.live_changed) as blocker:
        w.rotate.setValue(15)
    assert blocker.args[0] == {"rotate_deg": 15.0}
    w.set_config(replace(PRESETS["lesson"], shift_px=2, rotate_deg=10.0))
    assert (w.shift.value(), w.rotate.value()) == (2, 10)
    assert w.preset.findData("book") >= 0
    w.set_config(PRESETS["book"])
    assert w.preset.currentData() == "book"


def test_run_names_say_when_a_run_trained_on_moved_digits():
    from digitviz.gui.panels.curves import run_name

    moved = replace(PRESETS["lesson"], shift_px=3, rotate_deg=15.0)
    assert run_name(1, moved).endswith("batch 10, moved ±3 px ±15°")
    assert "moved" not in run_name(1, PRESETS["lesson"])
