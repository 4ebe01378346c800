"""Questionnaires that look stuffed (刷票, seed §六(三)): one vectorised detector per reason.

Every detector reads the clean survey frame (one row per questionnaire, SPEC §2) and
returns a boolean array aligned with it; :func:`detect` runs them all and keeps the
numbers behind each flag (for the words of the report) only for the rows it flags.
No detector loops over rows in Python: they sort once, then use ``searchsorted``,
``bincount`` and running sums, so a round of millions of questionnaires takes seconds.

    >>> found = detect(ds.survey, ds.units, rs, window)          # doctest: +SKIP
    >>> found.flags.sum()                                         # doctest: +SKIP
    fingerprint_repeat    108
    burst                 112
    ...

The reasons (``INTEGRITY_REASONS``), their thresholds and which of them exclude rows
are the ruleset's (``[integrity]``); see docs/integrity.md for the statistics.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.scheme.ruleset import INTEGRITY_REASONS, IntegrityRules, Ruleset

NO_TIME = np.iinfo(np.int64).max  # sorts rows without a submission time last
_TIME_BITS = 40  # seconds since the round's first submission fit in 2**40 (34,000 years)
_DAY_BITS = 24
_SPAN_BITS = 34  # seconds between a round's first and last submission fit in 2**34 (544 years)
_SPAN = 1 << _SPAN_BITS


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found.

    ``flags``: one boolean column per reason, indexed like the survey frame.
    ``details``: for flagged rows only (index = position in the survey frame), the numbers
    behind the flags: ``fp_seq`` (this device's n-th questionnaire for the unit, from 1),
    ``fp_first_row`` (file row of the device's first), ``burst_count`` and
    ``burst_expected`` (questionnaires in the row's neighbourhood, and the usual number),
    ``burst_episode``, ``run_length``, ``volume_seq`` and ``volume_cap``.
    ``bursts``: one row per burst episode (unit_id, channel, start, end, responses,
    fingerprints, straightline_share, comment_share, expected).
    """

    flags: pd.DataFrame
    details: pd.DataFrame
    bursts: pd.DataFrame


