"""CSV out of arrays: the learning curves (columns of different lengths) and the kept runs (one row each).

Written atomically (:mod:`digitviz.core.atomic`), UTF-8, with a header row; floats with ``repr``
precision so a curve read back is the curve drawn. Imports: NumPy and the standard library; never Qt.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from digitviz.core import atomic


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return "" if np.isnan(v) else repr(v)
    if isinstance(v, (np.integer,)):
        return str(int(v))
    if isinstance(v, (tuple, list)):
        return "-".join(map(str, v))
    return str(v)


def _write(path: str | os.PathLike, rows: list[list[str]]) -> Path:
    path = Path(path).expanduser()
    if path.suffix.lower() != ".csv":
        path = path.with_suffix(".csv")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    fd, tmp = atomic.create_temp(path)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(buf.getvalue().encode("utf-8"))
            atomic.finish(out, tmp, path)
    except BaseException:
        atomic.discard(tmp)
        raise
    return path


def write_columns_csv(path: str | os.PathLike, columns: Mapping[str, Sequence]) -> Path:
    """One column per array (1-D, any lengths; shorter ones end in empty cells). Returns the path (.csv)."""
    cols = {name: np.asarray(v).ravel() for name, v in columns.items()}
    n = max((len(v) for v in cols.values()), default=0)
    rows = [list(cols)]
    for i in range(n):
        rows.append([_cell(v[i]) if i < len(v) else "" for v in cols.values()])
    return _write(path, rows)


def write_rows_csv(path: str | os.PathLike, rows: Sequence[Mapping]) -> Path:
    """One row per mapping; the header is the union of their keys, in first-seen order."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    return _write(path, [keys] + [[_cell(r.get(k)) for k in keys] for r in rows])
