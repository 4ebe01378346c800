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
# A starting point for an analyst: load a round, look at the scores, the rejected rows,
# one unit's answers. Everything here is a library call; copy a cell and change it.

# %% tags=["parameters"]
dataset = "../data/sample/2011"
ruleset = ""
unit_id = "wj"

# %%
import pandas as pd

import pingyi_lib as py
from pingyi_lib.sections import charts
from pingyi_lib.sections import scores

pd.set_option("display.max_columns", 40)
ds = py.load_dataset(dataset, ruleset=ruleset or None)
ds  # accepted and rejected rows per table

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
ds.quarantine.head(20)  # every rejected row, with the reason

# %%
res.items[res.items["unit_id"] == unit_id]

# %%
scores.breakdown(res, unit_id, "respondent_category")

# %%
charts.heatmap(scores.heatmap_frame(res), "各单位各评议内容问卷调查指数")
