"""run.json: what a report folder was made from, and whether a scheduled run must make it again.

Every report folder holds ``run.json``: the SHA-256 of every input file (the round's files,
the ruleset, last year's round, the two report notebooks), the options that change what is
written, the versions of pingyi and of the libraries that write the pages, when the run
started and finished, each page's time, and the accepted and rejected rows.

``pingyi report … --if-changed`` compares this run's *fingerprint* with the one in ``OUT``'s
``run.json`` and writes nothing when they are equal: the same bytes in every input (paths do
not count: a round copied elsewhere is the same round), the same options, the same pingyi
(its version and a hash of its own files, so an edited checkout is not taken for the
release) and the same library versions. A folder whose last run had a failed page, or whose
report day was today (a round with no date at all), is made again.

What changes nothing in the output is not part of the fingerprint: ``--jobs``, ``--quiet``,
``--progress``, ``--verbose``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pingyi_lib.dataset.load import file_digest
from pingyi_lib.followup.history import as_list
from pingyi_lib.output.packaged import REPORT_NOTEBOOKS, notebook_dir

FORMAT = "pingyi-run/1"
NAME = "run.json"
# the libraries whose versions can change what a report folder holds
LIBRARIES = ("pandas", "numpy", "pyarrow", "duckdb", "plotly", "papermill", "nbconvert", "nbformat", "ipykernel",
             "jinja2", "openpyxl", "python-docx", "jieba")
PACKAGE_FILES = ("*.py", "*.j2", "*.json", "*.toml", "*.txt", "*.ipynb", "*.css")


def file_hash(path: Path) -> str:
    return "sha256:" + file_digest(path)


def _folder(path: Path) -> dict[str, str]:
    """Every file under a folder (hidden files and Office's lock files ``~$…`` aside), by its
    path inside the folder, with its hash."""
    return {p.relative_to(path).as_posix(): file_hash(p) for p in sorted(path.rglob("*"))
            if p.is_file() and not any(part.startswith((".", "~$")) for part in p.relative_to(path).parts)}


def _inputs(paths: list[str]) -> dict | None:
    """Several past rounds as one input: every file under its round's folder name (one round: as
    :func:`_input`)."""
    if len(paths) <= 1:
        return _input(paths[0] if paths else None)
    names = [Path(p).name for p in paths]
    files: dict[str, str] = {}
    for i, p in enumerate(paths):
        prefix = names[i] if names.count(names[i]) == 1 else f"{i + 1}-{names[i]}"
        files.update({f"{prefix}/{k}": v for k, v in ((_input(p) or {}).get("files") or {}).items()})
    return {"path": paths[0], "paths": list(paths), "files": files}


def _input(path: str | Path | None) -> dict | None:
    if not path:
        return None
    p = Path(path)
    if not p.exists():  # reading the round names it in its own words (a missing folder, ruleset)
        return {"path": str(p), "files": None}
    return {"path": str(p), "files": _folder(p) if p.is_dir() else {p.name: file_hash(p)}}


@functools.cache
def pingyi_build() -> dict[str, str]:
    """pingyi's version and a hash of its own files (code, templates, rulesets, notebooks)."""
    from pingyi_lib import __version__

    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for root in (package, notebook_dir()):
        files = sorted({p for pattern in PACKAGE_FILES for p in root.rglob(pattern) if "__pycache__" not in p.parts})
        for p in files:
            h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0" + p.read_bytes())
    return {"version": __version__, "build": h.hexdigest()[:16]}


