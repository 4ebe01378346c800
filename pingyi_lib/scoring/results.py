"""The two entry points a notebook needs: ``load_dataset`` and ``score``.

    >>> import pingyi_lib as py
    >>> ds = py.load_dataset("data/sample/2011")
    >>> res = py.score(ds)
    >>> res.units[["name", "composite", "rank"]]

``ds`` holds the clean tables and the quarantine; ``res`` holds DataFrames: ``units``
(one row per unit, the columns of SPEC §6 and more), ``items`` (item indices per unit
and component), ``consequences`` (the consequences that fire, in words), ``notes`` (data-quality
flags that fire, such as 样本不足), ``warnings`` and
``quarantine``.

Scoring applies the integrity policy first (``pingyi_lib.integrity``): questionnaires it
excludes (default: a device's repeated questionnaires for one unit) are left out and
join the quarantine; ``res.integrity`` holds what was flagged and excluded, and its
``comparison`` frame the scores, ranks and consequences with and without the exclusion.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pingyi_lib.common.errors import OptionError
from pingyi_lib.common.numbers import format_number, round_half_up
from pingyi_lib.dataset.load import Dataset, isin
from pingyi_lib.dataset.round import AsOf, as_of
from pingyi_lib.integrity.policy import Integrity, check, detected
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import completeness, consequences, counts, indices

COMPONENTS = ("onsite", "survey")


@dataclass
class Results:
    """What :func:`score` returns. Every attribute is a DataFrame except ``dataset``/``ruleset``."""

    dataset: Dataset
    ruleset: Ruleset
    units: pd.DataFrame
    items: pd.DataFrame
    consequences: pd.DataFrame
    warnings: pd.DataFrame
    counts: dict[str, pd.DataFrame]
    gaps: pd.DataFrame  # units missing from a league and why (scoring.completeness.league_gaps)
    integrity: Integrity | None = None  # None: scored without the integrity policy
    notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=consequences.COLUMNS))
    # Filled by pingyi_lib.stats.uncertainty.add_intervals (``score(ds, intervals=True)``), else None:
    # ``intervals``: every index with its bootstrap and analytic interval (long table);
    # ``replicates``: the bootstrap replicates (stats.uncertainty.ScoreReplicates), for the look-back.
    intervals: pd.DataFrame | None = None
    replicates: object | None = None
    # the day the results are read and whether the collection is still open then (interim):
    # the round's report day unless :func:`at_day` says another
    as_of: AsOf | None = None

    @property
    def interim(self) -> bool:
        """Read before the collection closes: every page, the workbook and the notice say
        阶段性结果 and list the consequences as 预警."""
        return self.as_of is not None and self.as_of.interim

    @property
    def incomplete(self) -> str:
        """The banner every page carries when a league is incomplete ('' when it is not):
        本次排名不完整：缺少 X（原因）."""
        return completeness.banner(self.gaps)

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.dataset.quarantine

    def league(self, group: str) -> pd.DataFrame:
        """The ranked table of one rank group, best first, unranked units last.

        ``group`` is a rank group of the ruleset (``district``, ``service``), not a unit
        level: an unknown name raises :class:`OptionError` naming the valid groups.
        """
        groups = self.ruleset.rank_group_labels
        if group not in groups:
            valid = "、".join(f"{g}（{label}）" for g, label in groups.items())
            raise OptionError(f"没有排名组“{group}”；排名组有：{valid}")
        u = self.units[self.units["rank_group"] == group]
        return u.sort_values(["rank", "unit_id"], na_position="last", kind="stable")

    def unit(self, unit_id: str) -> pd.Series:
        u = self.units.set_index("unit_id")
        if unit_id not in u.index:
            raise KeyError(f"本轮没有单位“{unit_id}”；本轮的单位编码：{', '.join(u.index)}")
        return u.loc[unit_id]

    def _counts(self) -> str:
        excluded = self.integrity.excluded if self.integrity is not None else 0
        return (f"{len(self.units)} units, {len(self.consequences)} consequences, "
                f"{len(self.quarantine) - excluded} rejected rows, {excluded} questionnaires excluded (integrity)")

    def __repr__(self) -> str:
        cols = ["unit_id", "name", "composite", "rank", "satisfaction", "flags"]
        return f"Results of {self.dataset.path}: {self._counts()}\n" + self.units[cols].to_string(index=False)

    def _repr_html_(self) -> str:
        cols = ["unit_id", "name", "level", "composite", "rank", "satisfaction", "flags"]
        return (f"<p>Results of <code>{html.escape(str(self.dataset.path))}</code>: {html.escape(self._counts())}</p>"
                + self.units[cols].to_html(index=False, escape=True, na_rep=""))


def component_counts(ds: Dataset, table: str, rs: Ruleset) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """(answer counts, valid counts, panel counts) of a response table: from the counts the
    engine made (or ``pingyi score --counts`` merged) when there are some, else from its rows."""
    if ds.counts is not None and ds.engines.get(table) in ("duckdb", "counts"):
        return counts.from_long(ds.counts, table, rs)
    frame = ds.compact_rows(table)
    panel = counts.panel_counts(frame, rs) if table == "onsite" else None
    return counts.answer_counts(frame, rs), counts.valid_counts(frame, rs), panel


def _component(tally: pd.DataFrame, valid: pd.Series, rs: Ruleset, unit_ids: pd.Index):
    items = indices.item_indices(tally, rs)
    comp = indices.component_index(items, rs).reindex(unit_ids)
    return items, comp, valid.reindex(unit_ids, fill_value=0)


def score(ds: Dataset, ruleset: Ruleset | None = None, *, integrity: bool = True) -> Results:
    """Score every unit of a dataset: indices, composite, ranks and flags (SPEC §4-5).

    With ``integrity`` (the default) the questionnaires the integrity policy excludes are
    left out first; ``res.dataset`` is then the dataset without them (they are in its
    quarantine) and ``res.integrity.comparison`` compares with the scores that keep them.
    ``integrity=False`` scores every accepted questionnaire, as before any check; so does a
    round merged from count files that do not carry their questionnaires (``ds.unchecked``),
    and its league is then incomplete (``res.gaps``: ``unchecked_parts``).
    """
    rs = ruleset or ds.ruleset
    if not integrity or ds.unchecked:  # merged counts without their questionnaires: a gap of the league
        return _stamped(_score(ds, rs))
    found = check(ds, rs)
    res = _score(found.apply(ds), rs)
    without = _score(ds, rs) if found.excluded else res
    comparison = exclusion_effect(res, without, found)
    res.integrity = dataclasses.replace(found, comparison=with_flagged_left_out(res, found, comparison),
                                        alerts=with_period_left_out(res, found))
    if found.warnings:
        extra = pd.DataFrame({"unit_id": None, "table": "integrity_review", "row": None,
                              "message": list(found.warnings)})
        res.warnings = pd.concat([res.warnings, extra], ignore_index=True)
    return _stamped(res)


def _stamped(res: Results) -> Results:
    """``res`` read on its round's report day (round.toml's report_date, else the last date in the data)."""
    info = res.dataset.round
    if info is not None:
        res.as_of = as_of(info, res.ruleset, info.report_day().day)
    return res


def at_day(res: Results, day) -> Results:
    """The same results read on ``day`` (a date): whether they are interim then. The scores
    themselves do not change; ``res`` is not modified."""
    info = res.dataset.round
    if info is None:
        return res
    return dataclasses.replace(res, as_of=as_of(info, res.ruleset, day))


def exclusion_effect(res: Results, without: Results, found: Integrity) -> pd.DataFrame:
    """Per unit: questionnaires excluded, and the questionnaire index, composite, rank and
    consequences with the exclusion (the published figures) and without it.

    Columns: unit_id, name, rank_group, excluded, survey_valid, survey_valid_without,
    survey_index, survey_index_without, composite, composite_without, composite_change,
    rank, rank_without, flags, flags_without, changed (any of composite, rank, flags differ).
    """
    cols = ["survey_valid", "survey_index", "composite", "rank", "flags"]
    a = res.units.set_index("unit_id")
    b = without.units.set_index("unit_id").reindex(a.index)
    out = a[["name", "rank_group"]].copy()
    out["excluded"] = found.units.set_index("unit_id")["excluded"].reindex(a.index).fillna(0).astype(np.int64)
    for c in cols:
        out[c] = a[c]
        out[f"{c}_without"] = b[c]
    out["composite_change"] = round_half_up(out["composite"] - out["composite_without"], res.ruleset.decimals)
    out["changed"] = _differs(out, "without")
    return out.reset_index()[["unit_id", "name", "rank_group", "excluded", "survey_valid", "survey_valid_without",
                              "survey_index", "survey_index_without", "composite", "composite_without",
                              "composite_change", "rank", "rank_without", "flags", "flags_without", "changed"]]


def _left_out(res: Results, out: np.ndarray) -> Results:
    """The round scored again without the questionnaires at ``out`` (a mask over its compact
    rows; beside the excluded ones): from the counts less theirs when the round is counted."""
    return _score(res.dataset.scored_without("survey", out), res.ruleset)


def _alert_of(res: Results, found: Integrity) -> np.ndarray:
    """The alert each questionnaire of the scored round falls in (-1: none), its ids looked up once."""
    ids = res.dataset.compact_rows("survey")["response_id"]
    members = found.members
    alert = np.full(len(ids), -1, dtype=np.int64)
    hit = np.flatnonzero(isin(ids, members["response_id"]))
    if len(hit):
        at = pd.Index(members["response_id"].to_numpy(dtype=object)).get_indexer(ids.iloc[hit].to_numpy(dtype=object))
        alert[hit[at >= 0]] = members["alert"].to_numpy(dtype=np.int64)[at[at >= 0]]
    return alert


def with_flagged_left_out(res: Results, found: Integrity, comparison: pd.DataFrame) -> pd.DataFrame:
    """``comparison`` with each unit's composite, rank and consequences when every questionnaire
    a detector flagged (not only the excluded) is left out: ``composite_without_flagged``,
    ``rank_without_flagged``, ``flags_without_flagged``, ``changed_without_flagged``."""
    flagged = found.rows.loc[detected(found.rows) & ~found.rows["excluded"].to_numpy(dtype=bool), "response_id"]
    other = _left_out(res, isin(res.dataset.compact_rows("survey")["response_id"], flagged)) if len(flagged) else res
    b = other.units.set_index("unit_id").reindex(comparison["unit_id"])
    out = comparison.copy()
    for c in ("composite", "rank", "flags"):
        out[f"{c}_without_flagged"] = b[c].to_numpy()
    out["changed_without_flagged"] = _differs(out, "without_flagged")
    return out


def with_period_left_out(res: Results, found: Integrity) -> pd.DataFrame:
    """``found.alerts`` with the unit's composite, rank and consequences when the period's
    questionnaires are left out (``composite``, ``composite_without``, ``rank``,
    ``rank_without``, ``flags``, ``flags_without``) and ``league_changes``: every unit of
    the league whose consequences differ then, as (unit_id, flags, flags_without)."""
    alerts = found.alerts.copy()
    a = res.units.set_index("unit_id")
    cols = {c: [] for c in ("composite", "composite_without", "rank", "rank_without", "flags", "flags_without",
                            "league_changes")}
    alert_of = _alert_of(res, found) if len(alerts) else None
    for k, unit in zip(alerts["alert"], alerts["unit_id"]):
        other = _left_out(res, alert_of == k)
        b = other.units.set_index("unit_id").reindex(a.index)
        for c in ("composite", "rank", "flags"):
            cols[c].append(a.at[unit, c] if unit in a.index else np.nan)
            cols[f"{c}_without"].append(b.at[unit, c] if unit in b.index else np.nan)
        moved = a["flags"].fillna("") != b["flags"].fillna("")
        cols["league_changes"].append([(u, a.at[u, "flags"], b.at[u, "flags"]) for u in a.index[moved]])
    for c, v in cols.items():
        alerts[c] = v if len(alerts) else pd.Series(dtype=object)
    return alerts


def _differs(out: pd.DataFrame, suffix: str) -> np.ndarray:
    changed = np.zeros(len(out), dtype=bool)
    for c in ("composite", "rank", "flags"):  # missing on both sides is no change
        x, y = (out[k].astype(object).where(out[k].notna(), "") for k in (c, f"{c}_{suffix}"))
        changed |= (x != y).to_numpy()
    return changed


def _score(ds: Dataset, rs: Ruleset) -> Results:
    u = ds.units[["unit_id", "name", "level", "parent_id", "rank_group"]].set_index("unit_id")
    u["level_label"] = u["level"].map(rs.unit_level_labels)
    u["rank_group_label"] = u["rank_group"].map(rs.rank_group_labels)
    u, all_counts, items = _indices(ds, u, rs)
    u = _composite(ds, u, rs)
    u = _discipline_and_panel(ds, u, rs)
    u = _ranks(u, rs).reset_index()
    u = pd.concat([u, consequences.flags(u, rs)], axis=1)
    u["flags"] = consequences.flag_words(u, rs)
    u["notes"] = consequences.flag_words(u, rs, rs.note_flags)
    level_order = {lvl: i for i, lvl in enumerate(rs.unit_level_labels)}
    u = u.sort_values(["level", "rank", "unit_id"], key=lambda c: c.map(level_order) if c.name == "level" else c,
                      na_position="last", kind="stable").reset_index(drop=True)
    return Results(ds, rs, u, items, consequences.consequences(u, rs), _warnings(ds, u), all_counts,
                   completeness.league_gaps(ds, u), notes=consequences.notes(u, rs))


def _indices(ds: Dataset, u: pd.DataFrame, rs: Ruleset):
    """On-site and questionnaire indices per unit (raw and published), valid counts, the
    satisfied share; the answer counts and the item table."""
    d = rs.decimals
    all_counts, item_frames = {}, []
    for comp in COMPONENTS:
        tally, valid, _ = component_counts(ds, comp, rs)
        items, ci, valid = _component(tally, valid, rs, u.index)
        all_counts[comp] = tally
        item_frames.append(items.assign(component=comp))
        u[f"{comp}_index_raw"] = ci["index"]
        u[f"{comp}_index"] = round_half_up(ci["index"], d)
        u[f"{comp}_valid"] = valid
        if comp == "survey":
            u["satisfied_share"] = round_half_up(ci["satisfied_share"], d + 2)  # a share: 0.8571 = 85.71%
    items = pd.concat(item_frames).reset_index()
    items["index"] = round_half_up(items["index"], d)
    items["label"] = items["item"].map(rs.item_labels)
    items = items[["component", "unit_id", "item", "label", "n", "abstain", "blank", "index", "satisfied_share"]]
    return u, all_counts, items


def _composite(ds: Dataset, u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Case and bonus points, the composite from unrounded indices, and its parts."""
    d = rs.decimals
    cp = indices.case_points(ds.cases, u.index, rs)
    bp = indices.bonus_points(ds.bonuses, u.index, rs)
    u = u.join(cp).join(bp)
    u["case_points"] = round_half_up(u["case_points"], d)
    u["bonus_points"] = round_half_up(u["bonus_points"], d)
    u["composite"] = round_half_up(indices.composite(u["onsite_index_raw"], u["survey_index_raw"],
                                                     cp["case_points"], bp["bonus_points"], rs), d)
    parts = indices.composite_parts(u["onsite_index_raw"], u["survey_index_raw"], rs)
    u = u.join(parts.apply(round_half_up, decimals=d))
    u["satisfaction"] = u["survey_index"]
    return u


