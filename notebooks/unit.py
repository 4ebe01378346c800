# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["analyst-note"]
# # 单位评议结果
# One evaluated unit (a district bureau, a window or a station). Run top to bottom in
# JupyterLab with the defaults below, or with papermill via `pingyi report`.

# %% tags=["parameters"]
dataset = ""  # a dataset folder; empty: the bundled 2011 sample round
unit_id = "wj"  # the unit to report on
ruleset = ""  # a ruleset TOML file; empty: the dataset folder ruleset.toml or the default
plotlyjs = ""  # empty: interactive; inline, or a relative path to plotly.min.js in a report
previous = ""  # last year's dataset folder (the look-back), or a list of past rounds' folders (also the trend); empty: none
report_date = ""  # the day the rectification ledger is read, YYYY-MM-DD; empty: the round's (round.toml, else the data's last date)
scored = ""  # the round scored once by `pingyi report` (output/scored.py); empty: score it here

# %%
from pingyi_lib.dataset.sample import bundled_round
from pingyi_lib.output import page
from pingyi_lib.output import scored as scored_round
from pingyi_lib.sections import charts
from pingyi_lib.sections import duties
from pingyi_lib.sections import followup
from pingyi_lib.sections import headline
from pingyi_lib.sections import integrity
from pingyi_lib.sections import scores
from pingyi_lib.sections import trend
from pingyi_lib.sections import uncertainty

res, last_year, fu = scored_round.load(scored, dataset or str(bundled_round(2011)), ruleset, previous, report_date)
rs = res.ruleset
unit = res.unit(unit_id)
report = page.Page(plotlyjs)
report.style()

# %%
page.show(
    page.heading(headline.page_title(res, f"{unit['name']}　{res.dataset.round.title}评议结果"), 1),
    page.banner(headline.interim_banner(res)),
    page.banner(res.incomplete),
    page.headline(headline.unit_headline(res, unit_id), "评议结果和评议结果运用"),
    page.headline(headline.unit_notes(res, unit_id), "数据质量提示（不属于评议结果运用）", kind="note"),
    page.card(scores.score_card(res, unit_id, scores.PARTS_COLUMNS), scores.card_titles(res)),
    page.card(uncertainty.interval_card(res, unit_id)),
)

# %% [markdown]
# ## 抽样误差与评议结果运用的稳健性
# 问卷和现场评议是抽样调查。区间由对本单位答卷的重抽样得出；解析区间（正态、Wilson）作为核对。稳健：重抽样中至少95%触发；较可能：75%–95%；可能是抽样波动：不足75%。

# %%
page.show(
    page.table(uncertainty.robustness(res, unit_id), empty="本单位未被约谈或不评优。"),
    page.table(uncertainty.interval_table(res, unit_id)),
)

# %% [markdown]
# ## 群众反映主要问题

# %%
page.show(
    page.para("{text}", text=followup.problems_summary(fu.problems, unit_id)),
    page.table(followup.problems_table(fu.problems, unit_id), empty="无。"),
    page.para("{text}", text=followup.coverage_summary(fu.coverage, unit_id)),
)

# %% [markdown]
# ## 各评议内容

# %%
dims = scores.dimensions(res, unit_id)
page.show(
    report.figure(charts.dimensions_bar(dims, unit["name"])),
    page.table(duties.unit_dimensions(res, unit_id)),
    page.para("{text}", text=duties.weak_sentence(res, unit_id)),
)

# %% [markdown]
# ## 答案分布（各等次答卷份数）

# %%
survey = scores.answer_distribution(res, unit_id, "survey")
page.show(
    report.figure(charts.distribution_bar(survey, rs, "问卷调查：各评议内容答案分布")),
    page.table(survey.drop(columns="item"), empty="无问卷。"),
    report.chart(scores.answer_distribution(res, unit_id, "onsite"),
                 lambda d: charts.distribution_bar(d, rs, "现场评议：各评议内容答案分布"), "本单位没有现场评议。"),
)

