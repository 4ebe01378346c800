"""A round scored once per report batch and handed to every notebook.

``pingyi report`` scores the round (and last year's, and the follow-up sections) once,
pickles the result beside the executed notebooks, keyed by the content of the inputs,
and passes its path to each notebook as the ``scored`` parameter. A notebook run on its
own (JupyterLab, defaults) scores the round itself, as before.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from pingyi_lib.output.atomic import atomic_path

SUFFIX = ".pickle"


def content_hash(*inputs: str | Path | None, extra: str = "") -> str:
    """A short hash of the bytes of every file under the given folders or files (names
    included), so a changed round never reuses an old cache."""
    h = hashlib.sha256(extra.encode("utf-8"))
    for inp in inputs:
        if not inp:
            h.update(b"\0none")
            continue
        p = Path(inp)
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode("utf-8") + b"\0")
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()[:16]


def compute(dataset: str, ruleset: str = "", previous: str = "", report_date: str = ""):
    """(Results, last year's Results or None, FollowUp): what a report notebook needs; both rounds
    with intervals (docs/statistics.md), so the look-back can say which changes are significant."""
    import pingyi_lib as py
    from pingyi_lib.sections.followup import FollowUp

    res = py.score(py.load_dataset(dataset, ruleset=ruleset or None), intervals=True)
    last_year = py.score(py.load_dataset(previous), intervals=True) if previous else None
    return res, last_year, FollowUp(res, last_year, report_date)


def write(bundle, folder: str | Path, key: str) -> Path:
    """Pickle a :func:`compute` bundle as ``folder/scored-KEY.pickle`` (atomically)."""
    path = Path(folder) / f"scored-{key}{SUFFIX}"
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(bundle, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load(scored: str, dataset: str, ruleset: str = "", previous: str = "", report_date: str = ""):
    """The bundle the batch wrote (``scored``: its path), or computed here when there is none."""
    if scored and Path(scored).is_file():
        with open(scored, "rb") as f:
            return pickle.load(f)  # noqa: S301 - our own file, written by this batch
    return compute(dataset, ruleset, previous, report_date)
