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
from pingyi_lib.text.matching import matcher
from pingyi_lib.text.themes import texts

_CJK = re.compile(r"[\u4e00-\u9fff]")  # a word worth counting has a Chinese character (not 13912345678, com)


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


def _words(tk, text: str, skip: frozenset[str]) -> set[str]:
    return {w for w in tk.lcut(str(text)) if len(w) >= 2 and w not in skip and _CJK.search(w)}


def _count(freq: pd.Series, rs: Ruleset, skip: frozenset[str]) -> Counter[str]:
    tk = _tokenizer(tuple(sorted(matcher(rs.problems).keyword_forms())))
    counter: Counter[str] = Counter()
    for text, n in freq.items():  # each distinct text segmented once
        for w in _words(tk, text, skip):
            counter[w] += int(n)
    return counter


def keywords(ds: Dataset, unit_id: str | None = None, top: int = 15, ruleset: Ruleset | None = None) -> pd.DataFrame:
    """The most frequent words in the public's texts (jieba, stop words removed).

    Columns: keyword, count (texts containing it). ``unit_id=None``: the whole city.
    """
    rs = ruleset or ds.ruleset
    tx = texts(ds)
    if unit_id is not None:
        tx = tx[tx["unit_id"] == unit_id]
    counter = _count(tx["text"].value_counts(), rs, stopwords())
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return pd.DataFrame(items, columns=["keyword", "count"]).astype({"count": np.int64})


def common_words(freq: pd.Series, ruleset: Ruleset, top: int = 5) -> list[str]:
    """The words in most of the texts of ``freq`` (index: text, value: how many times),
    stop words and the ruleset's ``problems.domain_words`` left out: a label for a group
    of comments and a hint for a keyword."""
    counter = _count(freq, ruleset, stopwords() | frozenset(ruleset.problems.domain_words))
    return [w for w, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
