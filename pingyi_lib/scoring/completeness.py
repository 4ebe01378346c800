"""A league table never changes silently (SPEC §2): the units missing from it, and why.

A rejected row of the units table takes the unit and every row that names it out of the
round, so its place, the bottom group and the consequences pass to another unit. A ranked
unit whose questionnaires were all rejected (or that has none with a scored answer) drops
out of its league the same way. :func:`league_gaps` lists both; ``score`` and ``report``
stop on them (:func:`require_complete`) unless the user asks for an incomplete league, and
then every page carries :func:`banner`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pingyi_lib.common.errors import LeagueIncomplete
from pingyi_lib.dataset.load import Dataset
from pingyi_lib.dataset.schema import tables
from pingyi_lib.dataset.validate import where

GAP_COLUMNS = ["unit_id", "name", "kind", "file", "row", "cause", "dependents", "dependent_tables", "message"]


def _dependents(q: pd.DataFrame, unit_id: str, zh: dict[str, str]) -> tuple[int, str]:
    """Rows rejected because they name ``unit_id`` (as their unit or parent): how many, and
    per table in words (问卷调查 60 行、现场评议 6 行)."""
    dep = q[(q["reason_code"] == "unknown_unit") & (q["value"] == unit_id)]
    per = dep.groupby("table", sort=False).size()
    return int(len(dep)), "、".join(f"{zh.get(t, t)} {n} 行" for t, n in per.items())


def league_gaps(ds: Dataset, units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit missing from a league: ``unit_id`` (as written), ``name``, ``kind``
    (``rejected_unit``, ``no_valid_survey``, or ``unchecked_parts``: merged count files
    without their questionnaires, a row for the whole round with no unit), ``file`` and ``row`` at fault, ``cause`` (in
    words), ``dependents`` (rows rejected with it) and ``dependent_tables`` (per table, in
    words), ``message`` (one plain sentence naming all of it).

    ``units`` is ``Results.units`` (needs ``rank_group`` and ``survey_valid``).
    """
    q = ds.quarantine
    zh = {name: t.zh for name, t in tables(ds.ruleset).items()}
    written = ds.written_unit_names
    rows = []
    for r in q[q["table"] == "units"].itertuples(index=False):
        uid = str(r.unit_id)
        n, per = _dependents(q, uid, zh) if uid else (0, "")
        name = written.get(uid, "")
        who = f"单位“{uid}”" + (f"（{name}）" if name else "") if uid else "一个单位"
        cause = f"{zh['units']}表 {where(_file(r.file), r.row)}被拒绝：{_short(r.reason)}"
        msg = f"{who}不在排名中：{cause}" + (f"；随之被拒绝的还有 {n} 行（{per}）" if n else "")
        rows.append({"unit_id": uid, "name": name, "kind": "rejected_unit", "file": r.file, "row": int(r.row),
                     "cause": cause, "dependents": n, "dependent_tables": per, "message": msg})
    ranked = units[units["rank_group"].notna() & (units["survey_valid"] == 0)]
    survey_q = q[q["table"] == "survey"]
    # accepted questionnaires per unit: from the engine's or the merged parts' counts when the
    # rows are not in memory (survey_valid above comes from the same counts)
    accepted_n = ds.accepted_per_unit("survey") if len(ranked) else pd.Series(dtype=np.int64)
    # `pingyi score --counts`: the rejected rows stayed with the parts (only their number came)
    parts_only = bool(ds.parts) or ds.engines.get("survey") == "counts"
    for u in ranked.itertuples(index=False):
        mine = survey_q[survey_q["unit_id"] == u.unit_id]
        accepted = int(accepted_n.get(u.unit_id, 0))
        if parts_only and not accepted:
            cause = (f"各部分的计数中没有本单位的{zh['survey']}问卷（--counts 只带来计数；"
                     "被拒绝的行请对各部分的数据运行 pingyi validate 查看）")
            file, row = "", None
        elif len(mine):
            first = mine.iloc[0]
            cause = (f"{zh['survey']}表中本单位的 {len(mine)} 行全部被拒绝"
                     + (f"，另 {accepted} 份没有有效答案" if accepted else "")
                     + f"（如 {where(_file(first['file']), first['row'])}：{_short(first['reason'])}）")
            file, row = first["file"], int(first["row"])
        elif accepted:
            cause = f"本单位的 {accepted} 份问卷没有一份有效答案（评议内容全部为空或“不了解”）"
            file, row = "", None
        else:
            cause = f"{zh['survey']}表中没有本单位的问卷"
            file, row = "", None
        msg = f"单位“{u.unit_id}”（{u.name}）没有有效问卷，不能排名：{cause}"
        rows.append({"unit_id": u.unit_id, "name": u.name, "kind": "no_valid_survey", "file": file, "row": row,
                     "cause": cause, "dependents": len(mine), "dependent_tables": f"{zh['survey']} {len(mine)} 行"
                     if len(mine) else "", "message": msg})
    if ds.unchecked:
        rows.append(unchecked_gap(ds))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def unchecked_gap(ds: Dataset) -> dict:
    """The gap of a merged round whose count files do not all carry their questionnaires:
    the integrity check (刷票、重复提交) could not judge it, so the league is incomplete."""
    names = "、".join(_file(p) for p in ds.unchecked)
    cause = (f"{len(ds.unchecked)} 个计数文件（{names}）不含问卷明细（由旧版 pingyi count 写出），"
             "全部问卷未经问卷异常检查（重复提交、集中提交、可疑时段等均未判断）")
    return {"unit_id": "", "name": "", "kind": "unchecked_parts", "file": "; ".join(ds.unchecked), "row": None,
            "cause": cause, "dependents": 0, "dependent_tables": "",
            "message": f"{cause}；请用本版 pingyi count 重新计数这些部分"}


def _file(path: str) -> str:
    """A file as a clerk names it: the file name, with the sheet for a workbook."""
    from pathlib import Path

    return Path(path).name if path else ""


def _short(reason: str) -> str:
    """The first clause of a reason (without the list of allowed values)."""
    return reason.split("；")[0]


def banner(gaps: pd.DataFrame) -> str:
    """‘本次排名不完整：缺少 X（原因）’ for every page and the workbook; '' when complete."""
    if not len(gaps):
        return ""
    parts = []
    for g in gaps.itertuples(index=False):
        if g.kind == "unchecked_parts":
            parts.append(g.cause)
            continue
        who = f"{g.name}（{g.unit_id}）" if g.name else f"“{g.unit_id}”"
        parts.append(f"缺少 {who}（{g.cause}）")
    return "本次排名不完整：" + "；".join(parts)


def require_complete(gaps: pd.DataFrame) -> None:
    """Raise :class:`LeagueIncomplete` naming every gap, unless there is none."""
    if not len(gaps):
        return
    lines = "\n".join(f"  - {m}" for m in gaps["message"])
    raise LeagueIncomplete(
        f"排名不完整，已停止（排名表不能在缺少单位的情况下悄悄改变）：\n{lines}\n"
        "请改正文件后重新运行；如确需在缺少这些单位的情况下排名，加 --allow-incomplete"
        "（各页和汇总表都会注明“本次排名不完整”）。", gaps)
