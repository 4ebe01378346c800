# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
dataset = "../data/sample/2011"  # a dataset folder
unit_id = "wj"  # the unit to report on
ruleset = ""  # a ruleset TOML file; empty: the dataset folder ruleset.toml or the default
plotlyjs = ""  # empty: interactive; inline, or a relative path to plotly.min.js in a report
previous = ""  # last year's dataset folder for the look-back; empty: none
report_date = ""  # the day the rectification ledger is read, YYYY-MM-DD; empty: today

# %%
import pingyi_lib as py
from pingyi_lib.output import page
from pingyi_lib.sections import charts
from pingyi_lib.sections import followup
from pingyi_lib.sections import scores
from pingyi_lib.sections import uncertainty

res = py.score(py.load_dataset(dataset, ruleset=ruleset or None), intervals=True)
rs = res.ruleset
unit = res.unit(unit_id)
last_year = py.score(py.load_dataset(previous), intervals=True) if previous else None
fu = followup.FollowUp(res, last_year, report_date)
report = page.Page(plotlyjs)
report.style()

# %%
page.heading(f"{unit['name']}　{rs.title}评议结果", 1)

# %%
page.para("{text}", text=scores.unit_summary(res, unit_id))

# %%
page.card(scores.score_card(res, unit_id))

# %%
page.card(uncertainty.interval_card(res, unit_id))

# %% [markdown]
# ## 评议结果运用

# %%
page.table(scores.unit_consequences(res, unit_id), empty="本单位未触发评议结果运用条款。")

# %%
page.table(uncertainty.robustness(res, unit_id), empty="本单位未被约谈或不评优。")

# %% [markdown]
# ## 抽样误差
# 问卷和现场评议是抽样调查。区间由对本单位答卷的重抽样得出；解析区间（正态、Wilson）作为核对。

# %%
page.table(uncertainty.interval_table(res, unit_id))

# %% [markdown]
# ## 群众反映主要问题

# %%
page.para("{text}", text=followup.problems_summary(fu.problems, unit_id))

# %%
page.table(followup.problems_table(fu.problems, unit_id), empty="无。")

# %%
page.para("{text}", text=followup.coverage_summary(fu.coverage, unit_id))

# %% [markdown]
# ## 各评议内容

# %%
dims = scores.dimensions(res, unit_id)
report.figure(charts.dimensions_bar(dims, unit["name"]))

# %%
page.table(dims.drop(columns="item"))

# %% [markdown]
# ## 答案分布

# %%
report.figure(charts.distribution_bar(scores.answer_distribution(res, unit_id, "survey"), rs, "问卷调查：各评议内容答案分布"))

# %%
page.table(scores.answer_distribution(res, unit_id, "survey").drop(columns="item"), empty="无问卷。")

# %%
report.chart(scores.answer_distribution(res, unit_id, "onsite"),
             lambda d: charts.distribution_bar(d, rs, "现场评议：各评议内容答案分布"), "本单位没有现场评议。")

# %% [markdown]
# ## 按调查对象类别和渠道

# %%
by_category = scores.breakdown(res, unit_id, "respondent_category")
report.figure(charts.breakdown_bar(by_category, "调查对象类别", rs.talk_threshold, "各类调查对象的问卷调查指数"))

# %%
page.table(by_category)

# %%
by_channel = scores.breakdown(res, unit_id, "channel")
page.table(by_channel)

# %%
page.table(uncertainty.mix_overview(res, unit_id), empty="未设定调查对象目标比例。")

# %% [markdown]
# ## 现场评议代表构成

# %%
panel = scores.panel(res, unit_id)
report.chart(panel, lambda d: charts.panel_bar(d, rs.panel_min_share), "本单位没有现场评议。")

# %%
page.table(panel)

# %% [markdown]
# ## 实例调查与加分

# %%
page.table(scores.cases(res, unit_id), empty="无实例调查案例。")

# %%
page.table(scores.bonuses(res, unit_id), empty="无加分。")

# %% [markdown]
# ## 整改台账

# %%
page.para("整改台账截至{day}。", day=fu.report_date.strftime("%Y-%m-%d"))

# %%
page.table(followup.ledger_table(fu.ledger, unit_id), empty="本单位无整改事项。")

# %% [markdown]
# ## 工作节点报送情况

# %%
page.table(followup.timeline_table(fu.timeline, unit_id), empty="本单位无需报送工作节点材料。")

# %% [markdown]
# ## 回头看：与上一年比较

# %%
page.table(followup.lookback_table(fu.compare, unit_id), empty=followup.NO_PREVIOUS)

# %%
page.table(followup.lookback_dimensions(fu.compare, unit_id, res), empty=followup.NO_PREVIOUS)

# %%
page.table(followup.closure_table(fu.closure, unit_id), empty="上一年无整改事项，或未提供上一年数据。")

# %% [markdown]
# ## 数据质量

# %%
quality = scores.data_quality(res)
page.table(quality[quality["unit_id"] == unit_id].drop(columns="unit_id"))

# %%
page.bullets(scores.unit_warnings(res, unit_id))
