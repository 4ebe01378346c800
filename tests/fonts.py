"""One CJK font of the page's stack at a time, for the browser tests.

Chromium takes its fonts from fontconfig. :func:`fontconfig_file` writes a configuration that
includes the system's and rejects every installed Chinese font file that does not hold the
chosen family, so the page's font stack can only land on that one; Chromium reads it through
``FONTCONFIG_FILE``. :func:`stack_fonts` lists the families of the stack this machine has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from pingyi_lib.common.fonts import FONT_FAMILIES

# the fonts of the stack Linux has (scripts/ensure-browser installs both): CI must run these
REQUIRED = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
SYSTEM_CONF = "/etc/fonts/fonts.conf"


def chinese_font_files() -> dict[str, set[str]]:
    """{font file: its family names} for every installed font that covers Chinese."""
    if not shutil.which("fc-list"):
        return {}
    out = subprocess.run(["fc-list", ":lang=zh", "file", "family"], capture_output=True, text=True).stdout
    files: dict[str, set[str]] = {}
    for line in out.splitlines():
        path, _, families = line.partition(": ")
        if path:
            files.setdefault(path.rstrip(":"), set()).update(f.strip() for f in families.split(",") if f.strip())
    return files


def stack_fonts() -> list[str]:
    """The families of the page's font stack installed here, in the stack's order, the
    required ones always included (their runs fail, or skip outside CI, when one is missing)."""
    have = set().union(*chinese_font_files().values())
    return [f for f in FONT_FAMILIES if f in have or f in REQUIRED]


def fontconfig_file(family: str, folder: Path) -> Path:
    """A fontconfig file under ``folder`` that leaves ``family`` as the only Chinese font."""
    files = chinese_font_files()
    if not any(family in fams for fams in files.values()):
        raise LookupError(f"font {family!r} is not installed (scripts/ensure-browser installs it)")
    reject = "".join(f"<glob>{escape(path)}</glob>" for path, fams in sorted(files.items()) if family not in fams)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (family.replace(" ", "-") + ".conf")
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f'  <include ignore_missing="yes">{SYSTEM_CONF}</include>\n'
                    f"  <selectfont><rejectfont>{reject}</rejectfont></selectfont>\n</fontconfig>\n",
                    encoding="utf-8")
    return path


def chosen_families(conf: Path) -> set[str]:
    """The Chinese families fontconfig offers under ``conf`` (a test of the file itself)."""
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                         env={**os.environ, "FONTCONFIG_FILE": str(conf)}).stdout
    return {f.strip() for line in out.splitlines() for f in line.split(",") if f.strip()}
