"""docs/data-contract.md, generated from the schema and the ruleset: every table and column
with its Chinese and English header, type, whether it is required, its allowed values and
an example; the file and sheet names, encodings and workbook layout the reader accepts;
round.toml; the reasons a row is rejected (``pingyi docs`` writes it; a test fails when the
file and the code drift apart).
"""

from __future__ import annotations

from pingyi_lib.dataset import limits, schema
from pingyi_lib.dataset.export_mapping import FILE_NAME as MAPPING_FILE
from pingyi_lib.dataset.export_rows import REASONS as IMPORT_REASONS
from pingyi_lib.dataset.exports import META
from pingyi_lib.dataset.read import ENCODINGS, MAX_FIELD_CHARS
from pingyi_lib.dataset.round import DUTY_KEYS, ROUND_KEYS
from pingyi_lib.dataset.validate import REASONS, allowed_values
from pingyi_lib.scheme.ruleset import Ruleset

# kind -> (type in words, blank allowed?)
KIND_WORDS: dict[str, tuple[str, bool]] = {
    schema.ID: ("编号（表内不重复）", False),
    schema.OPTIONAL_ID: ("编号（表内不重复，可空）", True),
    schema.UNIT: ("单位编码（评议单位表中的）", False),
    schema.TEXT: ("文本", True),
    schema.REQUIRED_TEXT: ("文本", False),
    schema.UNIT_LEVEL: ("层级", False),
    schema.PARENT: ("单位编码（评议单位表中的）", True),
    schema.PANEL_CATEGORY: ("代表类别", False),
    schema.CHANNEL: ("渠道", False),
    schema.DATETIME: ("日期时间", True),
    schema.DATE: ("日期", False),
    schema.OPTIONAL_DATE: ("日期", True),
    schema.ANSWER: ("答案", True),
    schema.BOOL: ("是/否", False),
    schema.AMOUNT: ("数字 ≥ 0（空 = 0）", True),
    schema.REQUIRED_AMOUNT: ("数字 ≥ 0", False),
    schema.CASE_SOURCE: ("案例来源", False),
    schema.VIOLATION_KIND: ("违纪类别", False),
    schema.STATUS: ("整改状态", False),
    schema.STEP: ("工作环节", False),
    schema.DECISION: ("复核结论", False),
    schema.SECONDS: ("秒数 ≥ 0（如 125）", True),
}
ENCODING_WORDS = {"utf-8-sig": "UTF-8（带或不带 BOM）",
                  "gb18030": "GB18030（中文 Windows 上 Excel 默认保存的编码，包含 GBK、GB2312）"}
ENUMERATED = {schema.UNIT_LEVEL, schema.PANEL_CATEGORY, schema.CHANNEL, schema.ANSWER, schema.BOOL,
              schema.CASE_SOURCE, schema.VIOLATION_KIND, schema.STATUS, schema.STEP, schema.DECISION}
