"""The results workbook 评议结果.xlsx: what seed §五(六) asks districts to submit —
final ranking, satisfaction and the main problems raised — plus the consequences and
the data quality behind them.

Text from the data is written as text, never as a formula: a unit named
``=HYPERLINK(…)`` stays a string (openpyxl would otherwise store it as a formula).
Characters XML cannot hold (control characters, which openpyxl refuses with an error that
would stop the run) are removed from every cell; validation already removed them from
free text and rejected ids holding them, so this is the last guard, not the rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.common.numbers import round_half_up
from pingyi_lib.common.values import plain
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.output.stable import fix_zip_times, stamp
from pingyi_lib.scoring.results import Results
from pingyi_lib.sections import duties, integrity, trend
from pingyi_lib.sections.followup import ledger_table, main_problems_text
from pingyi_lib.sections.headline import component_gaps, interim_banner, warned, with_not_started
from pingyi_lib.sections.scores import rejected_rows, unit_table
from pingyi_lib.text import themes

# what XML 1.0 cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE, plus non-characters and lone surrogates
XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def cell_value(v):
    """A value as a cell can hold it and as it may be published: text without XML-illegal
    characters, personal values masked (phones, ID numbers, e-mail, plates)."""
    v = plain(v)
    return mask_personal_data(XML_ILLEGAL_RE.sub("", v)) if isinstance(v, str) else v


RESULT_COLUMNS = ["rank_group_label", "rank", "unit_id", "name", "level_label", "onsite_index", "survey_index",
                  "case_points", "bonus_points", "composite", "satisfaction", "satisfied_share", "in_bottom", "flags",
                  "notes"]
MAIN_PROBLEMS = "群众反映主要问题"


def results_frame(res: Results, main_problems: pd.Series | None = None) -> pd.DataFrame:
    """One row per unit in league order, with the columns of the submission.

    ``main_problems``: the 群众反映主要问题 text per unit, aligned with ``res.units``
    (default: the top themes of problems.py)."""
    u = res.units
    if main_problems is None:
        main_problems = main_problems_text(themes.main_problems(res.dataset), u["unit_id"], res.ruleset)
    shown = u.assign(rank_group_label=u["rank_group_label"].fillna("不参加排名"),
                     satisfied_share=round_half_up(u["satisfied_share"] * 100, res.ruleset.decimals),
                     in_bottom=u["in_bottom"].map({True: "是", False: "否"}))
    shown = with_not_started(res, shown.assign(flags=shown["flags"].map(lambda f: warned(res, f) if f else f)))
    out = unit_table(shown, RESULT_COLUMNS, res.ruleset)
    out[MAIN_PROBLEMS] = main_problems.to_numpy()
    return out


def _number_formats(res: Results) -> dict[str, str]:
    """Excel formats that show each figure's unit (83.25分, 86.51%) and keep it a number."""
    rs = res.ruleset
    fmt = "0." + "0" * rs.decimals
    return {rs.column_labels[c]: fmt + (f'"{u}"' if u != "指数" else "") for c, u in rs.column_units.items()
            if c in RESULT_COLUMNS}


def _write_sheet(wb, title: str, df: pd.DataFrame, widths: dict[str, int] | None = None,
                 formats: dict[str, str] | None = None, more: tuple[pd.DataFrame, ...] = ()):
    """A sheet holding ``df`` (header row bold and frozen); each frame of ``more`` follows it
    after an empty row, with its own bold header."""
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    column_width: dict[int, int] = {}
    for k, frame in enumerate((df, *more)):
        if k:
            ws.append([])
        ws.append(list(frame.columns))
        for c in ws[ws.max_row]:
            c.font = Font(bold=True)
        first = ws.max_row + 1
        for row in frame.itertuples(index=False):
            ws.append([cell_value(v) for v in row])
        # every string cell is data, not a formula, whatever it starts with
        column_format = [(formats or {}).get(col, "0.00") for col in frame.columns]
        for row in ws.iter_rows(min_row=first):
            for c, fmt in zip(row, column_format):
                if isinstance(c.value, str):
                    c.data_type = "s"
                elif isinstance(c.value, float):
                    c.number_format = fmt
        for i, col in enumerate(frame.columns, start=1):
            width = (widths or {}).get(col, max(8, min(40, 2 * len(str(col)) + 4)))
            column_width[i] = max(column_width.get(i, 0), width)
    for i, width in column_width.items():
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    ws.freeze_panes = "A2"
    _print_layout(ws, sum(column_width.values()))
    return ws


PORTRAIT_WIDTH = 100  # characters of column width that print on A4 portrait; wider sheets print landscape


