"""The counts of a round past one machine, on Dask (``dask.distributed``).

A directory of Parquet files of the survey, split by ``scoring.parts.part_of`` (every
copy of an id in one file), is counted one file a task by the same engine that reads
one machine's round (dataset/engine.py); the scheduler only moves the small count
tables, the rejected rows and each file's clean questionnaires in compact form (Arrow,
about 60 bytes a questionnaire: what the integrity check of ``pingyi score --counts``
reads, dataset/carried.py). The sums equal the single-machine counts (tests/test_scale.py).

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")          # or LocalCluster() on one machine
    got = count_parquet_dir(client, "round/", "round/survey-parts/")
    got.counts, got.quarantine, got.accepted, got.rows
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset import carried, counted, engine, schema
from pingyi_lib.dataset.load import load_dataset
from pingyi_lib.scheme.ruleset import Ruleset


@dataclass
class Counted:
    """What :func:`count_parquet_dir` gathers: the counts, the rejected rows, the number of
    accepted rows, and the accepted questionnaires in compact form (an Arrow table of
    ``carried.rows_table``, each row naming its file in ``r.file``; None for another table)."""

    counts: pd.DataFrame
    quarantine: pd.DataFrame
    accepted: int
    rows: object | None


def _count_file(path: str, ruleset: Ruleset, units: frozenset, rejected: frozenset, table: str, n_parts: int):
    """One task: (counts, rejected rows, accepted, the parts its ids fall in, compact rows as
    Arrow) of one file."""
    spec = schema.tables(ruleset)[table]
    sc = engine.scan(path, spec, ruleset, set(units), set(rejected), threads=1)
    rej = sc.rejected.assign(table=table, file=path)
    rows = carried.rows_table(sc.rows.assign(file=Path(path).name), ruleset) if sc.rows is not None else None
    return sc.counts, rej, sc.accepted, set(engine.part_buckets(path, spec, n_parts)), rows


def count_parquet_dir(client, dataset: str | Path, parts_dir: str | Path, table: str = "survey",
                      ruleset: Ruleset | str | Path | None = None) -> Counted:
    """The counts, quarantine rows, accepted rows and compact rows of every ``*.parquet``
    file in ``parts_dir``, one Dask task a file; ``dataset`` gives the units table (and the ruleset)."""
    small = load_dataset(dataset, ruleset=ruleset, skip=engine.ENGINE_TABLES)
    files = sorted(str(p) for p in Path(parts_dir).glob("*.parquet"))
    if not files:
        raise DatasetError(f"{parts_dir}：没有可计数的 .parquet 文件", path=str(parts_dir))
    futures = client.map(_count_file, files, ruleset=small.ruleset, units=small.unit_sets["units"],
                         rejected=small.unit_sets["rejected"], table=table, n_parts=len(files), pure=False)
    results = client.gather(futures)
    owner: dict[int, str] = {}  # the rule that makes the sums exact: every id's part in one file
    for f, (_, _, _, parts, _) in zip(files, results):
        if len(parts) > 1 or any(owner.get(k, f) != f for k in parts):
            raise DatasetError(f"{f}：其中的编号不是 {len(files)} 个部分中的一个（请按 part_of(id, {len(files)}) "
                               "拆分各行，见 docs/scale.md）；否则跨文件的重复编号无法判断", path=f)
        owner.update(dict.fromkeys(parts, f))
    counts = counted.merge_counts([r[0] for r in results])
    rejected = [r[1] for r in results if len(r[1])]
    quarantine = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame()
    rows = [r[4] for r in results if r[4] is not None]
    import pyarrow as pa

    return Counted(counts, quarantine, sum(r[2] for r in results),
                   pa.concat_tables(rows, promote_options="default") if rows else None)
