"""A round scored once per report batch and handed to every notebook.

``pingyi report`` scores the round (and last year's, and the follow-up sections) once and
writes the result into the user's cache folder (:func:`cache_root`), never into the report
folder: the bundle holds the round's raw rows (phone numbers in comments, device
fingerprints), and a report folder is published. The bundle is an Arrow and JSON store
(:mod:`pingyi_lib.output.store`), not a pickle: reading it runs no code it brings along.
Each notebook gets the store's folder as its ``scored`` parameter; the executed notebooks
kept in the report have that parameter blanked (:func:`forget`), so a rerun reads the round
from its folder. A notebook run on its own (JupyterLab, defaults) scores the round itself.

A store is used only while it matches its inputs: the size and modification time of every
file of the round, the ruleset and last year's round, and the report day it was made for.
Anything else (edited data, another day, a damaged store) and the notebook scores afresh.
The store is named for the content of those inputs and pingyi's build (:func:`batch_key`), so
a later batch of the same inputs (``pingyi report --units U`` after a full run) reads it
instead of scoring the round again (:func:`reuse`).
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from pingyi_lib.common.controlchars import visible
from pingyi_lib.output import store
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.output.runlog import log

CACHE_ENV = "PINGYI_CACHE"  # a folder for the scored stores instead of the user's cache folder
INPUTS = "inputs.json"  # beside the store's bundle.json: what the store was made from
KEEP = 8  # stores kept (the most recently used); older ones are removed when a new one is written
KEEP_DAYS = 30  # ... and none unused for longer than this


def cache_root() -> Path:
    """Where scored rounds are kept: ``$PINGYI_CACHE``, else the user's cache folder
    (``~/.cache/pingyi`` on Linux, ``%LOCALAPPDATA%\\pingyi\\Cache`` on Windows)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pingyi", appauthor=False))


def _files(inp: str | Path) -> list[Path]:
    """The files of an input: every file under a folder (sorted), or the file itself."""
    p = Path(inp)
    return sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]


def compute(dataset: str, ruleset: str = "", previous: str | list[str] = "", report_date: str = ""):
    """(Results, last year's Results or None, FollowUp): what a report notebook needs; every round
    with intervals (docs/statistics.md), so the look-back and the trend can say which changes are
    significant. ``previous``: last year's round, or several past rounds (a list; the most recent
    is last year's, the others add years to the trend: followup.history)."""
    import pingyi_lib as py
    from pingyi_lib.followup import history
    from pingyi_lib.followup.ledger import report_day
    from pingyi_lib.scoring.results import at_day
    from pingyi_lib.sections.followup import FollowUp

    ds = py.load_dataset(dataset, ruleset=ruleset or None)
    past = history.load_past(ds, history.past_paths(dataset, previous))
    res = at_day(py.score(ds, intervals=True), report_day(ds, report_date or None).day)
    last_year = py.score(past[0], intervals=True) if past else None
    older = [py.score(p, intervals=True) for p in past[1:]]
    follow = FollowUp(res, last_year, report_date, older=older)
    # a consequence over several rounds ([consequences.repeat_bottom]; off unless the ruleset says so)
    follow.res = res = history.with_repeat_bottom(res, follow.trend)
    return res, last_year, follow


def inputs_of(dataset: str, ruleset: str = "", previous: str | list[str] = "", report_date: str = "") -> dict:
    """What a store stands for: every input file's path, size and modification time (the round's,
    the ruleset's, every past round's), the report date asked for, and today when none was (an
    empty report date is read as of today)."""
    from pingyi_lib.followup.history import as_list

    files = []
    for inp in (dataset, ruleset, *as_list(previous)):
        if not inp:
            continue
        for f in _files(Path(inp).resolve()):
            try:
                st = f.stat()
            except OSError:
                continue
            files.append([str(f), st.st_size, st.st_mtime_ns])
    return {"files": files, "report_date": report_date,
            "today": "" if report_date else dt.date.today().isoformat()}


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # raw rows of a round: the user's eyes only
    return path


def write(bundle, key: str, inputs: dict, root: str | Path | None = None) -> Path:
    """Store a :func:`compute` bundle as ``ROOT/scored/KEY`` (built beside it, renamed into
    place) and return that folder. A store of the same key already there is reused.
    Raises OSError when the cache folder cannot be written, StoreError for a value the store
    cannot hold."""
    base = _private_dir(Path(root) if root else cache_root()) / "scored"
    _private_dir(base)
    final = base / key
    if (final / store.MANIFEST).is_file() and _matches(final, inputs):
        os.utime(final)  # used again: kept longest
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=base))
    try:
        store.write(bundle, tmp)
        (tmp / INPUTS).write_text(json.dumps(inputs, ensure_ascii=False), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / store.MANIFEST).is_file():  # another run wrote the same key meanwhile: use it
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune(base, spare=final)
    return final


