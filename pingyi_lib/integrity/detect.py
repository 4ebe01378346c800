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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.common.memory import release_freed
from pingyi_lib.dataset.compact import arrow_text
from pingyi_lib.integrity.content import comment_codes, pack_answers, straightlined
from pingyi_lib.integrity.evidence import NO_TIME, RowTerms, sort_order
from pingyi_lib.integrity.periods import Periods, surges, suspicious_periods
from pingyi_lib.integrity.sources import (
    _blank,
    fingerprint_repeat,
    implausible_volume,
    ip_repeat,
    poisson_tail_log,
    too_fast,
    volume_caps,
)
from pingyi_lib.scheme.ruleset import INTEGRITY_REASONS, IntegrityRules, Ruleset

_TIME_BITS = 40  # seconds since the round's first submission fit in 2**40 (34,000 years)
_DAY_BITS = 24


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found.

    ``flags``: one boolean column per reason, indexed like the survey frame.
    ``details``: for flagged rows only (index = position in the survey frame), the numbers
    behind the flags: ``fp_seq`` (this device's n-th questionnaire for the unit, from 1),
    ``fp_first_row`` and ``fp_first_pos`` (file row and position of the device's first), ``burst_count`` and
    ``burst_expected`` (questionnaires in the row's neighbourhood, and the usual number),
    ``burst_episode``, ``run_length``, ``volume_seq`` and ``volume_cap``, ``ip_seq`` (this
    address's n-th questionnaire for the unit), ``ip_count`` and ``ip_expected`` (its
    questionnaires for the unit, and the number its traffic to every unit explains),
    ``duration`` (seconds taken to answer).
    ``bursts``: one row per burst episode (unit_id, channel, start, end, responses,
    fingerprints, straightline_share, comment_share, expected), surges of ordinary
    questionnaires left out (``[integrity.burst] surge_p``).
    ``periods``: the suspicious periods (:class:`~pingyi_lib.integrity.periods.Periods`;
    its alerts with ``unit_id``), or None when the ruleset does not judge them.
    """

    flags: pd.DataFrame
    details: pd.DataFrame
    bursts: pd.DataFrame
    periods: Periods | None = None


# ---- helpers ---------------------------------------------------------------------------
def _codes(values: pd.Series, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a text column and its distinct values (categories are taken as they
    are, others factorised natively: no Python strings for Arrow text); a missing value gets
    the code of ''. ``sort``: codes in the order of the values, so that what is numbered by
    code (burst episodes: by unit and channel) does not depend on the order of the rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        if sort:
            values = values.cat.reorder_categories(values.cat.categories.sort_values())
        codes, uniques = values.cat.codes.to_numpy().astype(np.int64), pd.Index(values.cat.categories)
    else:
        codes, uniques = pd.factorize(values, sort=sort)
        codes, uniques = codes.astype(np.int64), pd.Index(uniques, dtype=object)
    if (codes < 0).any():
        blank = _blank(uniques)
        if blank < 0:
            uniques, blank = uniques.append(pd.Index([""], dtype=uniques.dtype)), len(uniques)
        codes = np.where(codes < 0, blank, codes)
    return codes, uniques


def _column_codes(survey: pd.DataFrame, column: str, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    if column not in survey:
        return np.zeros(len(survey), dtype=np.int64), pd.Index([""], dtype=object)
    return _codes(survey[column], sort)


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


# ---- the detectors -----------------------------------------------------------------------
def time_order(major: np.ndarray, sec: np.ndarray, ids=None, presorted=None) -> np.ndarray:
    """Positions sorted by ``major``, then time, then id: ``np.lexsort((id_rank, sec, major))``,
    as one stable sort of one packed key where it fits (three times faster on millions of
    rows). Rows of the same ``major`` and second are taken in the order of their ids
    (``ids``: the rows' ids, or a function giving the ids of some positions; read only for
    such rows), never of their place in the file: a round split in parts, or its rows
    sorted otherwise, gives the same order. Without ``ids``, ties keep their positions.
    ``presorted``: :func:`~pingyi_lib.integrity.evidence.sort_order` of ``major`` and ``sec``, if known.

    >>> time_order(np.array([1, 0, 1, 0]), np.array([5, NO_TIME, 3, 2]))
    array([3, 1, 2, 0])
    >>> time_order(np.array([0, 0, 0]), np.array([7, 7, 3]), np.array(["b", "a", "c"]))
    array([2, 1, 0])
    """
    order, same = sort_order(major, sec) if presorted is None else presorted
    if ids is None or not same.any():
        return order
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    slots = np.flatnonzero(tied)  # runs of equal (major, time): each run keeps its slots
    pos = order[slots]
    order[slots] = pos[np.lexsort((_id_rank(ids, pos), sec[pos], major[pos]))]
    return order


def within_groups(order: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Positions sorted by ``group``, then as in ``order`` (positions sorted by :func:`time_order`
    on a code that ``group`` refines, such as the unit of a unit-and-channel group): one stable
    sort of the group codes instead of a second sort by time and id (a radix sort where
    the codes fit in 16 bits).

    >>> within_groups(np.array([3, 1, 2, 0]), np.array([0, 1, 0, 1]))
    array([2, 0, 3, 1])
    """
    g = group[order]
    if len(g) and 0 <= g.min() and g.max() < 1 << 16:
        g = g.astype(np.uint16)
    return order[np.argsort(g, kind="stable")]


def _id_rank(ids, pos: np.ndarray) -> np.ndarray:
    """The rank of the ids of positions ``pos`` among themselves (Arrow's sort: no Python strings)."""
    import pyarrow.compute as pc

    got = ids(pos) if callable(ids) else np.asarray(ids, dtype=object)[pos]
    arr = arrow_text(got if isinstance(got, pd.Series) else pd.Series(np.asarray(got, dtype=object), dtype=object))
    rank = np.empty(len(pos), dtype=np.int64)
    rank[pc.sort_indices(arr).to_numpy()] = np.arange(len(pos))
    return rank


def bursts(group: np.ndarray, sec: np.ndarray, eligible: np.ndarray, rules: IntegrityRules,
           order: np.ndarray | None = None, t0: int | None = None):
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

    ``order``: the positions sorted by group and time (:func:`time_order`), if known; ``t0``:
    the round's first eligible submission (days are counted from it), when these rows are
    a block of the round.
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
    if t0 is None:
        t0 = sec[pos].min()
    if order is not None:
        pos = order[eligible[order]]
        t = sec[pos] - t0
        g = group[pos]
    else:
        t = sec[pos] - t0
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
                   rules: IntegrityRules, n_all: np.ndarray | None = None, total: int | None = None):
    """Runs of consecutive questionnaires (in time order, within a unit and channel) with
    the same answers and the same comment, longer than chance allows.

    A run of length ``L`` of content with probability ``p`` is flagged when
    ``L >= min_length`` and ``n · p^(L-1) < p_run`` (``n`` the group's questionnaires:
    the expected number of such runs anywhere in the group). ``p`` is the share of the
    same content among the group's other questionnaires or among the round's, whichever
    is higher, so neither the run itself nor a unit whose public is simply very satisfied
    makes chance look small. Rows in ``skip`` (every item blank) never form a run.
    ``n_all`` (each row's content's count in the round) and ``total`` (the round's
    questionnaires) are given when these rows are a block of the round.

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
    content_code = content  # codes of the round's contents (non-negative): numbered afresh only when counted here
    if n_all is None:
        content_code = pd.factorize(content)[0]
        n_all, total = np.bincount(content_code)[content_code], n
    gc = pd.factorize(group * (int(content_code.max()) + 1) + content_code)[0]
    n_own = np.bincount(gc)[gc]
    n_group = np.bincount(group)[group]
    share_own = np.where(n_group > length, (n_own - length) / np.maximum(n_group - length, 1), 0.0)
    share_all = (n_all - length) / np.maximum(total - length, 1)
    p = np.maximum(np.maximum(share_own, share_all), 1.0 / total)
    chance = np.log(n_group) + (length - 1) * np.log(p)
    flag = ~skip & (length >= rules.run_min) & (chance < np.log(rules.run_p))
    return flag, length


def window_seconds(window: tuple[pd.Timestamp, pd.Timestamp]) -> tuple[int, int]:
    """The survey window's first second and the first second after it (its last day counts whole)."""
    return int(window[0].value // 10**9), int((window[1] + pd.Timedelta(days=1)).value // 10**9)


def outside_window(sec: np.ndarray, has_time: np.ndarray, window: tuple[pd.Timestamp, pd.Timestamp] | None):
    """Submitted before the first or after the last day of the survey window."""
    if window is None:
        return np.zeros(len(sec), dtype=bool)
    start, end = window_seconds(window)
    return has_time & ((sec < start) | (sec >= end))


# ---- all of them ---------------------------------------------------------------------------
def detect(survey: pd.DataFrame, units: pd.DataFrame, ruleset: Ruleset,
           window: tuple[pd.Timestamp, pd.Timestamp] | None = None, block_rows: int | None = None) -> Detection:
    """Run every detector over the clean survey frame of a round.

    ``units``: the clean units table (its optional ``population`` and ``quota`` columns
    bound the plausible number of questionnaires). ``window``: the first and last day of
    the survey, or None not to judge submission dates. Every detector judges a
    questionnaire within its unit (and channel), against round-wide shares computed once,
    so units are judged in blocks of about ``block_rows`` questionnaires (default
    :data:`BLOCK_ROWS`) and the memory a round of millions needs stays bounded; the result
    does not depend on the blocks.
    """
    rules = ruleset.integrity
    n = len(survey)
    unit, unit_ids = _codes(survey["unit_id"], sort=True)
    chan, channels = _column_codes(survey, "channel", sort=True)
    sec, has_time = _seconds(survey)
    answers, scored = _items(survey, ruleset)
    terms = RowTerms(answers[:, scored], _score_table(ruleset))  # made for the rows that need them
    unit = _small(unit)  # 4 bytes a row where they fit: the surges and periods widen what they take
    # every row sorted by unit and time once: the periods take their rows from it, each block its units;
    # the periods first, over the round: their working memory is then not added to the other
    # detectors' arrays of every row (the peak of a round of ten million: 2.56 GB before)
    by_time, same = sort_order(unit, sec)
    by_time = _small(by_time)
    periods = _periods(survey, unit, unit_ids, sec, has_time, chan, channels, terms, rules, window, by_time)
    straight = straightlined(answers, scored)
    skip = (answers == 0).all(axis=1)
    comment = comment_codes(*_column_codes(survey, "comment"))
    # each code array made small (4 bytes a row) as soon as it is made, not beside its wide copy
    content = _small(pd.factorize(pack_answers(answers) * (int(comment.max(initial=0)) + 1) + comment)[0])
    del answers, comment
    n_all = _small(np.bincount(content)[content])  # each row's content's count in the round
    eligible = has_time & np.asarray(channels.isin(rules.burst_channels))[chan]
    fp, fp_values = _column_codes(survey, "fingerprint")
    fp = _small(fp)
    ip, ip_values = _column_codes(survey, "ip")
    ip_total = None
    if _blank(ip_values) >= 0 and len(ip_values) == 1:  # no address in the round (paper, a hall): not judged
        ip = None
    else:
        ip = _small(ip)
        ip_total = _small(np.bincount(ip, minlength=len(ip_values))[ip] if n else np.zeros(0, dtype=np.int64))
    group = _small(unit * (len(channels) + 1) + chan)
    per_unit = np.bincount(unit, minlength=len(unit_ids))
    duration = survey["duration_s"].to_numpy(dtype=np.float32) if "duration_s" in survey \
        else np.full(n, np.nan, dtype=np.float32)
    r = _Round(
        unit=unit, group=group, sec=sec, has_time=has_time,
        file_row=survey["row"].to_numpy(dtype=np.int64) if "row" in survey else np.arange(n),
        ids=survey["response_id"] if "response_id" in survey else None,
        fp=fp, fp_values=fp_values, ip=ip, ip_values=ip_values, ip_total=ip_total,
        unit_share=per_unit / max(n, 1), duration=duration, eligible=eligible, straight=straight, content=content,
        skip=skip, n_all=n_all, total=n, t0=int(sec[eligible].min()) if eligible.any() else 0,
        caps=volume_caps(units, rules).reindex(unit_ids.to_numpy()).fillna(np.inf).to_numpy(),
        rules=rules, window=window, by_time=by_time, same=same,
        unit_starts=np.concatenate([[0], np.cumsum(per_unit)]))
    del unit, chan, group, fp, content, n_all, ip, ip_total, by_time, same

    flags = np.zeros((n, len(INTEGRITY_REASONS)), dtype=bool)
    details, burst_rows, episodes = [], [], 0
    place = np.empty(n, dtype=np.int32 if n < np.iinfo(np.int32).max else np.int64)  # a row's place in its block
    for idx in _blocks(r.unit, block_rows or BLOCK_ROWS):
        place[idx] = np.arange(len(idx))
        f, d, b = _judge(r, idx, episodes, place)
        flags[idx] = f
        details.append(d)
        burst_rows.append(b)
        episodes = int(b["episode"].max()) + 1 if len(b) else episodes  # numbered on from the last
    details = pd.concat(details).sort_index() if details else _judge(r, np.zeros(0, dtype=np.int64), 0, place)[1]
    burst_at = pd.concat(burst_rows, ignore_index=True) if burst_rows else pd.DataFrame(
        {"pos": np.zeros(0, dtype=np.int64), "episode": np.zeros(0, dtype=np.int64), "lam": np.zeros(0)})
    if rules.surge_p > 0 and len(burst_at):  # bursts of ordinary questionnaires: surges, not stuffing
        at, ep = burst_at["pos"].to_numpy(), burst_at["episode"].to_numpy()
        calm = surges(r.unit, terms["mean"], sec, has_time, at, ep, rules.surge_p)[ep]
        for reason in ("burst", "burst_straightline"):
            flags[at[calm], INTEGRITY_REASONS.index(reason)] = False
        burst_at = burst_at[~calm]
    if periods is not None:
        flags[:, INTEGRITY_REASONS.index("period")] = periods.fit & (periods.member >= 0)
    flags = pd.DataFrame(flags, columns=list(INTEGRITY_REASONS), index=survey.index)
    return Detection(flags, details, _episodes(survey, burst_at, straight, r.fp, fp_values), periods)


def _periods(survey, unit, unit_ids, sec, has_time, chan, channels, terms, rules: IntegrityRules, window,
             order=None):
    """The round's suspicious periods (periods.py), alerts naming unit and category; None: not judged."""
    if not rules.period:
        return None
    category, category_names = _category_codes(survey)
    judged = has_time & np.asarray(channels.isin(rules.period.channels))[chan]
    found = suspicious_periods(unit, sec, judged, terms, category, rules.period,
                               None if window is None else window_seconds(window), order=order)
    alerts = found.alerts.copy()
    alerts.insert(0, "unit_id", unit_ids.take(alerts["unit"].to_numpy(dtype=np.int64)).to_numpy(dtype=object))
    alerts["category"] = [str(category_names[c]) if c >= 0 else "" for c in alerts["category"]]
    return Periods(alerts, found.member, found.fit, found.tested)


def _score_table(ruleset: Ruleset) -> np.ndarray:
    """Each answer code's score (NaN: blank, abstain or unknown), indexed by code."""
    scores = ruleset.level_score
    table = np.full(max(scores, default=0) + 1, np.nan)
    for code, score in scores.items():
        table[code] = np.nan if score is None else score
    return table


def _category_codes(survey: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
    """Respondent category codes (-1: not stated) and the category of each code, or (None, [])
    when the round does not record them."""
    if "respondent_category" not in survey:
        return None, np.zeros(0, dtype=object)
    codes, values = _codes(survey["respondent_category"], sort=True)
    blank = _blank(values)
    codes = np.where(codes == blank, -1, codes) if blank >= 0 else codes
    return codes.astype(np.int32), np.asarray(values, dtype=object)  # few categories: 4 bytes a row


BLOCK_ROWS = 1_000_000  # questionnaires judged at a time (whole units): about 0.3 GB of working memory


def _small(codes: np.ndarray) -> np.ndarray:
    """Non-negative codes in 4 bytes a row when they fit (half the memory of int64)."""
    return codes.astype(np.int32) if not len(codes) or codes.max() < np.iinfo(np.int32).max else codes


@dataclass(frozen=True)
class _Round:
    """What every block of a round is judged with: each questionnaire's codes and time, and
    the round-wide numbers (content counts, first submission, volume cap per unit code)."""

    unit: np.ndarray
    group: np.ndarray  # unit and channel
    sec: np.ndarray
    has_time: np.ndarray
    file_row: np.ndarray
    ids: pd.Series | None  # response ids: the order of questionnaires of one second (time_order)
    fp: np.ndarray
    fp_values: pd.Index
    ip: np.ndarray | None  # None: the round records no address
    ip_values: pd.Index
    ip_total: np.ndarray | None  # the row's address's questionnaires in the round (any unit)
    unit_share: np.ndarray  # each unit code's share of the round's questionnaires
    duration: np.ndarray  # seconds taken to answer (NaN: not known)
    eligible: np.ndarray  # may be in a burst (has a time, a burst channel)
    straight: np.ndarray
    content: np.ndarray  # the same code for the same answers and comment
    skip: np.ndarray  # every item blank
    n_all: np.ndarray
    total: int
    t0: int
    caps: np.ndarray
    rules: IntegrityRules
    window: tuple[pd.Timestamp, pd.Timestamp] | None
    by_time: np.ndarray  # every row's position sorted by unit, then time (ties in their positions)
    same: np.ndarray  # per sorted row after the first: the unit and second of the row before it
    unit_starts: np.ndarray  # where each unit code's rows begin in by_time (and the end)


def _blocks(unit: np.ndarray, block_rows: int):
    """Positions (ascending) of whole units of consecutive codes, about ``block_rows`` at a time."""
    if not len(unit):
        return
    cut = np.cumsum(np.bincount(unit)) // max(block_rows, 1)
    for block in np.unique(cut):
        release_freed()  # the last block's arrays, freed, handed back: the blocks do not pile up
        codes = np.flatnonzero(cut == block)
        yield np.flatnonzero((unit >= codes[0]) & (unit <= codes[-1]))


def _judge(r: _Round, idx: np.ndarray, first_episode: int, place: np.ndarray):
    """The rows ``idx`` (whole units; ``place``: each one's place among them, by position in the
    round) judged: (flags: rows × INTEGRITY_REASONS, the numbers
    behind them for the flagged rows with the round's positions as index, and the burst rows:
    pos, episode numbered from ``first_episode``, lam)."""
    rules = r.rules
    unit, group = r.unit[idx].astype(np.int64), r.group[idx].astype(np.int64)
    sec, file_row = r.sec[idx], r.file_row[idx]
    ids = None if r.ids is None else (lambda pos: r.ids.iloc[idx[pos]])
    # the block's units are consecutive codes: their rows are one stretch of the round's order
    lo, hi = (int(r.unit_starts[unit.min()]), int(r.unit_starts[unit.max() + 1])) if len(idx) else (0, 0)
    order = time_order(unit, sec, ids, (place[r.by_time[lo:hi]].astype(np.int64), r.same[lo:max(hi - 1, lo)]))
    group_order = within_groups(order, group)  # a group is a unit and a channel
    fp_flag, fp_seq, fp_first = fingerprint_repeat(unit, r.fp[idx].astype(np.int64), r.fp_values, order,
                                                    rules.fingerprint_limit)
    b_flag, b_count, b_lam, b_episode = bursts(group, sec, r.eligible[idx], rules, group_order, r.t0)
    r_flag, r_len = identical_runs(group, group_order, r.content[idx].astype(np.int64), r.skip[idx], rules,
                                   r.n_all[idx].astype(np.int64), r.total)
    v_flag, v_seq, v_cap = implausible_volume(unit, order, r.caps)
    ip_flag, ip_seq, ip_n, ip_lam = ip_repeat(unit, None if r.ip is None else r.ip[idx].astype(np.int64),
                                              r.ip_values, order,
                                              None if r.ip is None else r.ip_total[idx].astype(np.int64),
                                              r.unit_share, rules.ip_limit, rules.ip_p)
    duration = r.duration[idx]
    found = {"fingerprint_repeat": fp_flag, "burst": b_flag, "burst_straightline": b_flag & r.straight[idx],
             "identical_run": r_flag, "outside_window": outside_window(sec, r.has_time[idx], r.window),
             "implausible_volume": v_flag, "ip_repeat": ip_flag,
             "too_fast": too_fast(duration, rules.too_fast_seconds),
             "period": np.zeros(len(idx), dtype=bool)}  # judged over the round (periods.py)
    flags = np.column_stack([found[k] for k in INTEGRITY_REASONS]) if len(idx) \
        else np.zeros((0, len(INTEGRITY_REASONS)), dtype=bool)
    hit = np.flatnonzero(flags.any(axis=1))
    details = pd.DataFrame({
        "fp_seq": fp_seq[hit] + 1, "fp_first_row": file_row[fp_first[hit]], "fp_first_pos": idx[fp_first[hit]],
        "burst_count": b_count[hit], "burst_expected": b_lam[hit],
        "burst_episode": np.where(b_episode[hit] >= 0, b_episode[hit] + first_episode, -1),
        "run_length": r_len[hit], "volume_seq": v_seq[hit], "volume_cap": v_cap[hit],
        "ip_seq": ip_seq[hit], "ip_count": ip_n[hit], "ip_expected": ip_lam[hit], "duration": duration[hit],
    }, index=idx[hit])
    at = np.flatnonzero(b_episode >= 0)
    return flags, details, pd.DataFrame({"pos": idx[at], "episode": b_episode[at] + first_episode, "lam": b_lam[at]})


def _episodes(survey: pd.DataFrame, burst_at: pd.DataFrame, straight: np.ndarray,
              fp: np.ndarray, fp_values: pd.Index) -> pd.DataFrame:
    """One row per burst episode; ``burst_at``: pos (in the round), episode and lam of every
    questionnaire in one."""
    cols = ["unit_id", "channel", "start", "end", "responses", "fingerprints", "straightline_share",
            "comment_share", "expected"]
    if not len(burst_at):
        return pd.DataFrame(columns=cols)
    burst_at = burst_at.sort_values("pos", kind="stable")
    pos = burst_at["pos"].to_numpy()
    sub = survey.iloc[pos]
    f = pd.DataFrame({
        "episode": burst_at["episode"].to_numpy(), "unit_id": sub["unit_id"].to_numpy(dtype=object),
        "channel": sub["channel"].fillna("").to_numpy(dtype=object) if "channel" in sub else "",
        "at": pd.to_datetime(sub["submitted_at"]).to_numpy(),
        "fp": fp_values.take(fp[pos]).to_numpy(dtype=object), "straight": straight[pos],
        "commented": (sub["comment"].fillna("") != "").to_numpy() if "comment" in sub else False,
        "lam": burst_at["lam"].to_numpy()})
    g = f.groupby("episode", sort=True)
    out = pd.DataFrame({
        "unit_id": g["unit_id"].first(), "channel": g["channel"].first(), "start": g["at"].min(),
        "end": g["at"].max(), "responses": g.size(),
        "fingerprints": g["fp"].agg(lambda s: s[s != ""].nunique()),
        "straightline_share": g["straight"].mean(), "comment_share": g["commented"].mean(),
        "expected": g["lam"].median()})
    return out.reset_index(drop=True)[cols]
