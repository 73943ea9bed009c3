"""Every shortcut: one table, one meaning per key, window-wide, listed by F1 in one window; each pressed."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QDialog,
    QFileDialog,
    QWidget,
)

from digitviz.gui import shortcuts
from digitviz.gui.actions import shortcut_rows
from digitviz.gui.main_window import MainWindow
from digitviz.gui.panels import PANELS, spec
from digitviz.gui.shortcuts import SHORTCUTS, Shortcut


def test_every_key_has_one_meaning():
    seen = {}
    for s in SHORTCUTS:
        for k in s.keys:
            norm = QKeySequence(k).toString(QKeySequence.PortableText)
            assert norm, f"{k!r} is not a key sequence"
            assert norm not in seen, f"{norm} means both {seen[norm]!r} and {s.text!r}"
            seen[norm] = s.text
    assert "G" in seen and "Ctrl+G" in seen  # Gaussian noise and gradient colours: two keys now


def test_every_entry_resolves(qapp):
    for s in SHORTCUTS:
        if s.owner == "window":
            assert callable(getattr(MainWindow, s.slot)), s
        elif s.owner == "dock":
            spec(s.slot)
        else:
            assert callable(getattr(spec(s.owner).panel_class(), s.slot)), s
    assert {s.slot for s in SHORTCUTS if s.owner == "dock"} == {p.name for p in PANELS}
    with pytest.raises(KeyError):
        shortcuts.keys_for("input", "no_such_method")
    with pytest.raises(AttributeError):  # a table entry the widget lacks breaks at install
        table = shortcuts.SHORTCUTS
        try:
            shortcuts.SHORTCUTS = (*table, Shortcut(("F12",), "x", "nothing", "missing"))
            shortcuts.install(QWidget(), "nothing")
        finally:
            shortcuts.SHORTCUTS = table


def check_f1_lists_every_shortcut_in_one_window(w, qtbot):
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    for _ in range(3):
        qtbot.keyClick(w.diagram, Qt.Key_F1)
    dialogs = [d for d in w.findChildren(QDialog) if d.objectName() == "shortcutsDialog"]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    table = dialogs[0].findChild(QWidget, "shortcutsTable")
    rows = [(table.item(i, 0).text(), table.item(i, 1).text()) for i in range(table.rowCount())]
    assert rows == shortcut_rows() and len(rows) == len(SHORTCUTS)
    assert ("Input: Gaussian noise", "G") in rows and ("Play / pause training", "Space") in rows
    dialogs[0].reject()
    assert not dialogs[0].isVisible()
    assert w.show_shortcuts() is dialogs[0] and dialogs[0].isVisible()


def focus_target(w, name):
    """The widget to give focus in a dock: a spin box if it has one (the hardest case), else any focusable."""
    if name == "diagram":
        return w.diagram
    panel = w.panels[name]
    kids = [
        c
        for c in panel.findChildren(QWidget)
        if c.focusPolicy() != Qt.NoFocus and c.isVisibleTo(panel) and c.isEnabled()
    ]
    spins = [c for c in kids if isinstance(c, QAbstractSpinBox)]
    if spins:
        return spins[0]
    if kids:
        return kids[0]
    panel.setFocusPolicy(Qt.StrongFocus)
    return panel


FIELD_KEYS = {"Right", "Shift+Right"}  # a spin box keeps its arrows


PLACES = ["diagram", *[p.name for p in PANELS]]


def test_each_shortcut_works_with_focus_in_each_dock(make_window, qtbot, monkeypatch, qtlog):
    """Every key of the table, pressed with focus in the diagram and in each dock (one window: it is slow to make)."""
    w = make_window()
    closes = []
    monkeypatch.setattr(w, "close", lambda: closes.append(1))  # Ctrl+Q is pressed many times
    for where in PLACES:
        press_every_shortcut(w, qtbot, monkeypatch, where, closes)
    check_f1_lists_every_shortcut_in_one_window(w, qtbot)
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]


def press_every_shortcut(w, qtbot, monkeypatch, where, closes):
    calls = []
    for name in ("getExistingDirectory", "getOpenFileName", "getSaveFileName"):
        empty = "" if name == "getExistingDirectory" else ("", "")
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, _n=name, _e=empty, **k: calls.append(_n) or _e))
    probe = w.panels["probe"]
    monkeypatch.setattr(probe, "probe_now", lambda: calls.append("probe") or True)
    inp = w.panels["input"]
    c = w.controller

    def focus():
        if where != "diagram":
            w.show_dock(where)
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=2000)
        target = focus_target(w, where)
        target.setFocus(Qt.OtherFocusReason)
        qtbot.waitUntil(target.hasFocus, timeout=2000)
        return target

    def press(keys, target):
        assert QApplication.activeWindow() is w and target.hasFocus(), (where, keys)  # the key goes where we say
        comb = QKeySequence(keys)[0]
        qtbot.keyClick(target, comb.key(), comb.keyboardModifiers())

    def idle():
        qtbot.waitUntil(lambda: not c.latest.running and not c.running, timeout=10000)

    for s in SHORTCUTS:
        for keys in s.keys:
            target = focus()
            in_field = isinstance(target, QAbstractSpinBox)
            key = (s.owner, s.slot)
            if in_field and keys in FIELD_KEYS:
                step = c.latest.step
                with qtbot.assertNotEmitted(w.act_step.triggered), qtbot.assertNotEmitted(w.act_epoch.triggered):
                    press(keys, target)
                assert c.latest.step == step
                continue
            if key == ("window", "toggle_play"):
                press(keys, target)
                qtbot.waitUntil(lambda: c.running, timeout=3000)
                press(keys, focus())
                idle()
            elif key == ("window", "step_once"):
                step = c.latest.step
                press(keys, target)
                qtbot.waitUntil(lambda n=step: c.latest.step == n + 1, timeout=3000)
                idle()
            elif key == ("window", "step_epoch"):
                epochs = len(c.latest.epochs)
                press(keys, target)
                qtbot.waitUntil(lambda n=epochs: len(c.latest.epochs) == n + 1, timeout=10000)
                idle()
            elif key == ("window", "reset_network"):
                gen = c.generation
                press(keys, target)
                qtbot.waitUntil(lambda g=gen: c.generation == g + 1, timeout=3000)
            elif key in (
                ("window", "open_data_folder"),
                ("window", "save_network_dialog"),
                ("window", "load_network_dialog"),
                ("window", "export_png_dialog"),
                ("input", "open_image_dialog"),
            ):
                n = len(calls)
                press(keys, target)
                assert len(calls) == n + 1  # the file dialog was asked for
            elif key == ("window", "close"):
                n = len(closes)
                press(keys, target)
                assert len(closes) == n + 1
            elif key == ("window", "set_gradient_edges"):
                on = w.act_gradient.isChecked()
                press(keys, target)
                assert w.act_gradient.isChecked() != on and w._gradient_edges != on
            elif key == ("window", "set_wants_mode"):
                on = w.act_wants.isChecked()
                press(keys, target)
                assert w.act_wants.isChecked() != on and w._wants != on
            elif key == ("window", "show_shortcuts"):
                press(keys, target)
                assert w.shortcuts_dialog.isVisible()
                w.shortcuts_dialog.reject()
            elif key == ("input", "clear"):
                inp.canvas.canvas[100:140, 100:140] = 1.0
                inp.canvas._touch()
                press(keys, target)
                assert inp.canvas.is_empty and inp.source == "drawing"
            elif key == ("input", "undo"):
                press(keys, target)
                assert not inp.canvas.is_empty  # the clear above is undone
            elif key in (("input", "show_uniform_noise"), ("input", "show_gaussian_noise"), ("input", "show_blank")):
                n = inp.noise_count
                press(keys, target)
                kind = s.slot.removeprefix("show_").removesuffix("_noise")
                assert inp.source == "noise" and inp.noise_count == n + 1 and inp._noise_kind == kind
            elif key == ("input", "next_test_digit"):
                i = inp.test_index
                press(keys, target)
                assert inp.source == "test" and inp.test_index == (i + 1) % len(inp._test_X)
            elif key == ("input", "previous_test_digit"):
                inp.show_test_digit(5)
                press(keys, target)
                assert inp.source == "test" and inp.test_index == 4
            elif key in (("input", "random_test_digit"), ("input", "next_mistake")):
                inp.show_noise("blank")
                press(keys, target)
                assert inp.source == "test" or (s.slot == "next_mistake" and inp.message_label.text())
            elif key == ("input", "follow_training"):
                inp.show_noise("blank")
                press(keys, target)
                assert inp.source == "training"
            elif key == ("window", "toggle_presentation"):
                press(keys, target)
                assert w.presentation.active
                w.presentation.leave()  # Escape and F11 again are checked below and by the lesson tests
                assert not w.presentation.active
            elif key == ("window", "leave_presentation"):
                press(keys, target)  # not in presentation mode: Escape does nothing
                assert not w.presentation.active
                w.presentation.enter()
                w.activateWindow()
                qtbot.waitUntil(w.isActiveWindow, timeout=2000)
                comb = QKeySequence(keys)[0]
                qtbot.keyClick(w.diagram, comb.key(), comb.keyboardModifiers())
                assert not w.presentation.active
            elif key in (("lesson", "next"), ("lesson", "back")):
                lesson = w.panels["lesson"]
                lesson.go(3)
                press(keys, target)
                assert lesson.index == (4 if s.slot == "next" else 2)
            elif key == ("probe", "probe_now"):
                n = calls.count("probe")
                press(keys, target)
                assert calls.count("probe") == n + 1
            elif s.owner == "dock":
                dock = w.docks[s.slot]
                shown = dock.isVisible()
                press(keys, target)
                qtbot.waitUntil(lambda d=dock, v=shown: d.isVisible() != v, timeout=2000)
                if s.slot == where:  # its own dock is hidden now: press the key again from the diagram
                    w.diagram.setFocus(Qt.OtherFocusReason)
                    qtbot.waitUntil(w.diagram.hasFocus, timeout=2000)
                    press(keys, w.diagram)
                else:
                    press(keys, focus())
                qtbot.waitUntil(lambda d=dock, v=shown: d.isVisible() == v, timeout=2000)
            else:
                pytest.fail(f"no check for {s}")


def test_text_fields_keep_their_characters_and_pass_the_rest(make_window, qtbot):
    w = make_window()
    settings = w.panels["settings"]
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    lr = settings.lr
    lr.setFocus()
    qtbot.waitUntil(lr.hasFocus, timeout=2000)
    lr.lineEdit().selectAll()
    qtbot.keyClick(lr, Qt.Key_2)  # a digit edits the spin box, as before
    assert lr.lineEdit().text().startswith("2")
    qtbot.keyClick(lr, Qt.Key_Space)  # Space plays, it does not go into the field
    qtbot.waitUntil(lambda: w.controller.running, timeout=3000)
    assert " " not in lr.lineEdit().text()
    qtbot.keyClick(lr, Qt.Key_Space)
    qtbot.waitUntil(lambda: not w.controller.running, timeout=3000)
    inp = w.panels["input"]
    n = inp.noise_count
    hidden = settings.hidden
    hidden.setFocus()
    qtbot.waitUntil(hidden.hasFocus, timeout=2000)
    hidden.end(False)
    qtbot.keyClick(hidden, Qt.Key_Space)  # the hidden-layers field takes spaces ("16 16") ...
    assert hidden.text().endswith(" ")
    qtbot.keyClick(hidden, Qt.Key_N)  # ... but not letters: N is uniform noise
    assert inp.noise_count == n + 1 and "n" not in hidden.text().lower()


def test_panel_keys_work_when_its_dock_is_closed_or_floating(make_window, qtbot):
    w = make_window()
    inp, dock = w.panels["input"], w.docks["input"]
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    dock.hide()  # closed: a hidden widget's own shortcuts never fire; the window's do
    w.diagram.setFocus()
    qtbot.waitUntil(w.diagram.hasFocus, timeout=2000)
    n = inp.noise_count
    qtbot.keyClick(w.diagram, Qt.Key_N)
    assert inp.noise_count == n + 1
    qtbot.waitUntil(dock.isVisible, timeout=2000)  # and the key brings its panel back
    dock.setFloating(True)  # floating: a window of its own, yet the key works from the main window
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.diagram.setFocus()
    qtbot.waitUntil(w.diagram.hasFocus, timeout=2000)
    qtbot.keyClick(w.diagram, Qt.Key_BracketRight)
    assert inp.source == "test" and inp.test_index == 0
