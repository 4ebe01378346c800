"""The integrity policy: which flagged questionnaires leave the score, and the record of why.

    >>> found = check(ds)                 # detection + the ruleset's policy + reviewed overrides
    >>> found.units                       # per unit: responses, flagged, excluded, suspicion, reasons
    >>> found.rows                        # every flagged or reviewed questionnaire, with its reasons
    >>> scored = found.apply(ds)          # the dataset without the excluded rows

A questionnaire is excluded when one of its reasons is marked ``exclude`` in the ruleset
(default: a device's repeated questionnaires for one unit), unless an analyst's reviewed
list (``integrity_review.csv``: response_id, decision, note, reviewer) says keep; a
reviewer may also exclude a row no detector flagged, or decide every questionnaire of a unit
in a period at once (unit_id, period_start, period_end instead of a response_id: see
``integrity/reviews.py``). Excluded rows are moved to the
quarantine with their reasons in words (reason_code ``integrity_<reason>``), so nothing is
lost, and every review decision is kept in :attr:`Integrity.reviews`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.masking import mask_fingerprint, mask_ip
from pingyi_lib.common.numbers import format_number
from pingyi_lib.dataset.load import Dataset
from pingyi_lib.dataset.validate import QUARANTINE_COLUMNS
from pingyi_lib.integrity.detect import Detection, detect
from pingyi_lib.integrity.reviews import expand, period_audit
from pingyi_lib.scheme.ruleset import INTEGRITY_REASONS, IntegrityRules, Ruleset

REVIEW = "review"  # the reason of a row a reviewer excluded
REASONS = (*INTEGRITY_REASONS, REVIEW)
ROW_COLUMNS = ["response_id", "unit_id", "row", "channel", "submitted_at", "fingerprint", "reasons",
               "policy_excluded", "decision", "note", "reviewer", "excluded", "suspicion", "detail"]
ALERT_COLUMNS = ["alert", "unit_id", "name", "start", "end", "responses", "flagged", "evidence", "log10_p",
                 "log10_threshold"]
REVIEW_COLUMNS = ["row", "response_id", "unit_id", "decision", "note", "reviewer", "reasons", "policy_excluded",
                  "excluded", "outcome", "period"]


@dataclass(frozen=True)
class Integrity:
    """What :func:`check` found and decided for one round.

    ``rows``: one row per questionnaire that is flagged or reviewed (ROW_COLUMNS):
    ``reasons`` is a tuple of reason codes (INTEGRITY_REASONS, and ``review`` when a
    reviewer excluded it), ``policy_excluded`` what the ruleset alone decides,
    ``decision`` the reviewer's (``exclude``, ``keep`` or ''), ``excluded`` the outcome,
    ``suspicion`` 0-1 (``1 - Π(1 - weight)`` over its reasons), ``detail`` the reasons in words.
    ``units``: per unit of the units table: responses, flagged, excluded, flagged_share,
    suspicion (0-100: the mean suspicion of its questionnaires) and one count per reason.
    ``bursts``: the burst episodes (see :class:`~pingyi_lib.integrity.detect.Detection`).
    ``reviews``: the reviewed list as applied (REVIEW_COLUMNS), the audit trail.
    ``quarantine``: the excluded rows in the quarantine's columns.
    ``comparison``: filled in by scoring: score, rank and consequences with and without
    the exclusion, and without every flagged questionnaire (see ``pingyi_lib.scoring.results.score``).
    ``alerts``: the suspicious periods (ALERT_COLUMNS: unit_id, name, start, end, responses,
    flagged, evidence in words, log10 of the combined p-value, the threshold); scoring adds
    the unit's composite, rank and consequences without the period. ``members``: response_id
    and alert number of every questionnaire in a period (flagged or not).
    """

    rules: IntegrityRules
    rows: pd.DataFrame
    units: pd.DataFrame
    bursts: pd.DataFrame
    reviews: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: tuple[str, ...]
    window: tuple[pd.Timestamp, pd.Timestamp] | None
    comparison: pd.DataFrame | None = None
    alerts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALERT_COLUMNS))
    members: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["response_id", "alert"]))

    @property
    def excluded(self) -> int:
        return int(self.rows["excluded"].sum())

    @property
    def flagged(self) -> int:
        return int(detected(self.rows).sum())

    def label(self, reason: str) -> str:
        return self.rules.label(reason)

    def excluded_by_reason(self) -> pd.Series:
        """reason code -> excluded questionnaires whose exclusion it causes (the first
        excluding reason of each row; ``review`` for a reviewer's own exclusion)."""
        return self.quarantine["reason_code"].str.removeprefix("integrity_").value_counts() \
            .reindex(list(REASONS)).dropna().astype(np.int64)

    def apply(self, ds: Dataset) -> Dataset:
        """``ds`` without the excluded questionnaires, which join its quarantine."""
        if not self.excluded:
            return ds
        gone = set(self.rows.loc[self.rows["excluded"], "response_id"])
        return ds.without_rows("survey", gone, self.quarantine)

    def summary(self) -> str:
        """One sentence: how many questionnaires were excluded and why, how many flagged."""
        if not self.flagged and not self.excluded:
            return "问卷异常检测未发现疑似刷票问卷。"
        by = self.excluded_by_reason()
        why = "、".join(f"{self.label(k)}{v}份" for k, v in by.items())
        only = int((~self.rows["excluded"]).sum())
        text = f"按评议纪律规则剔除问卷{self.excluded}份，不计入得分（{why}）" if self.excluded \
            else "没有问卷被剔除"
        return text + (f"；另有{only}份被标记、待复核，仍计入得分。" if only else "。")


def detected(rows: pd.DataFrame) -> np.ndarray:
    """Which of ``rows`` a detector flagged (not only a reviewer)."""
    return np.array([any(x != REVIEW for x in r) for r in rows["reasons"]], dtype=bool)


def survey_year(ds: Dataset) -> int:
    """The calendar year of the survey: the round's year (``Dataset.round``: round.toml, else
    the data's dates), else the most common year of the submission times, else the ruleset's year."""
    if ds.round is not None and ds.round.year:
        return ds.round.year
    meta = Path(ds.path) / "round.toml"
    if meta.is_file():
        try:
            year = tomllib.loads(meta.read_text(encoding="utf-8")).get("year")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            year = None  # the round's own loader reports a broken file; here: fall back
        if isinstance(year, int) and not isinstance(year, bool):
            return year
    rows = ds.compact_rows("survey")
    if "submitted_at" in rows:
        years = pd.to_datetime(rows["submitted_at"]).dt.year.dropna()
        if len(years):
            return int(years.mode().min())
    return ds.ruleset.year


def survey_window(ds: Dataset, ruleset: Ruleset) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day of the questionnaire survey: ``survey_start``/``survey_end`` of the
    round's round.toml, else (SPEC §1) the ruleset's ``timeline.survey_start``/``survey_end``
    in the survey's year; or None."""
    info = ds.round
    if info is not None and info.survey_start and info.survey_end:  # the round's own dates (round.toml)
        return pd.Timestamp(info.survey_start), pd.Timestamp(info.survey_end)
    if ruleset.survey_window is None:
        return None
    year = survey_year(ds)
    return tuple(pd.Timestamp(f"{year}-{md}") for md in ruleset.survey_window)  # type: ignore[return-value]


def check(ds: Dataset, ruleset: Ruleset | None = None) -> Integrity:
    """Detect, apply the ruleset's policy and the reviewed overrides (see module doc)."""
    rs = ruleset or ds.ruleset
    rules = rs.integrity
    sv = ds.compact_rows("survey")  # the engine's compact rows when the table stays in its file
    window = survey_window(ds, rs)
    found = detect(sv, ds.units, rs, window)
    flags = found.flags.to_numpy()
    reasons = np.array(INTEGRITY_REASONS)
    policy = flags[:, [rules.reasons[r].exclude for r in INTEGRITY_REASONS]].any(axis=1)

    given = ds.tables.get("integrity_review")
    if given is None:
        given = pd.DataFrame(columns=["row", "response_id", "decision", "note", "reviewer"])
    ex = expand(given, sv)  # single rows as given, then every questionnaire of each reviewed period
    review = ex.rows
    pos = pd.Index(sv["response_id"]).get_indexer(review["response_id"]) if len(review) \
        else np.zeros(0, dtype=np.int64)
    known = pos >= 0
    decision = np.full(len(sv), "", dtype=object)
    given_decision = review["decision"].to_numpy(dtype=object)[known]
    decision[pos[known]] = given_decision
    # the masks from the reviewed rows alone: no comparison of a Python string per row of the round
    kept, dropped, decided = (np.zeros(len(sv), dtype=bool) for _ in range(3))
    kept[pos[known]] = given_decision == "keep"
    dropped[pos[known]] = given_decision == "exclude"
    decided[pos[known]] = given_decision != ""
    excluded = (policy & ~kept) | dropped

    pick = np.flatnonzero(flags.any(axis=1) | decided)
    rows = _rows(sv, pick, flags, reasons, policy, decision, excluded, review, known, pos, found, rs, window)
    units = _units(ds, sv, rows, rules)
    one = (review["period"] == "").to_numpy()
    reviews = _reviews(review[one], known[one], pos[one], sv, rows, rs)
    if len(ex.periods):
        reviews = pd.concat([x for x in (reviews, period_audit(ex, rows, REVIEW_COLUMNS)) if len(x)],
                            ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    warnings = tuple(f"问卷复核表第{r.row}行：问卷编号 {r.response_id} 不在已接受的问卷中，该复核决定未执行"
                     for r in review[~known].itertuples(index=False)) + ex.warnings
    quarantine = _quarantine(ds, sv, rows[rows["excluded"]], rules)
    alerts, members = _alerts(ds, sv, found, flags, rs)
    return Integrity(rules, rows, units, found.bursts, reviews, quarantine, warnings, window,
                     alerts=alerts, members=members)


def _alerts(ds: Dataset, sv: pd.DataFrame, found: Detection, flags: np.ndarray, rs: Ruleset):
    """The suspicious periods in the words of the report, and the questionnaires in each."""
    periods = found.periods
    if periods is None or not len(periods.alerts):
        return pd.DataFrame(columns=ALERT_COLUMNS), pd.DataFrame(columns=["response_id", "alert"])
    a = periods.alerts
    at = np.flatnonzero(periods.member >= 0)
    members = pd.DataFrame({"response_id": sv["response_id"].iloc[at].to_numpy(dtype=object),
                            "alert": periods.member[at]})
    fit = flags[:, INTEGRITY_REASONS.index("period")]
    names = ds.units.set_index("unit_id")["name"]
    rules = rs.integrity.period
    out = pd.DataFrame({
        "alert": np.arange(len(a)), "unit_id": a["unit_id"].to_numpy(dtype=object),
        "name": names.reindex(a["unit_id"]).fillna("").to_numpy(dtype=object),
        "start": pd.to_datetime(a["start"].to_numpy(dtype=np.int64), unit="s"),
        "end": pd.to_datetime(a["end"].to_numpy(dtype=np.int64), unit="s"),
        "responses": a["responses"].to_numpy(dtype=np.int64),
        "flagged": np.bincount(periods.member[at][fit[at]], minlength=len(a)),
        "evidence": [alert_evidence(r, rules) for r in a.itertuples(index=False)],
        "log10_p": a["log_p"].to_numpy() / np.log(10),
        "log10_threshold": np.log10(rules.false_alarm / a["tested"].to_numpy(dtype=float)),
    })
    return out, members


def _share(x: float) -> str:
    return f"{100 * x:.0f}%"


def quiet_hours_text(hours: tuple[int, ...]) -> str:
    """The quiet hours in words: '22时至次日6时' for a run that wraps midnight.

    >>> quiet_hours_text((22, 23, 0, 1, 2, 3, 4, 5)), quiet_hours_text((1, 2)), quiet_hours_text((1, 5))
    ('22时至次日6时', '1时至3时', '1时、5时')
    """
    hs = sorted(hours)
    for first in hs:  # a run of consecutive hours (around the clock) starting at ``first``
        run = [(first + k) % 24 for k in range(len(hs))]
        if sorted(run) == hs:
            end = (first + len(hs)) % 24
            return f"{first}时至{'次日' if end <= first else ''}{end}时"
    return "、".join(f"{h}时" for h in hs)


def alert_evidence(a, rules) -> str:
    """What sets one period apart, in words, strongest evidence first; the evidence whose own
    p-value is below ``evidence_p`` is named, the rest is not."""
    sig = np.log(rules.evidence_p)
    said = []
    if a.log_p_mix < sig:
        higher = a.mean > a.mean_rest
        said.append((a.log_p_mix, f"答案{'明显偏高' if higher else '明显偏低'}：每份问卷的平均得分{100 * a.mean:.1f}，"
                                  f"本单位其他时段{100 * a.mean_rest:.1f}"))
    if a.log_p_halo < sig:
        said.append((a.log_p_halo, f"各题答案彼此不相关，不像同一个人的评价：题间一致性{a.halo:.2f}，"
                                   f"其他时段{a.halo_rest:.2f}"))
    if a.log_p_rhythm < sig:
        said.append((a.log_p_rhythm, f"提交节奏过于规律：相邻两个提交间隔长短相近的占{_share(a.regular / a.gaps)}"
                                     "（随机到达约占50%）"))
    if a.log_p_hours < sig:
        said.append((a.log_p_hours, f"{_share(a.quiet)}提交于{quiet_hours_text(rules.quiet_hours)}，"
                                    f"其他时段{_share(a.quiet_rest)}"))
    if a.log_p_category < sig and a.category:
        said.append((a.log_p_category, f"“{a.category}”占{_share(a.category_share)}，"
                                       f"其他时段{_share(a.category_share_rest)}"))
    said.sort(key=lambda x: x[0])
    text = "；".join(w for _, w in said) if said else "各项差异单独都不显著，合在一起显著"
    return (f"{text}。这样的差异偶然出现的概率约为10^{a.log_p / np.log(10):.0f}，"
            f"低于判定阈值（全轮{a.tested}个候选时段，误报率{rules.false_alarm:g}）")


def _rows(sv, pick, flags, reasons, policy, decision, excluded, review, known, pos, found: Detection, rs, window):
    rules = rs.integrity
    f = flags[pick]
    dec = decision[pick]
    codes = [tuple(reasons[r]) + ((REVIEW,) if d == "exclude" else ()) for r, d in zip(f, dec)]
    weights = np.array([rules.reasons[r].weight for r in INTEGRITY_REASONS])
    suspicion = 1 - np.prod(np.where(f, 1 - weights[None, :], 1.0), axis=1)
    at = dict(zip(pos[known].astype(np.int64), range(int(known.sum()))))  # survey position -> review row
    said = [at.get(k) for k in pick]

    def review_text(column: str) -> list[str]:
        v = review[column].fillna("").to_numpy()[known] if column in review else np.full(int(known.sum()), "")
        return ["" if i is None else str(v[i]) for i in said]

    sub = sv.iloc[pick]
    out = pd.DataFrame({
        "response_id": sub["response_id"].to_numpy(dtype=object), "unit_id": sub["unit_id"].to_numpy(dtype=object),
        "row": sub["row"].to_numpy() if "row" in sub else pick + 2,
        "channel": _column(sub, "channel"), "submitted_at": _column(sub, "submitted_at", None),
        "fingerprint": _column(sub, "fingerprint"), "reasons": codes,
        "policy_excluded": policy[pick], "decision": dec, "note": review_text("note"),
        "reviewer": review_text("reviewer"), "excluded": excluded[pick], "suspicion": suspicion,
        "ip": _column(sub, "ip"),
    })
    details = found.details.reindex(pick)
    periods = [f"{pd.Timestamp(a.start, unit='s'):%m-%d %H:%M}至{pd.Timestamp(a.end, unit='s'):%m-%d %H:%M}"
               for a in found.periods.alerts.itertuples(index=False)] if found.periods is not None else []
    details["period"] = found.periods.member[pick] if found.periods is not None else -1
    # a merged round: the device's first questionnaire may be in another part's file (dataset/carried.py)
    first = details["fp_first_pos"].to_numpy(dtype=float)
    known_first = first == first
    files = np.full(len(first), "", dtype=object)
    if "file" in sv:  # the files of these rows only: no Python string per row of the round
        files[known_first] = sv["file"].iloc[first[known_first].astype(np.int64)].to_numpy(dtype=object)
    details["first_file"] = files
    # as plain objects: iterating Arrow-backed columns value by value costs seconds on many flagged rows
    out["detail"] = [_detail(r, d, rs, window, periods) for r, d in zip(out.astype(object).itertuples(index=False),
                                                                          details.astype(object).itertuples(index=False))]
    return out[ROW_COLUMNS]


def _column(sub: pd.DataFrame, name: str, blank=""):
    if name not in sub:
        return np.full(len(sub), blank, dtype=object)
    col = sub[name]
    return col.to_numpy() if blank is None else col.fillna(blank).to_numpy(dtype=object)


def _detail(r, d, rs: Ruleset, window, periods: list[str] | None = None) -> str:
    """The reasons of one flagged questionnaire in words, with the numbers behind them."""
    rules = rs.integrity
    words = []
    for code in r.reasons:
        if code == "fingerprint_repeat":
            what = (f"终端标识{mask_fingerprint(r.fingerprint)}对本单位第{int(d.fp_seq)}次提交"
                    f"（第一次在{d.first_file}第{int(d.fp_first_row)}行）")
        elif code == "burst":
            what = (f"前后{rules.burst_window_minutes:g}分钟内本单位{rs.channels.get(r.channel, r.channel)}问卷"
                    f"{int(d.burst_count)}份，按平常约{format_number(d.burst_expected, 1)}份")
        elif code == "burst_straightline":
            what = "集中提交时段内各项答案同为一档"
        elif code == "identical_run":
            what = f"连续{int(d.run_length)}份问卷答案和意见完全相同"
        elif code == "outside_window":
            what = (f"提交于{pd.Timestamp(r.submitted_at):%Y-%m-%d %H:%M}，不在问卷调查期"
                    f"（{window[0]:%Y-%m-%d}至{window[1]:%Y-%m-%d}）内")
        elif code == "implausible_volume":
            what = f"本单位第{int(d.volume_seq)}份问卷，超过合理上限{int(d.volume_cap)}份"
        elif code == "ip_repeat":
            what = (f"来自IP {mask_ip(r.ip)}的本单位第{int(d.ip_seq)}份问卷（此地址共{int(d.ip_count)}份评本单位，"
                    f"按它对各单位的问卷数约应{format_number(d.ip_expected, 1)}份）")
        elif code == "period":
            what = f"提交于本单位的可疑时段（{periods[int(d.period)]}）内，且符合该时段的异常"
        elif code == "too_fast":
            what = f"答题用时{format_number(d.duration, 0)}秒，少于{rules.too_fast_seconds:g}秒"
        else:  # review
            what = "复核决定剔除" + (f"（{r.note}）" if r.note else "")
        words.append(f"{rules.label(code)}：{what}")
    if r.decision == "keep":
        words.append("复核决定保留" + (f"（{r.note}）" if r.note else ""))
    return "；".join(words)


def _units(ds: Dataset, sv: pd.DataFrame, rows: pd.DataFrame, rules: IntegrityRules) -> pd.DataFrame:
    ids = ds.units["unit_id"]
    responses = sv.groupby("unit_id").size().reindex(ids, fill_value=0).to_numpy()
    flagged = rows.loc[detected(rows)]
    g = rows.groupby("unit_id")
    out = pd.DataFrame({
        "unit_id": ids.to_numpy(), "name": ds.units["name"].to_numpy(), "responses": responses,
        "flagged": flagged.groupby("unit_id").size().reindex(ids, fill_value=0).to_numpy(),
        "excluded": g["excluded"].sum().reindex(ids, fill_value=0).astype(np.int64).to_numpy(),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["flagged_share"] = np.where(responses > 0, out["flagged"] / np.maximum(responses, 1), np.nan)
        susp = g["suspicion"].sum().reindex(ids, fill_value=0).to_numpy()
        out["suspicion"] = np.where(responses > 0, np.round(100 * susp / np.maximum(responses, 1), 1), 0.0)
    exploded = rows[["unit_id", "reasons"]].explode("reasons")
    counts = exploded.groupby(["unit_id", "reasons"]).size().unstack(fill_value=0) if len(exploded) \
        else pd.DataFrame(index=pd.Index([], name="unit_id"))
    for reason in REASONS:
        out[reason] = counts[reason].reindex(ids, fill_value=0).to_numpy().astype(np.int64) \
            if reason in counts else 0
    return out


def _reviews(review, known, pos, sv, rows, rs: Ruleset) -> pd.DataFrame:
    if not len(review):
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    by_id = rows.set_index("response_id")
    out = review[["row", "response_id", "decision"]].copy()
    out["note"] = review["note"].fillna("") if "note" in review else ""
    out["reviewer"] = review["reviewer"].fillna("") if "reviewer" in review else ""
    unit = np.full(len(review), "", dtype=object)
    unit[known] = sv["unit_id"].iloc[pos[known]].to_numpy(dtype=object)
    out["unit_id"] = unit
    hit = by_id.reindex(out["response_id"])
    out["reasons"] = [tuple(x for x in r if x != REVIEW) if isinstance(r, tuple) else () for r in hit["reasons"]]
    out["policy_excluded"] = hit["policy_excluded"].fillna(False).astype(bool).to_numpy()
    out["excluded"] = hit["excluded"].fillna(False).astype(bool).to_numpy()
    outcome = []
    for k, r in zip(known, out.itertuples(index=False)):
        if not k:
            outcome.append("未找到该问卷，未执行")
        elif r.decision == "exclude":
            outcome.append("确认自动剔除" if r.policy_excluded else
                           "剔除（复核决定）" if r.reasons else "剔除（复核决定，检测未标记）")
        else:
            outcome.append("保留（推翻自动剔除）" if r.policy_excluded else "保留")
    out["outcome"] = outcome
    out["period"] = ""
    return out[REVIEW_COLUMNS].reset_index(drop=True)


def _quarantine(ds: Dataset, sv: pd.DataFrame, gone: pd.DataFrame, rules: IntegrityRules) -> pd.DataFrame:
    if not len(gone):
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    # a merged round's rows name their part's file (dataset/carried.py), else the survey's file
    file = sv["file"].iloc[pd.Index(sv["response_id"]).get_indexer(gone["response_id"])].to_numpy(dtype=object) \
        if "file" in sv else ds.file_of("survey")
    first = [next((c for c in r if c == REVIEW or rules.reasons[c].exclude), r[0]) for r in gone["reasons"]]
    column = ["fingerprint" if c == "fingerprint_repeat" else
              "submitted_at" if c in ("burst", "burst_straightline", "outside_window") else "" for c in first]
    value = [str(fp) if col == "fingerprint" else
             (f"{pd.Timestamp(t):%Y-%m-%d %H:%M:%S}" if col == "submitted_at" and pd.notna(t) else "")
             for col, fp, t in zip(column, gone["fingerprint"], gone["submitted_at"])]
    return pd.DataFrame({
        "table": "survey", "file": file, "row": gone["row"].astype(np.int64).to_numpy(),
        "unit_id": gone["unit_id"].to_numpy(), "column": column,
        "header": [{"fingerprint": "终端标识", "submitted_at": "提交时间"}.get(c, "") for c in column], "value": value,
        "reason_code": [f"integrity_{c}" for c in first],
        "reason": ("按评议纪律规则剔除，不计入得分：" + gone["detail"]).to_numpy(),
    })[QUARANTINE_COLUMNS]
