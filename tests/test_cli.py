import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitviz.cli import main


def test_train_eval_round_trip(mnist_dir, tmp_path, capsys):
    model = tmp_path / "net.npz"
    assert (
        main(
            [
                "train",
                "--data",
                str(mnist_dir),
                "--epochs",
                "1",
                "--hidden",
                "16",
                "--seed",
                "3",
                "--save",
                str(model),
                "--json",
            ]
        )
        == 0
    )
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


def _closed_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fetch_offline_says_so_in_one_line(tmp_path, capsys):
    dest = tmp_path / "mnist"
    assert main(["fetch", "--dest", str(dest), "--mirror", f"http://127.0.0.1:{_closed_port()}/"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("digitviz:")]) == 1 and "offline" in err[-1]
    assert not dest.exists() or not any(dest.iterdir())


def test_fetch_rejects_files_that_fail_the_official_checksums(mnist_dir, tmp_path, capsys):
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(mnist_dir)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        dest = tmp_path / "mnist"
        # the shared copy's gzip wrappers differ from the official files, so their MD5s do not match
        rc = main(["fetch", "--dest", str(dest), "--mirror", f"http://127.0.0.1:{srv.server_address[1]}/"])
    finally:
        srv.shutdown()
        srv.server_close()
    assert rc == 2
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
    assert not list(dest.glob("*.gz")) and not list(dest.glob("*.part"))


@pytest.mark.parametrize("flag,engine", [([], "fused"), (["--engine", "numpy"], "numpy")])
def test_engine_flag_picks_what_trains(mnist_dir, capsys, monkeypatch, flag, engine):
    from digitviz.core import fused

    if engine == "fused" and not fused.available():
        pytest.skip("numba not importable")
    monkeypatch.setenv("DIGITVIZ_ENGINE", "")  # main() sets it: setenv records the old state, restored after the test
    assert main(["--data", str(mnist_dir), *flag, "train", "--epochs", "1", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert f"; {engine} engine)" in out.splitlines()[0]


def test_lesson_at_lr_100_stops_with_one_line(mnist_dir, capsys):
    """Sigmoid + quadratic cost never costs 10x its first batch: the collapse is what gives it away."""
    assert main(["train", "--data", str(mnist_dir), "--lr", "100", "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("digitviz: training stopped at step")
    assert "collapsed" in err[0] and "learning rate 100 is too large" in err[0] and "NaN" not in err[0]


# --- hardening: every flag and file refused in one line, Ctrl+C, the fetch progress line ---


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["--hidden", "0"], "--hidden: must be at least 1, got 0"),
        (["--hidden", "-5"], "--hidden: must be at least 1, got -5"),
        (["--hidden", "x"], "--hidden: expected a whole number"),
        (["--seed", "-1"], "--seed: must be at least 0, got -1"),
        (["--seed", str(2**40)], "seed must be in 0 to 4294967295"),
        (["--epochs", "0"], "--epochs: must be at least 1, got 0"),
        (["--epochs", "-3"], "--epochs: must be at least 1, got -3"),
        (["--l2", "nan"], "--l2: must be a finite number, got nan"),
        (["--l2", "inf"], "--l2: must be a finite number, got inf"),
        (["--l2", "-1"], "L2 must be >= 0"),
        (["--lr", "inf"], "--lr: must be a finite number"),
        (["--batch", "0"], "--batch: must be at least 1"),
        (["--momentum", "nan"], "--momentum: must be a finite number"),
        (["--hidden", "100000"], "784-100000-10 network has 79,500,010 parameters; digitviz builds at most 10,000,000"),
        (["--activation", "swish"], "invalid choice: 'swish'"),
    ],
)
def test_every_bad_flag_is_one_line_and_exit_2(tmp_path, capsys, args, phrase):
    try:
        rc = main(["train", "--data", str(tmp_path), *args])
    except SystemExit as e:  # argparse's own refusal
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and phrase in err, err
    assert "Traceback" not in err


def test_eval_of_bad_files_is_one_line_and_non_zero(tmp_path, capsys):
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "text.npz").write_text("hello\n")
    (tmp_path / "one.npz").write_bytes(b"\x01")
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    (tmp_path / "array.npz").write_bytes(buf.getvalue())
    for name, phrase in [
        ("folder.npz", "is a folder"),
        ("text.npz", "not a readable"),
        ("one.npz", "not a readable"),
        ("array.npz", "single .npy array"),
        ("absent.npz", "no such file"),
    ]:
        assert main(["eval", str(tmp_path / name), "--data", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and name in err and phrase in err, err


def test_ctrl_c_during_train_stops_at_an_epoch_and_saves_nothing(mnist_dir, tmp_path):
    model = tmp_path / "net.npz"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "digitviz",
            "train",
            "--data",
            str(mnist_dir),
            "--hidden",
            "8",
            "--epochs",
            "100",
            "--save",
            str(model),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()  # the header: training starts now
        assert first.startswith("# 784-8-10")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.startswith("digitviz: stopped at epoch ") and "nothing was saved" in err
    assert len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_fetch_error_starts_on_its_own_line_after_the_progress_bar(tmp_path, capsys, monkeypatch):
    from digitviz.core import fetch

    def failing(dest, progress, **kw):
        progress("train-images-idx3-ubyte.gz", 100_000, 9_912_422)
        raise fetch.FetchError("could not download train-images-idx3-ubyte.gz: reset")

    monkeypatch.setattr(fetch, "fetch_mnist", failing)
    assert main(["fetch", "--dest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "MB\ndigitviz: could not download" in err, repr(err)


def test_save_to_a_folder_is_one_line(tmp_path, capsys):
    from tests.core.test_data import write_mnist

    write_mnist(tmp_path / "mnist", np.random.default_rng(0))
    (tmp_path / "net.npz").mkdir()
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "mnist"),
                "--epochs",
                "1",
                "--hidden",
                "4",
                "--save",
                str(tmp_path / "net.npz"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "could not save" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist", "net.npz"]
    assert not any((tmp_path / "net.npz").iterdir())


def test_train_help_says_what_every_flag_does_and_its_default():
    """Issue 10 item 18: --epochs, --seed, --momentum had no help and no default."""
    from digitviz import cli

    parser = cli.build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    for action in train._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{action.option_strings} has no help"
        assert "default" in action.help, f"{action.option_strings} does not say its default"
    text = train.format_help()
    assert "lesson: 30" in text and "lesson: 1.5" in text