# ---- helpers ---------------------------------------------------------------------------
def occurrence(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a sequence of keys: how many equal keys came before each one (0 for the first)
    and the position of the first of them.

    >>> occurrence(np.array([7, 3, 7, 7, 3]))
    (array([0, 0, 1, 2, 1]), array([0, 1, 0, 0, 1]))
    """
    n = len(keys)
    idx = np.argsort(keys, kind="stable")
    k = keys[idx]
    start = np.ones(n, dtype=bool)
    start[1:] = k[1:] != k[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    seq = np.empty(n, dtype=np.int64)
    seq[idx] = np.arange(n) - first
    first_pos = np.empty(n, dtype=np.int64)
    first_pos[idx] = idx[first]
    return seq, first_pos


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a text column (factorised natively: no Python strings for Arrow
    columns) and its distinct values; a missing value gets the code of ''."""
    codes, uniques = pd.factorize(values)
    uniques = pd.Index(uniques, dtype=object)
    if (codes < 0).any():
        blank = uniques.get_indexer([""])[0]
        if blank < 0:
            uniques, blank = uniques.append(pd.Index([""], dtype=object)), len(uniques)
        codes = np.where(codes < 0, blank, codes)
    return codes.astype(np.int64), uniques


def _column_codes(survey: pd.DataFrame, column: str) -> tuple[np.ndarray, pd.Index]:
    if column not in survey:
        return np.zeros(len(survey), dtype=np.int64), pd.Index([""], dtype=object)
    return _codes(survey[column])


def _seconds(survey: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Submission time in whole seconds (NO_TIME when missing) and whether it is known."""
    if "submitted_at" not in survey:
        return np.full(len(survey), NO_TIME, dtype=np.int64), np.zeros(len(survey), dtype=bool)
    t = pd.to_datetime(survey["submitted_at"])
    has = t.notna().to_numpy()
    sec = np.full(len(survey), NO_TIME, dtype=np.int64)
    sec[has] = t[has].to_numpy(dtype="datetime64[s]").astype(np.int64)
    return sec, has


def _items(survey: pd.DataFrame, ruleset: Ruleset) -> tuple[np.ndarray, np.ndarray]:
    """The answer codes of every item asked (scored items first) and which columns are scored."""
    items = [it for it in ruleset.scored_items if it in survey]
    items += [it for it in ruleset.items if it in survey and it not in items]
    if not items:
        return np.zeros((len(survey), 1), dtype=np.int8), np.array([True])
    return survey[items].to_numpy(dtype=np.int8), np.array([it in ruleset.scored_items for it in items])


def straightlined(answers: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Every scored item answered, and every answered item with the same level.

    >>> straightlined(np.array([[1, 1, 1, 0], [1, 1, 2, 1], [0, 1, 1, 1]]), np.array([True, True, True, False]))
    array([ True, False, False])
    """
    first = answers[:, 0]
    return (answers[:, scored] != 0).all(axis=1) & ((answers == first[:, None]) | (answers == 0)).all(axis=1)


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_comment(text: pd.Series) -> pd.Series:
    """The form comments are compared in: NFKC (full-width as half-width), lower-case,
    without whitespace and punctuation ("服务好！" = "服务好!" = " 服务好")."""
    return text.map(lambda s: _PUNCT.sub("", unicodedata.normalize("NFKC", s).lower()))


def poisson_tail_log(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """An upper bound of log P(X >= x) for X ~ Poisson(lam): the Chernoff bound
    ``-lam + x (1 + ln lam - ln x)`` where x > lam, else 0. An upper bound of the p-value,
    so a test with it is conservative: it never calls a burst what the exact tail would not.

    >>> round(float(poisson_tail_log(np.array([10.0]), np.array([1.0]))[0]), 3)  # e^-1 (e/10)^10
    -14.026
    """
    x = np.asarray(x, dtype=float)
    lam = np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -lam + x * (1 + np.log(lam) - np.log(x))
    return np.where(x > lam, out, 0.0)


# ---- the detectors -----------------------------------------------------------------------
def fingerprint_repeat(unit: np.ndarray, fp: np.ndarray, fp_values: pd.Index, order: np.ndarray, limit: int):
    """A device's questionnaires for a unit beyond the first ``limit``, in time order.

    ``fp``: fingerprint codes into ``fp_values`` (the code of '' is no fingerprint).
    Returns (flag, seq, first): seq = how many of the device's questionnaires for the
    unit came before (0 for the first), first = the position of its first.
    """
    blank = np.flatnonzero(fp_values.to_numpy(dtype=object) == "")
    has = fp != (blank[0] if len(blank) else -1)
    key = unit * (len(fp_values) + 1) + fp
    seq_o, first_o = occurrence(key[order])
    seq = np.empty(len(order), dtype=np.int64)
    first = np.empty(len(order), dtype=np.int64)
    seq[order] = seq_o
    first[order] = order[first_o]
    return has & (seq >= limit), seq, first


def time_order(major: np.ndarray, sec: np.ndarray, file_row: np.ndarray) -> np.ndarray:
    """Positions sorted by ``major``, then time, then file row: ``np.lexsort((file_row, sec, major))``,
    as one stable sort of one key when the rows are in file order (the usual case: three
    times faster on millions of rows).

    >>> time_order(np.array([1, 0, 1, 0]), np.array([5, NO_TIME, 3, 2]), np.array([2, 3, 4, 5]))
    array([3, 1, 2, 0])
    """
    has = sec != NO_TIME
    if len(major) > 1 and (np.diff(file_row) > 0).all() and 0 <= major.min() and major.max() < 1 << 29:
        base = sec[has].min() if has.any() else 0
        if not has.any() or sec[has].max() - base < _SPAN - 1:
            rel = np.where(has, sec - base, _SPAN - 1)  # no time: last, as NO_TIME sorts
            return np.argsort((major.astype(np.int64) << _SPAN_BITS) | rel, kind="stable")
    return np.lexsort((file_row, sec, major))


def bursts(group: np.ndarray, sec: np.ndarray, eligible: np.ndarray, rules: IntegrityRules,
           order: np.ndarray | None = None):
    """A Poisson scan of each questionnaire's neighbourhood (``window_minutes`` centred on it)
    within its unit and channel.

    The count ``x`` in the neighbourhood is compared with what the group's own traffic
    would put there: ``lam = max(m / H, (d - x) / (H - w)) · w`` with ``m`` the median
    number of questionnaires on the group's active days, ``d`` the number on this day,
    ``H`` = ``day_hours`` and ``w`` the window in hours. The median ignores a stuffed day;
    the day's own rate outside the window lets a day-long surge (after a media report)
    raise its own baseline, so only a concentration within the day stands out. A
    neighbourhood is a burst when ``x >= min_responses`` and the Poisson tail bound of
    ``x`` under ``lam`` is below ``p``.

    ``order``: the positions sorted by group and time (:func:`time_order`), if known.
    Returns (flag, x, lam, episode) aligned with the input; episode numbers consecutive
    burst questionnaires of a group less than a window apart (-1: no burst).
    """
    n = len(group)
    flag = np.zeros(n, dtype=bool)
    count = np.zeros(n, dtype=np.int64)
    lam_out = np.zeros(n, dtype=float)
    episode = np.full(n, -1, dtype=np.int64)
    pos = np.flatnonzero(eligible)
    if not len(pos):
        return flag, count, lam_out, episode
    window = rules.burst_window_minutes * 60
    w_hours = rules.burst_window_minutes / 60
    if order is not None:
        pos = order[eligible[order]]
        t = sec[pos] - sec[pos].min()
        g = group[pos]
    else:
        t = sec[pos] - sec[pos].min()
        g = group[pos]
        by = np.lexsort((t, g))
        pos, t, g = pos[by], t[by], g[by]
    key = (g << _TIME_BITS) + t
    half = int(window // 2)
    x = np.searchsorted(key, key + half, side="right") - np.searchsorted(key, key - half, side="left")
    day = t // 86400
    day_code, day_keys = pd.factorize((g << _DAY_BITS) + day)
    per_day = np.bincount(day_code)
    d = per_day[day_code]
    median_day = pd.Series(per_day).groupby(day_keys >> _DAY_BITS).median()  # group -> median per active day
    lookup = np.zeros(int(g.max()) + 1)
    lookup[median_day.index.to_numpy()] = median_day.to_numpy()
    m = lookup[g]
    rest = np.maximum(rules.burst_day_hours - w_hours, w_hours)
    lam = np.maximum(m / rules.burst_day_hours, (d - x) / rest) * w_hours
    hit = (x >= rules.burst_min) & (poisson_tail_log(x, lam) < np.log(rules.burst_p))
    # episodes: runs of burst rows of one group, each less than a window after the last
    hp = np.flatnonzero(hit)
    if len(hp):
        new = np.ones(len(hp), dtype=bool)
        new[1:] = (g[hp][1:] != g[hp][:-1]) | (t[hp][1:] - t[hp][:-1] > window)
        episode[pos[hp]] = np.cumsum(new) - 1
    flag[pos] = hit
    count[pos] = x
    lam_out[pos] = lam
    return flag, count, lam_out, episode


def identical_runs(group: np.ndarray, order: np.ndarray, content: np.ndarray, skip: np.ndarray,
                   rules: IntegrityRules):
    """Runs of consecutive questionnaires (in time order, within a unit and channel) with
    the same answers and the same comment, longer than chance allows.

    A run of length ``L`` of content with probability ``p`` is flagged when
    ``L >= min_length`` and ``n · p^(L-1) < p_run`` (``n`` the group's questionnaires:
    the expected number of such runs anywhere in the group). ``p`` is the share of the
    same content among the group's other questionnaires or among the round's, whichever
    is higher, so neither the run itself nor a unit whose public is simply very satisfied
    makes chance look small. Rows in ``skip`` (every item blank) never form a run.

    Returns (flag, run length) aligned with the input.
    """
    n = len(group)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    c = np.where(skip, -1 - np.arange(n), content)  # blank questionnaires: unique, never a run
    k, g = c[order], group[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (g[1:] != g[:-1])
    run = np.cumsum(new) - 1
    length_o = np.bincount(run)[run]
    length = np.empty(n, dtype=np.int64)
    length[order] = length_o
    content_code = pd.factorize(content)[0]
    n_all = np.bincount(content_code)[content_code]
    gc = pd.factorize(group * (content_code.max() + 1) + content_code)[0]
    n_own = np.bincount(gc)[gc]
    n_group = np.bincount(group)[group]
    share_own = np.where(n_group > length, (n_own - length) / np.maximum(n_group - length, 1), 0.0)
    share_all = (n_all - length) / np.maximum(n - length, 1)
    p = np.maximum(np.maximum(share_own, share_all), 1.0 / n)
    chance = np.log(n_group) + (length - 1) * np.log(p)
    flag = ~skip & (length >= rules.run_min) & (chance < np.log(rules.run_p))
    return flag, length


def outside_window(sec: np.ndarray, has_time: np.ndarray, window: tuple[pd.Timestamp, pd.Timestamp] | None):
    """Submitted before the first or after the last day of the survey window."""
    if window is None:
        return np.zeros(len(sec), dtype=bool)
    start = int(window[0].value // 10**9)
    end = int((window[1] + pd.Timedelta(days=1)).value // 10**9)  # the last day counts whole
    return has_time & ((sec < start) | (sec >= end))


def volume_caps(units: pd.DataFrame, rules: IntegrityRules) -> pd.Series:
    """unit_id -> the most questionnaires a unit can plausibly return: ``population ×
    population_share`` and ``quota × quota_ratio`` where given (blank or 0: not given)."""
    caps = pd.Series(np.inf, index=units["unit_id"].to_numpy())
    for column, factor in (("population", rules.population_share), ("quota", rules.quota_ratio)):
        if column in units:
            v = units[column].to_numpy(dtype=float)
            caps = caps.where(~(v > 0), np.minimum(caps.to_numpy(), np.floor(v * factor)))
    return caps


def implausible_volume(unit: np.ndarray, unit_ids: np.ndarray, order: np.ndarray, caps: pd.Series):
    """A unit's questionnaires beyond its plausible number, the latest ones flagged.

    Returns (flag, seq from 1, cap) aligned with the input."""
    seq_o, _ = occurrence(unit[order])
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = seq_o + 1
    cap = caps.reindex(unit_ids).fillna(np.inf).to_numpy()[unit]
    return seq > cap, seq, cap


# ---- all of them ---------------------------------------------------------------------------
def detect(survey: pd.DataFrame, units: pd.DataFrame, ruleset: Ruleset,
           window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> Detection:
    """Run every detector over the clean survey frame of a round.

    ``units``: the clean units table (its optional ``population`` and ``quota`` columns
    bound the plausible number of questionnaires). ``window``: the first and last day of
    the survey, or None not to judge submission dates.
    """
    rules = ruleset.integrity
    n = len(survey)
    unit, unit_ids = _codes(survey["unit_id"])
    chan, channels = _column_codes(survey, "channel")
    group = unit * (len(channels) + 1) + chan
    sec, has_time = _seconds(survey)
    file_row = survey["row"].to_numpy(dtype=np.int64) if "row" in survey else np.arange(n)
    order = time_order(unit, sec, file_row)
    group_order = time_order(group, sec, file_row)
    answers, scored = _items(survey, ruleset)
    straight = straightlined(answers, scored)
    fp, fp_values = _column_codes(survey, "fingerprint")

    fp_flag, fp_seq, fp_first = fingerprint_repeat(unit, fp, fp_values, order, rules.fingerprint_limit)
    eligible = has_time & np.asarray(channels.isin(rules.burst_channels))[chan]
    b_flag, b_count, b_lam, b_episode = bursts(group, sec, eligible, rules, group_order)
    comment = _comment_codes(survey)
    pattern = pd.factorize(_pack(answers))[0].astype(np.int64)
    content = pattern * (int(comment.max(initial=0)) + 1) + comment
    r_flag, r_len = identical_runs(group, group_order, content, (answers == 0).all(axis=1), rules)
    v_flag, v_seq, v_cap = implausible_volume(unit, unit_ids.to_numpy(), order, volume_caps(units, rules))

    flags = pd.DataFrame({
        "fingerprint_repeat": fp_flag, "burst": b_flag, "burst_straightline": b_flag & straight,
        "identical_run": r_flag, "outside_window": outside_window(sec, has_time, window),
        "implausible_volume": v_flag,
    }, index=survey.index)[list(INTEGRITY_REASONS)]
    hit = np.flatnonzero(flags.to_numpy().any(axis=1))
    details = pd.DataFrame({
        "fp_seq": fp_seq[hit] + 1, "fp_first_row": file_row[fp_first[hit]],
        "burst_count": b_count[hit], "burst_expected": b_lam[hit], "burst_episode": b_episode[hit],
        "run_length": r_len[hit], "volume_seq": v_seq[hit], "volume_cap": v_cap[hit],
    }, index=hit)
    return Detection(flags, details, _episodes(survey, b_episode, b_lam, straight, fp, fp_values))


def _comment_codes(survey: pd.DataFrame) -> np.ndarray:
    """The same code for comments that are the same after :func:`normalise_comment`
    (normalising each distinct text once)."""
    codes, uniques = _column_codes(survey, "comment")
    same, _ = pd.factorize(normalise_comment(pd.Series(uniques.astype(str), dtype=object)).to_numpy(dtype=object))
    return same.astype(np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def _pack(answers: np.ndarray) -> np.ndarray:
    """Each questionnaire's answers as one integer: the same integer for the same answers."""
    base = int(answers.max(initial=0)) + 1
    if base ** answers.shape[1] < 2 ** 62:
        weights = np.int64(base) ** np.arange(answers.shape[1], dtype=np.int64)
        return answers.astype(np.int64) @ weights
    return np.unique(answers, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _episodes(survey: pd.DataFrame, episode: np.ndarray, lam: np.ndarray, straight: np.ndarray,
              fp: np.ndarray, fp_values: pd.Index) -> pd.DataFrame:
    cols = ["unit_id", "channel", "start", "end", "responses", "fingerprints", "straightline_share",
            "comment_share", "expected"]
    pos = np.flatnonzero(episode >= 0)
    if not len(pos):
        return pd.DataFrame(columns=cols)
    sub = survey.iloc[pos]
    f = pd.DataFrame({
        "episode": episode[pos], "unit_id": sub["unit_id"].to_numpy(dtype=object),
        "channel": sub["channel"].fillna("").to_numpy(dtype=object) if "channel" in sub else "",
        "at": pd.to_datetime(sub["submitted_at"]).to_numpy(),
        "fp": fp_values.to_numpy()[fp[pos]], "straight": straight[pos],
        "commented": (sub["comment"].fillna("") != "").to_numpy() if "comment" in sub else False,
        "lam": lam[pos]})
    g = f.groupby("episode", sort=True)
    out = pd.DataFrame({
        "unit_id": g["unit_id"].first(), "channel": g["channel"].first(), "start": g["at"].min(),
        "end": g["at"].max(), "responses": g.size(),
        "fingerprints": g["fp"].agg(lambda s: s[s != ""].nunique()),
        "straightline_share": g["straight"].mean(), "comment_share": g["commented"].mean(),
        "expected": g["lam"].median()})
    return out.reset_index(drop=True)[cols]
