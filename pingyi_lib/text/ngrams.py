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

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float64)
        for row, t in enumerate(texts):
            for g, c in grams(t, self.sizes).items():
                j = self.vocabulary.get(g)
                if j is not None:
                    out[row, j] = 1 + math.log(c)
        out *= self.idf
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norm, out=out, where=norm > 0)
        return out
