"""Consequences over several rounds (``[consequences.*]``): what the ruleset prescribes for a
unit whose results repeat across years (长效机制). Read by ``ruleset.parse_ruleset``, which holds
them in ``Ruleset.repeat_bottom``; applied by followup/history.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingyi_lib.scheme.reader import _Reader

REPEAT_BOTTOM = "repeat_bottom"  # the flag of the rule, beside the one-round flags (ruleset.FLAGS)


@dataclass(frozen=True)
class RepeatRule:
    """``[consequences.repeat_bottom]``: a unit in its group's bottom (排名靠后) in ``years``
    consecutive rounds gets ``consequence`` (its ``label``; ``clause``: where it is written).
    ``years = 0`` (or no section): off."""

    years: int = 0
    label: str = ""
    consequence: str = ""
    clause: str = ""

    @property
    def on(self) -> bool:
        return self.years >= 2


def _repeat_bottom(r: _Reader) -> RepeatRule:
    key = "consequences.repeat_bottom"
    if r.get(key, None) is None:
        return RepeatRule()
    years = r.integer(f"{key}.years", lo=0, hi=100)
    if years == 1:
        r.fail(f"{key}.years", "必须是 0（不启用）或不小于 2 的整数：只看一轮就是本轮的“排名靠后”")
    return RepeatRule(years, r.text(f"{key}.label"), r.text(f"{key}.consequence"), r.optional_text(f"{key}.clause"))
