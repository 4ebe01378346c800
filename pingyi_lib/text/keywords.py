"""The most frequent words in the public's texts, segmented with jieba (its dictionary
ships inside the package: no download) with a stop-word list."""

from __future__ import annotations

import functools
import re
from collections import Counter
from importlib import resources

import numpy as np
import pandas as pd

from pingyi_lib.dataset.load import Dataset
from pingyi_lib.scheme.ruleset import Ruleset
from pingyi_lib.text.themes import texts


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = (resources.files("pingyi_lib.text") / "stopwords-zh.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@functools.lru_cache(maxsize=4)
def _tokenizer(keywords: tuple[str, ...]):
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()  # its own dictionary: the one that ships inside the jieba package
    for k in keywords:
        tk.add_word(k, freq=2000)  # theme keywords stay whole
    return tk


def keywords(ds: Dataset, unit_id: str | None = None, top: int = 15, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """The most frequent words in the public's texts (jieba, stop words removed).

    Columns: keyword, count (texts containing it). ``unit_id=None``: the whole city.
    """
    rs = ruleset or ds.ruleset
    tx = texts(ds)
    if unit_id is not None:
        tx = tx[tx["unit_id"] == unit_id]
    tk = _tokenizer(tuple(sorted({k for t in rs.problems.themes for k in t.keywords})))
    stop = stopwords()
    counter: Counter[str] = Counter()
    for text, n in tx["text"].value_counts().items():  # each distinct text segmented once
        words = {w for w in tk.lcut(str(text)) if len(w) >= 2 and w not in stop and not re.fullmatch(r"[\d\W_]+", w)}
        for w in words:
            counter[w] += int(n)
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return pd.DataFrame(items, columns=["keyword", "count"]).astype({"count": np.int64})
