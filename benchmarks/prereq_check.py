"""How long the X11 prerequisite check (digitviz.prereq) takes in a fresh interpreter, before Qt loads.

Prints, as medians over ``--runs`` fresh processes: prereq_check_ms (import of digitviz.prereq plus
loading every library it checks; target well under 100 ms) and, as the baseline measured in the same
runs, qt_import_ms (``import PySide6.QtWidgets`` right after it), with their ratio.

Usage: python benchmarks/prereq_check.py [--runs 9]   (``--data`` is accepted and ignored)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, time
t0 = time.perf_counter()
from digitviz.prereq import missing_xcb_libraries
missing = missing_xcb_libraries()
t1 = time.perf_counter()
import PySide6.QtWidgets
t2 = time.perf_counter()
print(json.dumps(dict(check=(t1 - t0) * 1e3, qt=(t2 - t1) * 1e3, missing=missing)))
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="ignored (every benchmark takes it)")
    p.add_argument("--runs", type=int, default=9)
    a = p.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rows = [
        json.loads(
            subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
        )
        for _ in range(a.runs)
    ]
    check = statistics.median(r["check"] for r in rows)
    qt = statistics.median(r["qt"] for r in rows)
    print(f"# {len(rows)} fresh interpreters; libraries missing here: {rows[0]['missing'] or 'none'}")
    print(f"prereq_check_ms: {check:.1f} ms  # target < 100")
    print(f"qt_import_ms: {qt:.1f} ms")
    print(f"prereq_to_qt_import_ratio: {check / qt:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
