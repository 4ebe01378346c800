"""Personal data in published text: mobile and landline numbers, ID-card numbers, device fingerprints,
e-mail addresses and plates are masked before a comment or case summary is quoted."""

from __future__ import annotations

import re

from pingyi_lib.common.values import is_missing

_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PII = [  # order matters: an ID number contains what looks like a phone number
    ("id_card", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])"),
     lambda m: m.group()[:4] + "*" * 10 + m.group()[-4:]),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
     lambda m: m.group()[0] + "***@" + m.group().split("@", 1)[1]),
    ("mobile", re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"),
     lambda m: re.sub(r"\d{4}(?=\D*\d{4}\D*$)", "****", m.group())),
    ("landline", re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)"),
     lambda m: re.sub(r"\d{4}$", "****", m.group())),
    ("plate", re.compile(rf"[{_PLATE_PROVINCES}][A-Z][·\s]?[A-Z0-9]{{5,6}}(?![A-Z0-9])"),
     lambda m: m.group()[:2] + "*" * (len(m.group()) - 4) + m.group()[-2:]),
]


def mask_personal_data(text: str) -> str:
    """Mask mobile and landline numbers, ID-card numbers, e-mail addresses and plates.

    >>> mask_personal_data("电话13912345678，车牌苏D12345")
    '电话139****5678，车牌苏D***45'
    """
    for _, pattern, repl in _PII:
        text = pattern.sub(repl, text)
    return text


def find_personal_data(text: str) -> list[str]:
    """The kinds of personal data in ``text`` (for tests and data-quality notes)."""
    return [kind for kind, pattern, _ in _PII if pattern.search(text)]


def mask_ip(value) -> str:
    """An IP address as it may be published: the network part only, so a reviewer tells one
    address from another and no one can look the person up. A missing one is ''.

    >>> mask_ip("221.231.12.5"), mask_ip("2408:8340:1:2::1")
    ('221.231.*.*', '2408:8340:*')
    """
    if is_missing(value) or value == "":
        return ""
    value = str(value)
    if "." in value and ":" not in value:
        return ".".join(value.split(".")[:2]) + ".*.*"
    return ":".join(value.split(":")[:2]) + ":*"


def mask_fingerprint(value) -> str:
    """A device fingerprint (a hashed IP, device or phone, or sometimes the raw phone) as it
    may be published: at most its first 4 characters, a quarter of it, then ``****``, so a
    reviewer still tells a repeated device from others, and no one can look it up. A missing
    or empty one is ''.

    >>> mask_fingerprint("7a47875e7bde2bb4")
    '7a47****'
    """
    if is_missing(value) or value == "":
        return ""
    value = str(value)
    return value[: min(4, len(value) // 4)] + "****"
