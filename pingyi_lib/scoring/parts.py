"""Partial counts: a round counted in parts, on one machine or many, and merged.

The answer counts per unit × item × level (dataset/counted.py ``COUNT_COLUMNS``) add up
over any split of the questionnaires that never puts one ``response_id`` in two parts,
because duplicates are judged within a part. The rule that guarantees it: part ``k`` of
``n`` holds exactly the rows whose id has ``part_of(id, n) == k``, where ``part_of`` is
the first 8 hex digits of the MD5 of the stripped id, modulo ``n`` (the same number in
Python, DuckDB, Spark or SQL: ``CAST('0x' || md5(id)[1:8] AS UBIGINT) % n``).

    pingyi count ROUND_PART_3 --part 3/8 --out part3.parquet     # on each machine
    pingyi score ROUND --counts part*.parquet                     # anywhere
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pingyi_lib.common.errors import DatasetError, OptionError
from pingyi_lib.dataset import carried
from pingyi_lib.dataset.counted import counts_frame
from pingyi_lib.dataset.engine import ENGINE_TABLES
from pingyi_lib.dataset.load import Dataset, days_of, load_dataset
from pingyi_lib.dataset.round import round_info
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.scoring import counts as counts_mod

META = b"pingyi"


def part_of(response_id: str, n: int) -> int:
    """The part (0..n-1) a questionnaire belongs to, by its stripped id."""
    return int(hashlib.md5(response_id.strip().encode("utf-8")).hexdigest()[:8], 16) % n


def parse_part(text: str) -> tuple[int, int]:
    """'3/8' → (3, 8): part 3 of parts 0..7."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise OptionError(f"--part “{text}”不是 K/N 的形式（如 0/4）") from None
    if not 0 <= k < n:
        raise OptionError(f"--part “{text}”：K 应在 0 到 N-1 之间")
    return k, n


def dataset_counts(ds: Dataset) -> pd.DataFrame:
    """The long counts of every response table of a dataset, whichever path read it."""
    parts = [ds.counts[ds.counts["table"] == t] for t in ENGINE_TABLES
             if ds.counts is not None and ds.engines.get(t) in ("duckdb", "counts")]
    parts += [counts_mod.long_counts(ds.tables[t], t, ds.ruleset) for t in ENGINE_TABLES
              if ds.engines.get(t) not in ("duckdb", "counts")]
    return counts_mod.merge_counts(parts)


def check_part(ds: Dataset, part: tuple[int, int]) -> None:
    """Refuse a part that holds an id of another part (its duplicates could not be judged)."""
    from pingyi_lib.dataset import engine, schema

    k, n = part
    for t in ENGINE_TABLES:
        spec = schema.tables(ds.ruleset)[t]
        path = ds.file_of(t)
        if not path:
            continue
        if Path(path).suffix.lower() in (".csv", ".parquet") and engine.available():
            try:
                buckets = engine.part_buckets(path, spec, n)
            except engine.Unsupported:  # line breaks in cells and the like: ask the clean rows
                buckets = pd.Series([part_of(i, n) for i in ds.tables[t][spec.id_column]]).value_counts().to_dict()
        else:
            buckets = pd.Series([part_of(i, n) for i in ds.tables[t][spec.id_column]]).value_counts().to_dict()
        wrong = sum(c for b, c in buckets.items() if b != k)
        if wrong:
            raise DatasetError(f"{path}：有 {wrong} 个{spec.zh}编号不属于第 {k}/{n} 部分；"
                               f"请按 part_of(id, {n}) 拆分各行（见 docs/scale.md）", path=str(path), table=t)


def write_part(ds: Dataset, out: str | Path, part: tuple[int, int] | None = None) -> Path:
    """Write the dataset's counts as a part file (Parquet, with what was accepted and rejected),
    and its clean questionnaires in compact form (dataset/carried.py) for the integrity check."""
    if part is not None:
        check_part(ds, part)
    meta = {"part": f"{part[0]}/{part[1]}" if part else "", "ruleset": ds.ruleset.name,
            "tables": table_totals(ds, ENGINE_TABLES),
            "survey_file": Path(ds.file_of("survey")).name}
    return write_counts(dataset_counts(ds), out, meta, ds.compact_rows("survey"), ds.ruleset)


def table_totals(ds: Dataset, tables) -> dict[str, dict[str, int]]:
    """Accepted and rejected rows of some of a dataset's tables, as a count file's metadata holds them."""
    tc = ds.table_counts[ds.table_counts["table"].isin(tables)]
    return {r.table: {"accepted": int(r.accepted), "rejected": int(r.rejected)} for r in tc.itertuples(index=False)}


