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


# ---- what online platforms record: the address and the time taken (pingyi import) -------------
CARRIERS = 30  # mobile carriers' gateway addresses of a city: each carries many people, every unit's
OFFICES = 40  # addresses of the offices and firms that deal with one unit (a few people behind each)


def with_platform(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Honest online questionnaires with an IP address and a time taken: 60% through a carrier's
    gateway (shared city-wide, a few gateways carry most), 25% from an office or firm dealing
    with the unit (shared by its staff, all answering for that unit), 15% from a home line;
    answering takes a log-normal time around 95 s (about 0.1% under 20 s). Paper rows get none."""
    n = len(frame)
    online = (frame["channel"] == "online").to_numpy()
    kind = rng.choice(3, size=n, p=[.60, .25, .15])
    zipf = 1 / np.arange(1, CARRIERS + 1)
    carrier = rng.choice(CARRIERS, size=n, p=zipf / zipf.sum())
    office_w = 1 / np.arange(1, OFFICES + 1) ** 1.2
    office = rng.choice(OFFICES, size=n, p=office_w / office_w.sum())
    unit = frame["unit_id"].to_numpy(dtype=object)
    unit_no = {u: i for i, u in enumerate(sorted(set(unit)))}
    ip = np.where(kind == 0, [f"112.{c}.0.1" for c in carrier],
                  np.where(kind == 1, [f"58.{unit_no[u] % 250}.{o}.9" for u, o in zip(unit, office)],
                           [f"221.{rng.integers(256)}.{rng.integers(256)}.{rng.integers(1, 255)}" for _ in range(n)]))
    seconds = np.round(rng.lognormal(np.log(95), 0.5, n))
    return frame.assign(ip=np.where(online, ip, ""), duration_s=np.where(online, seconds.astype(int).astype(str), ""))


def script(rng: np.random.Generator, unit: str, n: int, start: pd.Timestamp, days: int, addresses: int,
           answer_seconds: tuple[float, float] = (4, 12)) -> pd.DataFrame:
    """An auto-fill script: ``n`` questionnaires over ``days`` evenings (21:00-00:30, 70-180 s
    apart as such tools wait), each from a fresh browser (its own device fingerprint), through
    ``addresses`` IP addresses (``n``: a fresh proxy each time), each answered in
    ``answer_seconds`` (a script fills the form at once unless told to wait); 很满意 about 10:1."""
    per = int(np.ceil(n / days))
    at = []
    for d in range(days):
        gaps = rng.uniform(70, 180, per).cumsum()
        at += list(start + pd.Timedelta(days=d) + pd.to_timedelta(gaps[gaps < 3.5 * 3600], unit="s"))
    at = pd.Series(at[:n])
    n = len(at)
    answers = {it: np.where(rng.random(n) < 10 / 11, "很满意", "比较满意").astype(object) for it in ITEMS}
    address = rng.permutation(n) if addresses >= n else rng.integers(0, addresses, n)
    return pd.DataFrame({"unit_id": unit, "channel": "online", "submitted_at": at.to_numpy(),
                         "fingerprint": [f"x-{unit}-{k}" for k in range(n)], **answers, "comment": "",
                         "ip": [f"183.{a % 250}.{a // 250 % 250}.7" for a in address],
                         "duration_s": np.round(rng.uniform(*answer_seconds, n)).astype(int).astype(str),
                         "attack": True})
