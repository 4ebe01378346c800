"""Typed, strict access to the keys of a ruleset TOML (scheme/ruleset.py parses with it): every
key read is a known key, so a key nobody reads is refused, with the nearest known key as a
suggestion; each error names the dotted key and what is wrong with it, in Chinese.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from pingyi_lib.common.errors import RulesetError


def _shown(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Typed access to nested TOML keys with errors that name the dotted key.

    Strict by construction: every key read here is a known key, so a key the parser never
    asks for is unknown and refused (:meth:`refuse_unknown`) with the nearest known key as
    a suggestion. Declaring a new key is reading it; a table whose keys are data (item ids,
    channel ids) is read with ``free=True``.
    """

    def __init__(self, raw: dict, source: str, prefix: str = ""):
        self.raw, self.source, self.prefix = raw, source, prefix
        self.seen: set[str] = set()  # dotted keys asked for, relative to raw
        self.free: set[str] = set()  # tables whose keys are data

    def fail(self, key: str, problem: str):
        key = f"{self.prefix}{key}"
        raise RulesetError(f"规则文件 {self.source}：键 '{key}' {problem}", path=self.source, key=key)

    def get(self, key: str, default: Any = ...) -> Any:
        node: Any = self.raw
        parts = key.split(".")
        for i in range(len(parts)):
            self.seen.add(".".join(parts[:i + 1]))
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                if default is not ...:
                    return default
                near = difflib.get_close_matches(part, list(node), n=1) if isinstance(node, dict) else []
                written = ".".join([*parts[:i], near[0]]) if near else ""
                self.fail(key, f"缺失（文件中有 '{self.prefix}{written}'，是否写错了？）" if near else "缺失")
            node = node[part]
        return node

    def number(self, key: str, *, lo: float | None = None, hi: float | None = None,
               default: Any = ...) -> float:
        v = self.get(key, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(key, f"必须是有限的数值，而不是 {_shown(v)}")
        if lo is not None and v < lo:
            self.fail(key, f"不能小于 {lo:g}（现为 {_shown(v)}）")
        if hi is not None and v > hi:
            self.fail(key, f"不能大于 {hi:g}（现为 {_shown(v)}）")
        return float(v)

    def integer(self, key: str, *, lo: int = 0, hi: int = 10**9, default: Any = ...) -> int:
        v = self.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, f"必须是整数，而不是 {_shown(v)}")
        if v < lo:
            self.fail(key, f"不能小于 {lo}（现为 {_shown(v)}）")
        if v > hi:
            self.fail(key, f"不能大于 {hi}（现为 {_shown(v)}）")
        return v

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.get(key, default)
        if not isinstance(v, bool):
            self.fail(key, f"必须是 true 或 false（不加引号），而不是 {_shown(v)}")
        return v

    def text(self, key: str, default: Any = ...) -> str:
        v = self.get(key, default)
        if not isinstance(v, str) or not v.strip():
            self.fail(key, f"必须是非空字符串，而不是 {_shown(v)}")
        return v

    def optional_text(self, key: str) -> str:
        """A non-empty string when the key is there, '' when it is absent."""
        return self.text(key) if self.get(key, None) is not None else ""

    def texts(self, key: str, default: Any = ...) -> tuple[str, ...]:
        v = self.get(key, default)
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            self.fail(key, f"必须是非空字符串的列表，而不是 {_shown(v)}")
        if len(set(v)) != len(v):
            self.fail(key, "有重复的项")
        return tuple(v)

    def table(self, key: str, default: Any = ..., *, free: bool = False) -> dict:
        v = self.get(key, default)
        if not isinstance(v, dict):
            self.fail(key, f"必须是表（[{self.prefix}{key}]），而不是 {_shown(v)}")
        if free:
            self.free.add(key)
        return v

    def sub(self, key: str, entry: Any) -> _Reader:
        """A reader for one table of an array of tables (``levels[0]``)."""
        if not isinstance(entry, dict):
            self.fail(key, "必须是表")
        return _Reader(entry, self.source, f"{self.prefix}{key}.")

    def refuse_unknown(self, node: dict | None = None, at: str = "") -> None:
        """Refuse the first key no part of the parser asked for."""
        node = self.raw if node is None else node
        for k, v in node.items():
            path = f"{at}{k}"
            if path in self.free:
                continue
            if path not in self.seen:
                known = sorted({s[len(at):].split(".")[0] for s in self.seen if s.startswith(at) and s != at})
                near = difflib.get_close_matches(str(k), known, n=1, cutoff=0.6)
                hint = (f"（是否想写 '{self.prefix}{at}{near[0]}'？）" if near
                        else f"（这里可用的键：{', '.join(known)}）")
                self.fail(path, f"是未知的键，本程序不会读取它{hint}")
            if isinstance(v, dict):
                self.refuse_unknown(v, f"{path}.")


def _exclusive(r: _Reader, key_a: str, a, key_b: str, b) -> None:
    both = sorted(set(a) & set(b))
    if both:
        r.fail(key_b, f"与 '{key_a}' 有相同的项 {', '.join(map(repr, both))}，一个值只能属于其中一个")


def _distinct(r: _Reader, key: str, values) -> None:
    values = list(values)
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        r.fail(key, f"中 {', '.join(map(repr, twice))} 出现了不止一次，数据中的值将无法区分")


def _pair(r: _Reader, key: str, default: tuple[int, int], hi: int) -> tuple[int, int]:
    v = r.get(key, list(default))
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            and 0 <= v[0] <= v[1] <= hi):
        r.fail(key, f"必须是 [下限, 上限] 两个整数，0 <= 下限 <= 上限 <= {hi}，而不是 {_shown(v)}")
    return (v[0], v[1])
