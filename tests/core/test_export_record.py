"""CSV export and recordings from plain arrays (no Qt)."""

import csv

import numpy as np
import pytest

from digitviz.core import record
from digitviz.core.export import write_columns_csv, write_rows_csv


def test_columns_of_different_lengths_round_trip(tmp_path):
    steps, cost = np.arange(5), np.linspace(2.3, 0.1, 5)
    path = write_columns_csv(tmp_path / "curves", {"step": steps, "cost": cost, "epoch": [1, 2]})
    assert path.suffix == ".csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["step", "cost", "epoch"] and len(rows) == 6
    assert [float(r[1]) for r in rows[1:]] == cost.tolist()  # exact
    assert rows[3][2] == "" and rows[2][2] == "2"


def test_rows_take_the_union_of_keys(tmp_path):
    path = write_rows_csv(
        tmp_path / "runs.csv", [dict(run=1, sizes=(784, 16, 10), test=0.9), dict(run=2, lr=float("nan"), note="x")]
    )
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["run", "sizes", "test", "lr", "note"]
    assert rows[1] == ["1", "784-16-10", "0.9", "", ""] and rows[2] == ["2", "", "", "", "x"]


def _frames(n, h=120, w=160):
    for i in range(n):
        f = np.full((h, w, 3), 30, np.uint8)
        f[10:40, 5 * i : 5 * i + 20] = (250, 200, 0)
        yield f


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_frames_become_a_file_that_reads_back(tmp_path, fmt):
    if record.missing_for(fmt):
        pytest.skip(record.missing_for(fmt))
    import imageio.v3 as iio

    out = record.encode_frames(_frames(12, 121, 161), tmp_path / f"run.{fmt}", fps=15)
    assert out.frames == 12 and out.path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [f"run.{fmt}"]  # no temporary file left
    if fmt == "gif":
        back = iio.imread(out.path, index=None)
        assert back.shape[:3] == (12, 120, 160)  # cropped to even sizes
        assert back[3, 20, 5 * 3 + 10].tolist() != back[3, 100, 100].tolist()  # the moving box is there


def test_cancel_leaves_nothing(tmp_path):
    with pytest.raises(record.Cancelled):
        record.encode_frames(_frames(5), tmp_path / "a.gif", 15, cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_stream_ends_at_the_end_mark(tmp_path):
    import queue

    q = queue.Queue()
    for f in _frames(4):
        q.put(f)
    q.put(record.END)
    gen = record.encode_stream(lambda: False, q, tmp_path / "s.gif", 10)
    counts = []
    try:
        while True:
            counts.append(next(gen))
    except StopIteration as e:
        result = e.value
    assert counts == [1, 2, 3, 4] and result.frames == 4 and result.path.exists()


def test_bad_names_and_frames_are_one_line(tmp_path):
    with pytest.raises(record.RecordError, match="record to .gif or .mp4"):
        record.encode_frames(_frames(1), tmp_path / "a.avi", 15)
    with pytest.raises(record.RecordError, match="uint8"):
        record.encode_frames([np.zeros((4, 4))], tmp_path / "a.gif", 15)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(record.RecordError, match="nothing was recorded"):
        record.encode_frames([], tmp_path / "a.gif", 15)


def test_mp4_missing_says_how_to_get_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_ffmpeg(name, *a, **k):
        if name == "imageio_ffmpeg":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ffmpeg)
    assert record.missing_for("mp4") == "MP4 needs imageio-ffmpeg: pip install 'digitviz[video]' (or record a GIF)"
    assert record.missing_for("gif") is None


def test_a_cancel_after_the_end_mark_still_leaves_nothing(tmp_path):
    import queue

    q = queue.Queue()
    for f in _frames(3):
        q.put(f)
    q.put(record.END)
    seen = []

    def control():  # cancelled once all frames are in: while the file is being closed
        return len(seen) >= 3

    gen = record.encode_stream(control, q, tmp_path / "s.gif", 10)
    with pytest.raises(record.Cancelled):
        for n in gen:
            seen.append(n)
    assert list(tmp_path.iterdir()) == []