def batch_key(scoring: dict, asked: str, today: str) -> str:
    """The name of a batch's store: a hash of what the round's scores depend on (``scoring``:
    :meth:`pingyi_lib.output.manifest.RunInputs.scoring`, the content hashes of the round's,
    the ruleset's and last year's files and pingyi's build and libraries), ``asked``
    (--report-date, or '') and ``today`` (an empty report date is read as of today). The report
    day is a function of these, so a store found under this name serves the same pages."""
    text = json.dumps({"scoring": scoring, "asked": asked, "today": today, "format": store.FORMAT},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def keep(bundle, key: str, dataset: str, ruleset: str, previous: str | list[str], day: str) -> str:
    """The batch's bundle in the user's cache folder (never in OUT) as ``key`` (:func:`batch_key`);
    it serves the notebooks that are passed the report day ``day``. Returns '' when it cannot be
    written there (each notebook then scores the round itself, more slowly, and report.log says so)."""
    try:
        return str(write(bundle, key, inputs_of(dataset, ruleset, previous, day)))
    except (OSError, store.StoreError) as exc:
        log.warning("评分结果无法写入缓存目录 %s（%s）：每份报告将各自计分，速度较慢", cache_root(), visible(str(exc)))
        return ""


def reuse(key: str, dataset: str, ruleset: str = "", previous: str | list[str] = ""):
    """(bundle, its folder) of an earlier batch stored as ``key`` (:func:`batch_key`) while its
    input files are as they were (path, size, modification time, as :func:`load` checks them
    for the notebooks); None when there is none, it no longer matches or cannot be read (the
    round is then scored afresh)."""
    folder = cache_root() / "scored" / key
    try:
        made_of = json.loads((folder / INPUTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(made_of, dict) or made_of.get("files") != inputs_of(dataset, ruleset, previous)["files"]:
        return None
    try:
        bundle = store.read(folder)
        os.utime(folder)  # used again: kept longest
    except (OSError, store.StoreError):
        return None  # damaged or half removed
    return bundle, str(folder)


def prune(base: Path, spare: Path | None = None) -> None:
    """Remove all but the :data:`KEEP` most recently used stores, stores unused for
    :data:`KEEP_DAYS` days, and folders a killed run left half-written (older than an hour);
    ``spare``: the store just written, kept whatever its age."""
    now = time.time()
    entries = []
    for p in base.iterdir():
        try:
            age = now - p.stat().st_mtime
        except OSError:
            continue
        if p.name.startswith("."):
            if age > 3600:
                shutil.rmtree(p, ignore_errors=True)
        elif p != spare:
            entries.append((age, p))
    entries.sort()
    for i, (age, p) in enumerate(entries):
        if i >= KEEP - 1 or age > KEEP_DAYS * 86400:
            shutil.rmtree(p, ignore_errors=True)


def _matches(folder: Path, inputs: dict) -> bool:
    try:
        return json.loads((folder / INPUTS).read_text(encoding="utf-8")) == inputs
    except (OSError, ValueError):
        return False


# the last store read in this process, as (folder, its bundle file's identity, bundle): a warm
# kernel (output/warm.py) keeps this module between pages, so the next page of the same batch
# copies the round instead of reading it again (2.6 s against 0.006 s for a round of 1M rows)
_LAST: list = []


def _read_once(folder: Path):
    """A private copy of the store in ``folder``: read the first time, copied from the last read
    after (a page may change what it is given; the next page gets the store as it was written)."""
    st = (folder / store.MANIFEST).stat()
    ident = (str(folder.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    if not _LAST or _LAST[0] != ident:
        _LAST[:] = [ident, store.read(folder)]
    return private_copy(_LAST[1])


def private_copy(obj):
    """A copy of an object tree that nothing done to it reaches the original, made without
    copying the data: containers and objects are copied (``copy.deepcopy``), but every
    DataFrame, Series and Index is a lazy copy (pandas' copy-on-write copies what is changed,
    when it is changed) and every numpy array of numbers a read-only view (a change raises, as
    pandas' own arrays do). A deep copy of a round of 1M rows took 0.94 s, most of it the
    bootstrap replicates (ScoreReplicates: 235 MB at 2,000 units); this takes milliseconds.
    Shared objects stay shared. Anything not reached here (inside an object with
    ``__slots__``, say) is deep-copied as before."""
    import copy

    import numpy as np
    import pandas as pd

    memo: dict[int, object] = {}
    seen: set[int] = set()
    todo = [obj]
    while todo:
        o = todo.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, (pd.DataFrame, pd.Series)):
            memo[id(o)] = o.copy(deep=False)
        elif isinstance(o, pd.Index):
            memo[id(o)] = o.view()  # its name is its own; its values cannot change
        elif isinstance(o, np.ndarray):
            if o.dtype != object:  # an array of objects: its objects may change, copied below
                view = o.view()
                view.flags.writeable = False
                memo[id(o)] = view
        elif isinstance(o, dict):
            todo.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            todo.extend(o)
        elif hasattr(o, "__dict__") and not isinstance(o, type):
            todo.extend(vars(o).values())
    return copy.deepcopy(obj, memo)


def load(scored: str, dataset: str, ruleset: str = "", previous: str | list[str] = "", report_date: str = ""):
    """The bundle the batch stored (``scored``: its folder) while it matches the inputs, else
    the round scored here (``previous``: last year's round, or a list of past rounds)."""
    if scored:
        folder = Path(scored)
        if _matches(folder, inputs_of(dataset, ruleset, previous, report_date)):
            try:
                return _read_once(folder)
            except (OSError, store.StoreError):
                _LAST.clear()  # damaged or half removed: score afresh
    return compute(dataset, ruleset, previous, report_date)


BLANK = 'scored = ""  # blanked after the run: a rerun scores the round from its folder\n'
# parameters that name a folder or file of the server: a kept notebook is published with the
# report, and names them by their last part only (the round's folder, the ruleset's file)
PATH_PARAMETERS = ("dataset", "ruleset", "previous")
NAMED = "{key} = {value}  # 只写名称，服务器上的位置不随报告发布；在 JupyterLab 中重新运行时请改为完整路径\n"


def published_name(value):
    """A folder or file as a published file may name it: its last part ('' stays ''); a list
    of them (several past rounds), each by its last part."""
    if isinstance(value, list):
        return [published_name(v) for v in value]
    return Path(value).name if value else value


def forget(nb, name: str = "") -> bool:
    """Make an executed notebook publishable (in place): blank its ``scored`` parameter (no
    cache folder named; a rerun reads the round from its folder), name the dataset, ruleset and
    last year's round by their last part only, and papermill's record of where the notebook
    was read and written likewise (``name``: the kept notebook's file name). Returns whether
    it changed anything."""
    changed = False
    meta = nb.get("metadata", {}).get("papermill", {})
    params = meta.get("parameters", {})
    if params.get("scored"):
        params["scored"] = ""
        changed = True
    for key in PATH_PARAMETERS:
        v = params.get(key)
        if isinstance(v, (str, list)) and v != published_name(v):
            params[key] = published_name(v)
            changed = True
    for key, short in (("input_path", None), ("output_path", name or None)):
        v = meta.get(key)
        if isinstance(v, str) and v != (short or Path(v).name):
            meta[key] = short or Path(v).name
            changed = True
    for cell in nb.get("cells", []):
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        lines = cell["source"].splitlines(keepends=True)
        new = [_published_line(ln) for ln in lines]
        if new != lines:
            cell["source"] = "".join(new)
            changed = True
    return changed


def _published_line(line: str) -> str:
    """One line of papermill's injected parameters as a published notebook holds it."""
    if line.startswith("scored = "):
        return BLANK
    for key in PATH_PARAMETERS:
        if line.startswith(f"{key} = "):
            try:
                value = ast.literal_eval(line[len(key) + 3:].strip())
            except (ValueError, SyntaxError):
                return line
            if isinstance(value, (str, list)) and value != published_name(value):
                return NAMED.format(key=key, value=json.dumps(published_name(value), ensure_ascii=False))
    return line


def forget_in_file(executed: Path, nb=None) -> None:
    """:func:`forget` in a kept notebook file (``nb``: the notebook as executed, when in hand)."""
    import nbformat

    if nb is None:
        if not executed.exists() or executed.stat().st_size == 0:
            return
        nb = nbformat.read(str(executed), as_version=4)
    if forget(nb, executed.name):
        with atomic_path(executed) as tmp:
            nbformat.write(nb, str(tmp))
