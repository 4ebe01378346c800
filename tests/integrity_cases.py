"""Synthetic rounds for the integrity tests: honest traffic, and the attacks it must catch.

Honest questionnaires arrive at random moments over the survey window (online ones
between 7:00 and 23:00, others in office hours), each from its own device, with answers
that follow the respondent's mood (so a few are straight-lined, as in real rounds) and a
comment now and then. The attacks add rows whose ``response_id`` starts with ``X`` so a
test can tell them apart. Everything is seeded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ITEMS = ("lawful", "fair", "open", "service", "integrity", "overall")
LABELS = np.array(["", "很满意", "比较满意", "基本满意", "不满意", "不了解"], dtype=object)
MOODS = np.array([[.02, .80, .12, .03, .01, .02],   # pleased
                  [.02, .35, .35, .17, .05, .06],   # middling
                  [.02, .10, .20, .30, .30, .08]])  # displeased
COMMENTS = ("办事效率高，服务热情。", "希望简化审批材料。", "窗口人员态度有待改进。", "检查标准不统一。",
            "建议网上公开办理进度。", "执法规范，亮证检查。", "办理时限偏长，希望提速。", "整体满意，继续保持。")
START = pd.Timestamp("2012-07-25")
DAYS = 38  # 07-25 .. 08-31


def honest(rng: np.random.Generator, unit: str, n: int, channel: str = "online", start: pd.Timestamp = START,
           days: int = DAYS, day_weights: np.ndarray | None = None) -> pd.DataFrame:
    """``n`` honest questionnaires for ``unit``; ``day_weights`` shapes traffic over the days."""
    p = None if day_weights is None else day_weights / day_weights.sum()
    day = rng.choice(days, size=n, p=p)
    lo, hi = (7 * 3600, 23 * 3600) if channel == "online" else (8 * 3600 + 1800, 17 * 3600 + 1800)
    at = start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.integers(lo, hi, n), unit="s")
    mood = rng.choice(3, size=n, p=[.45, .40, .15])
    cum = MOODS[mood].cumsum(axis=1)
    answers = {it: LABELS[(rng.random(n)[:, None] > cum[:, :-1]).sum(axis=1)] for it in ITEMS}
    comment = np.where(rng.random(n) < .18, np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), n)], "")
    fp = [f"h-{unit}-{channel}-{k}-{rng.integers(1 << 40):x}" for k in range(n)] if channel == "online" else [""] * n
    return pd.DataFrame({"unit_id": unit, "channel": channel, "submitted_at": at, "fingerprint": fp, **answers,
                         "comment": comment, "attack": False})


def stuffing(rng: np.random.Generator, unit: str, n: int, start: pd.Timestamp, minutes: float, devices: int,
             varied: bool = False, comment: str = "", channel: str = "online") -> pd.DataFrame:
    """``n`` stuffed questionnaires from ``devices`` devices within ``minutes`` of ``start``:
    every item 很满意, or (``varied``) one random item 比较满意 so no two need be alike."""
    at = start + pd.to_timedelta(np.sort(rng.uniform(0, minutes * 60, n)).astype(int), unit="s")
    answers = {it: np.full(n, "很满意", dtype=object) for it in ITEMS}
    if varied:
        which = rng.integers(0, len(ITEMS) + 1, n)  # len(ITEMS): leave all 很满意
        for k, it in enumerate(ITEMS):
            answers[it][which == k] = "比较满意"
    device = rng.permutation(n) if devices >= n else rng.integers(0, devices, n)  # devices >= n: one each
    fp = [f"x-{unit}-{d}" for d in device]
    return pd.DataFrame({"unit_id": unit, "channel": channel, "submitted_at": at, "fingerprint": fp, **answers,
                         "comment": comment, "attack": True})


def drip(rng: np.random.Generator, unit: str, per_day: int, days: int, devices: int,
         first_day: int = 5) -> pd.DataFrame:
    """A slow drip: ``per_day`` all-很满意 questionnaires a day for ``days`` days, at random
    evening moments, from ``devices`` devices."""
    frames = [stuffing(rng, unit, per_day, START + pd.Timedelta(days=first_day + d, hours=18), 240, devices)
              for d in range(days)]
    return pd.concat(frames, ignore_index=True)


def write_round(folder: Path, units: dict[str, str], *frames: pd.DataFrame, population: dict | None = None,
                review: str | None = None) -> tuple[Path, set[str]]:
    """Write units.csv and survey.csv (rows in time order, ids R…/X… for honest/attack) and
    return the folder and the ids of the attack rows."""
    folder.mkdir(parents=True, exist_ok=True)
    u = pd.DataFrame({"unit_id": list(units), "name": [f"{k}单位" for k in units], "level": list(units.values())})
    if population:
        u["population"] = [population.get(k, "") for k in units]
    u.to_csv(folder / "units.csv", index=False)
    s = pd.concat(frames, ignore_index=True).sort_values(["submitted_at", "unit_id"], kind="stable")
    s = s.reset_index(drop=True)
    s.insert(0, "response_id", [f"{'X' if a else 'R'}{k:06d}" for k, a in enumerate(s["attack"])])
    s["submitted_at"] = s["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    s.drop(columns="attack").to_csv(folder / "survey.csv", index=False)
    if review is not None:
        (folder / "integrity_review.csv").write_text(review, encoding="utf-8")
    return folder, set(s.loc[s["attack"], "response_id"])
