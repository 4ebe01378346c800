"""The input workbook for clerks (``pingyi template``, ``pingyi init``).

A first sheet of instructions in Chinese, then one sheet per table of the data contract
with its Chinese headers, date-formatted date columns and drop-down lists for every column
with allowed values: answer labels, unit levels, panel categories, respondent categories,
channels, yes/no, case sources, statuses, steps, and the unit ids typed in the units sheet.
The lists live on a hidden sheet 选项; the reader ignores both extra sheets, so a filled
template is a dataset folder as it is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pingyi_lib.common.errors import OptionError
from pingyi_lib.dataset import schema
from pingyi_lib.dataset.round import ROUND_FILE, round_toml
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.scheme.ruleset import Ruleset

TEMPLATE_NAME = "评议数据.xlsx"
ABOUT_SHEET = "填表说明"
LISTS_SHEET = "选项"
LAST_ROW = 100000  # drop-downs and formats reach this row
UNIT_ROWS = 2000  # unit ids are offered from this many rows of the units sheet
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

WHAT_A_ROW_IS = {
    "units": "一个评议单位（市局、辖市区局、服务窗口、基层站所）", "onsite": "一张现场评议票",
    "survey": "一份收回的调查问卷", "cases": "一个实例调查案例", "bonuses": "一项加分",
    "violations": "一起违反评议纪律的情况", "rectifications": "一项整改事项", "milestones": "一次工作环节材料报送",
}


def vocabularies(ruleset: Ruleset) -> dict[str, list[str]]:
    """kind -> the values offered in its drop-down (Chinese labels)."""
    return {
        schema.ANSWER: [lv.label for lv in ruleset.levels],
        schema.UNIT_LEVEL: list(ruleset.unit_level_labels.values()),
        schema.PANEL_CATEGORY: list(ruleset.panel_categories),
        schema.CHANNEL: list(ruleset.channels.values()),
        schema.BOOL: [ruleset.yes[0], ruleset.no[0]],
        schema.CASE_SOURCE: list(ruleset.case_sources),
        schema.VIOLATION_KIND: list(ruleset.violation_kinds),
        schema.STATUS: list(ruleset.rectification_status),
        schema.STEP: list(ruleset.milestone_steps),
        "respondent_category": list(ruleset.respondent_categories),
    }


def _instructions(ruleset: Ruleset, tables: dict[str, schema.Table], title: str) -> list[list[str]]:
    answers = "、".join(lv.label for lv in ruleset.levels)
    rows = [[title or "民主评议政风行风 数据填报模板"], [],
            ["怎样填"],
            ["1", "每张工作表是一张表，第 1 行是表头，请不要改动表头和工作表名称；从第 2 行起每行填一条记录。"],
            ["2", "先填“评议单位”：每个单位一行，单位编码自定（如 dq、dq-win），在本轮中不能重复。"
                  "其他表的“单位编码”从下拉列表中选择评议单位表中已填的编码。"],
            ["3", f"答案从下拉列表中选择：{answers}；未作答的留空。也可以填代码 1-{len(ruleset.levels)}（按此顺序）。"],
            ["4", "日期填成 2013-07-25（年-月-日）；提交时间可以带时分秒，如 2013-08-03 14:20:00。"],
            ["5", "有下拉列表的列请从列表中选择；粘贴的内容不经下拉检查，填完后请运行 pingyi validate 检查。"],
            ["6", "没有的表（如本轮没有加分）保持空白即可；评议单位和问卷调查必须填写。"],
            ["7", "保存为 .xlsx，放在本轮的数据目录中（目录中另有 round.toml 说明城市和年度），然后运行："],
            ["", "pingyi validate 数据目录　　检查，列出每个被拒绝的行、原因和行号"],
            ["", "pingyi score 数据目录　　　计算得分和排名"],
            ["", "pingyi report 数据目录 --out 报告目录　　生成报告"],
            ["8", "评议单位表中有行被拒绝、或参加排名的单位没有有效问卷时，计算会停止并说明原因，以免排名悄悄改变。"],
            [], ["各表", "每行是", "必须有的列"]]
    for name, t in tables.items():
        required = "、".join(c.zh for c in t.columns if c.required)
        rows.append([t.zh + ("（必填）" if t.required else ""), WHAT_A_ROW_IS.get(name, ""), required])
    rows += [[], ["完整的说明见 docs/data-contract.md（表头、类型、允许的值、示例）。"]]
    return rows


def build_template(ruleset: Ruleset, units: pd.DataFrame | None = None, title: str = ""):
    """The template as an openpyxl Workbook; ``units`` (rows of a validated units table)
    prefill the units sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    tables = schema.tables(ruleset)
    vocab = vocabularies(ruleset)
    wb = Workbook()
    about = wb.active
    about.title = ABOUT_SHEET
    for row in _instructions(ruleset, tables, title):
        about.append(row)
    about["A1"].font = Font(bold=True, size=14)
    for cell in ("A3", "A17", "B17", "C17"):
        about[cell].font = Font(bold=True)
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 90
    about.column_dimensions["C"].width = 60
    for row in about.iter_rows():
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")

    lists = wb.create_sheet(LISTS_SHEET)
    ranges: dict[str, str] = {}
    for i, (kind, values) in enumerate(vocab.items(), start=1):
        letter = get_column_letter(i)
        lists.cell(row=1, column=i, value=kind)
        for j, v in enumerate(values, start=2):
            lists.cell(row=j, column=i, value=v).data_type = "s"
        if values:
            ranges[kind] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"
    unit_ids = f"{quote_sheetname(tables['units'].zh)}!$A$2:$A${UNIT_ROWS}"

    head = PatternFill("solid", fgColor="DDEBF7")
    for name, t in tables.items():
        ws = wb.create_sheet(t.zh)
        ws.append([c.zh for c in t.columns])
        for i, c in enumerate(t.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            cell.fill = head
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(10, min(40, 2 * len(c.zh) + 6))
            span = f"{letter}2:{letter}{LAST_ROW}"
            source, strict = None, True
            if c.kind in (schema.UNIT, schema.PARENT) and name != "units" or c.kind == schema.PARENT:
                source = unit_ids
            elif c.id == "respondent_category" and "respondent_category" in ranges:
                source, strict = ranges["respondent_category"], False  # other categories are accepted
            elif c.kind in ranges:
                source = ranges[c.kind]
            if source:
                dv = DataValidation(type="list", formula1=f"={source}", allow_blank=True,
                                    errorStyle="stop" if strict else "information", showErrorMessage=True,
                                    errorTitle=c.zh, error=f"请从下拉列表中选择{c.zh}")
                dv.add(span)
                ws.add_data_validation(dv)
            if c.kind in (schema.DATE, schema.OPTIONAL_DATE, schema.DATETIME):
                fmt = DATETIME_FORMAT if c.kind == schema.DATETIME else DATE_FORMAT
                ws.column_dimensions[letter].number_format = fmt
                ws.column_dimensions[letter].width = 20 if c.kind == schema.DATETIME else 12
                dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1990,1,1)", allow_blank=True,
                                    errorStyle="stop", showErrorMessage=True, errorTitle=c.zh,
                                    error="请填日期，如 2013-07-25")
                dv.add(span)
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
        if name == "units" and units is not None and len(units):
            labels = ruleset.unit_level_labels
            for r in units.itertuples(index=False):
                ws.append([r.unit_id, r.name, labels.get(r.level, r.level), r.parent_id or None])
            for row in ws.iter_rows(min_row=2):
                for c in row:
                    if isinstance(c.value, str):
                        c.data_type = "s"
    return wb


def write_template(path: str | Path, ruleset: Ruleset, units: pd.DataFrame | None = None, title: str = "") -> Path:
    """Write the template atomically and return its path."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise OptionError(f"模板文件名应以 .xlsx 结尾：{path}")
    wb = build_template(ruleset, units, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def init_round(folder: str | Path, city: str, year: int, ruleset: Ruleset) -> list[Path]:
    """A new dataset folder: round.toml and the template. Refuses a folder that has files."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OptionError(f"{folder} 已存在且不是空目录；请换一个新目录")
    if not city.strip():
        raise OptionError("--city 不能为空")
    if not 1900 <= year <= 2999:
        raise OptionError(f"--year 应为年份，如 2013，而不是 {year}")
    folder.mkdir(parents=True, exist_ok=True)
    dims = {c: ruleset.item_labels[c] for c in ruleset.scored_items}
    (folder / ROUND_FILE).write_text(round_toml(city.strip(), year, dimensions=dims), encoding="utf-8", newline="\n")
    title = f"{city.strip()}{year}年{ruleset.activity} 数据填报模板"
    return [folder / ROUND_FILE, write_template(folder / TEMPLATE_NAME, ruleset, title=title)]
