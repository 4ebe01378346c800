"""A store of pingyi's own objects (Results, Dataset, FollowUp …) as Arrow and JSON files,
reading which never runs code the files bring with them.

``pickle`` rebuilds whatever objects a file names, so whoever can replace a pickle runs code
where it is loaded. This store writes a folder::

    bundle.json        the object tree: plain values, and tags for what JSON cannot hold
    frames/N.arrow     every DataFrame, Series and Index: an Arrow IPC (Feather) file, columns
                       renamed c0..cn, their labels in JSON
    arrays/N.npy       every numpy array (read with allow_pickle=False)

and reads it back with a fixed list of value types. An object is rebuilt only when its class
is defined in ``pingyi_lib`` (looked up by module and name, never imported from elsewhere),
without calling its ``__init__``: its saved state is set as pickle would set it. Anything the
store cannot write faithfully raises :class:`StoreError` on writing, never a silent loss.

Objects shared by several parents (the ruleset of a round and of its dataset, one quarantine
frame in two places) are written once and shared again when read.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT = "pingyi-store/2"
MANIFEST = "bundle.json"
OWN_PACKAGE = "pingyi_lib"


class StoreError(ValueError):
    """A value the store cannot write faithfully, or a folder that is not a store."""


def _plain_text_column(s: pd.Series) -> bool:
    """An object column Arrow keeps as it is: text and missing values only (anything else,
    such as tuples or mixed types, is written as tagged JSON values)."""
    return all(isinstance(v, str) or v is None for v in s.to_numpy())


class _Writer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.memo: dict[int, int] = {}
        self.keep: list = []  # objects memoised by id stay alive while writing
        self.files = 0

    def _file(self, kind: str, suffix: str) -> tuple[int, Path]:
        self.files += 1
        (self.folder / kind).mkdir(exist_ok=True)
        return self.files, self.folder / kind / f"{self.files}{suffix}"

    def _frame(self, df: pd.DataFrame) -> dict:
        import pyarrow as pa
        import pyarrow.feather as feather

        out: dict = {"columns": [self.value(c) for c in df.columns], "columns_name": self.value(df.columns.name),
                     "attrs": self.value(dict(df.attrs)), "json_columns": {}}
        data = {}
        for i in range(df.shape[1]):
            s = df.iloc[:, i]
            if isinstance(s.dtype, pd.CategoricalDtype):  # codes in Arrow, categories (with their dtype) apart
                out.setdefault("categoricals", {})[str(i)] = {"categories": self.value(s.cat.categories),
                                                              "ordered": bool(s.cat.ordered)}
                data[f"c{i}"] = s.cat.codes.to_numpy()
            elif s.dtype == object and not _plain_text_column(s):
                out["json_columns"][str(i)] = [self.value(v) for v in s.to_numpy()]
            else:
                data[f"c{i}"] = s.to_numpy() if s.dtype == object else s.array
                if s.dtype == object:
                    out.setdefault("object_columns", []).append(i)
        idx = df.index
        if isinstance(idx, pd.RangeIndex):
            out["index"] = {"range": [idx.start, idx.stop, idx.step], "name": self.value(idx.name)}
        elif isinstance(idx, pd.MultiIndex) or (idx.dtype == object and not _plain_text_column(idx.to_series())):
            out["index"] = {"values": [self.value(v) for v in idx], "names": self.value(list(idx.names)),
                            "multi": isinstance(idx, pd.MultiIndex)}
        else:
            data["i0"] = idx.to_numpy() if idx.dtype == object else idx.array
            out["index"] = {"column": "i0", "name": self.value(idx.name), "object": idx.dtype == object}
        frame = pd.DataFrame(data, index=pd.RangeIndex(len(df)))
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise StoreError(f"a frame with columns {list(df.columns)[:8]} cannot be stored: {exc}") from None
        n, path = self._file("frames", ".arrow")
        feather.write_feather(table, path, compression="uncompressed")
        out["file"] = f"frames/{n}.arrow"
        out["rows"] = len(df)
        return out

    def value(self, v):  # noqa: C901, PLR0911, PLR0912 - one branch per type the store knows
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and not isinstance(v, (bool, np.integer)):
            return v
        if isinstance(v, float) and not isinstance(v, np.floating):
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, np.generic):
            if isinstance(v, np.datetime64 | np.timedelta64):
                return {"$np": str(v.dtype), "array": self._array(np.asarray(v))}
            return {"$np": v.dtype.str, "v": self.value(v.item())}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, tuple) and type(v) is tuple:
            return {"$tuple": [self.value(x) for x in v]}
        if isinstance(v, (set, frozenset)):
            items = [self.value(x) for x in v]
            items.sort(key=lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False))
            return {"$frozenset" if isinstance(v, frozenset) else "$set": items}
        if type(v) is dict:
            return {"$dict": [[self.value(k), self.value(x)] for k, x in v.items()]}
        if isinstance(v, pd.Timestamp):
            return {"$timestamp": v.isoformat()}
        if v is pd.NaT:
            return {"$nat": 1}
        if isinstance(v, pd.Timedelta):
            return {"$timedelta": int(v.value)}
        if isinstance(v, dt.datetime):
            return {"$datetime": v.isoformat()}
        if isinstance(v, dt.date):
            return {"$date": v.isoformat()}
        if isinstance(v, dt.timedelta):
            return {"$pytimedelta": [v.days, v.seconds, v.microseconds]}
        if v is pd.NA:
            return {"$na": 1}
        # everything below can be shared: written once, referred to again
        key = id(v)
        if key in self.memo:
            return {"$ref": self.memo[key]}
        ref = len(self.memo)
        self.memo[key] = ref
        self.keep.append(v)
        if isinstance(v, pd.DataFrame):
            return {"$frame": self._frame(v), "$id": ref}
        if isinstance(v, pd.Series):
            return {"$series": self._frame(v.to_frame(name=0)), "name": self.value(v.name), "$id": ref}
        if isinstance(v, pd.Index):
            return {"$index": self._frame(pd.DataFrame(index=v)), "$id": ref}
        if isinstance(v, np.ndarray):
            return {"$id": ref, **self._ndarray(v)}
        cls = type(v)
        if not cls.__module__.startswith(OWN_PACKAGE + "."):
            raise StoreError(f"{cls.__module__}.{cls.__qualname__} cannot be stored")
        out = {"$obj": f"{cls.__module__}:{cls.__qualname__}", "$id": ref}
        if isinstance(v, dict):
            out["items"] = [[self.value(k), self.value(x)] for k, x in dict.items(v)]
        state = v.__getstate__()
        if state is not None:
            out["state"] = self.value(dict(state) if isinstance(state, dict) else state)
        return out

    def _ndarray(self, a: np.ndarray) -> dict:
        if a.dtype == object:
            return {"$objarray": [self.value(x) for x in a.ravel().tolist()], "shape": list(a.shape)}
        return {"$array": self._array(a)}

    def _array(self, a: np.ndarray) -> str:
        n, path = self._file("arrays", ".npy")
        with open(path, "wb") as f:
            np.save(f, np.ascontiguousarray(a), allow_pickle=False)
        return f"arrays/{n}.npy"


class _Reader:
    def __init__(self, folder: Path):
        self.folder = folder
        self.shared: dict[int, object] = {}

    def _path(self, rel: str) -> Path:
        p = (self.folder / rel).resolve()
        if self.folder.resolve() not in p.parents:
            raise StoreError(f"{rel} is outside the store")
        return p

    def _frame(self, meta: dict) -> pd.DataFrame:
        import pyarrow.feather as feather

        frame = feather.read_table(self._path(meta["file"]), memory_map=False).to_pandas()
        ncols = len(meta["columns"])
        json_columns = meta["json_columns"]
        categoricals = meta.get("categoricals", {})
        objects = set(meta.get("object_columns", ()))  # text in object columns, read back as str

        def column(i: int):
            if str(i) in json_columns:
                values = json_columns[str(i)]
                return np.fromiter((self.value(x) for x in values), dtype=object, count=len(values))
            s = frame[f"c{i}"]
            if str(i) in categoricals:
                c = categoricals[str(i)]
                dtype = pd.CategoricalDtype(self.value(c["categories"]), ordered=c["ordered"])
                return pd.Categorical.from_codes(s.to_numpy(), dtype=dtype)
            return s.to_numpy(dtype=object, na_value=None) if i in objects else s.array

        ix = meta["index"]
        if "range" in ix:
            index = pd.RangeIndex(*ix["range"], name=self.value(ix["name"]))
        elif "column" in ix:
            values = frame.pop(ix["column"])
            index = pd.Index(values.to_numpy(dtype=object, na_value=None) if ix.get("object") else values.array,
                             dtype=object if ix.get("object") else None, name=self.value(ix["name"]))
        else:
            values = [self.value(x) for x in ix["values"]]
            names = self.value(ix["names"])
            index = (pd.MultiIndex.from_tuples(values, names=names) if ix["multi"]
                     else pd.Index(values, dtype=object, name=names[0]))
        special = {int(i) for i in json_columns} | {int(i) for i in categoricals} | objects
        if not ncols:
            df = pd.DataFrame(index=pd.RangeIndex(meta["rows"]))
        elif special:  # columns Arrow does not read back as they were
            df = pd.DataFrame({i: pd.Series(column(i), copy=False, dtype=object if i in objects or str(i) in
                                            json_columns else None) if i in special else frame[f"c{i}"]
                               for i in range(ncols)}, copy=False)
        else:
            df = frame
        df.index = index
        if ncols:
            df.columns = pd.Index([self.value(c) for c in meta["columns"]], name=self.value(meta["columns_name"]))
        df.attrs = self.value(meta["attrs"])
        return df

    def value(self, v):  # noqa: C901, PLR0911, PLR0912
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, dict):
            raise StoreError(f"unexpected value {type(v).__name__} in the store")
        if "$ref" in v:
            return self.shared[v["$ref"]]
        if "$float" in v:
            return float(v["$float"])
        if "$np" in v:
            if "array" in v:
                return np.load(self._path(v["array"]), allow_pickle=False)[()]
            return np.dtype(v["$np"]).type(self.value(v["v"]))
        if "$tuple" in v:
            return tuple(self.value(x) for x in v["$tuple"])
        if "$set" in v:
            return {self.value(x) for x in v["$set"]}
        if "$frozenset" in v:
            return frozenset(self.value(x) for x in v["$frozenset"])
        if "$dict" in v:
            return {self.value(k): self.value(x) for k, x in v["$dict"]}
        if "$timestamp" in v:
            return pd.Timestamp(v["$timestamp"])
        if "$nat" in v:
            return pd.NaT
        if "$timedelta" in v:
            return pd.Timedelta(v["$timedelta"])
        if "$datetime" in v:
            return dt.datetime.fromisoformat(v["$datetime"])
        if "$date" in v:
            return dt.date.fromisoformat(v["$date"])
        if "$pytimedelta" in v:
            d, s, us = v["$pytimedelta"]
            return dt.timedelta(days=d, seconds=s, microseconds=us)
        if "$na" in v:
            return pd.NA
        ref = v["$id"]
        if "$frame" in v:
            out = self._frame(v["$frame"])
        elif "$series" in v:
            out = self._frame(v["$series"]).iloc[:, 0].rename(self.value(v["name"]))
        elif "$index" in v:
            out = self._frame(v["$index"]).index
        elif "$array" in v:
            out = np.load(self._path(v["$array"]), allow_pickle=False)
        elif "$objarray" in v:
            items = v["$objarray"]
            out = np.fromiter((self.value(x) for x in items), dtype=object, count=len(items)).reshape(v["shape"])
        elif "$obj" in v:
            return self._object(v, ref)  # shared as soon as made: its children may refer back to it
        else:
            raise StoreError(f"unknown entry {sorted(v)[:3]} in the store")
        self.shared[ref] = out
        return out

    def _object(self, v: dict, ref: int):
        cls = own_class(v["$obj"])
        obj = cls.__new__(cls)
        self.shared[ref] = obj  # before its state: a child may refer back to it
        if "items" in v:
            for k, x in v["items"]:
                dict.__setitem__(obj, self.value(k), self.value(x))
        if "state" in v:
            state = self.value(v["state"])
            if hasattr(obj, "__setstate__"):
                obj.__setstate__(state)
            else:
                obj.__dict__.update(state)
        return obj


def own_class(name: str) -> type:
    """A class of pingyi_lib by ``module:qualname``; anything else is refused."""
    module, _, qualname = name.partition(":")
    if not module.startswith(OWN_PACKAGE + ".") or not qualname.isidentifier():
        raise StoreError(f"{name} is not a pingyi class")
    cls = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(cls, type) or cls.__module__ != module:
        raise StoreError(f"{name} is not a pingyi class")
    return cls


def write(obj, folder: str | Path) -> Path:
    """Write ``obj`` into the empty or new folder ``folder``; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    w = _Writer(folder)
    tree = {"format": FORMAT, "value": w.value(obj)}
    (folder / MANIFEST).write_text(json.dumps(tree, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return folder


def read(folder: str | Path):
    """The object :func:`write` wrote into ``folder``."""
    folder = Path(folder)
    try:
        tree = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{folder} is not a pingyi store: {exc}") from None
    if not isinstance(tree, dict) or tree.get("format") != FORMAT:
        raise StoreError(f"{folder} is not a pingyi store of format {FORMAT}")
    return _Reader(folder).value(tree["value"])
