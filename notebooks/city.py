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
# # 全市评议结果
# The whole round: league tables, components, dimensions, satisfaction, consequences.

# %% tags=["parameters"]
dataset = "../data/sample/2011"  # a dataset folder
ruleset = ""  # a ruleset TOML file; empty: the dataset folder ruleset.toml or the default
plotlyjs = ""  # empty: interactive; inline, or a relative path to plotly.min.js in a report
unit_links = ""  # link pattern to unit reports such as units/{slug}.html; empty: no links
linked_units = []  # unit ids that have a report to link to
previous = ""  # last year's dataset folder for the look-back; empty: none
report_date = ""  # the day the rectification ledger is read, YYYY-MM-DD; empty: today

# %%
import pingyi_lib as py
from pingyi_lib.output import page
from pingyi_lib.sections import charts
from pingyi_lib.sections import followup
from pingyi_lib.sections import scores
from pingyi_lib.sections import uncertainty
from pingyi_lib.stats import funnel
from pingyi_lib.text import unmatched

res = py.score(py.load_dataset(dataset, ruleset=ruleset or None), intervals=True)
rs = res.ruleset
links = scores.unit_links(linked_units, unit_links)
last_year = py.score(py.load_dataset(previous), intervals=True) if previous else None
fu = followup.FollowUp(res, last_year, report_date)
report = page.Page(plotlyjs)
report.style()

# %%
page.heading(f"{rs.title}：全市评议结果", 1)

# %%
page.para("{text}", text=scores.city_summary(res))

# %% [markdown]
# ## 排名

# %%
page.heading(rs.rank_group_labels["district"], 3)

# %%
page.table(scores.league(res, "district"), links=links, link_column=rs.column_labels["unit_id"])

# %%
page.heading(rs.rank_group_labels["service"], 3)

# %%
page.table(scores.league(res, "service"), links=links, link_column=rs.column_labels["unit_id"])

# %% [markdown]
# ## 抽样误差：得分区间与排名区间
# 问卷和现场评议是抽样调查：换一批受访者，得分会有波动。下表和下图给出每个单位综合得分的区间、排名区间，以及在重抽样中排名靠后、被约谈、不评优的概率。

# %%
page.table(uncertainty.league_intervals(res, "district"), links=links, link_column=rs.column_labels["unit_id"])

# %%
report.figure(charts.caterpillar(res.league("district"), rs.stats.level, rs.rank_group_labels["district"] + "：综合得分及其区间"))

# %%
page.table(uncertainty.league_intervals(res, "service"), links=links, link_column=rs.column_labels["unit_id"])

# %%
report.figure(charts.caterpillar(res.league("service"), rs.stats.level, rs.rank_group_labels["service"] + "：综合得分及其区间"))

# %% [markdown]
# ## 综合得分构成

# %%
report.figure(charts.components_stacked(res.league("district"), rs.rank_group_labels["district"] + "：综合得分构成", rs))

# %%
report.figure(charts.components_stacked(res.league("service"), rs.rank_group_labels["service"] + "：综合得分构成", rs))

# %% [markdown]
# ## 各评议内容（问卷调查指数）

# %%
report.figure(charts.heatmap(scores.heatmap_frame(res, "survey"), "各单位各评议内容问卷调查指数"))

# %% [markdown]
# ## 群众满意度

# %%
report.figure(charts.satisfaction_bar(res.units, rs.talk_threshold, f"群众满意度（{rs.talk_threshold:g}% 为约谈线）"))

# %% [markdown]
# 漏斗图：横轴为有效问卷数，虚线为组平均分的控制限。落在漏斗内的低分可能只是样本小带来的波动；落在外侧控制限以下的，不是抽样波动能解释的。

# %%
report.figure(charts.funnel_plot(*funnel.funnel(res, "district"), rs.talk_threshold, rs.rank_group_labels["district"] + "：满意度漏斗图"))

