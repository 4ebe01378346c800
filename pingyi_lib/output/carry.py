"""Some pages of a report made again: ``pingyi report DATASET --out OUT --units U …`` into a
folder that already holds the report of the same inputs.

When ``OUT`` holds a whole report made from the same data, ruleset, last year's round,
notebooks, report day, options and pingyi (its run.json's fingerprint is this run's with the
units of that run), and every unit asked for has a page in it, only the pages of the units
asked for are made again. The city page, the workbook, the notice and the other units' pages
are kept from ``OUT`` (linked or copied into the staging folder) instead of being rebuilt:
made again they would come out the same, since everything they are made from is the same.
The folder stays one run's report (its run.json names the first run's units, so
``--if-changed`` finds it whole afterwards), and report.log says what was kept.

Anything else (another input, option, day or pingyi; a unit the report did not have; a failed
page other than those asked for; a file missing or replaced by a link) and the run makes what
it always made: the city page, the workbook, the notice and the pages asked for.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from pingyi_lib.common.names import unit_slugs
from pingyi_lib.output import manifest
from pingyi_lib.output.jobs import JobResult

# what the folder holds beside the pages: made for the whole round, never for one unit
ROUND_FILES = ("city.html", "notebooks/city.ipynb")


@dataclass
class KeptReport:
    """What a rerun of some pages keeps from ``OUT``."""

    units: list[str] | None  # the units option of the run that made OUT (None: every unit)
    results: list[JobResult]  # the pages kept, as that run recorded them
    files: list[str]  # every file kept, relative to OUT
    order: list[str]  # every page of that run in its order (run.json)


def _regular(out: Path, rel: str) -> bool:
    """``OUT/rel`` is a regular file reached through no link (a link planted in OUT is never followed)."""
    p = out
    for part in Path(rel).parts:
        p = p / part
        try:
            mode = p.lstat().st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return stat.S_ISREG(mode)


def kept_report(out: Path, run: manifest.RunInputs, asked: list[str] | None, all_units: list[str], day: str,
                extra_files: tuple[str, ...]) -> KeptReport | None:
    """What ``OUT`` can keep when only the pages of ``asked`` are made again, or None when it must
    be made as always. ``day``: the report day of this run (YYYY-MM-DD); ``extra_files``: the
    round's other files the folder holds (workbook, notice, assets)."""
    if not asked:
        return None
    last = manifest.read(out)
    if last is None or not _regular(out, "index.html"):
        return None
    options = last.get("options")
    then_units = options.get("units") if isinstance(options, dict) else None
    if then_units is not None and not isinstance(then_units, list):
        return None
    then = manifest.RunInputs(run.inputs, {**run.options, "units": then_units})
    if last.get("fingerprint") != then.fingerprint or (last.get("report_day") or {}).get("day") != day:
        return None
    covered = list(then_units) if then_units else list(all_units)
    if not set(asked) <= set(covered) or not set(covered) <= set(all_units):
        return None
    slugs = unit_slugs(covered)
    by_page = {f"units/{slugs[u]}.html": u for u in covered}
    again = {f"units/{slugs[u]}.html" for u in asked}
    pages = [p for p in last.get("pages") or [] if isinstance(p, dict) and isinstance(p.get("page"), str)]
    if sorted(p.get("page") for p in pages) != sorted(["city.html", *by_page]):
        return None  # not the pages that run should have made
    results, files = [], [*ROUND_FILES, *extra_files]
    for p in pages:
        rel = p["page"]
        if rel in again:
            continue
        if not p.get("ok"):
            return None  # a failed page not asked for: made again with everything
        uid = by_page.get(rel)
        results.append(JobResult("unit" if uid else "city", str(p.get("title", "")), uid, rel, True,
                                 float(p.get("seconds") or 0.0), kept=True))
        if uid:
            files += [rel, f"notebooks/units/{slugs[uid]}.ipynb"]
    if not all(_regular(out, rel) for rel in files):
        return None
    return KeptReport(then_units, results, files, [p["page"] for p in pages])


def copy_kept(kept: KeptReport, out: Path, stage: Path) -> None:
    """Put the kept files into the staging folder: a hard link where the file system allows
    (the old folder is removed after the swap; nothing writes into a kept file), else a copy."""
    for rel in kept.files:
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(out / rel, target, follow_symlinks=False)
        except OSError:
            shutil.copy2(out / rel, target, follow_symlinks=False)


def in_order(kept: KeptReport, made: list[JobResult]) -> list[JobResult]:
    """The kept pages and the pages made now, in the order of the run that made the folder."""
    order = {rel: i for i, rel in enumerate(kept.order)}
    return sorted([*kept.results, *made], key=lambda r: order.get(r.html, len(order)))
