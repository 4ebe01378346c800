"""What was fixed, and when: the rectification ledger (整改台账) and the timeline of
the reports each unit owes (seed §五(一), (二), (七)), as of one day.

Every figure is read on the report day (``report_date``; a notebook or the CLI passes it; by
default the round's, ``Dataset.round.report_day``: round.toml's report_date, else the last
date in the data, never the machine's clock for a past round). A completion or submission
dated after that day does not exist yet for that report: the item or step shows its state on
the day, with a note that the file holds a later date. Dates are compared as calendar days.

States (stable codes; the pages show them in Chinese, sections/followup.py):

- ledger items: ``done`` (completed by the day, on or before the deadline, or with no
  completion date), ``done_late``, ``overdue`` (not done, deadline passed), ``due_today``,
  ``not_due`` (deadline after the day), ``open`` (not done and the deadline cannot be judged:
  it lies in a year before the round's, a data problem);
- timeline steps: ``on_time``, ``late``, ``missing`` (deadline passed, nothing submitted by
  the day), ``not_due`` (deadline not passed, nothing submitted yet).

Data problems (a status that is not done with a completion date, a date in a year before the
round's) are listed by :func:`data_problems` with file, row and a reason in Chinese; they are
never dropped silently.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pingyi_lib.dataset.load import Dataset
from pingyi_lib.dataset.round import ReportDay, parse_date, round_info
from pingyi_lib.followup import duties
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.themes import themes_of

PROBLEM_COLUMNS = ["table", "file", "row", "unit_id", "item", "reason_code", "reason"]


def report_day(ds: Dataset, value=None) -> ReportDay:
    """The day the ledger of ``ds`` is read: ``value`` when given ('YYYY-MM-DD' or a date),
    else the round's default (see :mod:`pingyi_lib.dataset.round`), with a warning when it
    lies more than a year after the round."""
    info = ds.round or round_info(ds.path, ds.tables, ds.ruleset)
    return info.report_day(value)


def parse_day(value) -> pd.Timestamp:
    """'2011-09-15' or a date → that day (midnight). Text is read as dates in the data are
    (:func:`pingyi_lib.dataset.round.parse_date`: year first, so ``9/15``, ``3/8/2011`` and
    ``now`` are refused rather than guessed); a bad value raises OptionError."""
    return pd.Timestamp(parse_date(value))


def round_year(ds: Dataset) -> int:
    """The calendar year of a round (round.toml, else its data's dates, else this year)."""
    info = ds.round or round_info(ds.path, ds.tables, ds.ruleset)
    return info.year or dt.date.today().year


def _day(ds: Dataset, report_date) -> pd.Timestamp:
    if isinstance(report_date, pd.Timestamp):
        return report_date.normalize()
    return pd.Timestamp(report_day(ds, report_date).day)


def _checks(ds: Dataset, rs: Ruleset, year: int) -> dict[str, np.ndarray]:
    """Per rectification item, what the data problems and the states both read: ``says_done``
    (the file's status is the done word), ``has_date`` (a completion date), ``not_done_dated``
    (a date without the done status), ``bad_deadline`` and ``bad_completed`` (in a year before
    the round's)."""
    r = ds.rectifications
    completed = r["completed_on"]
    says_done = (r["status"] == rs.rectification_done).to_numpy()
    has_date = completed.notna().to_numpy()
    return {"says_done": says_done, "has_date": has_date, "not_done_dated": has_date & ~says_done,
            "bad_deadline": (r["deadline"].dt.year < year).to_numpy(),
            "bad_completed": has_date & (completed.dt.year < year).fillna(False).to_numpy()}


def _ymd(d) -> str:
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def ledger(ds: Dataset, report_date=None, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """One row per rectification item with its state on ``report_date``.

    Columns: unit_id, item_id, row (in the file), problem, measure, owner, deadline, status,
    completed_on (as the file holds it), done (completed by the day), state (see the module),
    days (days late for done_late, past the deadline for overdue, until the deadline for
    not_due; else 0), due (counts in the completion rate: due by the day or done by it),
    overdue, due_today, completed_late (booleans of the state), note (Chinese: a later date
    the file holds, a data problem; '' if none), themes (problem themes, '、'-joined),
    dimensions (the themes' dimensions, codes '、'-joined; followup/duties.py).
    """
    rs = ruleset or ds.ruleset
    day = _day(ds, report_date)
    year = round_year(ds)
    r = ds.rectifications
    deadline, completed = r["deadline"], r["completed_on"]
    c = _checks(ds, rs, year)
    bad_deadline = c["bad_deadline"]
    later = c["says_done"] & c["has_date"] & (completed > day).fillna(False).to_numpy()
    done = c["says_done"] & ~later
    late = done & ~c["bad_completed"] & ~bad_deadline & (completed > deadline).fillna(False).to_numpy()
    until = (deadline - day).dt.days.to_numpy()
    state = np.select(
        [late, done, bad_deadline, until < 0, until == 0],
        ["done_late", "done", "open", "overdue", "due_today"], "not_due")
    days = np.select([state == "done_late", state == "overdue", state == "not_due"],
                     [(completed - deadline).dt.days.fillna(0).to_numpy(), -until, until], 0)
    notes = []
    for i in range(len(r)):
        n = []
        if later[i]:
            n.append(f"台账记为{r['status'].iat[i]}，完成日期{_ymd(completed.iat[i])}晚于报告日，按报告日计为未完成")
        if c["not_done_dated"][i]:
            n.append(f"状态为{r['status'].iat[i]}却填有完成日期{_ymd(completed.iat[i])}，按未完成计，请核对")
        if bad_deadline[i]:
            n.append(f"期限{_ymd(deadline.iat[i])}早于本轮年度（{year}年），无法判断是否逾期，请核对")
        if c["bad_completed"][i]:
            n.append(f"完成日期{_ymd(completed.iat[i])}早于本轮年度（{year}年），请核对")
        notes.append("；".join(n))
    out = r[["unit_id", "item_id", "row", "problem", "measure", "owner", "deadline", "status", "completed_on"]].copy()
    out["done"] = done
    out["state"] = state
    out["days"] = days.astype(np.int64)
    out["due"] = done | np.isin(state, ("overdue", "due_today", "open"))
    out["overdue"] = state == "overdue"
    out["due_today"] = state == "due_today"
    out["completed_late"] = state == "done_late"
    out["note"] = notes
    found = [themes_of(p, rs) for p in r["problem"]]
    out["themes"] = ["、".join(t) for t in found]
    out["dimensions"] = duties.ledger_dimensions(found, rs)
    return out.sort_values(["unit_id", "deadline", "item_id"], kind="stable").reset_index(drop=True)


def ledger_summary(led: pd.DataFrame) -> pd.DataFrame:
    """Per unit: items, due (by the day, or done by it), completed (by the day), completion
    rate (completed / due, 0-1; NA when nothing is due yet), overdue, due today, not yet due,
    completed late."""
    x = led.assign(not_due=led["state"] == "not_due")
    g = x.groupby("unit_id")
    out = pd.DataFrame({"items": g.size(), "due": g["due"].sum(), "completed": g["done"].sum(),
                        "overdue": g["overdue"].sum(), "due_today": g["due_today"].sum(),
                        "not_due": g["not_due"].sum(), "completed_late": g["completed_late"].sum()})
    out = out.astype(np.int64)
    out["completion_rate"] = (out["completed"] / out["due"].where(out["due"] > 0)).astype("Float64")
    return out.reset_index()


def timeline(ds: Dataset, report_date=None, year: int | None = None, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """Each unit that owes reports × each step, on ``report_date``.

    Columns: unit_id, name, step, deadline, submitted_on (the first submission counted: on or
    before the day, in the round's year; NaT if none), state (see the module), days (late by,
    past the deadline while missing, until the deadline while not due; else 0), note (a later
    submission, or one dated in an earlier year than the round's, in Chinese).
    Units owing reports are those whose level is in ``timeline.timeline_levels``.
    """
    rs = ruleset or ds.ruleset
    day = _day(ds, report_date)
    year = year or round_year(ds)
    units = ds.units[ds.units["level"].isin(rs.timeline_levels)][["unit_id", "name"]]
    steps = pd.DataFrame({"step": list(rs.deadlines),
                          "deadline": [pd.Timestamp(f"{year}-{md}") for md in rs.deadlines.values()]})
    grid = units.merge(steps, how="cross")
    ms = ds.milestones
    on = ms["submitted_on"]
    counted = ms[(on <= day) & (on.dt.year >= year)]
    first = counted.groupby(["unit_id", "step"])["submitted_on"].min().rename("submitted_on").reset_index()
    out = grid.merge(first, on=["unit_id", "step"], how="left")
    notes: dict[tuple[str, str], list[str]] = {}
    for u, s, d in zip(ms["unit_id"], ms["step"], on):
        if d.year < year:
            notes.setdefault((u, s), []).append(f"文件中的报送日期{_ymd(d)}不在本轮年度（{year}年），未计入，请核对")
        elif d > day:
            notes.setdefault((u, s), []).append(f"文件中的报送日期{_ymd(d)}晚于报告日，按报告日计为未报送")
    late_by = (out["submitted_on"] - out["deadline"]).dt.days
    until = (out["deadline"] - day).dt.days
    sent = out["submitted_on"].notna()
    out["state"] = np.select([sent & (late_by > 0), sent, until < 0], ["late", "on_time", "missing"], "not_due")
    out["days"] = np.select([out["state"] == "late", out["state"] == "missing", out["state"] == "not_due"],
                            [late_by.fillna(0), -until, until], 0).astype(np.int64)
    has_first = set(zip(first["unit_id"], first["step"]))
    out["note"] = ["；".join(notes.get((u, s), [])) if (u, s) not in has_first else ""
                   for u, s in zip(out["unit_id"], out["step"])]
    return out[["unit_id", "name", "step", "deadline", "submitted_on", "state", "days", "note"]]


def data_problems(ds: Dataset, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """The ledger's and the timeline's data problems, one row each (PROBLEM_COLUMNS): a status
    that is not done with a completion date (``completed_not_done``), a deadline or completion
    date in a year before the round's (``date_before_round``), an owner the round's offices do
    not name (``owner_near`` with the proposed name, ``owner_unknown``), a submission dated
    before the round's year (``date_before_round``). Reasons in Chinese; file and row as in the data."""
    rs = ruleset or ds.ruleset
    year = round_year(ds)
    rows = []
    rf = ds.file_of("rectifications")
    c = _checks(ds, rs, year)
    for i, rec in enumerate(ds.rectifications.itertuples(index=False)):
        if c["not_done_dated"][i]:
            rows.append(("rectifications", rf, rec.row, rec.unit_id, rec.item_id, "completed_not_done",
                         f"整改事项{rec.item_id}状态为“{rec.status}”却填有完成日期{_ymd(rec.completed_on)}：请改为"
                         f"“{rs.rectification_done}”或删去完成日期"))
        for bad, label, d in ((c["bad_deadline"][i], "期限", rec.deadline),
                              (c["bad_completed"][i], "完成日期", rec.completed_on)):
            if bad:
                rows.append(("rectifications", rf, rec.row, rec.unit_id, rec.item_id, "date_before_round",
                             f"整改事项{rec.item_id}的{label}{_ymd(d)}早于本轮年度（{year}年）"))
    info = ds.round or round_info(ds.path, ds.tables, ds.ruleset)
    rows += duties.owner_problems(ds.rectifications, info, rf)  # owner_near, owner_unknown
    mf = ds.file_of("milestones")
    for m in ds.milestones.itertuples(index=False):
        if m.submitted_on.year < year:
            rows.append(("milestones", mf, m.row, m.unit_id, m.step, "date_before_round",
                         f"{m.unit_id}“{m.step}”的报送日期{_ymd(m.submitted_on)}早于本轮年度（{year}年），未计入"))
    out = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    return out.astype({"row": np.int64})