# %%
report.figure(charts.funnel_plot(*funnel.funnel(res, "service"), rs.talk_threshold, rs.rank_group_labels["service"] + "：满意度漏斗图"))

# %% [markdown]
# ## 评议结果运用

# %%
page.table(scores.consequence_summary(res))

# %%
page.table(res.consequences.drop(columns=["flag"]).rename(
    columns={"unit_id": "单位编码", "name": "单位名称", "label": "结果", "reason": "原因", "consequence": "结果运用"}),
    links=links, link_column="单位编码", empty="没有单位触发评议结果运用条款。")

# %%
page.table(uncertainty.robustness(res), links=links, link_column=rs.column_labels["unit_id"], empty="没有单位被约谈或不评优。")

# %% [markdown]
# ## 调查对象构成与加权敏感性分析

# %%
page.para("{text}", text=uncertainty.weighting_summary(res))

# %%
page.table(uncertainty.weighting_table(res), links=links, link_column=rs.column_labels["unit_id"], empty="未设定目标比例。")

# %%
page.table(uncertainty.mix_gaps(res), links=links, link_column=rs.column_labels["unit_id"], empty="未设定目标比例。")

# %% [markdown]
# ## 群众反映主要问题

# %%
page.para("{text}", text=followup.problems_summary(fu.problems, ""))

# %%
page.table(followup.problems_table(fu.problems, ""), empty="无。")

# %%
page.para("{text}", text=followup.coverage_summary(fu.coverage, ""))

# %% [markdown]
# ### 各单位主题覆盖率

# %%
page.table(followup.coverage_table(fu.coverage, res), links=links, link_column="单位编码")

# %% [markdown]
# ### 未归入主题的意见（按相似分组）

# %%
page.para("以下意见反映了问题或提出了建议，但未归入任何主题。在规则文件的主题中补充关键词或例句后重新生成报告，相应的组即归入主题。")

# %%
page.table(followup.unmatched_table(unmatched.unmatched_groups(res.dataset), rs.problems.unmatched.top),
           empty="所有反映问题的意见都已归入主题。")

# %% [markdown]
# ## 整改台账：逾期未完成事项

# %%
page.para("整改台账截至{day}。", day=fu.report_date.strftime("%Y-%m-%d"))

# %%
page.table(followup.overdue_overview(res, fu.ledger), links=links, link_column="unit_id", empty="无整改事项。")

# %%
page.table(followup.ledger_table(fu.ledger[fu.ledger["overdue"]]), links=links, link_column="单位编码",
        empty="没有逾期未完成的整改事项。")

# %% [markdown]
# ## 工作节点报送情况

# %%
page.table(followup.timeline_table(fu.timeline), links=links, link_column="unit_id", empty="无工作节点报送记录。")

# %% [markdown]
# ## 回头看：与上一年比较

# %%
page.table(followup.lookback_table(fu.compare), links=links, link_column="unit_id", empty=followup.NO_PREVIOUS)

# %%
report.chart(fu.compare, lambda d: charts.lookback_bar(d, "综合得分变化（今年 − 去年）"), followup.NO_PREVIOUS)

# %%
page.table(followup.closure_overview(res, fu.closure), links=links, link_column="unit_id",
        empty="上一年无整改事项，或未提供上一年数据。")

# %% [markdown]
# ## 市局自身评议结果

# %%
city_ids = scores.city_unit_ids(res)
page.bullets([scores.unit_summary(res, u) for u in city_ids])

# %%
page.table(res.units[res.units["unit_id"].isin(city_ids)][
    ["unit_id", "name", "survey_index", "case_points", "bonus_points", "composite", "satisfaction"]],
    links=links, link_column="unit_id")

# %% [markdown]
# ## 数据质量

# %%
page.table(res.dataset.table_counts.drop(columns="file").rename(
    columns={"table": "表", "accepted": "接受行数", "rejected": "拒绝行数"}))

# %%
page.table(scores.data_quality(res), links=links, link_column="unit_id")

# %%
page.bullets(res.warnings["message"])
