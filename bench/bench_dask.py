"""The Dask path measured against one machine on the same round (issue 38; docs/scale.md).

    .venv/bin/python bench/bench_dask.py split ROUND DEST --parts 8

writes ``DEST/round`` (the units table and the on-site ballots of ROUND, no survey) and
``DEST/survey-parts/partK.parquet`` (ROUND's survey split by the documented rule,
``scoring.parts.part_of``), from a round written by ``bench/generate.py`` (Parquet).

    .venv/bin/python bench/bench_dask.py count DEST --workers 2

starts a ``LocalCluster`` of worker processes (one thread each) and counts the parts on it as
``pingyi count DEST/round --dask ADDRESS --parts-dir DEST/survey-parts`` does, into
``DEST/counts.parquet``; ``pingyi score DEST/round --counts DEST/counts.parquet`` then judges
and scores the round. Timed once, each under ``../shared/tools/capped``, against
``pingyi score ROUND`` (figures in bench/RESULTS.md); the two score tables must be identical.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parts import in_part, split_command  # noqa: E402


def split(src: Path, dest: Path, n: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    (dest / "round").mkdir(parents=True, exist_ok=True)
    (dest / "survey-parts").mkdir(parents=True, exist_ok=True)
    for table in ("units", "onsite"):
        shutil.copy(src / f"{table}.parquet", dest / "round" / f"{table}.parquet")
    for k in range(n):
        con.execute(f"COPY (SELECT * FROM read_parquet('{src / 'survey.parquet'}') "
                    f"WHERE {in_part('response_id', n, k)}) "
                    f"TO '{dest / 'survey-parts' / f'part{k}.parquet'}' (FORMAT parquet)")
        print(f"part {k}/{n} written", flush=True)


def count(dest: Path, workers: int, memory: str) -> int:
    from dask.distributed import LocalCluster

    from pingyi_lib.cli import main as pingyi

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory,
                      dashboard_address=None) as cluster:
        started = time.perf_counter()
        rc = pingyi(["count", str(dest / "round"), "--dask", cluster.scheduler_address,
                     "--parts-dir", str(dest / "survey-parts"), "--out", str(dest / "counts.parquet")])
        counted = time.perf_counter()
    print(f"cluster started in {started - t0:.1f} s, counted in {counted - started:.1f} s, "
          f"closed in {time.perf_counter() - counted:.1f} s", file=sys.stderr)
    return rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    split_command(sub)
    sp = sub.add_parser("count")
    sp.add_argument("dest", type=Path)
    sp.add_argument("--workers", type=int, default=2)
    sp.add_argument("--memory", default="4GB", help="each worker's memory limit (Dask spills and pauses under it)")
    args = ap.parse_args()
    if args.what == "split":
        split(args.round, args.dest, args.parts)
        return 0
    return count(args.dest, args.workers, args.memory)


if __name__ == "__main__":
    sys.exit(main())
