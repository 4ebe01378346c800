"""`pingyi progress` against `pingyi validate` on the same big round (issue 26: within 1.5×).

    .venv/bin/python bench/bench_progress.py DIR [--rows 1000000] [--format csv|parquet]

Writes the round with bench/generate.py (200 units, the 2011 window, about 1% bad rows),
then prints the two commands to time as whole processes, pair by pair, as bench/RESULTS.md
quotes them (`progress` reads the round as `validate` does, cuts it at the day, runs the
integrity check and counts per unit and day). ``--time`` runs each once here as a quick look.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINGYI = Path(sys.executable).parent / "pingyi"
DAY = "2011-08-20"  # inside the window: the cut, the pace and the projections all do their work


def commands(folder: Path) -> dict[str, list[str]]:
    return {"validate": [str(PINGYI), "validate", str(folder), "--format", "json"],
            "progress": [str(PINGYI), "progress", str(folder), "--as-of", DAY, "--format", "json"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--time", action="store_true", help="run each command once and print its seconds")
    a = ap.parse_args()
    if not (a.dir / "units.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(a.dir), "--rows", str(a.rows),
                        "--format", a.format], check=True)
    for name, cmd in commands(a.dir).items():
        print(f"{name}: {' '.join(cmd)}")
        if a.time:
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
            print(f"  {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
