"""Detection numbers for docs/integrity.md: recall and false positives, and the time it takes.

    .venv/bin/python bench/bench_integrity.py [--seeds 20] [--rows 1000000 5000000]

1. The sample rounds: the 2012 tn-win burst (recall) and the clean 2011 round (false positives).
2. The adversarial rounds of tests/integrity_cases.py over many seeds: the share of attack
   questionnaires flagged and excluded (default policy), and honest ones flagged/excluded.
3. ``check`` (detection + policy) on an in-memory round of N questionnaires, 200 units.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pingyi_lib as py  # noqa: E402
from pingyi_lib.dataset.load import Dataset  # noqa: E402
from pingyi_lib.integrity.policy import check  # noqa: E402
from tests import integrity_cases as cases  # noqa: E402

ROUND = {"a": "district", "b": "district", "w": "window"}


def samples() -> None:
    for year in (2011, 2012):
        ds = py.load_dataset(ROOT / "data" / "sample" / str(year))
        found = check(ds)
        s = ds.survey
        injected = s[(s["unit_id"] == "tn-win") & (s["submitted_at"] >= f"{year}-08-21 20:07")
                     & (s["submitted_at"] <= f"{year}-08-21 21:03")] if year == 2012 else s.iloc[:0]
        bad = set(injected["response_id"])
        rows = found.rows
        hit = rows["response_id"].isin(bad)
        print(f"sample {year}: {len(s)} questionnaires, injected {len(bad)}; flagged {hit.sum()} injected + "
              f"{(~hit).sum()} honest; excluded {(rows['excluded'] & hit).sum()} injected + "
              f"{(rows['excluded'] & ~hit).sum()} honest")


def scenarios(rng: np.random.Generator):
    def base():
        return [cases.honest(rng, "a", 400), cases.honest(rng, "a", 200, "paper"), cases.honest(rng, "b", 600),
                cases.honest(rng, "w", 80)]

    surge = np.ones(cases.DAYS)
    surge[20:23] = [6, 4, 2.5]
    tv = cases.honest(rng, "a", 50)
    tv["submitted_at"] = pd.Timestamp("2012-08-15 20:00") + pd.to_timedelta(rng.integers(0, 3600, 50), unit="s")
    return {
        "many devices (100 in 1 h, 100 devices)": [
            *base(), cases.stuffing(rng, "w", 100, pd.Timestamp("2012-08-10 21:00"), 60, devices=100)],
        "few devices (111 in 55 min, 3 devices)": [
            *base(), cases.stuffing(rng, "w", 111, pd.Timestamp("2012-08-21 20:07"), 55, devices=3)],
        "slow drip (3 a day x 14 days, 2 devices)": [*base(), cases.drip(rng, "w", 3, 14, 2)],
        "mixed into traffic (60 in 2 h, 12 devices, varied)": [
            *base(), cases.honest(rng, "b", 800),
            cases.stuffing(rng, "b", 60, pd.Timestamp("2012-08-12 19:00"), 120, devices=12, varied=True)],
        "honest media surge (x6 for days)": [cases.honest(rng, "a", 400, day_weights=surge),
                                             cases.honest(rng, "b", 600), cases.honest(rng, "w", 80)],
        "honest TV evening (50 in 1 h)": [*base(), tv],
    }


def adversarial(seeds: int) -> None:
    totals: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            rng = np.random.default_rng(1000 + seed)
            for name, frames in scenarios(rng).items():
                folder, attack = cases.write_round(Path(tmp) / f"{seed}-{len(totals)}-{abs(hash(name))}", ROUND,
                                                   *frames)
                ds = py.load_dataset(folder)
                rows = check(ds).rows
                hit = rows["response_id"].isin(attack)
                honest = len(ds.survey) - len(attack)
                v = np.array([len(attack), hit.sum(), (hit & rows["excluded"]).sum(), honest, (~hit).sum(),
                              (~hit & rows["excluded"]).sum()], dtype=float)
                totals[name] = totals.get(name, 0) + v
    print(f"\nadversarial rounds, {seeds} seeds each (sums over seeds)")
    print("| scenario | attack rows | flagged | excluded (default policy) | honest rows | honest flagged |"
          " honest excluded |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (n, f, x, h, hf, hx) in totals.items():
        rec = f"{f / n:.1%}" if n else "—"
        exc = f"{x / n:.1%}" if n else "—"
        print(f"| {name} | {int(n)} | {int(f)} ({rec}) | {int(x)} ({exc}) | {int(h)} | {int(hf)} ({hf / h:.3%}) |"
              f" {int(hx)} |")


def synthetic(rows: int, seed: int = 1) -> Dataset:
    """An in-memory round: 200 units, ``rows`` questionnaires, half online with own devices,
    18% commented, plus 20 stuffed bursts of 100 from 3 devices."""
    rng = np.random.default_rng(seed)
    rs = py.load_ruleset()
    units = pd.DataFrame({"row": np.arange(2, 202), "unit_id": [f"u{i:03d}" for i in range(200)],
                          "name": [f"单位{i}" for i in range(200)], "level": ["district"] * 30 + ["window"] * 170,
                          "parent_id": None, "population": 0.0, "quota": 0.0})
    unit = rng.integers(0, 200, rows)
    online = rng.random(rows) < 0.5
    t = pd.Timestamp("2012-07-25").value // 10**9 + rng.integers(0, 38, rows) * 86400 + rng.integers(
        7 * 3600, 23 * 3600, rows)
    attack_units = rng.choice(200, 20, replace=False)
    for k, u in enumerate(attack_units):  # the last 2,000 rows: 20 bursts of 100
        sl = slice(rows - 2000 + 100 * k, rows - 1900 + 100 * k)
        unit[sl], online[sl] = u, True
        t[sl] = pd.Timestamp("2012-08-20 20:00").value // 10**9 + np.sort(rng.integers(0, 3600, 100))
    fp = pd.Series(np.where(online, pd.Series(np.arange(rows)).map("{:x}".format), ""), dtype=object)
    fp.iloc[rows - 2000:] = [f"x{k // 100}-{k % 3}" for k in range(2000)]
    mood = rng.choice(3, rows, p=[.45, .40, .15])
    cum = cases.MOODS[mood].cumsum(axis=1)
    survey = pd.DataFrame({
        "row": np.arange(2, rows + 2), "response_id": pd.Series(np.arange(rows)).map("S{:08d}".format),
        "unit_id": units["unit_id"].to_numpy()[unit], "respondent_category": "",
        "channel": np.where(online, "online", "paper"), "submitted_at": pd.to_datetime(t, unit="s"),
        "fingerprint": fp})
    for it in rs.items:
        survey[it] = (rng.random(rows)[:, None] > cum[:, :-1]).sum(axis=1).astype(np.int8)
    survey.loc[rows - 2000:, list(rs.items)] = 1
    texts = np.array([f"意见{k}：{cases.COMMENTS[k % len(cases.COMMENTS)]}" for k in range(1000)], dtype=object)
    survey["comment"] = np.where(rng.random(rows) < .18, texts[rng.integers(0, 1000, rows)], "")
    survey.loc[rows - 2000:, "comment"] = ""
    counts = pd.DataFrame({"table": ["units", "survey"], "file": ["mem", "mem"], "accepted": [200, rows],
                           "rejected": [0, 0]})
    return Dataset("<memory>", rs, {"units": units, "survey": survey, "violations": pd.DataFrame()},
                   pd.DataFrame(columns=["table", "file", "row", "unit_id", "column", "value", "reason_code",
                                         "reason"]), counts)


def timing(rows_list: list[int]) -> None:
    print("\n| questionnaires | check: CPU | check: wall | flagged | excluded | injected flagged |")
    print("|---:|---:|---:|---:|---:|---:|")
    for rows in rows_list:
        ds = synthetic(rows)
        t0, c0 = time.perf_counter(), time.process_time()
        found = check(ds)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        injected = found.rows["response_id"].isin(set(ds.survey["response_id"].iloc[rows - 2000:]))
        print(f"| {rows:,} | {cpu:.2f} s | {wall:.2f} s | {found.flagged:,} | {found.excluded:,} |"
              f" {int(injected.sum()):,} / 2,000 |")


PLATFORM = ("ip_repeat", "too_fast")


def platform_scenarios(rng: np.random.Generator):
    """Honest online answers with addresses and times (carriers' gateways, offices, homes:
    cases.with_platform) and auto-fill scripts (cases.script), 150 questionnaires over 3 evenings."""
    def base():
        return [cases.with_platform(rng, f) for f in (
            cases.honest(rng, "a", 400), cases.honest(rng, "a", 200, "paper"), cases.honest(rng, "b", 600),
            cases.honest(rng, "w", 80))]

    start = pd.Timestamp("2012-08-05 21:00")
    return {
        "script, one address, answered in 4-12 s": [*base(), cases.script(rng, "w", 150, start, 3, addresses=1)],
        "script, 5 proxy addresses, answered in 4-12 s": [*base(), cases.script(rng, "w", 150, start, 3, 5)],
        "script, a fresh proxy each time, answered in 4-12 s": [*base(), cases.script(rng, "w", 150, start, 3, 150)],
        "script, a fresh proxy each time, answer time faked 60-200 s": [
            *base(), cases.script(rng, "w", 150, start, 3, 150, answer_seconds=(60, 200))],
        "honest only (gateways, offices, homes)": base(),
    }


def platform(seeds: int) -> None:
    totals: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            rng = np.random.default_rng(2000 + seed)
            for k, (name, frames) in enumerate(platform_scenarios(rng).items()):
                folder, attack = cases.write_round(Path(tmp) / f"{seed}-{k}", ROUND, *frames)
                ds = py.load_dataset(folder)
                rows = check(ds).rows
                hit = rows["response_id"].isin(attack)
                by = {r: rows["reasons"].map(lambda x, r=r: r in x) for r in PLATFORM}
                online = int((ds.survey["channel"] == "online").sum()) - len(attack)
                v = np.array([len(attack), (hit & by["ip_repeat"]).sum(), (hit & by["too_fast"]).sum(),
                              hit.sum(), (hit & rows["excluded"]).sum(), online, (~hit & by["ip_repeat"]).sum(),
                              (~hit & by["too_fast"]).sum(), (~hit & rows["excluded"]).sum()], dtype=float)
                totals[name] = totals.get(name, 0) + v
    print(f"\nplatform signals, {seeds} seeds each (sums over seeds)")
    print("| scenario | attack rows | by address | too fast | any reason | excluded | honest online rows |"
          " honest by address | honest too fast | honest excluded |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (n, ip, fast, anyr, x, h, hip, hfast, hx) in totals.items():
        def pct(a, b):
            return f"{int(a):,} ({a / b:.1%})" if b else "—"
        print(f"| {name} | {int(n):,} | {pct(ip, n)} | {pct(fast, n)} | {pct(anyr, n)} | {pct(x, n)} | {int(h):,} | "
              f"{pct(hip, h)} | {pct(hfast, h)} | {int(hx)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rows", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--platform", action="store_true", help="only the platform signals (address, time taken)")
    args = ap.parse_args()
    if args.platform:
        platform(args.seeds)
        return
    samples()
    if args.seeds:
        adversarial(args.seeds)
    if args.rows:
        timing(args.rows)


if __name__ == "__main__":
    main()