# %% [markdown]
# ## 按调查对象类别和渠道

# %%
by_category = scores.breakdown(res, unit_id, "respondent_category")
page.show(
    report.figure(charts.breakdown_bar(by_category, "调查对象类别", rs.talk_threshold, "各类调查对象的问卷调查指数")),
    page.table(by_category),
    page.table(scores.breakdown(res, unit_id, "channel")),
    page.table(uncertainty.mix_overview(res, unit_id), empty="未设定调查对象目标比例。"),
)

# %% [markdown]
# ## 现场评议代表构成

# %%
panel = scores.panel(res, unit_id)
page.show(
    report.chart(panel, lambda d: charts.panel_bar(d, rs.panel_min_share), "本单位没有现场评议。"),
    page.table(panel),
)

# %% [markdown]
# ## 实例调查与加分

# %%
page.show(
    page.table(scores.cases(res, unit_id), empty="无实例调查案例。"),
    page.table(scores.bonuses(res, unit_id), empty="无加分。"),
)

# %% [markdown]
# ## 整改台账

# %%
page.show(
    page.para("{text}", text=followup.ledger_date_text(fu)),
    page.table(followup.ledger_table(fu.ledger, unit_id, ruleset=rs), empty="本单位无整改事项。"),
    page.note(followup.problems_note(fu.data_problems, unit_id)),
    page.table(followup.problems_data_table(fu.data_problems, unit_id), empty=""),
)

# %% [markdown]
# ## 工作节点报送情况

# %%
page.show(page.table(followup.timeline_table(fu.timeline, unit_id, ruleset=rs), empty="本单位无需报送工作节点材料。"))

# %% [markdown]
# ## 回头看：与上一年比较

# %%
page.show(
    page.note(followup.lookback_note(fu.previous)),
    page.table(followup.lookback_table(fu.compare, unit_id, ruleset=rs)),
    page.table(followup.lookback_dimensions(fu.compare, unit_id, res)),
    page.table(followup.closure_table(fu.closure, unit_id, ruleset=rs), empty="上一年本单位无整改事项。"),
)

# %% [markdown]
# ## 历年对比

# %%
page.show(
    page.para("{text}", text=trend.years_text(fu.trend, rs)),
    report.chart(trend.unit_chart_frame(fu.trend, unit_id),
                 lambda d: charts.trend_lines(d, trend.chart_title(rs)), ""),
    page.table(trend.unit_table(fu.trend, unit_id, rs), empty=""),
)

# %% [markdown]
# ## 评议纪律：问卷异常检测

# %%
page.show(
    page.para("{text}", text=integrity.unit_summary(res, unit_id)),
    report.chart(integrity.timeline(res, unit_id),
                 lambda d: charts.responses_timeline(d, "问卷提交时间（每小时；红色标记：短时集中提交）"),
                 "本单位问卷没有提交时间。"),
    page.table(integrity.reason_counts(res, unit_id), empty="本单位问卷未被标记。"),
    page.table(integrity.episodes(res, unit_id), empty="本单位没有短时集中提交。"),
    page.table(integrity.periods(res, unit_id), empty="本单位没有可疑时段。"),
    page.table(integrity.without_flagged(res, unit_id), empty=""),  # no flagged questionnaire: said above
    page.table(integrity.effect(res, unit_id, changed_only=True), empty="剔除问卷对本单位的得分、排名和结果运用没有影响。"),
    page.table(integrity.flagged_rows(res, unit_id, limit=20), empty=""),  # "未被标记" is said above
    page.table(integrity.violations(res, unit_id), empty="本单位没有违反评议纪律的记录。"),
)

# %% [markdown]
# ## 数据质量

# %%
page.show(
    page.table(scores.data_quality(res, unit_id)),
    page.table(scores.rejected_rows(res, unit_id), empty="本单位没有被拒绝的行。"),
    page.glossary(scores.glossary(res)),
)
