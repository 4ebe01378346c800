"""``pingyi count DATASET --out PART.parquet [--part K/N | --dask ADDRESS --parts-dir DIR]``:
the counts of a round, or of one part of it, with the part's clean questionnaires in compact
form so that ``pingyi score --counts`` judges integrity as one machine does (docs/scale.md).
``cli.py`` only wires this in.
"""

from __future__ import annotations

import sys

from pingyi_lib.output.terminal import shown


def add_parser(dataset_cmd) -> None:
    """The ``count`` subcommand."""
    sp = dataset_cmd("count", "count the answers of a round, or of one part of it, into a Parquet file "
                     "(docs/scale.md)", ("table",))
    sp.add_argument("--out", required=True, metavar="PART.parquet")
    sp.add_argument("--part", metavar="K/N", help="this dataset is part K of N, split by the hash of response_id; "
                    "checked")
    sp.add_argument("--dask", metavar="ADDRESS", help="count the Parquet files of --parts-dir on a Dask cluster "
                    "(a scheduler address, or 'local')")
    sp.add_argument("--parts-dir", metavar="DIR", help="with --dask: the survey as Parquet files, one part each")
    sp.set_defaults(func=cmd_count)


def add_counts_option(sp) -> None:
    """``--counts PART…`` of the commands that read a merged round (score, integrity)."""
    sp.add_argument("--counts", nargs="+", metavar="PART",
                    help="count files from `pingyi count` (merged, with the questionnaires they carry for the "
                         "integrity check); DATASET then gives only the small tables")


def dataset_of(args):
    """The round a command reads: DATASET itself, or its small tables with ``--counts`` merged."""
    if getattr(args, "counts", None):
        from pingyi_lib.scoring.parts import with_counts

        return with_counts(args.dataset, args.counts, ruleset=args.ruleset)
    from pingyi_lib.dataset.load import load_dataset

    return load_dataset(args.dataset, ruleset=args.ruleset)


def command_of(args, name: str) -> str:
    """How to run command ``name`` on the same round (for a hint on stderr)."""
    counts = getattr(args, "counts", None)
    return f"pingyi {name} {args.dataset}" + (" --counts " + " ".join(counts) if counts else "")


def cmd_count(args) -> int:
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.scoring import parts

    part = parts.parse_part(args.part) if args.part else None
    if args.dask:
        return _count_on_dask(args)
    ds = load_dataset(args.dataset, ruleset=args.ruleset)
    parts.write_part(ds, args.out, part)
    n = len(ds.compact_rows("survey"))
    print(f"已写入 {args.out}" + (f"（第 {args.part} 部分）" if part else "") + f"：计数及 {n} 份问卷的检查用明细",
          file=sys.stderr)
    if ds.rejected:
        print(shown(f"注意：共有 {ds.rejected} 行数据被拒绝，未计入计数；逐行原因见 pingyi validate {args.dataset}"),
              file=sys.stderr)
    return 0


def _count_on_dask(args) -> int:
    from dask.distributed import Client, LocalCluster

    from pingyi_lib.dataset.distributed import count_parquet_dir
    from pingyi_lib.dataset.load import load_dataset
    from pingyi_lib.scoring import parts
    from pingyi_lib.scoring.counts import merge_counts

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False) if args.dask == "local" else None
    with Client(cluster or args.dask) as client:
        got = count_parquet_dir(client, args.dataset, args.parts_dir, ruleset=args.ruleset)
    if cluster is not None:
        cluster.close()
    small = load_dataset(args.dataset, ruleset=args.ruleset, skip=("survey",))  # on-site ballots: here
    tables = {"survey": {"accepted": got.accepted, "rejected": len(got.quarantine)},
              **parts.table_totals(small, ("onsite",))}
    parts.write_counts(merge_counts([got.counts, parts.dataset_counts(small)]), args.out,
                       {"part": "", "tables": tables, "survey_file": ""}, got.rows, small.ruleset)
    print(f"已计数 {args.parts_dir} 中的 {got.accepted} 份问卷（{len(got.quarantine)} 行被拒绝），"
          f"连同检查用明细写入 {args.out}", file=sys.stderr)
    return 0
