"""Names derived from data for files and links: one slug rule for every page name."""

from __future__ import annotations

import hashlib
import re


def unit_slug(unit_id: str) -> str:
    """A file name for a unit id: the id itself when it is plain, else a safe stem plus a
    short hash (stable across runs, distinct for distinct ids)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,60}", unit_id) and unit_id not in (".", ".."):
        return unit_id
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", unit_id)[:40].strip("_") or "unit"
    return f"{stem}-{hashlib.sha1(unit_id.encode('utf-8')).hexdigest()[:8]}"
