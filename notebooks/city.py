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
# # 全市评议结果
# The whole round: league tables, components, dimensions, satisfaction, consequences.

# %% tags=["parameters"]
dataset = ""  # a dataset folder; empty: the bundled 2011 sample round
ruleset = ""  # a ruleset TOML file; empty: the dataset folder ruleset.toml or the default
plotlyjs = ""  # empty: interactive; inline, or a relative path to plotly.min.js in a report
unit_links = ""  # link pattern to unit reports such as units/{slug}.html; empty: no links
linked_units = []  # unit ids that have a report to link to
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
from pingyi_lib.stats import funnel
from pingyi_lib.text import unmatched

res, last_year, fu = scored_round.load(scored, dataset or str(bundled_round(2011)), ruleset, previous, report_date)
rs = res.ruleset
links = scores.unit_links(linked_units, unit_links)
report = page.Page(plotlyjs)
report.style()

# %%
page.heading(headline.page_title(res, f"{res.dataset.round.title}：全市评议结果"), 1)

# %%
page.show(page.banner(headline.interim_banner(res)), page.banner(res.incomplete))

# %%
page.headline(headline.city_headline(res), "须关注事项：排名靠后和评议结果运用")

# %%
page.headline(headline.city_notes(res), "数据质量提示（不属于评议结果运用）", kind="note")

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
# 问卷和现场评议是抽样调查：换一批受访者，得分会有起伏。下表和下图给出每个单位综合得分的区间、排名区间，以及在重抽样中排名靠后、被约谈、不评优的概率。

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
# 漏斗图：横轴为有效问卷数，虚线为组平均的控制限。落在漏斗内的低分可能只是样本少带来的波动；落在外侧控制限以下的，不是抽样波动能解释的。

# %%
report.figure(charts.funnel_plot(*funnel.funnel(res, "district"), rs.talk_threshold, rs.rank_group_labels["district"] + "：满意度漏斗图"))

# %%
page.table(uncertainty.funnel_table(res, "district"), links=links, link_column=rs.column_labels["unit_id"])

# %%
report.figure(charts.funnel_plot(*funnel.funnel(res, "service"), rs.talk_threshold, rs.rank_group_labels["service"] + "：满意度漏斗图"))

# %%
page.table(uncertainty.funnel_table(res, "service"), links=links, link_column=rs.column_labels["unit_id"])

# %% [markdown]
# ## 评议结果运用

# %%
page.table(scores.consequence_table(res), links=links, link_column=rs.column_labels["unit_id"],
           empty="没有单位触发评议结果运用条款。")

# %% [markdown]
# ### 评议结果运用的稳健性
# 稳健：重抽样中至少95%触发；较可能：75%–95%；可能是抽样波动：不足75%，作出处理前宜慎重。

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
page.table(followup.coverage_table(fu.coverage, res), links=links, link_column=rs.column_labels["unit_id"])

# %% [markdown]
# ### 未归入主题的意见（按相似分组）

# %%
page.para("以下意见反映了问题或提出了建议，但未归入任何主题。在规则文件的主题中补充关键词或例句后重新生成报告，相应的组即归入主题。")

# %%
page.table(followup.unmatched_table(unmatched.unmatched_groups(res.dataset), rs.problems.unmatched.top),
           empty="所有反映问题的意见都已归入主题。")

# %% [markdown]
# ## 整改台账：逾期未完成和今日到期事项

# %%
page.para("{text}", text=followup.ledger_intro(fu))

# %%
page.table(followup.overdue_overview(res, fu.ledger), links=links, link_column=rs.column_labels["unit_id"],
           empty="无整改事项。")

# %%
page.table(followup.ledger_table(followup.attention_items(fu.ledger), ruleset=rs), links=links,
           link_column=rs.column_labels["unit_id"], empty="没有逾期未完成或今日到期的整改事项。")

# %%
page.show(page.note(followup.problems_note(fu.data_problems)),
          page.table(followup.problems_data_table(fu.data_problems), empty=""))

