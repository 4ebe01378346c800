"""What was fixed, and when: the rectification ledger (整改台账) and the timeline of
the reports each unit owes (seed §五(一), (二), (七)).

Dates are compared as calendar days. ``report_date`` is the day the ledger is read
("overdue on the report date"); a notebook or the CLI passes it, default today.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pingyi_lib.dataset.load import Dataset
from pingyi_lib.dataset.validate import parse_datetimes
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.themes import themes_of


def parse_day(value) -> pd.Timestamp:
    """'' or None → today; '2011-09-15' or a date → that day (midnight).

    Text is read as dates in the data are (:func:`parse_datetimes`: year first, so
    ``9/15``, ``3/8/2011`` and ``now`` are refused rather than guessed); ValueError if not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return pd.Timestamp(dt.date.today())
    if isinstance(value, str):
        day = parse_datetimes(pd.Series([value.strip()], dtype=object)).iloc[0]
        if pd.isna(day):
            raise ValueError(f"not a date: {value!r}")
        return pd.Timestamp(day).normalize()
    return pd.Timestamp(value).normalize()


def round_year(ds: Dataset) -> int:
    """The calendar year of a round: the most common year of its milestone, survey and
    rectification dates, else the ruleset's year."""
    dates = [ds.milestones["submitted_on"], ds.survey["submitted_at"], ds.rectifications["deadline"]]
    years = pd.concat([pd.to_datetime(d, errors="coerce").dt.year for d in dates]).dropna()
    return int(years.mode().min()) if len(years) else ds.ruleset.year


def ledger(ds: Dataset, report_date=None, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """One row per rectification item with its state on ``report_date``.

    Columns: unit_id, item_id, problem, measure, owner, deadline, status, completed_on,
    done, overdue (not done and the deadline has passed), due_today, days_overdue,
    completed_late, days_late, themes (problem themes the item answers, '、'-joined).
    """
    rs = ruleset or ds.ruleset
    day = parse_day(report_date)
    r = ds.rectifications
    done_label = rs.rectification_done
    done = (r["status"] == done_label).to_numpy()
    deadline = r["deadline"]
    overdue = ~done & (deadline < day).to_numpy()
    late = done & (r["completed_on"] > deadline).fillna(False).to_numpy()
    out = r[["unit_id", "item_id", "problem", "measure", "owner", "deadline", "status", "completed_on"]].copy()
    out["done"] = done
    out["overdue"] = overdue
    out["due_today"] = ~done & (deadline == day).to_numpy()
    out["days_overdue"] = np.where(overdue, (day - deadline).dt.days, 0).astype(np.int64)
    out["completed_late"] = late
    out["days_late"] = np.where(late, (r["completed_on"] - deadline).dt.days.fillna(0), 0).astype(np.int64)
    out["themes"] = [("、".join(themes_of(p, rs))) for p in r["problem"]]
    return out.sort_values(["unit_id", "deadline", "item_id"], kind="stable").reset_index(drop=True)


def ledger_summary(led: pd.DataFrame) -> pd.DataFrame:
    """Per unit: items, completed, completion rate (0-1), overdue, completed late."""
    g = led.groupby("unit_id")
    out = pd.DataFrame({"items": g.size(), "completed": g["done"].sum(), "overdue": g["overdue"].sum(),
                        "completed_late": g["completed_late"].sum()})
    out["completion_rate"] = out["completed"] / out["items"]
    return out.astype({"items": np.int64, "completed": np.int64, "overdue": np.int64, "completed_late": np.int64}) \
        .reset_index()


def timeline(ds: Dataset, year: int | None = None, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """Each unit that owes reports × each step: deadline, submitted_on, state.

    ``state`` is 按时 (on or before the deadline), 逾期 (late, ``days_late`` > 0) or 未报送
    (missing). Units owing reports are those whose level is in ``timeline.timeline_levels``;
    when a unit reports a step twice, the first submission counts.
    """
    rs = ruleset or ds.ruleset
    year = year or round_year(ds)
    units = ds.units[ds.units["level"].isin(rs.timeline_levels)][["unit_id", "name"]]
    steps = pd.DataFrame({"step": list(rs.deadlines),
                          "deadline": [pd.Timestamp(f"{year}-{md}") for md in rs.deadlines.values()]})
    grid = units.merge(steps, how="cross")
    first = ds.milestones.groupby(["unit_id", "step"])["submitted_on"].min().rename("submitted_on").reset_index()
    out = grid.merge(first, on=["unit_id", "step"], how="left")
    days = (out["submitted_on"] - out["deadline"]).dt.days
    out["days_late"] = days.clip(lower=0).fillna(0).astype(np.int64)
    out["state"] = np.where(out["submitted_on"].isna(), "未报送", np.where(days > 0, "逾期", "按时"))
    return out[["unit_id", "name", "step", "deadline", "submitted_on", "state", "days_late"]]
