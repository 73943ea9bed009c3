"""Every ```python snippet in docs/api.md runs, in order, in one namespace (as notebook cells do)."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def snippets() -> list[str]:
    return FENCE.findall(DOC.read_text(encoding="utf-8"))


def test_the_doc_has_the_snippets_it_promises():
    code = "\n".join(snippets())
    assert len(snippets()) >= 8
    for name in (
        "Trainer(",
        "evaluate(",
        "landscape.cost_grid(",
        "compare_labels(",
        "train_seeds(",
        "top_components(",
        "mistakes(",
        "probe(",
    ):
        assert name in code, name


def test_every_snippet_runs_without_qt(mnist_dir, tmp_path):
    # a fresh interpreter, as a notebook kernel: the doc's code only, cell after cell; Qt must never load
    cells = snippets()
    runner = textwrap.dedent("""
        import sys
        cells = {cells!r}
        ns = {{"__name__": "__main__"}}
        for k, cell in enumerate(cells):
            print(f"--- cell {{k}}", flush=True)
            exec(compile(cell, f"docs/api.md cell {{k}}", "exec"), ns)
        assert not any(m.startswith(("PySide6", "pyqtgraph")) for m in sys.modules), "the core loaded Qt"
        print("ALL CELLS RAN")
    """).format(cells=cells)
    env = {
        "DIGITVIZ_DATA": str(mnist_dir),
        "PYTHONPATH": str(DOC.parents[1]),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPENBLAS_NUM_THREADS": "1",
    }
    r = subprocess.run(
        [sys.executable, "-c", runner], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0 and "ALL CELLS RAN" in r.stdout, f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
