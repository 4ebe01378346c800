"""Which column of an export holds what (``pingyi import``): found from the question texts and
the answers, written to ``import-mapping.toml`` for review and reuse.

The unit question is the column whose answers name the round's units (by name or id), unless
``--unit`` says every answer is for one unit (one questionnaire link per unit); the identity
question is the one asking 身份/类别 or whose answers are the ruleset's respondent categories;
each dimension of the ruleset is the column whose header names it (依法履职 …) and whose
answers are the scale's levels; the comment is a question asking for 意见/建议. A column that
fits none is listed, never dropped silently; a role that two columns fit equally well stops
the import with both named (:class:`Ambiguous`). Near names are proposed, never applied:
an answer 企业 is imported as written, with 企业代表 proposed in the mapping file.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset.exports import BLANKS, CARRIED, PLATFORM_NAMES, Export
from pingyi_lib.scheme.ruleset import Ruleset

FILE_NAME = "import-mapping.toml"
FORMAT = "pingyi-import-mapping/1"
# roles of a question column besides the items
UNIT, CATEGORY, COMMENT = "unit_id", "respondent_category", "comment"
_CATEGORY_WORDS = re.compile(r"身份|类别|职业|您是|您属于|您的单位性质|人员类型")
_UNIT_WORDS = re.compile(r"单位|部门|窗口|站所|机关")
_COMMENT_WORDS = re.compile(r"意见|建议|留言|反映|问题|说明|其他")
_DIGITS = re.compile(r"^\d{1,3}$")
SHARE = 0.5  # a column's answers are of a kind when at least this share of its filled cells are
SYSTEMATIC = 0.05  # an answer text outside the scale in this share of a dimension's answers: an option, not a slip


class Ambiguous(DatasetError):
    """Two or more columns fit a role equally well: the import stops with them named."""


def norm(text: str) -> str:
    """Text compared for a match: full-width letters and digits folded, spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


@dataclass
class Mapping:
    platform: str
    form: str
    columns: dict[str, str] = field(default_factory=dict)  # role (platform field, item, unit_id …) -> header
    comment: list[str] = field(default_factory=list)  # headers joined into the comment, in order
    unit: str = ""  # every answer is for this unit (--unit)
    channel: str = "online"
    units: dict[str, str] = field(default_factory=dict)  # an answer of the unit question -> unit id
    categories: dict[str, str] = field(default_factory=dict)  # an identity answer -> respondent category
    answers: dict[str, str] = field(default_factory=dict)  # an answer -> the scale's level label
    not_needed: list[str] = field(default_factory=list)  # platform columns pingyi does not carry
    unplaced: list[str] = field(default_factory=list)  # question columns that fit no role
    proposals: dict[str, dict[str, str]] = field(default_factory=dict)  # units/categories/answers: near names
    missing: list[str] = field(default_factory=list)  # what the analyst must fill in before the import runs

    def headers(self) -> set[str]:
        return set(self.columns.values()) | set(self.comment)


# ---- the answers' kinds -------------------------------------------------------------------
def _filled(values: list[str]) -> list[str]:
    return [v for v in values if v not in BLANKS]


def level_lookup(ruleset: Ruleset, extra: dict[str, str] | None = None) -> dict[str, int]:
    """An answer as a platform writes it -> the level code: the labels, the codes 1..L (按选项序号),
    and the mapping's own entries."""
    codes = {norm(lv.label): lv.code for lv in ruleset.levels}
    by_label = dict(codes)
    codes.update({str(lv.code): lv.code for lv in ruleset.levels})
    for k, v in (extra or {}).items():
        if norm(v) in by_label:
            codes[norm(k)] = by_label[norm(v)]
    return codes


def unit_lookup(units: pd.DataFrame, extra: dict[str, str] | None = None) -> dict[str, str]:
    """An answer of the unit question -> unit id: the ids, the names, and the mapping's entries."""
    out = {norm(u): u for u in units["unit_id"]}
    out.update({norm(n): u for u, n in zip(units["unit_id"], units["name"])})
    ids = set(units["unit_id"])
    out.update({norm(k): v for k, v in (extra or {}).items() if v in ids})
    return out


def _share(values: list[str], known) -> float:
    filled = _filled(values)
    return sum(norm(v) in known for v in filled) / len(filled) if filled else 0.0


