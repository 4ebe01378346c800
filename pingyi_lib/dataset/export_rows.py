"""An export's answers as rows of the survey table (SPEC §2), by a mapping (export_mapping.py).

Each answer gets a stable ``response_id`` from the platform, the questionnaire's form id and
its own number (问卷星 ``序号``, 腾讯问卷 ``编号``), so importing the same export twice adds
nothing and a later download adds only its new answers. A spoiled answer (no unit, a unit
the round does not have, an answer outside the scale, a time that is no time) is rejected
whole, named by the export's own number and column header, with its reason in Chinese.
The platform's IP address and time taken go into columns of their own (``ip``,
``duration_s``) for the integrity check; an IP address is not a device.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.dataset.export_mapping import CATEGORY, UNIT, Mapping, level_lookup, near, norm, unit_lookup
from pingyi_lib.dataset.exports import BLANKS, Export
from pingyi_lib.dataset.validate import SECONDS_TEXT, parse_datetimes
from pingyi_lib.scheme.ruleset import Ruleset

PREFIX = {"wjx": "wjx", "tencent": "txwj", "table": "tab"}
REJECTED_COLUMNS = ["file", "form", "source_id", "row", "column", "value", "reason_code", "reason"]
# why an answer of an export is rejected (docs/data-contract.md); the full reason names the
# export's own number (序号, 编号) and the column header
REASONS = {
    "missing_id": "没有序号（编号），无法生成问卷编号",
    "duplicate_id": "序号（编号）在导出文件中出现了两次，后一个未导入",
    "missing_unit": "评议单位题没有回答",
    "unknown_unit": "评议单位题的答案不是本轮的评议单位（近似的名称会给出建议）",
    "unknown_answer": "评价题的答案不是评议等次",
    "bad_date": "提交时间不是日期时间",
    "bad_duration": "答题用时不是时长（如 125秒、2分5秒）",
}
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|min|m))?\s*"
                       r"(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|s))?$", re.IGNORECASE)
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})$")


@dataclass
class Imported:
    rows: pd.DataFrame  # survey-table columns (ids), every cell text
    rejected: pd.DataFrame  # REJECTED_COLUMNS: one row per rejected answer
    notes: list[str]


def seconds(text: str) -> float | None:
    """``125秒``, ``2分5秒``, ``00:02:05``, ``125`` -> seconds; None when it is none of these.

    >>> [seconds(t) for t in ("125秒", "2分5秒", "1小时", "00:02:05", "125", "快")]
    [125.0, 125.0, 3600.0, 125.0, 125.0, None]
    """
    t = norm(text)
    if re.fullmatch(SECONDS_TEXT, t):  # a plain number: what the survey table's duration_s holds
        return float(t)
    m = _CLOCK.match(t)
    if m:
        return float(int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
    m = _DURATION.match(t)
    if m and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return h * 3600 + mi * 60 + s
    return None


def ip_address(text: str) -> str:
    """``221.231.12.5(江苏-常州)`` -> ``221.231.12.5``; '' when it holds no address."""
    t = re.split(r"[(（\s]", text.strip(), maxsplit=1)[0]
    try:
        return str(ipaddress.ip_address(t))
    except ValueError:
        return ""


def _text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def to_survey(export: Export, m: Mapping, ruleset: Ruleset, units: pd.DataFrame) -> Imported:
    """The export's answers as survey rows (text, as a clerk would type them) and the rejected ones."""
    df = pd.DataFrame(export.rows, columns=export.header, dtype=object)
    n = len(df)
    rows_no = np.asarray(export.row_numbers, dtype=np.int64)
    id_header = m.columns.get("source_id")
    source = df[id_header].astype(str).to_numpy(dtype=object) if id_header else rows_no.astype(str).astype(object)
    id_word = id_header or "行号"
    bad = np.zeros(n, dtype=bool)
    rejected: list[dict] = []
    notes: list[str] = []

    def reject(mask: np.ndarray, header: str, values, code: str, why) -> None:
        nonlocal bad
        for i in np.flatnonzero(mask & ~bad):
            v = values[i] if values is not None else ""
            rejected.append({"file": export.path, "form": m.form, "source_id": source[i], "row": int(rows_no[i]),
                             "column": header, "value": v, "reason_code": code,
                             "reason": f"{visible(id_word)} {visible(source[i])}：{why(v)}"})
        bad |= mask

    out: dict[str, np.ndarray] = {}
    blank_id = np.array([not str(s).strip() for s in source])
    reject(blank_id, id_word, None, "missing_id", lambda v: f"没有{visible(id_word)}，无法生成问卷编号")
    dup = pd.Series(source).duplicated().to_numpy() & ~blank_id
    reject(dup, id_word, source, "duplicate_id", lambda v: f"{visible(id_word)}“{visible(v)}”在导出文件中出现了两次，"
                                                        "后一个未导入")
    unit_part = f"{m.unit}-" if m.unit else ""
    out["response_id"] = np.array([f"{PREFIX[m.platform]}-{m.form}-{unit_part}{s}" for s in source], dtype=object)

    if m.unit:
        out["unit_id"] = np.full(n, m.unit, dtype=object)
    else:
        h = m.columns[UNIT]
        v = df[h].to_numpy(dtype=object)
        known = unit_lookup(units, m.units)
        got = np.array([known.get(norm(x), "") for x in v], dtype=object)
        blank = np.array([x in BLANKS for x in v])
        reject(blank, h, v, "missing_unit", lambda x: f"“{visible(h)}”没有回答，不知评议哪个单位")
        names = list(units["name"])

        def unknown_unit(x):
            hit = near(x, names)
            hint = f"；是否为“{hit}”？如是，请在 import-mapping.toml 的 [units] 中写明" if hit else ""
            return f"“{visible(h)}”的答案“{visible(x)}”不是本轮的评议单位（单位名称或编码）{hint}"
        reject((got == "") & ~blank, h, v, "unknown_unit", unknown_unit)
        out["unit_id"] = got

    if CATEGORY in m.columns:
        v = df[m.columns[CATEGORY]].to_numpy(dtype=object)
        out["respondent_category"] = np.array(["" if x in BLANKS else m.categories.get(x, x) for x in v], dtype=object)
    out["channel"] = np.full(n, m.channel, dtype=object)

    if "submitted_at" in m.columns:
        h = m.columns["submitted_at"]
        v = df[h].to_numpy(dtype=object)
        t = parse_datetimes(pd.Series(v, dtype=object).where(~pd.Series(v).isin(BLANKS), ""))
        blank = np.array([x in BLANKS for x in v])
        reject(t.isna().to_numpy() & ~blank, h, v, "bad_date", lambda x: f"“{visible(h)}”的“{visible(x)}”不是日期时间")
        out["submitted_at"] = np.array(["" if pd.isna(x) else x.strftime("%Y-%m-%d %H:%M:%S") for x in t], dtype=object)

    levels = level_lookup(ruleset, m.answers)
    labels = ruleset.level_labels
    allowed = "、".join(labels.values())
    for it in ruleset.items:
        if it not in m.columns:
            continue
        h = m.columns[it]
        v = df[h].to_numpy(dtype=object)
        codes = np.array([0 if x in BLANKS else levels.get(norm(x), -1) for x in v])
        reject(codes < 0, h, v, "unknown_answer",
               lambda x, h=h: f"“{visible(h)}”的答案“{visible(x)}”不是评议等次（{allowed}）")
        out[it] = np.array([labels.get(c, "") for c in codes], dtype=object)

    if "ip" in m.columns:
        v = df[m.columns["ip"]].to_numpy(dtype=object)
        out["ip"] = np.array([ip_address(x) for x in v], dtype=object)
        odd = int(sum(1 for x, a in zip(v, out["ip"]) if x not in BLANKS and not a))
        if odd:
            notes.append(f"“{visible(m.columns['ip'])}”中 {odd} 个值不是 IP 地址，未保存")
    if "duration" in m.columns:
        h = m.columns["duration"]
        v = df[h].to_numpy(dtype=object)
        secs = [None if x in BLANKS else seconds(x) for x in v]
        reject(np.array([s is None and x not in BLANKS for s, x in zip(secs, v)]), h, v, "bad_duration",
               lambda x: f"“{visible(h)}”的“{visible(x)}”不是答题用时（如 125秒、2分5秒）")
        out["duration_s"] = np.array(["" if s is None else _text(s) for s in secs], dtype=object)
    if m.comment:
        parts = [df[h].where(~df[h].isin(BLANKS), "").to_numpy(dtype=object) for h in m.comment]
        out["comment"] = np.array(["；".join(p for p in ps if p) for ps in zip(*parts)], dtype=object)

    frame = pd.DataFrame(out)[~bad].reset_index(drop=True)
    rej = pd.DataFrame(rejected, columns=REJECTED_COLUMNS)
    return Imported(frame, rej, notes)


