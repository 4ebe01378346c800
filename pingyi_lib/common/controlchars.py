"""Control characters in text from the data: found, removed or shown, never passed on raw.

A control character (C0 and C1 ranges and DEL) is invisible on a page, illegal in a
workbook cell (openpyxl raises), and on a terminal can clear the screen or set the window
title. Tab and newline are ordinary in free text and stay there.
"""

from __future__ import annotations

import re

# Patterns written with escapes, so Python's re and Arrow's RE2 read them alike.
# every C0 control, DEL and every C1 control
CONTROL = r"[\x00-\x1f\x7f-\x9f]"
CONTROL_RE = re.compile(CONTROL)
# what is removed from free text: controls except tab and newline (a lone CR goes too)
REMOVED_FROM_TEXT = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
REMOVED_FROM_TEXT_RE = re.compile(REMOVED_FROM_TEXT)


def has_control(text: str) -> bool:
    return CONTROL_RE.search(text) is not None


def strip_controls(text: str) -> str:
    """Free text without its control characters; tab and newline kept, CR LF → LF."""
    return REMOVED_FROM_TEXT_RE.sub("", text.replace("\r\n", "\n"))


def visible(text: str) -> str:
    """Text with every control character written out (``\\x1b``, ``\\n``), for a place that
    must show what the data holds without obeying it: a terminal, a quarantine reason."""
    return CONTROL_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