def near(text: str, choices, cutoff: float = 0.6) -> str | None:
    """The one choice a text is a near name of (企业 -> 企业代表), or None: contained in exactly
    one choice, or else the closest by difflib above ``cutoff``."""
    t = norm(text)
    if not t:
        return None
    inside = [c for c in choices if t in norm(c) or norm(c) in t]
    if len(inside) == 1:
        return inside[0]
    if len(inside) > 1:
        return None
    close = difflib.get_close_matches(t, [norm(c) for c in choices], n=2, cutoff=cutoff)
    if len(close) == 1:
        return next(c for c in choices if norm(c) == close[0])
    return None


# ---- finding the mapping ----------------------------------------------------------------------
def _ambiguous(role: str, headers: list[str], path: str) -> Ambiguous:
    listed = "；".join(f"“{h}”" for h in headers)
    return Ambiguous(f"{path}：无法确定哪一列是{role}，以下各列都符合：{listed}；"
                     f"请在 {FILE_NAME} 的 [columns] 中写明，再用 --mapping 导入", path=path)


def _best(candidates: list[tuple[int, str]], role: str, path: str) -> str | None:
    if not candidates:
        return None
    top = max(r for r, _ in candidates)
    best = [h for r, h in candidates if r == top]
    if len(best) > 1:
        raise _ambiguous(role, best, path)
    return best[0]


def find_mapping(export: Export, ruleset: Ruleset, units: pd.DataFrame, unit: str = "") -> Mapping:
    """The mapping of an export, found from its headers and answers."""
    m = Mapping(export.platform, export.form(), unit=unit, channel="paper" if export.platform == "table" else "online")
    meta = export.meta
    for h in export.header:
        role = meta.get(h)
        if role in CARRIED and role not in m.columns:
            m.columns[role] = h
        elif role is not None:
            m.not_needed.append(h)
    questions = [q for q in export.questions if q.header not in meta]
    values = {q.header: export.column(q.header) for q in questions}
    levels = level_lookup(ruleset)
    level_share = {h: _share(v, levels) for h, v in values.items()}
    taken: set[str] = set()

    for it in ruleset.items:
        label = norm(ruleset.item_labels[it])
        cands = []
        for q in questions:
            row, text = norm(q.row), norm(q.text)
            rank = 3 if row == label else 2 if label in row else 1 if label in text else 0
            if rank and (level_share[q.header] >= SHARE or not _filled(values[q.header])):
                cands.append((rank, q.header))
        h = _best(cands, f"“{ruleset.item_labels[it]}”", export.path)
        if h is not None:
            m.columns[it] = h
            taken.add(h)
        elif it in ruleset.scored_items:
            m.missing.append(f"[columns] {it}：“{ruleset.item_labels[it]}”所在的列")

    rest = [q for q in questions if q.header not in taken]
    if not unit:
        known = unit_lookup(units)
        cands = [(2, q.header) for q in rest if _share(values[q.header], known) >= SHARE]
        if not cands:  # 按选项序号: the options' numbers, which only the questionnaire can tell
            cands = [(1, q.header) for q in rest if _UNIT_WORDS.search(q.text) and _filled(values[q.header])
                     and all(_DIGITS.match(v) for v in _filled(values[q.header]))]
        h = _best(cands, "评议单位题", export.path)
        if h is None:
            m.missing.append("[columns] unit_id：回答“评议哪个单位”的列（或每个单位一个问卷链接时用 --unit 指定单位）")
        else:
            m.columns[UNIT] = h
            taken.add(h)
    rest = [q for q in rest if q.header not in taken]

    cats = ruleset.respondent_categories
    cands = []
    for q in rest:
        filled = _filled(values[q.header])
        exact = _share(values[q.header], {norm(c) for c in cats}) if cats else 0.0
        close = sum(near(v, cats) is not None for v in set(filled)) / len(set(filled)) if filled and cats else 0.0
        worded = bool(_CATEGORY_WORDS.search(q.text))
        if level_share[q.header] >= SHARE:
            continue
        rank = (2 if worded else 0) + (1 if exact >= SHARE or close >= SHARE else 0)
        if rank >= 2 or (rank == 1 and exact >= SHARE):
            cands.append((rank, q.header))
    h = _best(cands, "调查对象类别（身份）题", export.path)
    if h is not None:
        m.columns[CATEGORY] = h
        taken.add(h)
    rest = [q for q in rest if q.header not in taken]

    m.comment = [q.header for q in rest if _COMMENT_WORDS.search(q.text) and level_share[q.header] < SHARE]
    taken.update(m.comment)
    m.unplaced = [q.header for q in questions if q.header not in taken]
    return m


