"""The radical table that makes a PDF's text layer comparable (tests/pdf_text.py)."""

from __future__ import annotations

import unicodedata

from tests.pdf_text import KANGXI, SUPPLEMENT, ideographs


def test_the_radicals_seen_in_chromium_pdfs_read_as_their_ideographs():
    # the three of issue 33: ⺠ (supplement) for 民, ⾏ and ⽐ (Kangxi) for 行 and 比
    assert ideographs("人\u2ea0\u2f8f政\u2f50较") == "人民行政比较"
    assert ideographs("\u2ed3\u2ee2\u2ec5") == "长马见"  # ⻓ ⻢ ⻅: simplified forms from the supplement


def test_every_radical_maps_to_one_unified_ideograph():
    assert len(SUPPLEMENT) == 114 and len(KANGXI) == 214
    for cp in [*SUPPLEMENT, *KANGXI]:
        out = ideographs(chr(cp))
        assert len(out) == 1 and unicodedata.name(out).startswith("CJK UNIFIED IDEOGRAPH"), hex(cp)
        assert unicodedata.name(chr(cp)).split()[1] == "RADICAL", hex(cp)


def test_text_without_radicals_is_unchanged():
    text = "政务服务窗口和基层站所：满意度漏斗图（120份）ABC ，。%"
    assert ideographs(text) == text
    assert ideographs("\u2e80\u2e9a") == "\u2e80\u2e9a"  # no ideograph in Unicode's table: kept