def _print_layout(ws, width: float) -> None:
    """Print as a director would: A4, landscape when wide, one page wide (as many long as it
    takes), the header row on every page and page numbers in the footer (the round's title in
    the header: write_results_workbook)."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _write_about(wb, res: Results, report_day=None) -> None:
    """The first sheet: the round's title, the data and, when a league is incomplete, the
    banner that says so."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("说明")
    ws.append([f"{res.dataset.round.title}评议结果"])
    ws["A1"].font = Font(bold=True, size=14)
    banners = [text for text in (interim_banner(res), res.incomplete) if text]
    banners += [f"{r.name}：{r.text}" for r in component_gaps(res).itertuples(index=False)]
    for text in banners:
        ws.append([cell_value(text)])  # a unit name, as every cell, masked and without XML-illegal characters
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, color="B42318")
    # a published file names the round, never the server's folders: the data folder by its name only
    rows = [("评议轮次", res.dataset.round.title), ("数据目录", Path(str(res.dataset.path)).name or "—"),
            ("评议规则", res.ruleset.name),
            ("评议单位", f"{len(res.units)} 个"), ("被拒绝的行", f"{res.dataset.rejected} 行（见“数据质量”工作表）")]
    if report_day is not None:
        rows.append(("整改台账截至", f"{report_day.day.isoformat()}（{report_day.source}）"))
    for k, v in rows:
        ws.append([k, cell_value(v)])
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                c.data_type = "s"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 60
    _print_layout(ws, 76)


def write_results_workbook(res: Results, path: str | Path, main_problems: pd.Series | None = None,
                           report_day=None, ledger: pd.DataFrame | None = None, follow=None) -> Path:
    """Write the workbook atomically (a temp file renamed into place) and return its path.
    ``ledger`` (followup.ledger.ledger, read on the report day) adds the 整改台账 sheet;
    ``follow`` (sections.followup.FollowUp) the 责任分解 sheet (per dimension, per office, and
    the open items of each lead office).
    ``report_day`` (a :class:`ReportDay`) is noted on the first sheet and is the workbook's
    creation and modification time (default: the round's report day), so the same round gives
    the same bytes."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{res.dataset.round.title}评议结果"
    _write_about(wb, res, report_day)
    _write_sheet(wb, "评议结果", results_frame(res, main_problems),
                 {"单位名称": 30, "排名组": 22, "结果运用": 24, "数据质量提示": 14, "群众反映主要问题": 60},
                 _number_formats(res))
    c = res.consequences.rename(columns={"unit_id": "单位编码", "name": "单位名称", "label": "结果",
                                         "reason": "原因", "consequence": "结果运用", "clause": "依据"}) \
        .drop(columns="flag")
    if res.interim:
        c.insert(0, "性质", "预警（阶段性结果，评议如在报告日结束将触发）")
    _write_sheet(wb, "结果运用", c, {"单位名称": 30, "原因": 50, "结果运用": 50, "性质": 30})
    if follow is not None and follow.trend is not None:  # past rounds: every unit, every year
        _write_sheet(wb, trend.SHEET, trend.trend_table(follow.trend, res.ruleset),
                     {"单位名称": 30, "排名组": 22, "综合得分区间": 16, "群众满意度区间": 16, "名次区间": 12,
                      "综合得分变化区间": 18, "名次变化": 24})
    if ledger is not None:
        _write_sheet(wb, "整改台账", ledger_table(ledger, ruleset=res.ruleset),
                     {"问题": 30, "整改措施": 40, "截至报告日": 20, "说明": 50})
    if follow is not None:
        _write_sheet(wb, "责任分解", duties.dimension_table(res, follow),
                     {"评议内容": 12, "明显低于组平均的单位": 40, "主要问题": 50, "责任领导": 24, "牵头处室": 24,
                      "责任处室": 20, "处室": 12, "牵头评议内容": 24, "问题": 30, "事项编号": 12, "单位": 24,
                      "说明": 30}, more=(duties.office_table(res, follow), duties.office_items(res, follow)))
    _write_sheet(wb, "数据质量", rejected_rows(res), {"文件": 30, "原因": 70, "原因代码": 20})
    if res.integrity is not None:  # every flagged or reviewed questionnaire, for the reviewer
        _write_sheet(wb, "问卷异常", integrity.flagged_rows(res), {"标记原因": 30, "说明": 80})
        if len(res.integrity.alerts):  # the suspicious periods, and each unit's result without its period
            _write_sheet(wb, "可疑时段", integrity.periods(res), {"单位名称": 24, "可疑时段": 24, "依据": 80,
                                                              "结果运用": 20, "不计该时段结果运用": 20})
        _write_sheet(wb, "不计被标记问卷", integrity.without_flagged(res, changed_only=False),
                     {"单位名称": 24, "结果运用": 20, "不计被标记问卷结果运用": 24})
    title = cell_value(f"{res.dataset.round.title}评议结果").replace("&", "&&")  # & starts a code in a header
    for ws in wb.worksheets:  # the round's title and the sheet's name above every printed page
        ws.oddHeader.center.text = f"{title}　&A"
    when = stamp(report_day.day if report_day is not None else res.dataset.round.report_day().day)
    wb.properties.created = when
    wb.properties.lastModifiedBy = wb.properties.creator = "pingyi"
    with atomic_path(path) as tmp:
        _save(wb, tmp, when)
        fix_zip_times(tmp, when)
    return path


def _save(wb, path: Path, when) -> None:
    """openpyxl's save, with the modification time ``when`` instead of the clock's."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    wb.properties.modified = when
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
