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
from pingyi_lib import charts
from pingyi_lib import present as P
from pingyi_lib import views as V
from pingyi_lib import views_followup as VF

res = py.score(py.load_dataset(dataset, ruleset=ruleset or None))
rs = res.ruleset
unit = res.unit(unit_id)
fu = VF.FollowUp(res, previous, report_date)
page = P.Page(plotlyjs)
page.style()

# %%
P.heading(f"{unit['name']}　{rs.title}评议结果", 1)

# %%
P.para("{text}", text=V.unit_summary(res, unit_id))

# %%
P.card(V.score_card(res, unit_id))

# %% [markdown]
# ## 评议结果运用

# %%
P.table(V.unit_consequences(res, unit_id), empty="本单位未触发评议结果运用条款。")

# %% [markdown]
# ## 群众反映主要问题

# %%
P.para("{text}", text=VF.problems_summary(fu.problems, unit_id))

# %%
P.table(VF.problems_table(fu.problems, unit_id), empty="无。")

# %% [markdown]
# ## 各评议内容

# %%
dims = V.dimensions(res, unit_id)
page.figure(charts.dimensions_bar(dims, unit["name"]))

# %%
P.table(dims.drop(columns="item"))

# %% [markdown]
# ## 答案分布

# %%
page.figure(charts.distribution_bar(V.answer_distribution(res, unit_id, "survey"), rs, "问卷调查：各评议内容答案分布"))

# %%
P.table(V.answer_distribution(res, unit_id, "survey").drop(columns="item"), empty="无问卷。")

# %%
page.chart(V.answer_distribution(res, unit_id, "onsite"),
           lambda d: charts.distribution_bar(d, rs, "现场评议：各评议内容答案分布"), "本单位没有现场评议。")

# %% [markdown]
# ## 按调查对象类别和渠道

# %%
by_category = V.breakdown(res, unit_id, "respondent_category")
page.figure(charts.breakdown_bar(by_category, "调查对象类别", rs.talk_threshold, "各类调查对象的问卷调查指数"))

# %%
P.table(by_category)

# %%
by_channel = V.breakdown(res, unit_id, "channel")
P.table(by_channel)

# %% [markdown]
# ## 现场评议代表构成

# %%
panel = V.panel(res, unit_id)
page.chart(panel, lambda d: charts.panel_bar(d, rs.panel_min_share), "本单位没有现场评议。")

# %%
P.table(panel)

# %% [markdown]
# ## 实例调查与加分

# %%
P.table(V.cases(res, unit_id), empty="无实例调查案例。")

# %%
P.table(V.bonuses(res, unit_id), empty="无加分。")

# %% [markdown]
# ## 整改台账

# %%
P.para("整改台账截至{day}。", day=fu.report_date.strftime("%Y-%m-%d"))

# %%
P.table(VF.ledger_table(fu.ledger, unit_id), empty="本单位无整改事项。")

# %% [markdown]
# ## 工作节点报送情况

# %%
P.table(VF.timeline_table(fu.timeline, unit_id), empty="本单位无需报送工作节点材料。")

# %% [markdown]
# ## 回头看：与上一年比较

# %%
P.table(VF.lookback_table(fu.compare, unit_id), empty=VF.NO_PREVIOUS)

# %%
P.table(VF.lookback_dimensions(fu.compare, unit_id, res), empty=VF.NO_PREVIOUS)

# %%
P.table(VF.closure_table(fu.closure, unit_id), empty="上一年无整改事项，或未提供上一年数据。")

# %% [markdown]
# ## 数据质量

# %%
quality = V.data_quality(res)
P.table(quality[quality["unit_id"] == unit_id].drop(columns="unit_id"))

# %%
P.bullets(V.unit_warnings(res, unit_id))
