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

# %%
import pingyi_lib as py
from pingyi_lib import charts
from pingyi_lib import present as P
from pingyi_lib import views as V

res = py.score(py.load_dataset(dataset, ruleset=ruleset or None))
rs = res.ruleset
links = V.unit_links(linked_units, unit_links)
page = P.Page(plotlyjs)
page.style()

# %%
P.heading(f"{rs.title}：全市评议结果", 1)

# %%
P.para("{text}", text=V.city_summary(res))

# %% [markdown]
# ## 排名

# %%
P.heading(rs.rank_group_labels["district"], 3)

# %%
P.table(V.league(res, "district"), links=links, link_column="unit_id")

# %%
P.heading(rs.rank_group_labels["service"], 3)

# %%
P.table(V.league(res, "service"), links=links, link_column="unit_id")

# %% [markdown]
# ## 综合得分构成

# %%
page.figure(charts.components_stacked(res.league("district"), rs.rank_group_labels["district"] + "：综合得分构成"))

# %%
page.figure(charts.components_stacked(res.league("service"), rs.rank_group_labels["service"] + "：综合得分构成"))

# %% [markdown]
# ## 各评议内容（问卷调查指数）

# %%
page.figure(charts.heatmap(V.heatmap_frame(res, "survey"), "各单位各评议内容问卷调查指数"))

# %% [markdown]
# ## 群众满意度

# %%
page.figure(charts.satisfaction_bar(res.units, rs.talk_threshold, f"群众满意度（{rs.talk_threshold:g}% 为约谈线）"))

# %% [markdown]
# ## 评议结果运用

# %%
P.table(V.consequence_summary(res))

# %%
P.table(res.consequences.drop(columns=["flag"]).rename(
    columns={"unit_id": "单位编码", "name": "单位名称", "label": "结果", "reason": "原因", "consequence": "结果运用"}),
    links=links, link_column="单位编码", empty="没有单位触发评议结果运用条款。")

# %% [markdown]
# ## 市局自身评议结果

# %%
city_ids = V.city_unit_ids(res)
P.bullets([V.unit_summary(res, u) for u in city_ids])

# %%
P.table(res.units[res.units["unit_id"].isin(city_ids)][
    ["unit_id", "name", "survey_index", "case_points", "bonus_points", "composite", "satisfaction"]],
    links=links, link_column="unit_id")

# %% [markdown]
# ## 数据质量

# %%
P.table(res.dataset.table_counts.drop(columns="file").rename(
    columns={"table": "表", "accepted": "接受行数", "rejected": "拒绝行数"}))

# %%
P.table(V.data_quality(res), links=links, link_column="unit_id")

# %%
P.bullets(res.warnings["message"])
