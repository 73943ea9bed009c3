"""Run settings files: the same file gives the same run, step for step; a bad file is one line."""

import json
from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.runfile import RunFileError, load_run, parse_run, save_run
from digitviz.core.training import PRESETS, Trainer
from tests.conftest import make_toy_data


def test_two_trainers_from_one_file_agree_exactly(tmp_path):
    data = make_toy_data()
    cfg = replace(PRESETS["tweaked"], sizes=(784, 12, 10), seed=7, batch_size=16, shift_px=1, doubt=0.1)
    path = save_run(tmp_path / "run", cfg, dataset="fashion")
    assert path.suffix == ".json"
    a, b = load_run(path), load_run(path)
    assert a.config == cfg and a.dataset == "fashion" and a.preset == ""
    ta, tb = Trainer(data, a.config), Trainer(data, b.config)
    for _ in range(25):
        ta.step()
        tb.step()
    assert np.array_equal(ta.net.theta, tb.net.theta)
    other = Trainer(data, replace(cfg, seed=8))
    for _ in range(25):
        other.step()
    assert not np.array_equal(other.net.theta, ta.net.theta)  # the seed is in the file and it matters


def test_preset_and_every_setting_are_written(tmp_path):
    path = save_run(tmp_path / "lesson.json", PRESETS["lesson"])
    d = json.loads(path.read_text())
    assert d["preset"] == "lesson" and d["dataset"] == "mnist"
    assert set(d["settings"]) == set(PRESETS["lesson"].to_dict())
    assert load_run(path).config == PRESETS["lesson"]


def test_a_partial_file_fills_in_from_its_preset():
    run = parse_run(json.dumps(dict(format="digitviz-run", version=1, preset="wide", settings={"seed": 3, "lr": 1})))
    assert run.config == replace(PRESETS["wide"], seed=3, lr=1.0)


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("{", "not JSON"),
        ("[]", "not a digitviz run settings file"),
        ('{"format": "digitviz-run", "version": 9, "settings": {}}', "newer digitviz"),
        ('{"format": "digitviz-run", "version": 1, "preset": "huge", "settings": {}}', "unknown preset"),
        ('{"format": "digitviz-run", "version": 1, "dataset": "cifar", "settings": {}}', "unknown dataset"),
        ('{"format": "digitviz-run", "version": 1}', 'no "settings"'),
        ('{"format": "digitviz-run", "version": 1, "settings": {"lr": "fast"}}', "lr must be a finite number"),
        ('{"format": "digitviz-run", "version": 1, "settings": {"sizes": [784, 10, 3]}}', "not a 784-...-10"),
        ('{"format": "digitviz-run", "version": 1, "settings": {"batch_size": 0}}', "batch size"),
        ('{"format": "digitviz-run", "version": 1, "settings": {"colour": 1}}', "unknown setting 'colour'"),
    ],
)
def test_bad_files_are_one_line(tmp_path, text, phrase):
    (tmp_path / "r.json").write_text(text)
    with pytest.raises(RunFileError) as e:
        load_run(tmp_path / "r.json")
    assert phrase in str(e.value) and "\n" not in str(e.value) and str(e.value).startswith("r.json: ")


def test_unreadable_and_huge_files(tmp_path):
    with pytest.raises(RunFileError, match="cannot read"):
        load_run(tmp_path / "missing.json")
    (tmp_path / "big.json").write_bytes(b" " * 70_000)
    with pytest.raises(RunFileError, match="larger than"):
        load_run(tmp_path / "big.json")


def test_cli_takes_a_run_file_and_refuses_a_bad_one_in_one_line(tmp_path, capsys, rng):
    from digitviz.cli import main
    from tests.core.test_data import write_mnist

    write_mnist(tmp_path / "mnist", rng, n_train=40, n_test=10)
    save_run(tmp_path / "r.json", replace(PRESETS["lesson"], sizes=(784, 4, 10), seed=3), dataset="mnist")
    assert (
        main(["train", "--data", str(tmp_path / "mnist"), "--run", str(tmp_path / "r.json"), "--json", "--epochs", "1"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["summary"]
    assert summary["config"]["sizes"] == [784, 4, 10] and summary["config"]["seed"] == 3
    (tmp_path / "bad.json").write_text('{"format": "digitviz-run"}')
    assert main(["--run", str(tmp_path / "bad.json")]) == 2  # before any window opens
    err = capsys.readouterr().err
    assert err.startswith("digitviz: bad.json: unknown version") and len(err.strip().splitlines()) == 1
    assert main(["train", "--run", str(tmp_path / "bad.json")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
