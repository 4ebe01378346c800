"""Names derived from data for files and links: the one place a unit id becomes a page name.

A page name must be safe wherever the report folder is copied: no path separator, no
character Windows refuses, no name Windows reserves (``CON``, ``nul.txt``), and no two
units whose pages differ only in letter case (Windows and macOS folders ignore case).
"""

from __future__ import annotations

import hashlib
import re

# plain ids are their own page name: lower-case ASCII letters, digits, '_', '.', '-'
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,60}")
# names Windows reserves whatever the extension (CON, con.txt, LPT1.html)
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                              *(f"lpt{i}" for i in range(10))})
HASH_SEPARATOR = "~"  # never in a plain id: a hashed name cannot equal a plain one


def unit_slug(unit_id: str) -> str:
    """The page name (without extension) of a unit: the id itself when it is plain, else a
    safe lower-case stem, ``~`` and a short hash of the exact id.

    Stable across runs; distinct ids give names that differ even ignoring case (a plain
    name has no upper case and no ``~``; two hashed names differ in their hash).

        >>> unit_slug("wj"), unit_slug("WJ"), unit_slug("a/b")
        ('wj', 'wj~e6081972e4', 'a_b~3ec69c85a4')
    """
    if (_PLAIN.fullmatch(unit_id) and not unit_id.endswith(".")
            and unit_id.split(".", 1)[0] not in WINDOWS_RESERVED):
        return unit_id
    stem = re.sub(r"[^a-z0-9_-]+", "_", unit_id.lower())[:40].strip("_") or "unit"
    return f"{stem}{HASH_SEPARATOR}{hashlib.sha1(unit_id.encode('utf-8')).hexdigest()[:10]}"


def unit_slugs(unit_ids) -> dict[str, str]:
    """unit id → page name for every id, checked to be distinct ignoring case.

    A clash would need two ids with the same 40-bit hash; it raises rather than let two
    units share a page."""
    out = {u: unit_slug(u) for u in unit_ids}
    seen: dict[str, str] = {}
    for u, slug in out.items():
        other = seen.setdefault(slug.casefold(), u)
        if other != u:
            raise ValueError(f"units '{other}' and '{u}' would share the page name '{slug}'")
    return out