def _discipline_and_panel(ds: Dataset, u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Confirmed violations (seed §六(三)) and the make-up of the on-site panel."""
    viol = ds.violations[ds.violations["confirmed"].astype(bool)]
    u["violation"] = u.index.isin(viol["unit_id"])
    u["violation_kinds"] = viol.groupby("unit_id")["kind"].agg(lambda s: "、".join(dict.fromkeys(s))) \
        .reindex(u.index).fillna("")
    panel = component_counts(ds, "onsite", rs)[2].reindex(u.index)
    u["panel_ballots"] = panel["ballots"].fillna(0).astype(np.int64)
    u["panel_public"] = panel["public"].fillna(0).astype(np.int64)
    u["panel_share"] = panel["share"]
    return u


def _ranks(u: pd.DataFrame, rs: Ruleset) -> pd.DataFrame:
    """Rank, group size, group mean and the bottom group within each rank group."""
    ranks = [indices.rank_group(g, rs) for _, g in u[u["rank_group"].notna()].groupby("rank_group")]
    rk = pd.concat(ranks) if ranks else pd.DataFrame(columns=["rank", "group_n", "group_mean", "in_bottom"])
    u = u.join(rk)
    u["rank"] = u["rank"].astype("Int64")
    u["group_n"] = u["group_n"].astype("Int64")
    u["in_bottom"] = u["in_bottom"].astype("boolean").fillna(False).astype(bool)
    return u


def _warnings(ds: Dataset, units: pd.DataFrame) -> pd.DataFrame:
    """Things to tell the analyst that are not rejected rows."""
    rs = ds.ruleset
    d = rs.decimals
    rows = []
    c = ds.cases
    if rs.substantiated_only:  # otherwise every case counts and there is nothing to warn about
        for r in c[~c["substantiated"].astype(bool) & (c["deduction"] > 0)].itertuples(index=False):
            rows.append({"unit_id": r.unit_id, "table": "cases", "row": r.row,
                         "message": f"案例 {r.case_id} 未认定属实，其扣分 {format_number(r.deduction, d)} 不计入"})
    # the published claim against the cap: a claim that rounds to the cap is not over it
    over = round_half_up(units["bonus_claimed"], d) > rs.bonus_cap
    for r in units[over].itertuples(index=False):
        rows.append({"unit_id": r.unit_id, "table": "bonuses", "row": None,
                     "message": f"加分合计 {format_number(r.bonus_claimed, d)} 超过上限 "
                                f"{format_number(rs.bonus_cap, d)}，按 {format_number(r.bonus_points, d)} 计"})
    for r in units[round_half_up(units["deductions"], d) > rs.case_cap].itertuples(index=False):
        rows.append({"unit_id": r.unit_id, "table": "cases", "row": None,
                     "message": f"扣分合计 {format_number(r.deductions, d)} 超过上限 {format_number(rs.case_cap, d)}，"
                                "实例调查得 0 分"})
    rows += [{"unit_id": None, "table": None, "row": None, "message": n} for n in ds.notes]
    return pd.DataFrame(rows, columns=["unit_id", "table", "row", "message"])
