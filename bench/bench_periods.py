"""Suspicious periods (issue 35): how often an auto-fill drip that moves its unit is alerted,
and how often an honest round alerts at all.

    .venv/bin/python bench/bench_periods.py [--seeds 20] [--honest 100]

Every round is built by tests/period_cases.py: seven districts of 300 honest online
questionnaires from a latent-trait model (one general satisfaction drives every item; d1
best liked .. d7 least). A drip is added to one unit (night: three nights 21:00-00:30; day:
working days 09:00-17:00; slow night: twelve nights, one every 10-40 min; one window or
three at once). For each round the drip's effect is measured as the unit's rank with the
drip against its rank in the same round without it, and the round is scored as `pingyi
score` does. A drip is *alerted* when its unit has an alert holding at least half of the
drip's questionnaires. Honest rounds: the same seven districts with no drip, plus a media
peak (150 ordinary questionnaires in an afternoon), a weekend unit or a unit of 30.

Prints one Markdown table (docs/integrity.md and bench/RESULTS.md quote it).

Speed (the detection runs inside the integrity step): ``--without-periods FILE`` writes the
bundled ruleset without ``[integrity.period]`` and ``surge_p``, to time ``pingyi integrity
BIG --format json`` with it against the bundled one (bench/RESULTS.md gives the farm-bench
lines), on a round from bench/generate.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pingyi_lib as py  # noqa: E402
from tests import integrity_cases as ic  # noqa: E402
from tests import period_cases as pc  # noqa: E402

DRIPS = {  # name -> (unit, make(rng))
    "night, 300 in 3 nights, 1 window": ("d6", lambda rng: pc.night_drip(rng, "d6", total=300)),
    "night, 150 in 3 nights, 1 window": ("d6", lambda rng: pc.night_drip(rng, "d6", total=150)),
    "night, 300 in 1 night, 3 windows": ("d6", lambda rng: pc.night_drip(rng, "d6", nights=1, total=300, windows=3)),
    "night, 300 in 12 nights, 3 windows 10-40 min apart": ("d6", lambda rng: pc.tool(
        rng, "d6", [pc.START + pd.Timedelta(days=8 + d, hours=21) for d in range(12)], 3.5, (600, 2400), 300,
        windows=3)),
    "day, 191 in 10 working days, 1 window": ("d7", lambda rng: pc.day_drip(rng, "d7", total=191)),
    "day, 100 in 10 working days, 1 window": ("d7", lambda rng: pc.day_drip(rng, "d7", total=100)),
    "day, 300 in 5 working days, 3 windows": ("d7", lambda rng: pc.day_drip(rng, "d7", days=5, total=300, windows=3)),
}
HONEST = {
    "honest": {},
    "honest + media peak (150 in an afternoon)": {"attack": lambda rng: pc.media_peak(rng, "d3")},
    "honest, one unit answered mostly at weekends": {"d5": lambda rng: pc.weekend_unit(rng, "d5")},
    "honest, one unit of 30": {"d4": lambda rng: pc.honest(rng, "d4", 30, pc.MOODS["d4"])},
}


def _score(frames, tmp: Path, integrity: bool = True):
    folder, attack = ic.write_round(tmp, pc.DISTRICTS, *frames)
    return py.score(py.load_dataset(folder), integrity=integrity), attack


def drip_row(name: str, seeds: int, tmp: Path) -> str:
    unit, make = DRIPS[name]
    moved = alerted = rows = flagged = others = 0
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        honest = pc.honest_round(rng)
        base, _ = _score(honest, tmp / f"b{seed}", integrity=False)
        res, attack = _score(honest + [make(rng)], tmp / f"a{seed}")
        found = res.integrity
        before = base.units.set_index("unit_id").loc[unit, "rank"]
        after = res.units.set_index("unit_id").loc[unit, "rank"]
        inside = found.members.merge(found.alerts[["alert", "unit_id"]], on="alert")
        hit = inside[(inside["unit_id"] == unit) & inside["response_id"].isin(attack)]
        others += int((found.alerts["unit_id"] != unit).any())
        is_flagged = found.rows["reasons"].map(len) > 0
        flagged += int(found.rows.loc[is_flagged, "response_id"].isin(attack).sum())
        rows += len(attack)
        if before - after >= 2:
            moved += 1
            alerted += int(len(hit) >= len(attack) / 2)
    share = f"{alerted / moved:.2f}" if moved else "—"
    return (f"| {name} | {seeds} | {moved} | {alerted} | {share} | {flagged}/{rows} ({flagged / max(rows, 1):.0%}) "
            f"| {others} |")


def honest_row(name: str, seeds: int, tmp: Path) -> str:
    spec = HONEST[name]
    alerting = flagged = burst = 0
    for seed in range(seeds):
        rng = np.random.default_rng(5000 + seed)
        frames = pc.honest_round(rng)
        for unit, make in spec.items():
            if unit == "attack":
                frames.append(make(rng))
            else:
                frames[list(pc.DISTRICTS).index(unit)] = make(rng)
        res, _ = _score(frames, tmp / f"h{seed}")
        found = res.integrity
        alerting += int(len(found.alerts) > 0)
        r = found.rows["reasons"]
        flagged += int(r.map(lambda x: "period" in x).sum())
        burst += int(r.map(lambda x: "burst" in x).sum())
    return f"| {name} | {seeds} | {alerting} | {alerting / seeds:.3f} | {flagged} | {burst} |"


def write_without_periods(path: Path) -> None:
    """The bundled ruleset without ``[integrity.period]`` and ``[integrity.burst] surge_p``."""
    import re

    from pingyi_lib.scheme.ruleset import default_ruleset_path

    text = default_ruleset_path().read_text(encoding="utf-8")
    text = re.sub(r"\[integrity\.period\].*?(?=\n\[)", "", text, flags=re.S)
    text = re.sub(r"^surge_p = .*\n(^ +#.*\n)*", "", text, flags=re.M)
    path.write_text(text, encoding="utf-8")
    rs = py.load_ruleset(path)
    assert rs.integrity.period is None and rs.integrity.surge_p == 0
    print(f"wrote {path}: the bundled ruleset without the period detection")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20, help="rounds per drip")
    ap.add_argument("--honest", type=int, default=100, help="rounds per honest case")
    ap.add_argument("--without-periods", type=Path, metavar="FILE",
                    help="write the bundled ruleset without the period detection to FILE and stop")
    a = ap.parse_args()
    if a.without_periods:
        write_without_periods(a.without_periods)
        return
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print("| drip | rounds | moved its unit ≥ 2 ranks | of those alerted | share | drip rows flagged "
              "| rounds alerting another unit |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name in DRIPS:
            print(drip_row(name, a.seeds, tmp / "d"), flush=True)
        print()
        print("| honest case | rounds | rounds with any alert | share | rows flagged in a period "
              "| rows flagged burst |")
        print("|---|---:|---:|---:|---:|---:|")
        for name in HONEST:
            print(honest_row(name, a.honest, tmp / "h"), flush=True)
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
