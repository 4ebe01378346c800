"""The offline progress page of ``pingyi progress --out DIR``: ``DIR/index.html`` with its
chart's plotly.js beside it (``assets/plotly.min.js``), the same look and safety as the
reports (escaped and masked text, Chinese, print CSS), published whole by the staged swap
of ``publish.ReportFolder`` so a nightly job never leaves half a page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pingyi_lib.common.masking import mask_personal_data
from pingyi_lib.common.numbers import format_number
from pingyi_lib.output.atomic import write_text
from pingyi_lib.output.page import Page, table

PLOTLY = "assets/plotly.min.js"
PAGE_ENTRIES = frozenset({"index.html", "assets"})  # what a progress folder holds (publish.ReportFolder)


def render(p, ds) -> str:
    """The page's HTML for the collection ``p`` of dataset ``ds``."""
    import jinja2

    from pingyi_lib.output.packaged import template_dir
    from pingyi_lib.sections import progress as sec
    from pingyi_lib.sections.charts import collection_lines

    rs = ds.ruleset
    page = Page(PLOTLY)
    title = f"{ds.round.title if ds.round else ''}问卷收集进度（截至{p.as_of.isoformat()}）"
    chart = page.chart(p.daily if len(p.units) else None,
                       lambda d: collection_lines(d, p.units, rs.min_survey, p.deadline, "各单位有效问卷累计"),
                       "还没有有效问卷")
    sections = [{"title": "有效问卷累计", "body": str(chart), "note": ""},
                {"title": "各单位进度", "body": str(table(sec.unit_table(p).drop(columns="单位编码"))), "note": ""}]
    quota = sec.quota_table(p)
    if len(quota):
        sections.append({"title": "问卷配额", "body": str(table(quota)), "note": ""})
    sections += [
        {"title": "调查对象构成缺口",
         "body": str(table(sec.mix_gap_table(p), empty="各单位的调查对象构成都达到了目标占比")),
         "note": "按评议规则 [respondent_mix] 的目标占比；还需 = 按计划份数（问卷配额，没有配额时为最低要求）"
                 "和目前份数，使该类别达到目标占比还要的有效问卷。"},
        {"title": "现场评议代表构成",
         "body": str(table(sec.onsite_table(p, rs.panel_min_share), empty="还没有现场评议票")),
         "note": "现场评议票没有日期，按目前已录入的全部计算。"},
        {"title": "问卷异常提示（截至当日）", "body": str(table(sec.alert_table(p), empty="没有发现问卷异常")),
         "note": "按评议纪律规则检测截至当日的问卷；标记不等于剔除，剔除的已从有效问卷中扣除。"},
    ]
    risk = p.at_risk
    banner = f"{len(risk)}个单位有按期达不到最低要求的风险" if len(risk) and p.days_left else \
        (f"{len(risk)}个单位未达到最低要求" if len(risk) else "")
    level = format_number(100 * p.level, 0)
    method = [f"只计入{p.as_of.isoformat()}当天及以前提交的问卷（当天整天计入）；没有提交时间的问卷按已收到计入。",
              f"有效问卷：被接受、未被剔除、至少有一项计分答案的问卷；最低要求为评议规则的 minimum.survey"
              f"（{rs.min_survey}份）。",
              f"预计达到日：按近{rs.progress.rate_days}天的有效问卷数推算（到达速度本身也有不确定性），"
              f"区间内的概率为{level}%；按期达到的把握低于{format_number(100 * p.at_risk_below, 0)}%的单位列为有风险。"]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir())), autoescape=True)
    return env.get_template("progress.html.j2").render(
        title=mask_personal_data(title), banner=banner, summary=[mask_personal_data(x) for x in sec.summary(p)],
        sections=sections, method=method, style=str(page.style()), dataset=Path(ds.path).name,
        ruleset=rs.name, made=dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


def write_page(p, ds, out: str | Path) -> Path:
    """Render and publish the page to ``out`` (replaced whole); returns ``out/index.html``."""
    from plotly.offline import get_plotlyjs

    from pingyi_lib.output.publish import ReportFolder

    html = render(p, ds)
    with ReportFolder(out, PAGE_ENTRIES) as folder:
        write_text(folder.staging / "index.html", html)
        write_text(folder.staging / PLOTLY, get_plotlyjs())
        folder.publish()
        return folder.out / "index.html"
