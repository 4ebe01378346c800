"""Rounds for the suspicious-period tests and benchmark: honest respondents from a latent-trait
model, and the auto-fill tools of issue 35.

An honest respondent has one general satisfaction ``θ ~ N(μ_unit, 1)``; each of the six items
is ``θ + ε`` (ε ~ N(0, 0.65), so items correlate about 0.7) cut at fixed thresholds into
很满意 / 比较满意 / 基本满意 / 不满意, with 不了解 now and then. Online questionnaires arrive at
random moments of the window, more in the evening than at dawn; respondents are of a few
categories. An auto-fill tool answers each item on its own, 很满意 about 10 to 1 against
比较满意, from a fresh device each time, ``gap`` seconds apart. Attack rows have ``attack``
True (ids X… once written by :func:`integrity_cases.write_round`). Everything is seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .integrity_cases import DAYS, ITEMS, START

LEVELS = np.array(["不满意", "基本满意", "比较满意", "很满意"], dtype=object)
CUTS = np.array([-1.6, -0.7, 0.35])  # θ + ε below, between, above: the four levels
CATEGORIES = np.array(["群众", "企业代表", "个体工商户", "行风监督员"], dtype=object)
CATEGORY_WEIGHTS = np.array([.55, .25, .15, .05])
# the hour an honest online questionnaire is sent: little at night, most in the evening
HOUR_WEIGHTS = np.array([2, 1, .5, .3, .3, .5, 1, 3, 5, 6, 6, 6, 7, 6, 6, 6, 6, 7, 8, 9, 10, 9, 7, 4], dtype=float)
DISTRICTS = {f"d{k}": "district" for k in range(1, 8)}
MOODS = dict(zip(DISTRICTS, (0.9, 0.75, 0.6, 0.45, 0.3, 0.15, 0.0)))  # μ: d1 best liked .. d7 least


def answers_of(rng: np.random.Generator, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Each item of each respondent of satisfaction ``theta``, with 3% 不了解."""
    out = {}
    for it in ITEMS:
        level = LEVELS[np.searchsorted(CUTS, theta + rng.normal(0, 0.65, len(theta)))]
        out[it] = np.where(rng.random(len(theta)) < .03, "不了解", level).astype(object)
    return out


def moments(rng: np.random.Generator, n: int, days: np.ndarray | None = None,
            hours: np.ndarray | None = None) -> pd.Series:
    """``n`` moments of the window: on ``days`` (day numbers, default every day), at hours
    drawn from ``hours`` weights (default HOUR_WEIGHTS)."""
    days = np.arange(DAYS) if days is None else days
    w = HOUR_WEIGHTS if hours is None else hours
    day = rng.choice(days, n)
    hour = rng.choice(24, n, p=w / w.sum())
    sec = hour * 3600 + rng.integers(0, 3600, n)
    return pd.Series(START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(sec, unit="s"))


def honest(rng: np.random.Generator, unit: str, n: int, mu: float, at: pd.Series | None = None) -> pd.DataFrame:
    """``n`` honest online questionnaires for ``unit`` (mean satisfaction ``mu``), at ``at`` or
    at random moments of the window."""
    at = moments(rng, n) if at is None else at
    return pd.DataFrame({"unit_id": unit, "channel": "online", "submitted_at": at.to_numpy(),
                         "fingerprint": [f"h-{unit}-{rng.integers(1 << 40):x}" for _ in range(n)],
                         **answers_of(rng, rng.normal(mu, 1, n)),
                         "respondent_category": rng.choice(CATEGORIES, n, p=CATEGORY_WEIGHTS),
                         "comment": "", "attack": False})


def tool(rng: np.random.Generator, unit: str, starts: list[pd.Timestamp], hours: float, gap: tuple[float, float],
         total: int, windows: int = 1) -> pd.DataFrame:
    """An auto-fill tool: from each of ``starts``, ``windows`` browser windows each send a
    questionnaire every ``gap`` seconds (uniform) for ``hours``; ``total`` at most. 很满意
    about 10:1 for every item on its own, a fresh device each time."""
    at = []
    for s in starts:
        for _ in range(windows):
            g = rng.uniform(*gap, int(hours * 3600 / gap[0]) + 1).cumsum()
            at += list(s + pd.to_timedelta(g[g < hours * 3600], unit="s"))
    at = pd.Series(sorted(at)[:total])
    n = len(at)
    answers = {it: np.where(rng.random(n) < 10 / 11, "很满意", "比较满意").astype(object) for it in ITEMS}
    return pd.DataFrame({"unit_id": unit, "channel": "online", "submitted_at": at.to_numpy(),
                         "fingerprint": [f"x-{unit}-{k}-{rng.integers(1 << 40):x}" for k in range(n)], **answers,
                         "respondent_category": rng.choice(CATEGORIES, n, p=CATEGORY_WEIGHTS), "comment": "",
                         "attack": True})


def night_drip(rng: np.random.Generator, unit: str, first_day: int = 12, nights: int = 3, total: int = 300,
               windows: int = 1) -> pd.DataFrame:
    """Three nights 21:00-00:30, one questionnaire every 70-180 s (per window)."""
    starts = [START + pd.Timedelta(days=first_day + d, hours=21) for d in range(nights)]
    return tool(rng, unit, starts, 3.5, (70, 180), total, windows)


def day_drip(rng: np.random.Generator, unit: str, first_day: int = 9, days: int = 10, total: int = 191,
             windows: int = 1) -> pd.DataFrame:
    """Ten working days 09:00-17:00, one questionnaire every 10-40 min (per window)."""
    work = [d for d in range(first_day, DAYS) if (START + pd.Timedelta(days=d)).day_of_week < 5][:days]
    return tool(rng, unit, [START + pd.Timedelta(days=d, hours=9) for d in work], 8, (600, 2400), total, windows)


def honest_round(rng: np.random.Generator, per_unit: int = 300) -> list[pd.DataFrame]:
    """Seven districts of ``per_unit`` honest online questionnaires each."""
    return [honest(rng, u, per_unit, mu) for u, mu in MOODS.items()]


def media_peak(rng: np.random.Generator, unit: str, n: int = 150, day: int = 15) -> pd.DataFrame:
    """A newspaper prints the link: ``n`` ordinary questionnaires in an afternoon."""
    at = pd.Series(START + pd.Timedelta(days=day, hours=14) + pd.to_timedelta(rng.integers(0, 4 * 3600, n), unit="s"))
    return honest(rng, unit, n, MOODS[unit], at)


def weekend_unit(rng: np.random.Generator, unit: str, n: int = 300) -> pd.DataFrame:
    """A unit answered mostly (90%) on weekends."""
    days = np.arange(DAYS)
    weekend = np.array([(START + pd.Timedelta(days=int(d))).day_of_week >= 5 for d in days])
    w = np.where(weekend, 9 / weekend.sum(), 1 / (~weekend).sum())
    day = rng.choice(days, n, p=w / w.sum())
    at = moments(rng, n, days=np.array([0]))
    at = at + pd.to_timedelta(day, unit="D")
    return honest(rng, unit, n, MOODS[unit], at)