def merge(existing: pd.DataFrame, new: pd.DataFrame, id_column: str = "response_id"
          ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The survey table with the imported rows: a new id is added at the end, an id already
    there is replaced in place when its values changed (a mapping corrected), kept otherwise.
    Columns of either side are kept; a cell a side lacks is ''. Every cell is text."""
    cols = list(existing.columns) + [c for c in new.columns if c not in existing.columns]
    old = existing.reindex(columns=cols, fill_value="").astype(object)
    add = new.reindex(columns=cols, fill_value="").astype(object)
    at = pd.Index(old[id_column]).get_indexer(add[id_column])
    counts = {"added": int((at < 0).sum()), "updated": 0, "unchanged": 0}
    there = np.flatnonzero(at >= 0)
    if len(there):
        mine = [c for c in new.columns]
        before = old.iloc[at[there]][mine].to_numpy(dtype=object)
        after = add.iloc[there][mine].to_numpy(dtype=object)
        changed = (before != after).any(axis=1)
        counts["updated"] = int(changed.sum())
        counts["unchanged"] = int((~changed).sum())
        for j in np.flatnonzero(changed):
            old.iloc[at[there[j]], [old.columns.get_loc(c) for c in mine]] = after[j]
    merged = pd.concat([old, add[at < 0]], ignore_index=True)
    return merged, counts
