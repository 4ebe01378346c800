"""The floor of a report batch: N empty parameterised notebooks, each executed by papermill in
its own new kernel (papermill's defaults) and exported to HTML by nbconvert, in J processes.

    python bench/empty_batch.py N [--jobs J]

What running N notebooks costs anyone who runs them the plain way, with no pingyi code:
`pingyi report DATASET --jobs J` writes N pages (the city page and the unit pages) and is
compared with this (issue 38: at or below 1.0×).
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def one(args: tuple[str, str, int]) -> None:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    empty, out, k = args
    executed = Path(out) / f"e{k}.ipynb"
    pm.execute_notebook(empty, str(executed), parameters={"x": k}, progress_bar=False, kernel_name="python3")
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(executed), as_version=4))
    (Path(out) / f"e{k}.html").write_text(body, encoding="utf-8")


def main() -> None:
    import nbformat

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pingyi-empty-") as tmp:
        empty = Path(tmp) / "empty.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, empty)
        work = [(str(empty), tmp, k) for k in range(a.n)]
        if a.jobs == 1:
            for w in work:
                one(w)
        else:
            with ProcessPoolExecutor(a.jobs) as pool:
                list(pool.map(one, work))


if __name__ == "__main__":
    main()
