"""The tables of a dataset (SPEC §2): columns, Chinese aliases and value kinds.

Vocabularies (allowed levels, channels, sources, answer labels) come from the
ruleset; this module only says which column holds which kind of value.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingyi_lib.scheme.ruleset import Ruleset

# value kinds understood by validate.py
ID = "id"                  # non-empty, unique within the table
OPTIONAL_ID = "optional_id"  # blank, or unique within the table
UNIT = "unit"              # must name a unit of the units table
TEXT = "text"              # free text, may be blank
REQUIRED_TEXT = "required_text"
UNIT_LEVEL = "unit_level"  # city/district/window/station or their Chinese labels
PARENT = "parent"          # blank or a unit id
PANEL_CATEGORY = "panel_category"
CHANNEL = "channel"
DATETIME = "datetime"      # blank or a date-time
DATE = "date"              # a date, required
OPTIONAL_DATE = "optional_date"
ANSWER = "answer"          # blank, an answer label or a code 1..5
BOOL = "bool"              # 是/否
AMOUNT = "amount"          # number >= 0, blank = 0
REQUIRED_AMOUNT = "required_amount"
CASE_SOURCE = "case_source"
VIOLATION_KIND = "violation_kind"
STATUS = "status"
STEP = "step"
DECISION = "decision"      # a reviewer's decision on a flagged questionnaire: exclude / keep
SECONDS = "seconds"        # blank (not known) or a plain number of seconds >= 0: 125, 90.5


@dataclass(frozen=True)
class Column:
    id: str
    zh: str
    kind: str
    required: bool = True  # must the column be present in the file?


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def id_column(self) -> str | None:
        return next((c.id for c in self.columns if c.kind in (ID, OPTIONAL_ID)), None)


def _items(ruleset: Ruleset) -> tuple[Column, ...]:
    # scored items must be present; items asked but not scored may be left out
    return tuple(Column(it, ruleset.item_labels[it], ANSWER, it in ruleset.scored_items)
                 for it in ruleset.items)


def tables(ruleset: Ruleset) -> dict[str, Table]:
    """Every table of SPEC §2, in pipeline order (units first: others refer to it)."""
    unit = Column("unit_id", "单位编码", UNIT)
    t = [
        Table("units", "评议单位", (
            Column("unit_id", "单位编码", ID),
            Column("name", "单位名称", REQUIRED_TEXT),
            Column("level", "层级", UNIT_LEVEL),
            Column("parent_id", "上级单位编码", PARENT, False),
            # for the plausibility of a unit's questionnaire count (integrity); blank or 0: not given
            Column("population", "服务对象数", AMOUNT, False),
            Column("quota", "问卷配额", AMOUNT, False),
        ), required=True),
        Table("onsite", "现场评议", (
            Column("ballot_id", "票号", ID), unit,
            Column("member_category", "代表类别", PANEL_CATEGORY),
            *_items(ruleset),
        )),
        Table("survey", "问卷调查", (
            Column("response_id", "问卷编号", ID), unit,
            Column("respondent_category", "调查对象类别", TEXT, False),
            Column("channel", "渠道", CHANNEL),
            Column("submitted_at", "提交时间", DATETIME, False),
            Column("fingerprint", "终端标识", TEXT, False),
            # what an online platform records (pingyi import): the address an answer came from (an
            # address is not a device: many people share one) and the time taken to answer
            Column("ip", "来源IP", TEXT, False),
            Column("duration_s", "答题秒数", SECONDS, False),
            *_items(ruleset),
            Column("comment", "意见建议", TEXT, False),
        ), required=True),
        Table("cases", "实例调查", (
            Column("case_id", "案例编号", ID), unit,
            Column("source", "来源", CASE_SOURCE),
            Column("summary", "情况摘要", TEXT, False),
            Column("substantiated", "是否属实", BOOL),
            Column("deduction", "扣分", AMOUNT),
        )),
        Table("bonuses", "加分", (
            unit,
            Column("reason", "事由", TEXT, False),
            Column("points", "加分", REQUIRED_AMOUNT),
        )),
        Table("violations", "违反评议纪律", (
            unit,
            Column("kind", "类别", VIOLATION_KIND),
            Column("summary", "情况摘要", TEXT, False),
            Column("confirmed", "是否认定", BOOL),
        )),
        Table("rectifications", "整改台账", (
            Column("item_id", "编号", ID), unit,
            Column("problem", "问题", REQUIRED_TEXT),
            Column("measure", "整改措施", TEXT, False),
            Column("owner", "责任处室", TEXT, False),
            Column("deadline", "期限", DATE),
            Column("status", "状态", STATUS),
            Column("completed_on", "完成日期", OPTIONAL_DATE, False),
        )),
        Table("milestones", "报送情况", (
            unit,
            Column("step", "环节", STEP),
            Column("submitted_on", "报送日期", DATE),
        )),
        # an analyst's reviewed decisions on flagged questionnaires (integrity), kept as the audit trail:
        # one questionnaire (response_id), or every questionnaire of a unit in a period (unit and period, no id)
        Table("integrity_review", "问卷复核", (
            Column("response_id", "问卷编号", OPTIONAL_ID, False),
            Column("unit_id", "单位编码", PARENT, False),
            Column("period_start", "时段开始", DATETIME, False),
            Column("period_end", "时段结束", DATETIME, False),
            Column("decision", "处理决定", DECISION),
            Column("note", "复核意见", TEXT, False),
            Column("reviewer", "复核人", TEXT, False),
        )),
    ]
    return {x.name: x for x in t}


def table_for_name(name: str, ruleset: Ruleset) -> str | None:
    """The table id for a file stem or sheet name given in English or Chinese."""
    name = name.strip()
    for t in tables(ruleset).values():
        if name.lower() == t.name or name == t.zh:
            return t.name
    return None