def write_counts(counts: pd.DataFrame, out: str | Path, meta: dict, rows: pd.DataFrame | None,
                 ruleset: Ruleset) -> Path:
    """A count file: the long counts, ``meta`` (part, tables' accepted and rejected) and,
    unless None, the survey's clean rows (``carried.with_rows``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tb = carried.with_rows(pa.Table.from_pandas(counts, preserve_index=False), rows, ruleset)
    tb = tb.replace_schema_metadata({META: json.dumps({**meta, "rows": rows is not None}).encode("utf-8")})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tb, out)
    return out


def _meta(p: str | Path) -> dict:
    import pyarrow.parquet as pq

    try:
        meta = json.loads((pq.read_schema(p).metadata or {}).get(META, b"{}"))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DatasetError(f"{p}：不是可读的计数文件（{exc}）", path=str(p)) from None
    if "tables" not in meta:
        raise DatasetError(f"{p}：不是 pingyi count 写出的计数文件", path=str(p))
    return meta


def read_parts(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Merge part files: (counts, accepted/rejected per table). Parts that declare K/N
    must share N and have distinct K (a part given twice would count twice)."""
    frames, seen, totals = [], {}, {}
    for p in paths:
        meta = _meta(p)
        if meta.get("part"):
            k, n = parse_part(meta["part"])
            if seen and next(iter(seen.values()))[1] != n:
                raise DatasetError(f"{p}：第 {k}/{n} 部分的总份数与其他部分不一致", path=str(p))
            if (k, n) in seen.values():
                raise DatasetError(f"{p}：第 {k}/{n} 部分给了两次（会重复计数）", path=str(p))
            seen[str(p)] = (k, n)
        for t, c in meta["tables"].items():
            acc = totals.setdefault(t, {"accepted": 0, "rejected": 0})
            acc["accepted"] += c["accepted"]
            acc["rejected"] += c["rejected"]
        try:
            tb = carried.counts_only(p)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
            raise DatasetError(f"{p}：不是可读的计数文件（{exc}）", path=str(p)) from None
        frames.append(counts_frame(tb.to_pandas().itertuples(index=False, name=None)))
    return counts_mod.merge_counts(frames), totals


def _refuse_shared_ids(rows: pd.DataFrame) -> None:
    """Refuse count files that hold the same questionnaire (an id in two files): its repeat
    would be counted twice, where one machine keeps one (files not split by the rule)."""
    twice = rows["response_id"].duplicated(keep=False).to_numpy()
    if not twice.any():
        return
    shared = rows.loc[twice, ["response_id", "file"]]
    files = "、".join(dict.fromkeys(str(f).split("：")[0] for f in shared["file"]))
    n = shared["response_id"].nunique()
    raise DatasetError(f"{files}：有 {n} 个问卷编号（如 {shared['response_id'].iloc[0]}）出现在不止一个计数文件中，"
                       f"会重复计数；请按 part_of(id, N) 拆分各行并用 --part K/N 计数（见 docs/scale.md）",
                       path=files, table="survey")


def part_label(path: str | Path, meta: dict) -> str:
    """How a part's questionnaires are named in the quarantine: its survey file and part."""
    survey = meta.get("survey_file") or "survey"
    return f"{Path(path).name}：{survey}" + (f"（第 {meta['part']} 部分）" if meta.get("part") else "")


def with_counts(folder: str | Path, parts: Sequence[str | Path], ruleset: Ruleset | str | Path | None = None,
                engine: str | None = None) -> Dataset:
    """The small tables of ``folder`` with the response tables' counts taken from ``parts``,
    and the questionnaires the parts carry (for the integrity check): ``Dataset.unchecked``
    names the parts that carry none."""
    ds = load_dataset(folder, ruleset=ruleset, engine=engine, skip=ENGINE_TABLES)
    merged, totals = read_parts(parts)
    ds.counts = merged
    for t in ENGINE_TABLES:
        ds.engines[t] = "counts"
    rows = [{"table": t, "file": "; ".join(str(p) for p in parts), **totals[t]} for t in ENGINE_TABLES if t in totals]
    ds.table_counts = pd.concat([ds.table_counts[~ds.table_counts["table"].isin(ENGINE_TABLES)],
                                 pd.DataFrame(rows)], ignore_index=True)
    metas = [_meta(p) for p in parts]
    ds.parts = tuple(str(p) for p in parts)
    ds.unchecked = tuple(str(p) for p, m in zip(parts, metas) if not m.get("rows"))
    if not ds.unchecked:
        rows = carried.read_rows(parts, [part_label(p, m) for p, m in zip(parts, metas)], ds.ruleset)
        _refuse_shared_ids(rows)
        ds.tables["survey"] = carried.CarriedTable(rows)
    # the round's year and last date: the questionnaires' days are in the counts, not in rows
    ds.round = round_info(folder, ds.tables, ds.ruleset, days_of(ds.counts, ds.engines))
    return ds
