"""What a questionnaire says, in the forms the stuffing detectors compare (detect.py):
answers all alike (straight-lining), comments normalised, and the answers with the comment
as one code, the same for the same content.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd


def straightlined(answers: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Every scored item answered, and every answered item with the same level.

    >>> straightlined(np.array([[1, 1, 1, 0], [1, 1, 2, 1], [0, 1, 1, 1]]), np.array([True, True, True, False]))
    array([ True, False, False])
    """
    first = answers[:, 0]
    return (answers[:, scored] != 0).all(axis=1) & ((answers == first[:, None]) | (answers == 0)).all(axis=1)


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_comment(text: pd.Series) -> pd.Series:
    """The form comments are compared in: NFKC (full-width as half-width), lower-case,
    without whitespace and punctuation ("服务好！" = "服务好!" = " 服务好")."""
    return text.map(lambda s: _PUNCT.sub("", unicodedata.normalize("NFKC", s).lower()))


def comment_codes(codes: np.ndarray, uniques: pd.Index) -> np.ndarray:
    """The same code for comments that are the same after :func:`normalise_comment`, from a
    comment column's codes into its distinct texts (normalising each distinct text once).

    >>> comment_codes(np.array([0, 1, 2]), pd.Index(["服务好！", " 服务好", "慢"])).tolist()
    [0, 0, 1]
    """
    same, _ = pd.factorize(normalise_comment(pd.Series(uniques.astype(str), dtype=object)).to_numpy(dtype=object))
    return same.astype(np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def pack_answers(answers: np.ndarray) -> np.ndarray:
    """Each questionnaire's answers as one integer: the same integer for the same answers.

    >>> pack_answers(np.array([[1, 2], [2, 1], [1, 2]], dtype=np.int8)).tolist()
    [7, 5, 7]
    """
    base = int(answers.max(initial=0)) + 1
    if base ** answers.shape[1] < 2 ** 62:  # one item at a time: numpy has no fast integer matrix product
        packed = np.zeros(answers.shape[0], dtype=np.int64)
        for j in range(answers.shape[1]):
            column = answers[:, j].astype(np.int64)
            column *= base ** j
            packed += column
        return packed
    return np.unique(answers, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