def _numbered(m: Mapping, export: Export, role: str, table: dict[str, str], what: str, example: str) -> bool:
    """True when a column holds options' numbers (按选项序号) the mapping does not all name."""
    filled = set(_filled(export.column(m.columns[role])))
    if not filled or not all(_DIGITS.match(v) for v in filled):
        return False
    absent = sorted(filled - set(table), key=int)
    if absent:
        m.missing.append(f"[{what}]：“{m.columns[role]}”导出的是选项序号，请写明序号 {'、'.join(absent)} "
                         f"各是哪个{example}")
    return True


def review(m: Mapping, export: Export, ruleset: Ruleset, units: pd.DataFrame) -> Mapping:
    """What the analyst should look at before the answers go in: answers of the unit, identity
    and dimension columns that the scheme does not know (near names proposed), options' numbers
    with no meaning given, an option outside the scale that a whole column uses."""
    if UNIT in m.columns and not _numbered(m, export, UNIT, m.units, "units", "单位（单位编码）"):
        known = unit_lookup(units, m.units)
        names = list(units["name"])
        for v in sorted(set(_filled(export.column(m.columns[UNIT])))):
            if norm(v) not in known and not _DIGITS.match(v):
                hit = near(v, names)
                if hit is not None:
                    uid = units["unit_id"].iloc[names.index(hit)]
                    m.proposals.setdefault("units", {})[v] = str(uid)
    if CATEGORY in m.columns and not _numbered(m, export, CATEGORY, m.categories, "categories", "调查对象类别") \
            and ruleset.respondent_categories:
        cats = ruleset.respondent_categories
        for v in sorted(set(_filled(export.column(m.columns[CATEGORY])))):
            if norm(v) in {norm(c) for c in cats} or v in m.categories:
                continue
            hit = near(v, cats)
            if hit is not None:
                m.proposals.setdefault("categories", {})[v] = hit
    levels = level_lookup(ruleset, m.answers)
    counts: dict[str, int] = {}
    total = 0
    for it in ruleset.items:
        if it in m.columns:
            filled = _filled(export.column(m.columns[it]))
            total += len(filled)
            for v in filled:
                if norm(v) not in levels:
                    counts[v] = counts.get(v, 0) + 1
    labels = [lv.label for lv in ruleset.levels]
    for v, n in sorted(counts.items()):
        if total and n / total >= SYSTEMATIC:
            hit = near(v, labels)
            m.answers.setdefault(v, "")
            if hit is not None:
                m.proposals.setdefault("answers", {})[v] = hit
            m.missing.append(f"[answers] \"{visible(v)}\"：评议等次之外的选项（{n} 个答案），请写明它对应的等次"
                             f"（{'、'.join(labels)}）")
    return m


# ---- the mapping file ---------------------------------------------------------------------------
def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def _table(lines: list[str], name: str, values: dict[str, str], proposals: dict[str, str], note: str):
    lines += ["", f"[{name}]", f"# {note}"]
    lines += [f"{_q(k)} = {_q(v)}" for k, v in values.items()]
    for k, v in proposals.items():
        if k not in values:
            lines.append(f"# {_q(k)} = {_q(v)}    # 建议：确认后去掉行首的 # 并重新导入")


