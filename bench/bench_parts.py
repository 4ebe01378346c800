"""A round counted in parts and merged, integrity check included (issue 36; docs/scale.md).

    .venv/bin/python bench/bench_parts.py split ROUND DEST --parts 8

splits a round written by ``bench/generate.py`` (Parquet) into ``DEST/part0`` … ``part{N-1}``
by the documented rule (``part_of``: the first 8 hex digits of the MD5 of the stripped id,
modulo N), survey by ``response_id`` and on-site ballots by ``ballot_id``, in DuckDB, the
units table copied into each. Then time, each under ``../shared/tools/capped`` and with
``farm-bench`` (figures in bench/RESULTS.md):

    pingyi count DEST/part3 --part 3/8 --out DEST/c3.parquet          # one holder's count
    pingyi score ROUND --counts DEST/c*.parquet --format csv           # the merge
      --vs 'pingyi score ROUND --format csv'                           # one machine, same round

``sizes DEST`` prints the count files' sizes and bytes per questionnaire.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

SPLIT = {"survey": "response_id", "onsite": "ballot_id"}


def in_part(key: str, n: int, k: int) -> str:
    """DuckDB: is the row's ``key`` in part ``k`` of ``n`` (scoring.parts.part_of)."""
    return f"CAST('0x' || md5(trim(coalesce({key}, '')))[1:8] AS UBIGINT) % {n} = {k}"


def split(src: Path, dest: Path, n: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    for k in range(n):
        part = dest / f"part{k}"
        part.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "units.parquet", part / "units.parquet")
        for table, key in SPLIT.items():
            f = src / f"{table}.parquet"
            rule = in_part(key, n, k)
            con.execute(f"COPY (SELECT * FROM read_parquet('{f}') WHERE {rule}) "
                        f"TO '{part / (table + '.parquet')}' (FORMAT parquet)")
        print(f"part {k}/{n} written", flush=True)


def sizes(dest: Path) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    total_bytes = total_rows = 0
    for f in sorted(dest.glob("c*.parquet")):
        rows = pc.sum(pc.equal(pq.read_table(f, columns=["table"]).column("table"), "rows:survey")).as_py() or 0
        total_bytes += f.stat().st_size
        total_rows += rows
        print(f"{f.name}: {f.stat().st_size / 1e6:.1f} MB, {rows} questionnaires")
    if total_rows:
        print(f"all: {total_bytes / 1e6:.1f} MB, {total_bytes / total_rows:.1f} bytes a questionnaire")


def split_command(sub) -> None:
    """The ``split ROUND DEST --parts N`` command (this file's and bench_dask.py's)."""
    sp = sub.add_parser("split")
    sp.add_argument("round", type=Path)
    sp.add_argument("dest", type=Path)
    sp.add_argument("--parts", type=int, default=8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    split_command(sub)
    sp = sub.add_parser("sizes")
    sp.add_argument("dest", type=Path)
    args = ap.parse_args()
    if args.what == "split":
        split(args.round, args.dest, args.parts)
    else:
        sizes(args.dest)


if __name__ == "__main__":
    main()
