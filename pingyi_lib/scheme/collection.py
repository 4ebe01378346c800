"""The rules of the collection of questionnaires: what the integrity check flags and excludes
(``[integrity.*]``: :class:`IntegrityRules`) and how the progress of the collection window is
judged (``[progress]``: :class:`ProgressRules`, ``pingyi progress``). Read by
``ruleset.parse_ruleset``, which holds them in ``Ruleset.integrity`` and ``Ruleset.progress``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingyi_lib.scheme.reader import _exclusive, _Reader

# why a questionnaire may look stuffed (seed §六(三)), in the order they are reported
INTEGRITY_REASONS = ("fingerprint_repeat", "burst", "burst_straightline", "identical_run", "outside_window",
                     "implausible_volume", "ip_repeat", "too_fast", "period")
# reasons that read what online platforms record (``ip``, ``duration_s``): a ruleset without
# their [integrity.*] section does not judge them (rulesets written before pingyi import)
PLATFORM_REASONS = ("ip_repeat", "too_fast")
# reasons a ruleset may leave out (not judged then): the platform's, and the suspicious periods
# (rulesets written before them)
OPTIONAL_REASONS = (*PLATFORM_REASONS, "period")


@dataclass(frozen=True)
class Reason:
    """One reason a questionnaire is flagged: its words, whether it excludes, its weight."""

    label: str
    exclude: bool  # True: left out of scoring automatically; False: flagged for review
    weight: float  # 0-1, for the suspicion score


@dataclass(frozen=True)
class PeriodRules:
    """How suspicious periods are found (``[integrity.period]``; integrity/periods.py)."""

    false_alarm: float  # the chance that an honest round alerts anywhere, at most
    max_days: int  # a candidate period: at most this many consecutive days
    min_responses: int  # ... with at least this many questionnaires in it and as many outside it
    channels: tuple[str, ...]  # the channels whose questionnaires are judged
    day_starts: int  # the hour a day starts at (a night stays whole)
    quiet_hours: tuple[int, ...]  # the hours of the day few honest questionnaires come in
    evidence_p: float  # an evidence is named, and its rows flagged, when its own p-value is below this


@dataclass(frozen=True)
class IntegrityRules:
    """Thresholds and policy of the integrity checks (``[integrity]`` in the TOML)."""

    reasons: dict[str, Reason]  # INTEGRITY_REASONS -> Reason
    fingerprint_limit: int
    burst_window_minutes: float
    burst_p: float
    burst_min: int
    burst_day_hours: float
    burst_channels: tuple[str, ...]
    run_min: int
    run_p: float
    population_share: float
    quota_ratio: float
    review_label: str
    review_exclude: tuple[str, ...]
    review_keep: tuple[str, ...]
    # one IP address's questionnaires for one unit past ``ip_limit`` are flagged when so many are
    # unlikely from the address's traffic to every unit (Poisson tail below ``ip_p``); 0: not judged
    ip_limit: int = 0
    ip_p: float = 0.0
    too_fast_seconds: float = 0.0  # answered in fewer seconds than this (duration_s); 0: not judged
    period: PeriodRules | None = None  # [integrity.period]; None: periods not judged
    surge_p: float = 0.0  # a burst whose answers are like the unit's others (p >= this) is a surge; 0: not judged

    @property
    def excluding(self) -> tuple[str, ...]:
        """The reasons that exclude a row from scoring without review."""
        return tuple(k for k, r in self.reasons.items() if r.exclude)

    def label(self, reason: str) -> str:
        return self.review_label if reason == "review" else self.reasons[reason].label


def _integrity(r: _Reader, channels: dict[str, str]) -> IntegrityRules:
    reasons = {}
    for code in INTEGRITY_REASONS:
        k = f"integrity.{code}"
        if code in OPTIONAL_REASONS and r.get(k, None) is None:
            reasons[code] = Reason(code, False, 0.0)  # not judged: never flags
            continue
        reasons[code] = Reason(r.text(f"{k}.label"), r.boolean(f"{k}.exclude"), r.number(f"{k}.weight", lo=0, hi=1))
    ip = r.get("integrity.ip_repeat", None) is not None
    period = _period(r, channels) if r.get("integrity.period", None) is not None else None
    fast = r.get("integrity.too_fast", None) is not None
    burst_channels = r.texts("integrity.burst.channels")
    for c in burst_channels:
        if c not in channels:
            r.fail("integrity.burst.channels", f"列出的 '{c}' 不是 vocab.channel 中的渠道")
    window = r.number("integrity.burst.window_minutes", lo=1, hi=24 * 60)
    day_hours = r.number("integrity.burst.day_hours", lo=1, hi=24)
    if window / 60 >= day_hours:
        r.fail("integrity.burst.window_minutes", "必须短于 integrity.burst.day_hours")
    exclude_words = r.texts("integrity.review.exclude")
    keep_words = r.texts("integrity.review.keep")
    _exclusive(r, "integrity.review.exclude", {w.lower() for w in exclude_words},
               "integrity.review.keep", {w.lower() for w in keep_words})
    return IntegrityRules(
        reasons=reasons,
        fingerprint_limit=r.integer("integrity.fingerprint_repeat.limit", lo=1, hi=10**6),
        burst_window_minutes=window,
        burst_p=r.number("integrity.burst.p", lo=0, hi=1),
        burst_min=r.integer("integrity.burst.min_responses", lo=2, hi=10**6),
        burst_day_hours=day_hours,
        burst_channels=burst_channels,
        run_min=r.integer("integrity.identical_run.min_length", lo=2, hi=10**6),
        run_p=r.number("integrity.identical_run.p", lo=0, hi=1),
        population_share=r.number("integrity.implausible_volume.population_share", lo=0, hi=1000),
        quota_ratio=r.number("integrity.implausible_volume.quota_ratio", lo=0, hi=1000),
        review_label=r.text("integrity.review.label"),
        review_exclude=exclude_words,
        review_keep=keep_words,
        ip_limit=r.integer("integrity.ip_repeat.limit", lo=1, hi=10**6) if ip else 0,
        ip_p=r.number("integrity.ip_repeat.p", lo=0, hi=1) if ip else 0.0,
        too_fast_seconds=r.number("integrity.too_fast.min_seconds", lo=0, hi=24 * 3600) if fast else 0.0,
        period=period,
        surge_p=r.number("integrity.burst.surge_p", lo=0, hi=1, default=0.0),
    )


def _period(r: _Reader, channels: dict[str, str]) -> PeriodRules:
    k = "integrity.period"
    listed = r.texts(f"{k}.channels")
    for c in listed:
        if c not in channels:
            r.fail(f"{k}.channels", f"列出的 '{c}' 不是 vocab.channel 中的渠道")
    hours = r.get(f"{k}.quiet_hours")
    if not isinstance(hours, list) or not all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 23
                                              for h in hours) or len(set(hours)) != len(hours):
        r.fail(f"{k}.quiet_hours", "必须是 0 到 23 之间、互不重复的整数（小时）列表")
    return PeriodRules(false_alarm=r.number(f"{k}.false_alarm", lo=1e-9, hi=0.5),
                       max_days=r.integer(f"{k}.max_days", lo=1, hi=366),
                       min_responses=r.integer(f"{k}.min_responses", lo=5, hi=10**6),
                       channels=listed, day_starts=r.integer(f"{k}.day_starts", lo=0, hi=23),
                       quiet_hours=tuple(hours), evidence_p=r.number(f"{k}.evidence_p", lo=1e-12, hi=0.5))


@dataclass(frozen=True)
class ProgressRules:
    """How the collection window is watched (``[progress]``; docs/progress.md)."""

    rate_days: int  # a unit's pace: its valid questionnaires of the last this many days
    level: float  # central probability of the range given for a projected day
    at_risk: float  # at risk: the chance of reaching the minimum by the deadline is below this


def _progress(r: _Reader) -> ProgressRules | None:
    """``[progress]``, or None for a ruleset without it (``pingyi progress`` then says what to add)."""
    if r.get("progress", None) is None:
        return None
    r.table("progress")
    return ProgressRules(rate_days=r.integer("progress.rate_days", lo=1, hi=366),
                         level=r.number("progress.level", lo=0.5, hi=0.999),
                         at_risk=r.number("progress.at_risk", lo=0.01, hi=0.999))