def render(m: Mapping, ruleset: Ruleset, source: str) -> str:
    """The mapping as TOML, with a comment on each part for the analyst who reviews it."""
    lines = [
        f"# pingyi import 找到的列对应关系（{PLATFORM_NAMES.get(m.platform, m.platform)}导出：{visible(source)}）。",
        "# 请核对；修改后用 pingyi import 文件 --into 目录 --mapping 本文件 重新导入"
        "（已导入的答卷按编号更新，不会重复）。",
        f"format = {_q(FORMAT)}",
        f"platform = {_q(m.platform)}",
        f"form = {_q(m.form)}        # 问卷的标识：由题目生成，问卷编号 response_id 的一部分",
        f"channel = {_q(m.channel)}",
        f"unit = {_q(m.unit)}        # 每个单位一个问卷链接时：本导出的全部答卷所评议的单位编码",
        "",
        "[columns]",
        "# 数据约定的列 = 导出文件中的表头",
    ]
    order = {r: i for i, r in enumerate([*CARRIED, UNIT, CATEGORY, *ruleset.items])}
    for role, h in sorted(m.columns.items(), key=lambda kv: order.get(kv[0], len(order))):
        label = ruleset.item_labels.get(role, "")
        lines.append(f"{role} = {_q(h)}" + (f"    # {label}" if label else ""))
    lines.append(f"comment = [{', '.join(_q(h) for h in m.comment)}]    # 意见建议：多列时按顺序合并")
    _table(lines, "units", m.units, m.proposals.get("units", {}),
           "单位题的答案 = 单位编码（单位名称和编码已自动识别；按选项序号导出时写明每个序号）")
    _table(lines, "categories", m.categories, m.proposals.get("categories", {}),
           f"身份题的答案 = 调查对象类别（规则中的类别：{'、'.join(ruleset.respondent_categories)}）")
    _table(lines, "answers", m.answers, m.proposals.get("answers", {}),
           f"评价题的答案 = 评议等次（{'、'.join(lv.label for lv in ruleset.levels)}；"
           f"按选项序号导出时 1-{len(ruleset.levels)} 即此顺序）")
    lines += ["", "[listed]", "# 未导入的列（仅供核对）",
              f"not_needed = [{', '.join(_q(h) for h in m.not_needed)}]    # 平台自带、评议用不到的列",
              f"unplaced = [{', '.join(_q(h) for h in m.unplaced)}]    # 无法对应到数据约定的题目"]
    return "\n".join(lines) + "\n"


def read_mapping(path: str | Path, export: Export, ruleset: Ruleset, unit: str = "") -> Mapping:
    """A mapping file an analyst reviewed (``--mapping``), checked against the export; ``unit``
    (``--unit``) overrides the file's."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"找不到对应关系文件：{path}", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}：对应关系文件无法读取（{exc}）", path=str(path)) from None

    def texts(key: str, value, kind=str):
        if not isinstance(value, kind) or (kind is dict and not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items())):
            raise DatasetError(f"{path}：“{key}”的写法不对", path=str(path))
        return value

    raw_cols = data.get("columns", {})
    if not isinstance(raw_cols, dict):
        raise DatasetError(f"{path}：[columns] 的写法不对", path=str(path))
    comment = raw_cols.get("comment", [])
    comment = [comment] if isinstance(comment, str) else list(texts("columns.comment", comment, list))
    cols = {k: v for k, v in raw_cols.items() if k != "comment"}
    known_roles = {*CARRIED, UNIT, CATEGORY, *ruleset.items}
    for role, h in cols.items():
        if role not in known_roles:
            raise DatasetError(f"{path}：[columns] 中的“{visible(role)}”不是可导入的列；"
                               f"可写：{'、'.join(sorted(known_roles))}",
                               path=str(path))
        texts(f"columns.{role}", h)
    absent = [h for h in [*cols.values(), *comment] if h not in export.header]
    if absent:
        listed = "；".join(f"“{visible(h)}”" for h in absent)
        raise DatasetError(f"{path}：对应关系中的列在 {export.path} 中找不到：{listed}",
                           path=str(path))
    m = Mapping(str(data.get("platform", export.platform)), str(data.get("form", export.form())), cols, comment,
                unit or texts("unit", data.get("unit", "")), texts("channel", data.get("channel", "online")),
                texts("units", data.get("units", {}), dict), texts("categories", data.get("categories", {}), dict),
                texts("answers", data.get("answers", {}), dict))
    listed = data.get("listed", {})
    m.not_needed = [h for h in listed.get("not_needed", []) if h in export.header]
    m.unplaced = [h for h in export.header if h not in m.headers() and h not in m.not_needed]
    m.missing += [f"[columns] {it}：“{ruleset.item_labels[it]}”所在的列"
                  for it in ruleset.scored_items if it not in cols]
    if not m.unit and UNIT not in cols:
        m.missing.append("[columns] unit_id：回答“评议哪个单位”的列（或 unit = 单位编码）")
    return m