EXAMPLES = {
    ("units", "unit_id"): "wj", ("units", "name"): "武进区安监局", ("units", "level"): "辖市区局",
    ("units", "parent_id"): "wj（服务窗口、基层站所填所属单位）", "unit_id": "wj",
    "ballot_id": "O2011-0001", "member_category": "群众代表", "response_id": "S2011-000001",
    "respondent_category": "企业代表", "channel": "网上", "submitted_at": "2011-08-03 14:20:00",
    "fingerprint": "3f9a0c1d2e4b5a67", "comment": "办事效率高，希望继续保持。", "case_id": "C2011-001",
    "source": "暗访", "summary": "暗访发现工作时间窗口无人值守", "substantiated": "是", "deduction": "2.5",
    "reason": "积极参加政风热线", "points": "1.0", "kind": "拉票", "confirmed": "否", "item_id": "R2011-001",
    "problem": "一次性告知不到位", "measure": "制作一次性告知单", "owner": "行政服务处", "deadline": "2011-09-15",
    "status": "整改中", "completed_on": "2011-09-10", "step": "自查自纠", "submitted_on": "2011-07-25",
    "population": "120000", "quota": "600", ("integrity_review", "response_id"): "S2011-000123",
    ("integrity_review", "unit_id"): "wj（按时段复核时填，问卷编号留空）",
    "period_start": "2011-08-03 21:00", "period_end": "2011-08-06（只写日期：含当天全天）",
    "note": "经回访核实为本人填写", "reviewer": "张三", "ip": "221.231.12.5", "duration_s": "125",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _example(table: str, col: schema.Column, ruleset: Ruleset) -> str:
    if col.kind == schema.ANSWER:
        return ruleset.levels[0].label
    return EXAMPLES.get((table, col.id), EXAMPLES.get(col.id, ""))


def _import_section() -> list[str]:
    wjx = "、".join(f"`{h}`" for h in META["wjx"])
    tencent = "、".join(f"`{h}`" for h in META["tencent"])
    out = [
        "## 从问卷平台导入（`pingyi import`）", "",
        "问卷星、腾讯问卷下载的答卷，或录入员在 Excel / WPS 中录入的纸质问卷，不必手工改成上面的问卷调查表："
        "`pingyi import 导出文件 --into 数据目录` 把它们加入数据目录的问卷调查表（CSV 文件，或 `pingyi init` "
        "建立的工作簿中的“问卷调查”工作表；还没有时新建 `问卷调查.csv`）。", "",
        "- 可导入 `.xlsx`、`.xls`（Excel 97-2003）、`.ods`（WPS、LibreOffice）和 `.csv`（UTF-8 或 GB18030）；"
        "读第一张有数据的工作表。问卷星的“按选项文本”和“按选项序号”两种下载都可以。",
        f"- 问卷星自带的列：{wjx}；腾讯问卷：{tencent}。其后每题一列，表头是题号和题目"
        "（`1、您评议的单位是：`），矩阵题每行一列，行名在括号中（`3、请您对该单位以下方面作出评价：(依法履职)`）"
        "或破折号后；`(空)`、`(跳过)` 表示未作答。",
        f"- **对应关系**按题目和答案自动找出，写在 `数据目录/{MAPPING_FILE}`，供核对和再次使用（`--mapping`）："
        "评议单位题（答案是单位名称或编码；每个单位一个问卷链接时用 `--unit 单位`）、身份题（调查对象类别）、"
        "规则中的每个评议维度（依法履职……）一列、总体评价、意见建议。找不到位置的列列出，不会悄悄丢掉；"
        "两列同样符合时停止导入，并列出这两列。近似的名称（如 企业 → 企业代表）只作建议，写在对应关系文件中，"
        "确认后去掉行首的 `#` 再导入。按选项序号下载时，单位题、身份题的序号要在文件中写明对应的单位和类别。",
        "- **问卷编号** `response_id` 由平台、问卷标识（由题目生成）和序号组成（如 `wjx-4eb8bef7-12`），"
        "所以同一个导出文件导入两次不会增加答卷，后来再下载的文件只增加新的答卷；修改对应关系后重新导入，"
        "已导入的答卷按编号更新。渠道记为网上（`online`）；提交时间、来源 IP（`ip`）、答题秒数（`duration_s`）"
        "各成一列，供问卷真实性检查使用。IP 地址不是终端：同一单位、同一运营商的许多人共用一个地址。",
        "- **退回的答卷**（没有单位、不是本轮单位、答案不在评议等次中、时间不是日期时间）整份不导入，"
        "在屏幕上和 `数据目录/import-rejected.csv` 中按导出文件自己的序号和表头说明原因：", "",
        "| reason_code | 原因 reason |", "|---|---|",
    ]
    out += [f"| `{k}` | {_cell(v)} |" for k, v in IMPORT_REASONS.items()]
    out += ["", "Exports of 问卷星 and 腾讯问卷 (.xlsx, .xls, .ods, .csv) are read as they come: the column "
            f"mapping is found from the question texts and written to `{MAPPING_FILE}` for review; answers get a "
            "stable `response_id` (platform, questionnaire, 序号), so a re-import adds nothing.", ""]
    return out


def data_contract_markdown(ruleset: Ruleset) -> str:
    """The text of docs/data-contract.md for ``ruleset`` (its items and vocabularies)."""
    tables = schema.tables(ruleset)
    out = [
        "# 数据约定（data contract）", "",
        "<!-- generated by `pingyi docs`; do not edit by hand (tests/test_docs.py) -->", "",
        "一轮评议的数据是一个目录（如 `data/sample/2011/`）。每张表是一个 CSV 文件，或同一目录中一个 `.xlsx` "
        "工作簿里的一张工作表，大表也可以是 Parquet 文件。表头可以写中文，也可以写英文编号。"
        "`pingyi template --out 评议数据.xlsx` 生成带下拉选项的填报模板；`pingyi init DIR --city 临江市 --year 2013` "
        "建立一个新的数据目录（模板和 round.toml）。", "",
        "A round's data is a folder: one CSV file per table, or one sheet per table in an `.xlsx` workbook in that "
        "folder (Parquet for large tables). Headers may be the Chinese labels or the English ids below.", "",
        "## 文件和工作表（files and sheets）", "",
        "| 表 | table id | 必需 required | 接受的文件名 / 工作表名 accepted names |", "|---|---|---|---|",
    ]
    for t in tables.values():
        names = (f"`{t.zh}.csv`、`{t.name}.csv`、`{t.name}.parquet`、`{t.zh}.parquet`；"
                 f"工作簿中的工作表 `{t.zh}` 或 `{t.name}`")
        out.append(f"| {t.zh} | `{t.name}` | {'是' if t.required else '否（缺少 = 没有此类记录）'} | {names} |")
    out += [
        "", "- 文件名和工作表名不区分英文大小写；以 `.` 或 `~$` 开头的文件（Excel 的临时文件）不读。",
        "- 同一张表只能给一次（例如不能同时有 `survey.csv` 和工作簿中的“问卷调查”工作表）。",
        "- 工作簿中名称不是表名的工作表（如模板的“填表说明”“选项”）不读。", "",
        "## 编码（encodings）", "",
        "CSV 文件可以是 " + "、".join(ENCODING_WORDS[e] for e in ENCODINGS)
        + "，按此顺序尝试。逗号分隔，含逗号或换行的单元格用英文双引号括起。",
        "", "CSV may be UTF-8 (with or without BOM) or GB18030; comma-separated, quoted as Excel writes it.", "",
        "## Excel 工作簿（xlsx layout）", "",
        "- 工作簿可以是 `.xlsx`、`.xls`（Excel 97-2003）或 `.ods`（WPS、LibreOffice），都用 calamine 读取。",
        "- 每张表一个工作表，第 1 行是表头，数据从第 2 行开始；行号按 Excel 显示的行号报告。",
        "- 日期单元格可以是 Excel 日期，也可以是文本 `2011-08-03`、`2011/8/3`、`2011年8月3日`（年份在前）。",
        "- 公式必须有保存的结果：由程序写入、从未在 Excel 中保存过的公式所在行会被拒绝（`.xlsx`）。",
        "- 完全空白的行不读。", "",
        "## 值的写法（values）", "",
        "- 空单元格表示“未作答”或“无”。答案可以写文字（" + "、".join(lv.label for lv in ruleset.levels)
        + f"），也可以写代码 1–{len(ruleset.levels)}（按此顺序）。",
        "- 有枚举值的列（层级、渠道等）可以写中文名称或英文编号；全角括号、空格与半角相同，英文不区分大小写。",
        "- 一行中任何一个值不合格，整行被拒绝，并记录文件、行号、列（按文件中的表头）和原因；"
        "编号重复的行被拒绝，保留先出现的合格行。", "",
        "## 上限和不可见字符（limits and control characters）", "",
        f"- 每个单元格最多 {MAX_FIELD_CHARS:,} 个字符（Excel 的单元格上限）；更长的单元格所在行被拒绝"
        "（`field_too_long`），表的其余行照常读取。",
        f"- 工作簿：每张工作表最多 {limits.MAX_SHEET_ROWS:,} 行、{limits.MAX_SHEET_COLUMNS} 列（按文件中实际的行数，"
        "读取之前先数），"
        f"不同的文本（共享字符串）最多 {limits.MAX_SHARED_STRINGS:,} 个，解压后合计最多 "
        f"{limits.MAX_UNCOMPRESSED_BYTES // 2**20:,} MB；超过时整个工作簿不读（一行说明），"
        "大的表请存为 CSV 或 Parquet。隐藏的工作表照常读取，并给出提示。",
        "- 编号、单位编码、上级单位中有控制字符（不可见字符，如 NUL、ESC）的行被拒绝（`control_character`）；"
        "文字列中的控制字符被删去（保留制表符和换行），并给出提示。",
        "- 详见 [robustness.md](robustness.md)。", "",
        f"Limits: {MAX_FIELD_CHARS:,} characters per cell; per .xlsx sheet {limits.MAX_SHEET_ROWS:,} rows and "
        f"{limits.MAX_SHEET_COLUMNS} columns, {limits.MAX_SHARED_STRINGS:,} shared strings, "
        f"{limits.MAX_UNCOMPRESSED_BYTES // 2**20:,} MB unpacked. Ids with a control character are rejected; "
        "free text loses its control characters (tab and newline kept), with a note.", "",
    ]
    for t in tables.values():
        out += [f"## {t.zh}（`{t.name}`）", "",
                "| 表头 header（中文） | English id | 类型 type | 列必须有 column required | 可以为空 blank allowed "
                "| 允许的值 allowed values | 示例 example |",
                "|---|---|---|---|---|---|---|"]
        for c in t.columns:
            words, blank_ok = KIND_WORDS[c.kind]
            allowed = allowed_values(ruleset, c.kind) if c.kind in ENUMERATED else ""
            if c.id == "respondent_category" and ruleset.respondent_categories:
                allowed = "任意文本；模板中可选：" + "、".join(ruleset.respondent_categories)
            out.append(f"| {c.zh} | `{c.id}` | {words} | {'是' if c.required else '否'} | "
                       f"{'是' if blank_ok else '否'} | {_cell(allowed)} | {_cell(_example(t.name, c, ruleset))} |")
        out.append("")
    out += _import_section()
    out += ["## 本轮信息（`round.toml`，可选）", "",
            "数据目录中可以有一个 `round.toml`，说明这一轮评议是哪个城市、哪一年。没有它时，年度取数据中的日期，"
            "标题只写数据中出现的城市（市局单位名称中的“某某市”）。整改台账的读取日：`--report-date` 优先，其次是 "
            "`report_date`，再次是数据中最后的日期，不使用电脑当天的日期。", "",
            "| 键 key | 类型 | 含义 |", "|---|---|---|"]
    out += [f"| `{k}` | {typ} | {what} |" for k, (typ, what) in ROUND_KEYS.items()]
    out += ["", "```toml", 'city = "临江市"', "year = 2013", "report_date = 2013-09-20", "```", "",
            "### 各评议内容的责任分工（`[responsibility.评议内容]`，可选）", "",
            "实施意见三为每项评议内容写明责任领导、牵头处室和责任处室（如 政务服务：责任领导 周南平、叶容；"
            "牵头处室 行政服务处、局办公室；责任处室 机关各处室、监察支队），"
            "实施意见六（二）要求追究工作不得力的牵头处室。"
            "这些名单属于某个城市的某一年度，写在 `round.toml` 里，不写在评议规则里。"
            "有了它，全市报告的“责任分解”一节、"
            "单位报告中明显偏低的评议内容、通报和汇总表的“责任分解”都写出对应的领导和处室；"
            "整改台账的 `owner`（责任处室）"
            "按这里的处室核对（相近的名称给出建议，不认识的名称给出提示，注明文件和行号，事项照常计入）。"
            "没有写的评议内容显示“未指定”，不会出现别的城市或年度的名单。`pingyi init` 写出空的名单和说明。", "",
            "| 键 key | 含义 |", "|---|---|"]
    out += [f"| `{k}` | {what}（名称列表） |" for k, what in DUTY_KEYS.items()]
    out += ["", "```toml", "[responsibility.service]   # 政务服务（也可写 [responsibility.\"政务服务\"]）",
            'leaders = ["周南平", "叶容"]', 'lead_offices = ["行政服务处", "局办公室"]',
            'responsible_offices = ["机关各处室", "监察支队"]', "```", "",
            "## 被拒绝的原因（reason codes）", "",
            "`pingyi validate` 列出每一个被拒绝的行；`reason` 是给填表人看的中文，`reason_code` 是给程序用的稳定编号。"
            "`unknown_unit_level`、`unknown_channel` 等 `unknown_<类型>` 共用“不是允许的值”一条。",
            "", "| reason_code | 原因 reason |", "|---|---|"]
    codes = {"rejected_unit": "unknown_unit（指向被拒绝的单位）", "rejected_parent": "unknown_unit（上级单位被拒绝）",
             "unknown_value": "unknown_<类型>"}
    out += [f"| `{codes.get(k, k)}` | {_cell(v)} |" for k, v in REASONS.items()]
    out += ["", "评议单位表中有行被拒绝，或参加排名的单位没有一份有效问卷时，`pingyi score` 和 `pingyi report` "
            "停止（退出码 1）并说明缺少哪个单位、哪个文件哪一行、随之被拒绝多少行；确需照常排名时加 "
            "`--allow-incomplete`，各页和汇总表都会注明“本次排名不完整”。", ""]
    return "\n".join(out)
