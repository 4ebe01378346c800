"""``pingyi import EXPORT --into DIR``: answers downloaded from 问卷星 or 腾讯问卷, or typed
into a spreadsheet, added to the survey table of a round's folder. ``cli.py`` only wires this in.

The mapping found (or the one given with ``--mapping``, or the one reviewed in DIR from an
earlier import of the same questionnaire) is written to ``DIR/import-mapping.toml``; what it
lacks stops the import before a row is written. Rejected answers are listed and kept in
``DIR/import-rejected.csv`` with their reasons; nothing is dropped silently. The survey file
keeps its encoding and its headers; the import adds columns only when it carries them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import DatasetError, DatasetNotFound, OptionError
from pingyi_lib.dataset import export_mapping as mapping_
from pingyi_lib.dataset.export_rows import REJECTED_COLUMNS, Imported, to_survey
from pingyi_lib.dataset.exports import PLATFORM_NAMES, PLATFORMS, Export, read_export
from pingyi_lib.dataset.load import ruleset_file
from pingyi_lib.dataset.read import read_folder
from pingyi_lib.dataset.schema import tables
from pingyi_lib.output import survey_file
from pingyi_lib.output.atomic import atomic_path
from pingyi_lib.output.terminal import console
from pingyi_lib.scheme.ruleset import Ruleset, load_ruleset

REJECTED_FILE = "import-rejected.csv"
REJECTED_HEADERS = {"file": "导出文件", "form": "问卷标识", "source_id": "导出编号", "row": "导出行号", "column": "列",
                    "value": "值", "reason_code": "reason_code", "reason": "原因"}
SHOWN = 20  # rejected answers listed on the terminal (all are in import-rejected.csv)


def add_parser(sub) -> None:
    sp = sub.add_parser("import", help="add the answers of a 问卷星 / 腾讯问卷 export or a typed spreadsheet "
                                       "(.xlsx .xls .ods .csv) to a round's survey table")
    sp.add_argument("export", metavar="EXPORT", help="the downloaded file")
    sp.add_argument("--into", required=True, metavar="DIR", help="the round's folder (its units table names the "
                                                                 "units; the survey table is added to or made)")
    sp.add_argument("--platform", choices=("auto", *PLATFORMS), default="auto",
                    help="where the file comes from (default: told from its columns)")
    sp.add_argument("--mapping", metavar="MAP.toml", default=None,
                    help="the column mapping to use (default: DIR's reviewed one for this questionnaire, else found "
                         "from the question texts); written to DIR/import-mapping.toml")
    sp.add_argument("--unit", metavar="UNIT", default=None,
                    help="every answer is for this unit (id or name): one questionnaire link per unit")
    sp.add_argument("--ruleset", metavar="FILE", default=None,
                    help="ruleset TOML (default: DIR/ruleset.toml if present, else changzhou-2011)")
    sp.set_defaults(func=cmd_import)


def _units(folder: Path, rs: Ruleset) -> pd.DataFrame:
    others = tuple(t for t in tables(rs) if t != "units")
    raw = read_folder(folder, rs, skip=others)["units"]
    units = raw.frame[raw.frame["unit_id"] != ""][["unit_id", "name"]]
    if units.empty:
        raise DatasetError(f"{folder}：评议单位表中没有单位；请先填好评议单位表", path=str(folder), table="units")
    return units.reset_index(drop=True)


def _mapping(args, export: Export, folder: Path, rs: Ruleset, units: pd.DataFrame,
             unit: str) -> tuple[mapping_.Mapping, Path]:
    """The mapping to import with, and the file in DIR it is written to."""
    form = export.form()
    reviewed = None
    for p in sorted(folder.glob("import-mapping*.toml")):
        try:
            if tomllib.loads(p.read_text(encoding="utf-8")).get("form") == form:
                reviewed = p
                break
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
    target = reviewed or folder / mapping_.FILE_NAME
    if reviewed is None and target.exists():
        target = folder / f"import-mapping-{form}.toml"
    given = Path(args.mapping) if args.mapping else reviewed
    m = mapping_.read_mapping(given, export, rs, unit) if given else mapping_.find_mapping(export, rs, units, unit)
    m.form = form
    return mapping_.review(m, export, rs, units), target


def _resolve_unit(text: str | None, units: pd.DataFrame) -> str:
    if not text:
        return ""
    got = mapping_.unit_lookup(units).get(mapping_.norm(text))
    if got is None:
        raise OptionError(f"--unit：“{visible(text)}”不是本轮的评议单位；可写单位编码或名称，如 "
                          f"{units['unit_id'].iloc[0]}（{units['name'].iloc[0]}）")
    return got


def write_rejected(folder: Path, imported: Imported, form: str) -> Path | None:
    """DIR/import-rejected.csv: this questionnaire's rejected answers replace its earlier ones."""
    path = folder / REJECTED_FILE
    old = pd.DataFrame(columns=REJECTED_COLUMNS)
    if path.exists():
        old = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        old.columns = [next((k for k, v in REJECTED_HEADERS.items() if v == c), c) for c in old.columns]
        old = old[old["form"] != form]
    rows = pd.concat([old, imported.rejected.astype(str)], ignore_index=True)
    if rows.empty:
        path.unlink(missing_ok=True)
        return None
    with atomic_path(path) as tmp:
        rows.rename(columns=REJECTED_HEADERS).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def cmd_import(args) -> int:
    folder = Path(args.into)
    if not folder.is_dir():
        raise DatasetNotFound(f"找不到本轮的数据目录：{folder}；先用 pingyi init {folder} 建立", path=str(folder))
    rs = load_ruleset(ruleset_file(folder, args.ruleset))
    units = _units(folder, rs)
    export = read_export(args.export, args.platform)
    unit = _resolve_unit(args.unit, units)
    m, mapping_path = _mapping(args, export, folder, rs, units, unit)
    with atomic_path(mapping_path) as tmp:
        tmp.write_text(mapping_.render(m, rs, Path(args.export).name), encoding="utf-8")
    con = console()
    con.print(f"{PLATFORM_NAMES.get(export.platform, export.platform)}导出：{visible(export.path)}，"
              f"{len(export.rows)} 份答卷；列的对应关系写在 {visible(str(mapping_path))}")
    if m.missing:
        con.print("导入未进行：对应关系还缺以下内容，请在该文件中补上后重新导入（加 --mapping 该文件）：",
                  highlight=False, markup=False)
        for x in m.missing:
            con.print(f"  - {visible(x)}", highlight=False, markup=False)
        return 1
    imported = to_survey(export, m, rs, units)
    sf = survey_file.find(folder, rs) or survey_file.new_file(folder, rs, imported.rows.columns)
    counts = survey_file.write(sf, rs, imported.rows)
    path = f"{sf.path}[{sf.sheet}]" if sf.sheet else str(sf.path)
    rejected_path = write_rejected(folder, imported, m.form)
    con.print(f"写入 {visible(path)}：新增 {counts['added']} 份，更新 {counts['updated']} 份，"
              f"已有未变 {counts['unchanged']} 份，退回 {len(imported.rejected)} 份", highlight=False)
    _print_listed(con, m, imported, rejected_path, dict(zip(units["unit_id"], units["name"])))
    con.print(f"下一步：pingyi validate {visible(str(folder))}", highlight=False, markup=False)
    return 1 if len(imported.rejected) else 0


