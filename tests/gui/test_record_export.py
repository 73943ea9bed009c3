"""File menu of issue 13: recording while training, plot and CSV export, run settings, datasets."""

import csv
import json

import pytest

from digitviz.core.runfile import load_run

from . import FAST


def _rows(path):
    return list(csv.reader(path.read_text().splitlines()))


def test_record_the_diagram_while_training_then_encode_as_a_job(make_window, qtbot, tmp_path):
    import imageio.v3 as iio

    w = make_window()
    path = tmp_path / "run.gif"
    assert w.start_recording(path, "diagram", every=5, fps=10)
    assert w.act_record.text() == "Stop Recording"
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.recorder.queued >= 4, timeout=10000)
    w.act_play.trigger()
    with qtbot.waitSignal(w.recorder.finished, timeout=20000) as sig:
        w.stop_recording()
    assert sig.args == [str(path)] and w.act_record.text() == "Record…"
    frames = iio.imread(path, index=None)
    assert len(frames) == w.recorder.queued >= 4
    assert not [p for p in tmp_path.iterdir() if p.name not in ("run.gif", "digitviz.ini")]  # no partial file


def test_record_the_window_as_mp4_and_cancel_leaves_nothing(make_window, qtbot, tmp_path):
    from digitviz.core import record

    if record.missing_for("mp4"):
        pytest.skip(record.missing_for("mp4"))
    w = make_window()
    out = tmp_path / "rec"  # tmp_path also holds the window's settings file
    out.mkdir()
    assert w.start_recording(out / "w.mp4", "window", every=1)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.recorder.queued >= 2, timeout=10000)
    w.act_play.trigger()
    with qtbot.waitSignal(w.recorder.failed, timeout=10000) as sig:
        w.recorder.cancel()
    assert "cancelled" in sig.args[0]
    qtbot.waitUntil(lambda: list(out.iterdir()) == [], timeout=5000)


def test_recording_a_bad_name_is_one_line(make_window, tmp_path):
    w = make_window()
    assert not w.start_recording(tmp_path / "x.avi")
    assert "record to .gif or .mp4" in w.alert.label.text()


def test_export_every_plot_as_png_svg_and_csv(make_window, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    w = make_window()
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step == 1, timeout=5000)
    items = w.plot_items()
    name = next(k for k in items if k.startswith("Learning curves: Cost"))
    png = w.export_plot(items[name], tmp_path / "cost.png", width=900)
    assert QImage(str(png)).width() == 900
    svg = w.export_plot(items[name], tmp_path / "cost.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    out = w.export_plot(items[name], tmp_path / "cost.csv")
    assert len(_rows(out)[0]) >= 2


def test_export_runs_and_the_diagram_without_its_hint(make_window, qtbot, tmp_path):
    w = make_window()
    w.act_epoch.trigger()
    qtbot.waitUntil(lambda: bool(w.controller.latest.epochs) and not w.controller.running, timeout=10000)
    w.reset_network()  # the finished run is kept in the learning curves' list
    qtbot.waitUntil(lambda: len(w.panels["curves"].runs) == 1, timeout=5000)
    out = w.export_runs(tmp_path / "runs.csv")
    rows = _rows(out)
    assert rows[0][:2] == ["run", "name"] and [r[0] for r in rows[1:]] == ["1", "live"] and "lr" in rows[0]
    assert float(rows[1][rows[0].index("final_test_pct")]) > 0
    info = w.diagram._info
    assert info.isVisible()
    assert w.export_png(tmp_path / "d.png") and info.isVisible()


def test_run_settings_round_trip_through_the_window(make_window, qtbot, tmp_path):
    from dataclasses import replace

    w = make_window()
    path = w.save_run_settings(tmp_path / "run.json")
    assert load_run(path).config == FAST and json.loads(path.read_text())["dataset"] == "mnist"
    other = replace(FAST, seed=5, lr=0.7)
    (tmp_path / "other.json").write_text(json.dumps(dict(format="digitviz-run", version=1, settings=other.to_dict())))
    assert w.open_run_settings(tmp_path / "other.json")
    qtbot.waitUntil(lambda: w.controller.latest.config == other, timeout=5000)
    (tmp_path / "bad.json").write_text("{")
    assert not w.open_run_settings(tmp_path / "bad.json")
    assert "not JSON" in w.alert.label.text() and "Traceback" not in w.alert.label.text()


def test_switching_to_another_kind_of_dataset_asks_to_reset(make_window, qtbot, tmp_path, rng):
    from tests.core.test_data import write_mnist

    w = make_window()
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step == 1, timeout=5000)
    asked = []
    w.confirm = lambda title, text: asked.append(text) or True
    write_mnist(tmp_path / "fashion", rng, n_train=30, n_test=10)
    w.load_data_folder(tmp_path / "fashion")
    qtbot.waitUntil(lambda: w.windowTitle() == "digitviz: Fashion-MNIST", timeout=5000)
    assert w.status_labels["dataset"].text() == "Fashion-MNIST"
    assert len(asked) == 1 and "Fashion-MNIST" in asked[0]
    # every place that named a digit now names the class
    assert w.diagram._labels[0].textItem.toPlainText() == "T-shirt"
    assert w.diagram._labels[9].textItem.toPlainText() == "Boot"
    assert w.panels["input"].bars.getPlotItem().getAxis("bottom")._tickLevels[0][1] == (1, "Trouser")
    mistakes = w.panels["experiments"].mistakes
    assert mistakes.names[9] == "Ankle boot" and mistakes._name(0) == "T-shirt/top"
    probe_ticks = w.panels["probe"].answers_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert probe_ticks[4] == (4, "Coat")
    assert "Fashion-MNIST is loaded" in w.panels["lesson"].where.text()
    qtbot.waitUntil(lambda: w.controller.latest.step == 0, timeout=5000)
    w.load_data_folder(tmp_path / "fashion")  # the same kind again: no question
    qtbot.waitUntil(lambda: "Fashion-MNIST loaded" in w.statusBar().currentMessage(), timeout=5000)
    assert len(asked) == 1


def test_download_menu_offers_the_three_datasets(make_window):
    w = make_window()
    menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&File")
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == "Download")
    assert [a.text() for a in sub.actions()] == [
        "Download MNIST…",
        "Download Fashion-MNIST…",
        "Download Kuzushiji-MNIST…",
    ]


def test_an_unknown_idx_folder_says_class_k(make_window, qtbot, tmp_path, rng):
    from tests.core.test_data import write_mnist

    w = make_window()
    write_mnist(tmp_path / "letters", rng, n_train=30, n_test=10)
    w.load_data_folder(tmp_path / "letters")
    qtbot.waitUntil(lambda: w.windowTitle() == "digitviz: IDX data", timeout=5000)
    assert w.panels["experiments"].mistakes._name(3) == "class 3"
    w.diagram._show_neuron_info(len(w.diagram._layer_pos) - 1, 3)
    assert "class 3" in w.diagram._info_html


def test_a_network_saved_on_another_dataset_says_so_when_loaded(make_window, tmp_path):
    from digitviz.core.persist import load_network, save_network

    w = make_window()
    assert load_network(w.save_network(tmp_path / "mine.npz"))[2]["dataset"] == "mnist"
    save_network(tmp_path / "f.npz", FAST.network(), FAST, dict(step=5, dataset="fashion"))
    assert w.load_network(tmp_path / "f.npz")
    assert "trained on Fashion-MNIST, MNIST is loaded" in w.statusBar().currentMessage()
