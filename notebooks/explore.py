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

# %% [markdown]
# # Exploring a round
# Pick a round folder, a unit and a dimension: the tables and charts below the pickers
# update. Further down, the same library calls one by one; copy a cell and change it.
# Start here: run all cells (Run → Run All Cells).

# %% tags=["parameters"]
dataset = ""  # a dataset folder; empty: the bundled 2011 sample round
ruleset = ""  # a ruleset TOML file; empty: the dataset folder ruleset.toml or the default
unit_id = "wj"  # the unit of the cells below the explorer

# %%
import pandas as pd

import pingyi_lib as py
from pingyi_lib.dataset.sample import bundled_round
from pingyi_lib.output.explore import Explorer
from pingyi_lib.sections import charts
from pingyi_lib.sections import scores

pd.set_option("display.max_columns", 40)
Explorer(dataset or None, ruleset or None)  # round folder, unit and dimension pickers

# %%
ds = py.load_dataset(dataset or bundled_round(2011), ruleset=ruleset or None)
ds  # accepted and rejected rows per table

# %%
ds.round  # city, year, title (round.toml or the data)

# %%
print(ds.ruleset.describe())

# %%
res = py.score(ds)
res  # one row per unit

# %%
res.league("district")

# %%
res.consequences

# %%
scores.rejected_rows(res).head(20)  # every rejected row, with the reason

# %%
res.items[res.items["unit_id"] == unit_id]

# %%
scores.breakdown(res, unit_id, "respondent_category")

# %%
charts.heatmap(scores.heatmap_frame(res), "各单位各评议内容问卷调查指数")