def _print_listed(con, m: mapping_.Mapping, imported: Imported, rejected_path: Path | None,
                  names: dict[str, str]) -> None:
    for kind, what in (("units", "单位"), ("categories", "调查对象类别"), ("answers", "评议等次")):
        for k, v in m.proposals.get(kind, {}).items():
            shown_v = f"{names.get(v, v)}（{v}）" if kind == "units" else v
            con.print(f"建议：“{visible(k)}”可能是{what}“{visible(shown_v)}”，请在对应关系文件的 [{kind}] 中确认",
                      highlight=False, markup=False)
    if m.unplaced:
        con.print("未导入的题目（无法对应到数据约定）：" + "；".join(f"“{visible(h)}”" for h in m.unplaced),
                  highlight=False, markup=False)
    if m.not_needed:
        con.print("平台自带、评议用不到的列：" + "；".join(f"“{visible(h)}”" for h in m.not_needed),
                  highlight=False, markup=False)
    for n in imported.notes:
        con.print(f"注意：{visible(n)}", highlight=False, markup=False)
    if len(imported.rejected):
        con.print(f"退回的答卷（共 {len(imported.rejected)} 份，全部列在 {visible(str(rejected_path))}）：",
                  highlight=False, markup=False)
        for r in imported.rejected.head(SHOWN).itertuples(index=False):
            con.print(f"  - {visible(r.reason)}", highlight=False, markup=False)
