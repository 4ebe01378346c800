"""The report runner end to end: papermill + nbconvert on the sample round and on a
dataset made to break, the HTML it writes, the index and the workbook."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import nbformat
import openpyxl
import pytest

from pingyi_lib.cli import main
from pingyi_lib.common.names import unit_slug
from pingyi_lib.output.runner import NOTEBOOK_DIR, WORKBOOK_NAME

from .conftest import HOSTILE, SAMPLE_2011, SAMPLE_2012
from .conftest import REPORT_UNITS as UNITS

pytestmark = pytest.mark.slow


def scripts_from_network(html: str) -> list[str]:
    return re.findall(r"""<script[^>]+src=["']?((?:https?:)?//[^"' >]+)""", html)


def test_runner_writes_index_city_units_workbook_and_notebooks(sample_reports):
    out, code = sample_reports
    assert code == 0
    for rel in ("index.html", "city.html", "assets/plotly.min.js", WORKBOOK_NAME, "report.log",
                "notebooks/city.ipynb", *(f"units/{u}.html" for u in UNITS),
                *(f"notebooks/units/{u}.ipynb" for u in UNITS)):
        assert (out / rel).is_file(), rel
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="city.html"' in index and all(f'href="units/{u}.html"' in index for u in UNITS)
    assert not list(out.rglob(".tmp-*"))


def test_html_has_no_code_no_parameters_and_no_network_scripts(sample_reports):
    out, _ = sample_reports
    for page in [out / "city.html", *(out / "units").glob("*.html")]:
        html = page.read_text(encoding="utf-8")
        assert "import pingyi_lib" not in html
        assert "jp-InputArea-editor\"" not in html and "class=\"jp-InputPrompt" not in html
        assert 'dataset = ' not in html and "injected-parameters" not in html
        assert "Run top to bottom in" not in html  # analyst notes stay in JupyterLab
        assert scripts_from_network(html) == []
        assert "require.min.js" not in html and "MathJax.js" not in html


def test_every_chart_of_the_executed_notebook_is_in_the_html(sample_reports):
    out, _ = sample_reports
    for nb_path, html_path in [(out / "notebooks/city.ipynb", out / "city.html"),
                               (out / "notebooks/units/wj.ipynb", out / "units/wj.html")]:
        nb = nbformat.read(nb_path, as_version=4)
        charts = sum('class="pingyi-chart"' in o.get("data", {}).get("text/html", "")
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        html = html_path.read_text(encoding="utf-8")
        assert charts >= 4
        assert html.count('class="plotly-graph-div"') == charts
        assert html.count('src="') - html.count('src="data:') >= 1  # plotly.js by relative path


def test_workbook_matches_pingyi_score(sample_reports, capsys):
    out, _ = sample_reports
    assert main(["score", str(SAMPLE_2011), "--format", "csv"]) == 0
    scored = {r["unit_id"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["评议结果"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    assert {r["单位编码"] for r in rows} == set(scored)
    for r in rows:
        s = scored[r["单位编码"]]
        assert (f"{r['综合得分']:.2f}" if r["综合得分"] is not None else "") == s["composite"]
        assert (str(r["排名"]) if r["排名"] is not None else "") == s["rank"]
        assert (f"{r['群众满意度']:.2f}" if r["群众满意度"] is not None else "") == s["satisfaction"]
    assert any(r["群众反映主要问题"] for r in rows)


def test_a_kernel_that_dies_leaves_its_notebook_as_far_as_it_ran(tmp_path):
    # papermill no longer writes the notebook after every cell (the runner writes it once): a
    # kernel that dies mid-page must still leave the cells run so far and a page saying it failed
    from pingyi_lib.output import runner

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('第一节')"), nbformat.v4.new_code_cell("import os; os._exit(1)"),
                nbformat.v4.new_code_cell("print('never')")]
    nbformat.write(nb, tmp_path / "dies.ipynb")
    job = runner.Job("unit", "甲", str(tmp_path / "dies.ipynb"), str(tmp_path / "out.ipynb"),
                     str(tmp_path / "out.html"), "out.html", {"x": 2}, "index.html", "a")
    result = runner.run_job(job)
    assert not result.ok and result.error_name == "DeadKernelError"
    ran = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert [o.get("text") for o in ran.cells[2].outputs] == ["第一节\n"]  # cells[1] is papermill's parameters
    assert not ran.cells[4].outputs
    assert "第一节" in (tmp_path / "out.html").read_text(encoding="utf-8")


def test_rerun_into_same_folder_replaces_files_without_leftovers(sample_reports, tmp_path):
    out = shutil.copytree(sample_reports[0], tmp_path / "2011")
    before = {rel: (out / rel).read_bytes() for rel in ("units/wj.html", "units/tn-win.html", "city.html")}
    assert main(["report", str(SAMPLE_2011), "--out", str(out), "--units", "wj", "--jobs", "1", "--quiet"]) == 0
    assert (out / "units/wj.html").read_bytes() == before["units/wj.html"]  # made again: deterministic output
    # the same inputs and options: the city page and the other pages are kept, not rebuilt (issue 38);
    # tests/test_rerun.py has the folders whose pages are not kept
    assert {rel: (out / rel).read_bytes() for rel in before} == before
    assert "只重新生成所选单位的报告" in (out / "report.log").read_text(encoding="utf-8")
    assert not list(out.rglob(".tmp-*"))
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_one_broken_unit_does_not_stop_the_others(broken_reports):
    out, code = broken_reports
    assert code == 1
    assert (out / "units/a.html").is_file() and (out / "city.html").is_file()
    failed_page = (out / "units/b.html").read_text(encoding="utf-8")
    assert "boom: unit b breaks" in failed_page  # the failing cell's error is in the page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "1 份报告生成失败" in index and "RuntimeError" in index and "boom: unit b breaks" in index
    log = (out / "report.log").read_text(encoding="utf-8")
    assert "FAILED" in log and "RuntimeError" in log


def test_hostile_text_from_the_data_is_escaped_in_every_page(broken_reports):
    out, _ = broken_reports
    for page in (out / "index.html", out / "city.html", out / "units/a.html"):
        html = page.read_text(encoding="utf-8")
        assert HOSTILE not in html, page.name
        assert "&lt;img src=x onerror=" in html or "\\u003cimg src=x" in html, page.name


def test_personal_data_in_unthemed_comments_is_masked_in_the_city_report(broken_reports):
    out, _ = broken_reports
    city = (out / "city.html").read_text(encoding="utf-8")
    assert "未归入主题的意见" in city and "139****5678" in city and "13912345678" not in city


def test_city_report_shows_coverage_per_unit_and_unthemed_groups(sample_reports):
    out, _ = sample_reports
    city = (out / "city.html").read_text(encoding="utf-8")
    assert "各单位主题覆盖率" in city and "匹配依据" in city and "高频词" not in city
    assert "未归入主题的意见（按相似分组）" in city and "希望多组织安全生产培训" in city  # the sample's off-topic wish
    unit = (out / f"units/{unit_slug(UNITS[0])}.html").read_text(encoding="utf-8")
    assert "覆盖率" in unit and "匹配依据" in unit


def test_unknown_unit_is_a_plain_error(tmp_path, capsys):
    code = main(["report", str(SAMPLE_2011), "--out", str(tmp_path / "o"), "--units", "nope"])
    assert code == 2 and "本轮没有单位 nope" in capsys.readouterr().err


def test_bad_report_date_is_a_usage_error(tmp_path, capsys):
    code = main(["report", str(SAMPLE_2011), "--out", str(tmp_path / "o"), "--report-date", "明天"])
    assert code == 2 and "不是日期" in capsys.readouterr().err


def test_unknown_notebook_parameter_is_refused(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOK_DIR, nbs, ignore=shutil.ignore_patterns("*.py"))
    nb = nbformat.read(nbs / "city.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("unit_links", "unit_linkz")
    nbformat.write(nb, nbs / "city.ipynb")
    code = main(["report", str(SAMPLE_2011), "--out", str(tmp_path / "o"), "--notebooks", str(nbs),
                 "--units", "wj"])
    assert code == 1 and "没有参数 unit_links" in capsys.readouterr().err


def test_unit_slug_is_safe_stable_and_distinct():
    assert unit_slug("wj") == "wj"
    hostile = unit_slug("../../etc/passwd")
    assert "/" not in hostile and hostile == unit_slug("../../etc/passwd")
    assert unit_slug("a/b") != unit_slug("a_b") and unit_slug("甲") != unit_slug("乙")


def test_executed_notebooks_record_parameters(sample_reports):
    out, _ = sample_reports
    nb = json.loads((out / "notebooks/units/wj.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["unit_id"] == "wj"
    # the round's folder by its name: the kept notebook is published, the server's folders are not
    assert nb["metadata"]["papermill"]["parameters"]["dataset"] == "2011"


@pytest.fixture(scope="module")
def lookback_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("lookback") / "2012"
    code = main(["report", str(SAMPLE_2012), "--out", str(out), "--previous", str(SAMPLE_2011),
                 "--report-date", "2012-09-10", "--units", "wj-gxq-win", "qsy", "--jobs", "2", "--quiet"])
    return out, code


def test_lookback_report_shows_problems_ledger_timeline_and_changes(lookback_reports):
    out, code = lookback_reports
    assert code == 0
    city = (out / "city.html").read_text(encoding="utf-8")
    for heading in ("群众反映主要问题", "整改台账：逾期未完成和今日到期事项", "工作节点报送情况",
                    "回头看：与上一年比较"):
        assert heading in city
    assert "本年新增" in city and "本年未参评" in city and "整改台账截至2012-09-10" in city
    # qsy's 整改 report came in on 09-22, 7 days late; on 09-10 it is not due yet and not yet sent
    assert "未到期（09-15到期）；文件中的报送日期2012-09-22晚于报告日" in city and "逾期7天（09-22）" not in city
    unit = (out / "units/qsy.html").read_text(encoding="utf-8")
    assert "回头看：与上一年比较" in unit and "逾期" in unit and "未提供上一年数据" not in unit
    new_unit = (out / "units/wj-gxq-win.html").read_text(encoding="utf-8")
    assert "本年新增" in new_unit
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["评议结果"]
    header = [c.value for c in ws[1]]
    problems = [r[header.index("群众反映主要问题")].value for r in ws.iter_rows(min_row=2)]
    assert sum(bool(p) and "条）" in p for p in problems) >= 10


@pytest.fixture(scope="module")
def incomplete_reports(tmp_path_factory):
    """tiny (window w has no questionnaire) plus one rejected questionnaire of unit a, reported
    with --allow-incomplete."""
    from .conftest import ITEMS, write_dataset

    base = tmp_path_factory.mktemp("incomplete")
    ds = write_dataset(base / "ds", units="unit_id,name,level,parent_id\na,甲区安监局,district,\n"
                                         "b,乙区安监局,district,\nw,甲区服务窗口,window,a\n",
                       survey="response_id,unit_id,channel," + ITEMS + "\n"
                       + "".join(f"a{i},a,online,1,2,1,2,1\n" for i in range(5))
                       + "a9,a,online,1,2,1,2,好\n" + "".join(f"b{i},b,paper,2,2,3,2,2\n" for i in range(5)))
    out = base / "out"
    import contextlib
    import io as _io

    err = _io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(ds), "--out", str(out), "--units", "a", "--jobs", "2", "--allow-incomplete"])
    return out, code, err.getvalue()


def test_incomplete_league_is_announced_on_every_page_and_in_the_workbook(incomplete_reports):
    out, code, err = incomplete_reports
    assert code == 0
    banner = "本次排名不完整：缺少 甲区服务窗口（w）（问卷调查表中没有本单位的问卷）"
    for page in ("index.html", "city.html", "units/a.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert banner in html, page
        assert "常州" not in html, page  # the round names no city: the ruleset's is not borrowed
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["说明"]
    assert banner in [c.value for c in ws["A"]]
    assert banner in err


def test_report_states_the_rejected_count_on_stderr_in_the_log_and_on_the_index(incomplete_reports):
    out, _, err = incomplete_reports
    assert "共有 1 行数据被拒绝" in err
    assert "共有 1 行数据被拒绝" in (out / "report.log").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "共有 1 行数据被拒绝" in index and "<td>问卷调查</td>" in index


def test_a_unit_page_lists_its_rejected_rows_instead_of_a_bare_none(incomplete_reports):
    out, _, _ = incomplete_reports
    html = (out / "units/a.html").read_text(encoding="utf-8")
    assert "“integrity”的答案“好”无法识别" in html and "survey.csv" in html
    # the unit's notes (rejected rows, warnings) open the page in the data-quality box (issue 14), not a list of "无"
    assert '<li data-code="rejected"><strong>被拒绝的数据行</strong>：1条数据行未通过校验' in html
    quality = html[html.index(">数据质量<"):]  # the section that said 被拒绝行 1 and then a bare 无
    assert "被拒绝行" in quality and '<p class="pingyi-empty">无</p>' not in quality
    ws = openpyxl.load_workbook(out / WORKBOOK_NAME)["数据质量"]
    assert [c.value for c in ws[1]][:3] == ["表", "文件", "行号"] and ws["A2"].value == "问卷调查"


def test_reports_show_funnel_caterpillar_intervals_and_robustness(sample_reports, lookback_reports):
    out, code = sample_reports
    assert code == 0
    city = (out / "city.html").read_text(encoding="utf-8")
    for text in ("抽样误差：得分区间与排名区间", "排名95%区间", "调查对象构成与加权敏感性分析", "可能是抽样波动",
                 *(json.dumps(t)[1:-1] for t in ("综合得分及其区间", "满意度漏斗图", "99.8%控制限", "排名靠后"))):
        assert text in city, text  # chart titles and legends are in the figure's JSON, escaped
    unit = (out / "units/wj.html").read_text(encoding="utf-8")
    for text in ("综合得分95%区间", "排名95%区间", "抽样误差", "解析区间", "Wilson", "稳健"):
        assert text in unit, text
    out, code = lookback_reports
    city = (out / "city.html").read_text(encoding="utf-8")
    assert "变化是否显著" in city and "未评估</td>" in city  # units present in one round only
    assert city.count('<td class="txt">是</td>') >= 3  # some changes are significant


def test_reports_carry_the_integrity_section(sample_reports, lookback_reports):
    clean = (sample_reports[0] / "units/tn-win.html").read_text(encoding="utf-8")  # 2011: nothing found
    assert "评议纪律：问卷异常检测" in clean and "问卷异常检测未发现疑似刷票问卷" in clean
    city = (lookback_reports[0] / "city.html").read_text(encoding="utf-8")  # 2012: the tn-win burst
    start = city.index("评议纪律：问卷异常检测与违纪认定")  # the headline above also speaks of 评议纪律
    section = city[start:city.index("数据质量", start)]
    assert "按评议纪律规则剔除问卷108份" in section and "2012-08-21 20:07" in section
    assert "综合得分(不剔除)" in section and "95.72" in section  # the effect of the exclusion
    assert "确认违反评议纪律：刷票" in section  # confirmed violation and the worst listing
    assert section.count('class="plotly-graph-div"') == 1  # responses over time, bursts marked


def test_reports_carry_who_answers_for_each_dimension(sample_reports, lookback_reports):
    out, _ = sample_reports
    city = (out / "city.html").read_text(encoding="utf-8")
    assert "责任分解" in city and "行政服务处、局办公室" in city and "周南平、叶容" in city
    assert "明显低于组平均的单位" in city and "台账中逾期（项）" in city
    unit = (out / f"units/{unit_slug('wj')}.html").read_text(encoding="utf-8")
    assert "市局牵头处室" in unit and "政务服务（市局牵头处室：行政服务处、局办公室）" in unit
    later, _ = lookback_reports  # 2012: its round.toml names no one, and no page borrows 2011's names
    city = (later / "city.html").read_text(encoding="utf-8")
    assert "责任分解" in city and "未指定" in city
    assert not any(n in page.read_text(encoding="utf-8") for n in ("周南平", "李士庆")
                   for page in [later / "city.html", *(later / "units").glob("*.html")])
