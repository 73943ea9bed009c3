import json

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
    monkeypatch.delenv("DIGITVIZ_ENGINE", raising=False)  # main() sets it; restored after the test
    assert main(["--data", str(mnist_dir), *flag, "train", "--epochs", "1", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert f"; {engine} engine)" in out.splitlines()[0]
