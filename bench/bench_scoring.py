"""How fast is load + validate + score on a province-sized round?

    .venv/bin/python bench/bench_scoring.py [--rows 1000000] [--format csv|parquet]

Writes a synthetic round (100 units, N questionnaires, 5% with a bad value) to a temp
folder and times each stage. Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import pingyi_lib as py
from pingyi_lib.scoring import counts


def make_round(folder: Path, rows: int, fmt: str, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    n_units = 100
    units = pd.DataFrame({"unit_id": [f"u{i:03d}" for i in range(n_units)],
                          "name": [f"单位{i}" for i in range(n_units)],
                          "level": ["district"] * 30 + ["window"] * 70})
    labels = np.array(["", "很满意", "比较满意", "基本满意", "不满意", "不了解"], dtype=object)
    survey = pd.DataFrame({
        "response_id": [f"r{i}" for i in range(rows)],
        "unit_id": units["unit_id"].to_numpy()[rng.integers(0, n_units, rows)],
        "channel": np.array(["online", "paper", "phone", "third_party"])[rng.integers(0, 4, rows)],
    })
    for it in ("lawful", "fair", "open", "service", "integrity", "overall"):
        survey[it] = labels[rng.choice(6, rows, p=[0.02, 0.45, 0.25, 0.15, 0.08, 0.05])]
    bad = rng.random(rows) < 0.05
    survey.loc[bad, "fair"] = "非常好"
    if fmt == "parquet":
        units.to_parquet(folder / "units.parquet")
        survey.to_parquet(folder / "survey.parquet")
    else:
        units.to_csv(folder / "units.csv", index=False)
        survey.to_csv(folder / "survey.csv", index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        make_round(folder, a.rows, a.format)
        t0 = time.perf_counter()
        ds = py.load_dataset(folder)
        t1 = time.perf_counter()
        counts.answer_counts(ds.survey, ds.ruleset)
        t2 = time.perf_counter()
        res = py.score(ds)
        t3 = time.perf_counter()
    print(f"{a.rows:,} questionnaires ({a.format}): load+validate {t1 - t0:.2f} s "
          f"({len(ds.quarantine):,} rejected), counts {t2 - t1:.3f} s, score {t3 - t2:.2f} s, "
          f"{len(res.units)} units")


if __name__ == "__main__":
    main()