@functools.cache
def versions() -> dict[str, str]:
    """The interpreter's and the main libraries' versions."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


@dataclass
class RunInputs:
    """What a report run is made from: the inputs' hashes and the options that matter."""

    inputs: dict
    options: dict
    reason: str = ""  # why the report is made again (--if-changed), '' when not asked

    @classmethod
    def of(cls, dataset: str | Path, ruleset: str | Path, previous, notebooks: str | Path, *,
           units: list[str] | None, report_date: str, self_contained: bool, allow_incomplete: bool) -> RunInputs:
        nbs = Path(notebooks)
        inputs = {"dataset": _input(dataset), "ruleset": _input(ruleset), "previous": _inputs(as_list(previous)),
                  "notebooks": {"path": str(nbs), "files": {n: file_hash(nbs / n) for n in REPORT_NOTEBOOKS}}}
        options = {"units": sorted(units) if units else None, "report_date": report_date,
                   "self_contained": bool(self_contained), "allow_incomplete": bool(allow_incomplete)}
        return cls(inputs, options)

    def content(self) -> dict:
        """What the fingerprint is made of: contents, not paths."""
        return {"inputs": {k: (v or {}).get("files") for k, v in self.inputs.items()}, "options": self.options,
                "pingyi": pingyi_build(), "versions": versions()}

    def scoring(self) -> dict:
        """What the round's scores depend on (the name of the scored store, output/scored.py): the
        round's, the ruleset's and last year's files by content, and pingyi and its libraries;
        not the notebooks or the options of the pages."""
        return {"inputs": {k: (self.inputs.get(k) or {}).get("files") for k in ("dataset", "ruleset", "previous")},
                "pingyi": pingyi_build(), "versions": versions()}

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def published_inputs(inputs: dict) -> dict:
    """The inputs as run.json holds them: each folder or file by its last part (run.json is
    published with the report, which never names the server's folders; the fingerprint is of
    contents, not paths)."""
    def named(v):
        if not (v and v.get("path")):
            return v
        several = {"paths": [Path(p).name for p in v["paths"]]} if "paths" in v else {}
        return {**v, "path": Path(v["path"]).name, **several}

    return {k: named(v) for k, v in inputs.items()}


def now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def manifest(run: RunInputs, res, results, day, started: str, jobs: int) -> dict:
    """The run.json of a finished run (``results``: the pages' ``JobResult``; ``day``: the
    ReportDay every page was read on)."""
    counts = res.dataset.table_counts
    tables = {r.table: {"accepted": int(r.accepted), "rejected": int(r.rejected)} for r in counts.itertuples()}
    return {
        "format": FORMAT,
        "fingerprint": run.fingerprint,
        "pingyi": pingyi_build(),
        "versions": versions(),
        "inputs": published_inputs(run.inputs),
        "options": run.options,
        "report_day": {"day": day.day.isoformat(), "source": day.source, "from_today": day.from_today},
        "started": started,
        "finished": now(),
        "jobs": jobs,
        "pages": [{"page": r.html, "title": r.title, "ok": r.ok, "seconds": r.seconds,
                   **({"kept": True} if r.kept else {})} for r in results],
        "rows": {"accepted": sum(t["accepted"] for t in tables.values()),
                 "rejected": sum(t["rejected"] for t in tables.values()), "tables": tables},
    }


def read(out: str | Path) -> dict | None:
    """The run.json of a report folder; None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(out) / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def why_rebuild(out: str | Path, run: RunInputs, today: dt.date | None = None) -> str:
    """'' when the report in ``out`` was made from exactly this run's inputs and options and is
    whole; else why it must be made again, in a few words (Chinese)."""
    last = read(out)
    if last is None:
        return f"{Path(out) / NAME} 不存在或无法读取"
    if not (Path(out) / "index.html").is_file():
        return "上次的报告不完整（没有 index.html）"
    if last.get("fingerprint") != run.fingerprint:
        return _what_changed(last, run)
    failed = [p.get("title", "?") for p in last.get("pages", []) if not p.get("ok")]
    if failed:
        return f"上次有 {len(failed)} 份报告生成失败"
    day = last.get("report_day") or {}
    if day.get("from_today") and day.get("day") != (today or dt.date.today()).isoformat():
        return "报告日取的是运行当天（数据中没有日期），今天已是另一天"
    return ""


def _what_changed(last: dict, run: RunInputs) -> str:
    names = {"dataset": "本轮数据", "ruleset": "规则文件", "previous": "往年数据", "notebooks": "报告笔记本"}
    for key, label in names.items():
        old = (last.get("inputs", {}).get(key) or {}).get("files")
        new = (run.inputs.get(key) or {}).get("files")
        if old != new:
            if old and new:
                changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
                return f"{label}已变化（{'、'.join(changed[:5])}{' 等' if len(changed) > 5 else ''}）"
            return f"{label}已变化"
    if last.get("options") != run.options:
        return "选项已变化"
    if last.get("pingyi") != pingyi_build():
        return "pingyi 已更新"
    return "依赖库的版本已变化"
