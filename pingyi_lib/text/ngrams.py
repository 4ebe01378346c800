"""Character n-grams of short Chinese texts as TF-IDF vectors, for similarity without a
word list or a downloaded model (numpy only).

Chinese has no spaces; a comment's single characters and pairs of neighbouring
characters (跑了, 了三, 三趟) carry its words whatever segmentation would say. Weighting
by inverse document frequency lets the rare pairs (裁量, 亮证) count and the common ones
(执法, 的) hardly at all. Cosine similarity of two vectors is 1 for the same bag of
n-grams and 0 when none is shared.

    >>> space = NgramSpace(["窗口推诿扯皮", "罚款随意"])
    >>> v = space.vectors(["推诿扯皮严重", "罚款太随意"])
    >>> round(float(v[0] @ v[1]), 2)
    0.0
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

_NOT_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")


def letters(text: str) -> str:
    """The text without punctuation or spaces, each run of digits as one "0" (三趟 and 3趟
    stay apart, 5000元 and 20000元 do not)."""
    return _DIGITS.sub("0", _NOT_WORD.sub("", str(text)))


def grams(text: str, sizes: Sequence[int] = (1, 2)) -> Counter[str]:
    """The character n-grams of ``text`` (punctuation dropped) with their counts."""
    s = letters(text)
    return Counter(s[i:i + n] for n in sizes for i in range(len(s) - n + 1))


class NgramSpace:
    """TF-IDF over the character n-grams of a reference corpus.

    ``vectors(texts)`` gives one L2-normalised row per text (n-grams absent from the corpus
    are ignored), so ``a @ b.T`` is the cosine similarity.
    """

    def __init__(self, corpus: Iterable[str], sizes: Sequence[int] = (1, 2)):
        self.sizes = tuple(sizes)
        docs = [grams(t, self.sizes) for t in corpus]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self.vocabulary = {g: i for i, g in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in sorted(df)], dtype=np.float64)

    def rows(self, texts: Sequence[str], *, keep: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text as a sparse L2-normalised row: (column indices, weights).

        ``keep``: a boolean mask of the columns to return (the norm still counts every
        n-gram, so dot products between the returned rows are exact cosines when the
        dropped columns are used by one text only).
        """
        out = []
        for t in texts:
            counts = grams(t, self.sizes)
            idx = np.fromiter((self.vocabulary.get(g, -1) for g in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
            found = idx >= 0
            idx, w = idx[found], tf[found] * self.idf[idx[found]]
            norm = math.sqrt(float(w @ w))
            if norm > 0:
                w = w / norm
            if keep is not None:
                k = keep[idx]
                idx, w = idx[k], w[k]
            out.append((idx, w))
        return out

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Dense rows (for a few texts, such as example sentences)."""
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float64)
        for row, (idx, w) in enumerate(self.rows(texts)):
            out[row, idx] = w
        return out

    def similarity(self, texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """Cosine similarity of each text to each row of ``dense`` (from :meth:`vectors`)."""
        out = np.zeros((len(texts), dense.shape[0]), dtype=np.float64)
        for row, (idx, w) in enumerate(self.rows(texts)):
            out[row] = dense[:, idx] @ w
        return out
