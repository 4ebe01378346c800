"""The Chinese font stack every page and chart names, and how wide its text can run.

Readers have different fonts: Microsoft YaHei on Windows, PingFang SC on macOS and iOS,
Noto Sans CJK SC or WenQuanYi Micro Hei on Linux (Source Han Sans SC is Adobe's name for
Noto's twin). A layout that fits one of them must fit all: charts size their labels from
:func:`text_width`, which takes the widest of the stack, never one font's metrics.
"""

from __future__ import annotations

import unicodedata

FONT_FAMILIES = ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC")
FONT_STACK = ", ".join(f'"{f}"' for f in FONT_FAMILIES) + ", sans-serif"

# Advance widths in em, a little over the widest of the fonts measured (their hmtx tables,
# Noto Sans CJK SC / WenQuanYi Micro Hei): digits 0.555 / 0.551, Latin letters 0.58 / 0.55 on
# average, '%' 0.92 / 0.83; CJK characters, full-width signs and the ambiguous-width ones
# (…, –, ·) 1 em in both. Microsoft YaHei and PingFang SC are not on Linux to measure: the
# margin above the widest measured stands for them.
EM_DIGIT = 0.56
EM_LATIN = 0.6
EM_NARROW = {".": 0.3, ",": 0.3, ":": 0.3, ";": 0.3, " ": 0.27, "-": 0.36, "+": 0.58, "%": 0.95}
EM_WIDE = 1.0


def text_width(text: str, size: float) -> float:
    """The width in px ``text`` can take at font size ``size`` px in the widest font of the
    stack: an upper bound for layout, not a measurement.

    >>> round(text_width("120", 13), 2)
    21.84
    >>> text_width("满意度", 10)
    30.0
    """
    em = 0.0
    for ch in str(text):
        if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
            em += EM_WIDE
        elif ch.isdigit():
            em += EM_DIGIT
        else:
            em += EM_NARROW.get(ch, EM_LATIN)
    return em * size