# %% [markdown]
# ## 责任分解
# 各评议内容由谁负责（实施意见三）：全市指数、明显低于组平均的单位、主要问题，以及牵头处室应督促的整改事项。

# %%
page.para("{text}", text=duties.duties_note(res))

# %%
page.table(duties.dimension_table(res, fu))

# %%
page.table(duties.office_table(res, fu), empty="本轮 round.toml 未写处室，整改台账也没有责任处室。")

# %%
page.table(duties.office_items(res, fu), empty="没有牵头处室需要督促的未完成整改事项（未指定牵头处室的评议内容不列入）。")

# %% [markdown]
# ## 工作节点报送情况

# %%
page.table(followup.timeline_table(fu.timeline, ruleset=rs), links=links, link_column=rs.column_labels["unit_id"],
           empty="无工作节点报送记录。")

# %% [markdown]
# ## 回头看：与上一年比较

# %%
page.note(followup.lookback_note(fu.previous))

# %%
page.table(followup.lookback_table(fu.compare, ruleset=rs), links=links, link_column=rs.column_labels["unit_id"])

# %%
report.chart(fu.compare, lambda d: charts.lookback_bar(d, "综合得分变化（今年 − 去年）"), "")

# %%
page.table(followup.closure_overview(res, fu.closure), links=links, link_column=rs.column_labels["unit_id"],
           empty="上一年无整改事项。")

# %% [markdown]
# ## 趋势

# %%
page.para("{text}", text=trend.years_text(fu.trend, rs))

# %%
page.note(trend.movers_text(fu.trend, rs))

# %%
page.table(trend.movers(fu.trend, rs), links=links, link_column=rs.column_labels["unit_id"], empty="")

# %%
page.note(trend.open_items_text(fu.open_past))

# %%
page.table(trend.open_items_table(fu.open_past, rs), links=links, link_column=rs.column_labels["unit_id"], empty="")

# %% [markdown]
# ## 市局自身评议结果

# %%
city_ids = scores.city_unit_ids(res)
page.bullets([scores.unit_summary(res, u) for u in city_ids])

# %%
page.table(scores.city_bureau_table(res), links=links, link_column=rs.column_labels["unit_id"])

# %% [markdown]
# ## 评议纪律：问卷异常检测与违纪认定

# %%
page.para("{text}", text=integrity.city_summary(res))

# %%
page.table(integrity.overview(res), links=links, link_column="单位编码", empty="没有单位的问卷被标记。")

# %%
report.chart(integrity.timeline(res, freq="1D"), lambda d: charts.responses_timeline(d, "被标记单位每日问卷数（红色标记：短时集中提交）"),
             "")  # the table above already says when no unit was flagged

# %%
page.table(integrity.episodes(res), empty="没有发现短时集中提交。")

# %%
page.para("{text}", text=integrity.periods_note(res))
page.table(integrity.periods(res), empty="没有单位出现可疑时段。")

# %%
page.table(integrity.without_flagged(res), links=links, link_column="单位编码",
        empty="不计全部被标记的问卷，各单位的得分、排名和结果运用不变。")

# %%
page.table(integrity.effect(res, changed_only=True), links=links, link_column="单位编码",
        empty="剔除问卷对各单位的得分、排名和结果运用没有影响。")

# %%
page.table(integrity.reviews(res), empty="没有人工复核记录。")

# %%
page.table(integrity.violations(res), empty="没有违反评议纪律的记录。")

# %%
page.table(integrity.worst(res), empty="没有单位被列为最差单位。")

# %% [markdown]
# ## 数据质量

# %%
page.table(scores.table_counts(res))

# %%
page.table(scores.data_quality(res), links=links, link_column=rs.column_labels["unit_id"])

# %%
page.bullets(res.warnings["message"], empty="没有其他数据提示。")

# %%
page.glossary(scores.glossary(res))
