"""Fixtures of the GUI tests: a main window on toy data with a temporary QSettings."""

import pytest
from PySide6.QtCore import QSettings

from . import FAST, ToyData


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "digitviz.ini"), QSettings.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    windows = []

    def make(keep=(), **kw):
        kw.setdefault("data", ToyData())
        kw.setdefault("config", FAST)
        from digitviz.gui.main_window import MainWindow

        w = MainWindow(settings=settings, **kw)
        w.confirm = lambda title, text: True
        if "speed" not in keep:
            w.speed.setValue(w.speed.maximum())  # tests train as fast as it goes (the app starts at 10 batches/s)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.controller.latest is not None, timeout=5000)
        qtbot.waitUntil(w.docks_fit, timeout=3000)  # the docks have the sizes the window gives them
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        assert w.controller.thread.isFinished()
