import json

import numpy as np
import pytest

from digitviz.cli import main


def test_train_eval_round_trip(mnist_dir, tmp_path, capsys):
    model = tmp_path / "net.npz"
    assert main(["train", "--data", str(mnist_dir), "--epochs", "1", "--hidden", "16", "--seed", "3",
                 "--save", str(model), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    epoch, summary = json.loads(lines[0]), json.loads(lines[-1])["summary"]
    assert epoch["epoch"] == 1 and epoch["test_acc"] > 0.85 and epoch["examples_per_s"] > 0
    assert summary["config"]["sizes"] == [784, 16, 10] and summary["config"]["seed"] == 3
    assert main(["eval", str(model), "--data", str(mnist_dir), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["accuracy"] == pytest.approx(epoch["test_acc"])


def test_text_output_one_line_per_epoch(mnist_dir, capsys):
    assert main(["--data", str(mnist_dir), "train", "--epochs", "2", "--hidden", "8"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out if line.startswith("epoch")] == [["epoch", "1"], ["epoch", "2"]]
    assert out[-1].startswith("done: test accuracy")


def test_missing_data_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DIGITVIZ_DATA", raising=False)
    assert main(["train", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "digitviz fetch" in err
    assert main(["train", "--data", str(tmp_path)]) == 2
    assert "missing" in capsys.readouterr().err


def test_bad_settings_and_bad_model(tmp_path, mnist_dir, capsys):
    assert main(["train", "--data", str(mnist_dir), "--lr", "-1"]) == 2
    assert "learning rate" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"\x00" * 100)
    assert main(["eval", str(bad), "--data", str(mnist_dir)]) == 2
    assert "bad.npz" in capsys.readouterr().err


def test_diverging_run_stops_with_a_message(mnist_dir, capsys):
    assert main(["train", "--data", str(mnist_dir), "--preset", "tweaked", "--lr", "1000", "--epochs", "1"]) == 1
    assert "too large" in capsys.readouterr().err
