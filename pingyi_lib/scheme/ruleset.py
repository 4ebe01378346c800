"""Load and validate a ruleset TOML into a frozen, printable value.

    >>> rs = load_ruleset()            # the default, changzhou-2011
    >>> rs.weights.survey
    0.5
    >>> rs.level_score[3]              # 基本满意
    0.6

A bad file raises :class:`RulesetError` naming the key and what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pingyi_lib.common.errors import RulesetError

DEFAULT_RULESET = "changzhou-2011"
UNIT_LEVELS = ("city", "district", "window", "station")
FLAGS = ("no_excellence", "talk", "worst", "panel_noncompliant", "low_sample")  # SPEC §5, in this order
COMPONENTS = ("onsite", "survey", "cases", "bonus")  # the parts of the composite (SPEC §4)
COMPONENT_COLUMNS = {"onsite": "onsite_index", "survey": "survey_index", "cases": "case_points",
                     "bonus": "bonus_points"}
# why a questionnaire may look stuffed (seed §六(三)), in the order they are reported
INTEGRITY_REASONS = ("fingerprint_repeat", "burst", "burst_straightline", "identical_run", "outside_window",
                     "implausible_volume")


@dataclass(frozen=True)
class Level:
    code: int
    label: str
    score: float | None  # None: abstain (不了解)
    satisfied: bool


@dataclass(frozen=True)
class Weights:
    onsite: float
    survey: float
    cases: float


FLAG_KINDS = ("consequence", "data_quality")  # 评议结果运用, or a note on how far a figure can be trusted


@dataclass(frozen=True)
class Flag:
    label: str
    consequence: str
    clause: str = ""  # where the scheme says so (实施意见六（二）)
    kind: str = "consequence"  # one of FLAG_KINDS


@dataclass(frozen=True)
class Notice:
    """Who the notice of results (评议结果通报) goes to, who signs it, what its clauses cite."""

    recipient: str
    sender: str
    basis: str


@dataclass(frozen=True)
class Theme:
    name: str
    dimension: str  # an item id
    keywords: tuple[str, ...]  # complaint wording; "*" stands for a few characters of the same clause
    examples: tuple[str, ...] = ()  # sentences as people write them, for matching by similarity


@dataclass(frozen=True)
class Praise:
    cues: tuple[str, ...]  # words of praise or thanks (服务热情, 点赞)
    examples: tuple[str, ...]


@dataclass(frozen=True)
class UnmatchedRules:
    similarity: float  # two unthemed comments this similar (0-1) fall into one group
    top: int  # groups shown in the city report
    examples: int  # example comments per group


@dataclass(frozen=True)
class ProblemRules:
    top: int
    quotes: int
    quote_chars: tuple[int, int]
    workbook_top: int
    negation_before: tuple[str, ...]
    negation_after: tuple[str, ...]
    themes: tuple[Theme, ...]
    negation_fillers: tuple[str, ...] = ()  # words allowed between a negation and a keyword (没有*再*推诿)
    suggestion_cues: tuple[str, ...] = ()  # a negation after one of these still raises the problem (希望杜绝乱罚款)
    contrast_cues: tuple[str, ...] = ()  # 但是, 就是: what follows is read on its own
    synonyms: tuple[tuple[str, ...], ...] = ()  # groups of interchangeable words inside keywords
    gap: int = 6  # characters a "*" in a keyword stands for at most
    min_chars: int = 2  # fewer characters (punctuation aside): not substantive
    non_substantive: tuple[str, ...] = ()  # whole comments that say nothing (无, 没有意见)
    similarity: float = 1.0  # a text without a keyword takes its closest example's theme from this cosine on
    shared_pairs: int = 2  # ... and when they share this many pairs of neighbouring characters
    praise: Praise = Praise((), ())
    unmatched: UnmatchedRules = UnmatchedRules(0.5, 10, 3)
    domain_words: tuple[str, ...] = ()  # words every comment uses (安监, 检查): left out of the word lists


@dataclass(frozen=True)
class StatsRules:
    """How sampling uncertainty is measured and put into words (docs/statistics.md)."""

    level: float  # confidence level of every interval, e.g. 0.95
    replicates: int  # bootstrap replicates
    seed: int  # same input, same seed: same output
    exact_max_patterns: int  # above this many distinct answer patterns a unit uses the multinomial's normal limit
    normal_min_answers: int  # ... and only when every item has at least this many scored answers
    robust: float  # a consequence that fires with probability >= robust is 稳健
    likely: float  # >= likely: 较可能; below: could be sampling noise
    labels: dict[str, str]  # robust / likely / noise -> words
    funnel_levels: tuple[float, ...]  # control limits of the funnel plot


@dataclass(frozen=True)
class Reason:
    """One reason a questionnaire is flagged: its words, whether it excludes, its weight."""

    label: str
    exclude: bool  # True: left out of scoring automatically; False: flagged for review
    weight: float  # 0-1, for the suspicion score


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

    @property
    def excluding(self) -> tuple[str, ...]:
        """The reasons that exclude a row from scoring without review."""
        return tuple(k for k, r in self.reasons.items() if r.exclude)

    def label(self, reason: str) -> str:
        return self.review_label if reason == "review" else self.reasons[reason].label


@dataclass(frozen=True)
class Ruleset:
    name: str
    title: str
    year: int
    decimals: int
    levels: tuple[Level, ...]
    items: tuple[str, ...]  # every item asked, in order
    scored_items: tuple[str, ...]
    item_weights: dict[str, float]
    item_labels: dict[str, str]
    weights: Weights
    case_cap: float
    substantiated_only: bool
    bonus_cap: float
    talk_threshold: float
    bottom_max: int
    bottom_max_share: float
    violation_kinds: tuple[str, ...]
    public_categories: tuple[str, ...]
    panel_min_share: float
    panel_categories: tuple[str, ...]
    min_survey: int
    min_onsite: int
    unit_level_labels: dict[str, str]
    rank_groups: dict[str, str]
    rank_group_labels: dict[str, str]
    channels: dict[str, str]
    case_sources: tuple[str, ...]
    rectification_status: tuple[str, ...]
    rectification_done: str
    milestone_steps: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]
    flags: dict[str, Flag]
    timeline: dict[str, str]
    deadlines: dict[str, str]  # milestone step -> "MM-DD"
    timeline_levels: tuple[str, ...]
    problems: ProblemRules
    stats: StatsRules
    respondent_targets: dict[str, dict[str, float]]  # unit level -> respondent category -> target share
    component_labels: dict[str, str]
    column_labels: dict[str, str]  # unit-table column -> the Chinese header a reader sees
    survey_window: tuple[str, str] | None  # "MM-DD" first and last day of the questionnaire survey
    integrity: IntegrityRules
    column_units: dict[str, str] = field(default_factory=dict)  # column -> 分, %, 指数
    glossary: dict[str, str] = field(default_factory=dict)  # column -> what its figure means (numbers filled in)
    notice: Notice = field(default_factory=lambda: Notice("", "", ""))
    source: str = field(default="", compare=False)

    # ---- derived lookups -------------------------------------------------------------
    @property
    def level_score(self) -> dict[int, float | None]:
        return {lv.code: lv.score for lv in self.levels}

    @property
    def level_labels(self) -> dict[int, str]:
        return {lv.code: lv.label for lv in self.levels}

    @property
    def consequence_flags(self) -> tuple[str, ...]:
        """The flags that are consequences (评议结果运用), in FLAGS order."""
        return tuple(f for f in FLAGS if self.flags[f].kind == "consequence")

    @property
    def note_flags(self) -> tuple[str, ...]:
        """The flags that are data-quality notes (样本不足), shown apart from consequences."""
        return tuple(f for f in FLAGS if self.flags[f].kind == "data_quality")

    def header(self, column: str) -> str:
        """The column's label with its unit, as a table header: 综合得分（分）, 现场评议指数."""
        label = self.column_labels.get(column, column)
        unit = self.column_units.get(column, "")
        if not unit:
            return label
        return f"{label}{unit}" if unit == "指数" else f"{label}（{unit}）"

    @property
    def minimum(self) -> dict[str, int]:
        return {"survey": self.min_survey, "onsite": self.min_onsite}

    def describe(self) -> str:
        """A short human summary, for notebooks and `--debug` output."""
        lv = "、".join(f"{x.label} {x.score if x.score is not None else '弃权'}" for x in self.levels)
        w = self.weights
        c = self.component_labels
        return (f"{self.title} ({self.name})\n"
                f"  等次: {lv}\n"
                f"  权重: {c['onsite']} {w.onsite:g} · {c['survey']} {w.survey:g} · {c['cases']} {w.cases:g}"
                f" (扣分上限 {self.case_cap:g}, 加分上限 {self.bonus_cap:g})\n"
                f"  约谈线 {self.talk_threshold:g}; 排名靠后 = 末 {self.bottom_max} 名 (不超过一半)")

    def __repr__(self) -> str:  # dataclass repr is a wall of text
        return f"Ruleset({self.name!r}, source={self.source!r})"


def default_ruleset_path() -> Path:
    return Path(str(resources.files("pingyi_lib.scheme") / "rulesets" / f"{DEFAULT_RULESET}.toml"))


def load_ruleset(path: str | Path | None = None) -> Ruleset:
    """Read and validate a ruleset; ``None`` gives the bundled default."""
    p = Path(path) if path is not None else default_ruleset_path()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesetError(f"ruleset file not found: {p}", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesetError(f"ruleset {p} is not valid TOML: {exc}", path=str(p)) from None
    except UnicodeDecodeError:
        raise RulesetError(f"ruleset {p} is not UTF-8 text", path=str(p)) from None
    return parse_ruleset(raw, source=str(p))


class _Reader:
    """Typed access to nested TOML keys with errors that name the dotted key."""

    def __init__(self, raw: dict, source: str):
        self.raw, self.source = raw, source

    def fail(self, key: str, problem: str):
        raise RulesetError(f"ruleset {self.source}: key '{key}' {problem}", path=self.source, key=key)

    def get(self, key: str, default: Any = ...) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not ...:
                    return default
                self.fail(key, "is missing")
            node = node[part]
        return node

    def number(self, key: str, *, lo: float | None = None, hi: float | None = None,
               default: Any = ...) -> float:
        v = self.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            self.fail(key, f"must be a number, not {v!r}")
        if lo is not None and v < lo:
            self.fail(key, f"must be at least {lo:g}, not {v!r}")
        if hi is not None and v > hi:
            self.fail(key, f"must be at most {hi:g}, not {v!r}")
        return float(v)

    def integer(self, key: str, *, lo: int = 0, default: Any = ...) -> int:
        v = self.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, f"must be a whole number, not {v!r}")
        if v < lo:
            self.fail(key, f"must be at least {lo}, not {v!r}")
        return v

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.get(key, default)
        if not isinstance(v, bool):
            self.fail(key, f"must be true or false, not {v!r}")
        return v

    def text(self, key: str, default: Any = ...) -> str:
        v = self.get(key, default)
        if not isinstance(v, str) or not v.strip():
            self.fail(key, f"must be a non-empty string, not {v!r}")
        return v

    def optional_text(self, key: str) -> str:
        """A non-empty string when the key is there, '' when it is absent."""
        return self.text(key) if self.get(key, None) is not None else ""

    def texts(self, key: str, default: Any = ...) -> tuple[str, ...]:
        v = self.get(key, default)
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            self.fail(key, f"must be a list of non-empty strings, not {v!r}")
        if len(set(v)) != len(v):
            self.fail(key, "has repeated entries")
        return tuple(v)

    def table(self, key: str, default: Any = ...) -> dict:
        v = self.get(key, default)
        if not isinstance(v, dict):
            self.fail(key, f"must be a table, not {v!r}")
        return v


def _levels(r: _Reader) -> tuple[Level, ...]:
    raw = r.get("levels")
    if not isinstance(raw, list) or len(raw) < 2:
        r.fail("levels", "must be an array of at least two [[levels]] tables")
    out = []
    for i, entry in enumerate(raw):
        key = f"levels[{i}]"
        if not isinstance(entry, dict):
            r.fail(key, "must be a table")
        sub = _Reader(entry, r.source)
        sub.fail = lambda k, p, key=key: r.fail(f"{key}.{k}", p)  # type: ignore[method-assign]
        code = sub.integer("code", lo=1)
        if code != i + 1:
            r.fail(f"{key}.code", f"must be {i + 1} (codes follow the order of the levels), not {code}")
        score = sub.number("score", lo=0, hi=1) if "score" in entry else None
        out.append(Level(code, sub.text("label"), score, bool(entry.get("satisfied", False))))
    if all(lv.score is None for lv in out):
        r.fail("levels", "must give at least one level a score")
    if len({lv.label for lv in out}) != len(out):
        r.fail("levels", "has two levels with the same label")
    return tuple(out)


def _pair(r: _Reader, key: str, default: tuple[int, int]) -> tuple[int, int]:
    v = r.get(key, list(default))
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            and 0 <= v[0] <= v[1]):
        r.fail(key, f"must be [low, high] whole numbers with low <= high, not {v!r}")
    return (v[0], v[1])


_PROBLEM_KEYS = {"top", "quotes", "quote_chars", "workbook_top", "negation_before", "negation_after",
                 "negation_fillers", "suggestion_cues", "contrast_cues", "synonyms", "gap", "min_chars",
                 "non_substantive", "similarity", "shared_pairs", "praise", "unmatched", "domain_words", "themes"}
_THEME_KEYS = {"name", "dimension", "keywords", "examples"}


def _known_keys(r: _Reader, key: str, table: dict, known: set[str]) -> None:
    extra = sorted(set(table) - known)
    if extra:
        r.fail(f"{key}.{extra[0]}", f"is not a known key (known: {', '.join(sorted(known))})")


def _problems(r: _Reader, items: tuple[str, ...]) -> ProblemRules:
    _known_keys(r, "problems", r.table("problems", {}), _PROBLEM_KEYS)
    themes = []
    raw = r.get("problems.themes", [])
    if not isinstance(raw, list):
        r.fail("problems.themes", "must be an array of [[problems.themes]] tables")
    for i, t in enumerate(raw):
        key = f"problems.themes[{i}]"
        if not isinstance(t, dict):
            r.fail(key, "must be a table")
        _known_keys(r, key, t, _THEME_KEYS)
        sub = _Reader(t, r.source)
        sub.fail = lambda k, p, key=key: r.fail(f"{key}.{k}", p)  # type: ignore[method-assign]
        dim = sub.text("dimension")
        if dim not in items:
            r.fail(f"{key}.dimension", f"must be one of the items ({', '.join(items)}), not {dim!r}")
        kws = sub.texts("keywords")
        if not kws:
            r.fail(f"{key}.keywords", "must name at least one keyword")
        for k in kws:
            if k.strip("*") != k or "**" in k:
                r.fail(f"{key}.keywords", f"has {k!r}: a \"*\" stands between two words, never at an end or twice")
        themes.append(Theme(sub.text("name"), dim, kws, sub.texts("examples", [])))
    names = [t.name for t in themes]
    if len(set(names)) != len(names):
        r.fail("problems.themes", f"names a theme twice: {sorted({n for n in names if names.count(n) > 1})[0]}")
    groups = r.get("problems.synonyms", [])
    if not isinstance(groups, list):
        r.fail("problems.synonyms", "must be a list of word lists")
    synonyms = []
    for i, g in enumerate(groups):
        if not (isinstance(g, list) and len(g) >= 2 and all(isinstance(w, str) and w.strip() for w in g)
                and len(set(g)) == len(g)):
            r.fail(f"problems.synonyms[{i}]", f"must list at least two different words, not {g!r}")
        for w in g:
            if any(w in other for other in synonyms):
                r.fail(f"problems.synonyms[{i}]", f"repeats {w!r}, already in an earlier group")
        synonyms.append(tuple(g))
    _known_keys(r, "problems.praise", r.table("problems.praise", {}), {"cues", "examples"})
    _known_keys(r, "problems.unmatched", r.table("problems.unmatched", {}), {"similarity", "top", "examples"})
    return ProblemRules(
        top=r.integer("problems.top", lo=1, default=5), quotes=r.integer("problems.quotes", default=2),
        quote_chars=_pair(r, "problems.quote_chars", (10, 80)),
        workbook_top=r.integer("problems.workbook_top", lo=1, default=3),
        negation_before=r.texts("problems.negation_before", []), negation_after=r.texts("problems.negation_after", []),
        themes=tuple(themes),
        negation_fillers=r.texts("problems.negation_fillers", []),
        suggestion_cues=r.texts("problems.suggestion_cues", []),
        contrast_cues=r.texts("problems.contrast_cues", []),
        synonyms=tuple(synonyms),
        gap=r.integer("problems.gap", lo=1, default=6),
        min_chars=r.integer("problems.min_chars", lo=0, default=2),
        non_substantive=r.texts("problems.non_substantive", []),
        similarity=r.number("problems.similarity", lo=0, hi=1, default=1.0),
        shared_pairs=r.integer("problems.shared_pairs", lo=0, default=2),
        praise=Praise(r.texts("problems.praise.cues", []), r.texts("problems.praise.examples", [])),
        unmatched=UnmatchedRules(r.number("problems.unmatched.similarity", lo=0, hi=1, default=0.5),
                                 r.integer("problems.unmatched.top", lo=1, default=10),
                                 r.integer("problems.unmatched.examples", lo=1, default=3)),
        domain_words=r.texts("problems.domain_words", []))


_STATS_KEYS = {"level", "replicates", "seed", "exact_max_patterns", "normal_min_answers", "robust", "likely",
               "funnel_levels", "labels"}


def _stats(r: _Reader) -> StatsRules:
    _known_keys(r, "stats", r.table("stats", {}), _STATS_KEYS)
    _known_keys(r, "stats.labels", r.table("stats.labels", {}), {"robust", "likely", "noise"})
    level = r.number("stats.level", lo=0.5, hi=0.999, default=0.95)
    robust = r.number("stats.robust", lo=0, hi=1, default=0.95)
    likely = r.number("stats.likely", lo=0, hi=1, default=0.75)
    if likely > robust:
        r.fail("stats.likely", f"must not be above stats.robust ({robust:g}), not {likely:g}")
    funnel = r.get("stats.funnel_levels", [0.95, 0.998])
    if not (isinstance(funnel, list) and funnel and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                        and 0.5 <= x < 1 for x in funnel)):
        r.fail("stats.funnel_levels", f"must be a list of levels between 0.5 and 1, not {funnel!r}")
    return StatsRules(
        level=level,
        replicates=r.integer("stats.replicates", lo=100, default=2000),
        seed=r.integer("stats.seed", default=20110831),
        exact_max_patterns=r.integer("stats.exact_max_patterns", lo=1, default=100),
        normal_min_answers=r.integer("stats.normal_min_answers", lo=1, default=50),
        robust=robust, likely=likely,
        labels={k: r.text(f"stats.labels.{k}", default) for k, default in
                (("robust", "稳健"), ("likely", "较可能"), ("noise", "可能是抽样波动"))},
        funnel_levels=tuple(sorted(float(x) for x in funnel)))


def _shares(r: _Reader, key: str) -> dict[str, float]:
    tbl = r.table(key)
    out = {}
    for cat in tbl:
        if isinstance(tbl[cat], dict):
            continue
        out[str(cat)] = r.number(f"{key}.{cat}", lo=0, hi=1)
    if out and abs(sum(out.values()) - 1) > 1e-6:
        r.fail(key, f"must add up to 1, not {sum(out.values()):g}")
    return out


def _respondent_targets(r: _Reader) -> dict[str, dict[str, float]]:
    """Target shares of respondent categories per unit level (seed §五(四) 按照一定比例)."""
    if r.get("respondent_mix", None) is None:
        return {}
    _known_keys(r, "respondent_mix", r.table("respondent_mix"), {"targets", "by_level"})
    default = _shares(r, "respondent_mix.targets") if r.get("respondent_mix.targets", None) is not None else {}
    by_level = r.table("respondent_mix.by_level", {})
    for lvl in by_level:
        if lvl not in UNIT_LEVELS:
            r.fail(f"respondent_mix.by_level.{lvl}", f"is not a unit level (one of {', '.join(UNIT_LEVELS)})")
    out = {lvl: _shares(r, f"respondent_mix.by_level.{lvl}") if lvl in by_level else default for lvl in UNIT_LEVELS}
    return {lvl: t for lvl, t in out.items() if t}


def _month_day(r: _Reader, key: str) -> str:
    v = r.text(key)
    try:
        ok = len(v) == 5 and v[2] == "-" and bool(dt.date(2000, int(v[:2]), int(v[3:5])))
    except ValueError:
        ok = False
    if not ok:
        r.fail(key, f"must be a month-day like \"07-10\", not {v!r}")
    return v


def _integrity(r: _Reader, channels: dict[str, str]) -> IntegrityRules:
    reasons = {}
    for code in INTEGRITY_REASONS:
        k = f"integrity.{code}"
        reasons[code] = Reason(r.text(f"{k}.label"), r.boolean(f"{k}.exclude"), r.number(f"{k}.weight", lo=0, hi=1))
    burst_channels = r.texts("integrity.burst.channels")
    for c in burst_channels:
        if c not in channels:
            r.fail("integrity.burst.channels", f"names '{c}', not a channel of vocab.channel")
    window = r.number("integrity.burst.window_minutes", lo=1)
    day_hours = r.number("integrity.burst.day_hours", lo=1, hi=24)
    if window / 60 >= day_hours:
        r.fail("integrity.burst.window_minutes", "must be shorter than integrity.burst.day_hours")
    exclude_words = r.texts("integrity.review.exclude")
    keep_words = r.texts("integrity.review.keep")
    both = {w.lower() for w in exclude_words} & {w.lower() for w in keep_words}
    if both:
        r.fail("integrity.review.keep", f"shares words with integrity.review.exclude: {', '.join(sorted(both))}")
    return IntegrityRules(
        reasons=reasons,
        fingerprint_limit=r.integer("integrity.fingerprint_repeat.limit", lo=1),
        burst_window_minutes=window,
        burst_p=r.number("integrity.burst.p", lo=0, hi=1),
        burst_min=r.integer("integrity.burst.min_responses", lo=2),
        burst_day_hours=day_hours,
        burst_channels=burst_channels,
        run_min=r.integer("integrity.identical_run.min_length", lo=2),
        run_p=r.number("integrity.identical_run.p", lo=0, hi=1),
        population_share=r.number("integrity.implausible_volume.population_share", lo=0),
        quota_ratio=r.number("integrity.implausible_volume.quota_ratio", lo=0),
        review_label=r.text("integrity.review.label"),
        review_exclude=exclude_words,
        review_keep=keep_words,
    )


def parse_ruleset(raw: dict, source: str = "<dict>") -> Ruleset:
    """Validate a ruleset already parsed from TOML (see :func:`load_ruleset`)."""
    r = _Reader(raw, source)
    levels = _levels(r)
    items = r.texts("items.all")
    scored = r.texts("items.scored")
    for it in scored:
        if it not in items:
            r.fail("items.scored", f"names '{it}', which is not in items.all")
    if not scored:
        r.fail("items.scored", "must name at least one item")
    weights_tbl = r.table("items.weights")
    item_weights = {it: r.number(f"items.weights.{it}", lo=0) for it in scored}
    if sum(item_weights.values()) <= 0:
        r.fail("items.weights", "must give the scored items a positive total weight")
    extra = set(weights_tbl) - set(items)
    if extra:
        r.fail("items.weights", f"names unknown items: {', '.join(sorted(extra))}")
    item_labels = {it: r.text(f"items.labels.{it}") for it in items}

    w = Weights(*(r.number(f"weights.{k}", lo=0, hi=1) for k in ("onsite", "survey", "cases")))
    if abs(w.onsite + w.survey + w.cases - 1) > 1e-9:
        r.fail("weights", f"must add up to 1, not {w.onsite + w.survey + w.cases:g}")
    if w.onsite + w.survey <= 0:
        r.fail("weights", "must give the on-site and questionnaire components a positive weight")
    case_cap = r.number("cases.cap", lo=0)
    if abs(case_cap - 100 * w.cases) > 1e-9:
        r.fail("cases.cap", f"must equal 100 x weights.cases = {100 * w.cases:g}, not {case_cap:g}")

    rank_groups = {k: r.text(f"rank_groups.{k}") for k in r.table("rank_groups") if k != "labels"}
    for lvl in rank_groups:
        if lvl not in UNIT_LEVELS:
            r.fail(f"rank_groups.{lvl}", f"is not a unit level (one of {', '.join(UNIT_LEVELS)})")
    rank_group_labels = {g: r.text(f"rank_groups.labels.{g}") for g in sorted(set(rank_groups.values()))}
    unit_level_labels = {lvl: r.text(f"levels_of_units.{lvl}") for lvl in UNIT_LEVELS}
    channels = {k: r.text(f"vocab.channel.{k}") for k in r.table("vocab.channel")}

    flags = {}
    for name in FLAGS:
        kind = r.text(f"flags.{name}.kind", "consequence")
        if kind not in FLAG_KINDS:
            r.fail(f"flags.{name}.kind", f"must be one of {', '.join(FLAG_KINDS)}, not {kind!r}")
        flags[name] = Flag(r.text(f"flags.{name}.label"), r.text(f"flags.{name}.consequence"),
                           r.optional_text(f"flags.{name}.clause"), kind)
    tl = r.table("timeline", {})
    timeline = {str(k): str(v) for k, v in tl.items() if isinstance(v, str)}
    milestone_steps = r.texts("vocab.milestone_steps")
    deadlines = {}
    for step in milestone_steps:
        deadlines[step] = _month_day(r, f"timeline.{step}")
    survey_window = None
    if "survey_start" in tl or "survey_end" in tl:
        survey_window = (_month_day(r, "timeline.survey_start"), _month_day(r, "timeline.survey_end"))
        if survey_window[1] < survey_window[0]:
            r.fail("timeline.survey_end", f"must not come before timeline.survey_start ({survey_window[0]})")
    timeline_levels = r.texts("timeline.timeline_levels", ["district"])
    for lvl in timeline_levels:
        if lvl not in UNIT_LEVELS:
            r.fail("timeline.timeline_levels", f"names '{lvl}', not a unit level")

    status = r.texts("vocab.rectification_status")
    done = r.text("vocab.rectification_done")
    if done not in status:
        r.fail("vocab.rectification_done", f"must be one of vocab.rectification_status ({'、'.join(status)})")
    component_labels = {c: r.text(f"labels.components.{c}") for c in COMPONENTS}
    column_labels = {k: r.text(f"labels.columns.{k}") for k in r.table("labels.columns")}
    column_labels.update({COMPONENT_COLUMNS[c]: label for c, label in component_labels.items()})
    column_units = {k: r.text(f"labels.units.{k}") for k in r.table("labels.units", {})}
    for k in column_units:
        if k not in column_labels:
            r.fail(f"labels.units.{k}", "names a column that has no label in labels.columns or labels.components")
    glossary = _glossary(r, levels, w, column_labels)
    notice = Notice(*(r.optional_text(f"notice.{k}") for k in ("recipient", "sender", "basis")))

    return Ruleset(
        name=r.text("name"),
        title=r.text("title"),
        year=r.integer("year", lo=1900),
        decimals=r.integer("decimals", lo=0, default=2),
        levels=levels,
        items=items,
        scored_items=scored,
        item_weights=item_weights,
        item_labels=item_labels,
        weights=w,
        case_cap=case_cap,
        substantiated_only=bool(r.get("cases.substantiated_only", True)),
        bonus_cap=r.number("bonus.cap", lo=0),
        talk_threshold=r.number("rules.talk_threshold", lo=0, hi=100),
        bottom_max=r.integer("rules.bottom_max", lo=0),
        bottom_max_share=r.number("rules.bottom_max_share", lo=0, hi=1),
        violation_kinds=r.texts("rules.violation_kinds"),
        public_categories=r.texts("panel.public_categories"),
        panel_min_share=r.number("panel.min_share", lo=0, hi=1),
        panel_categories=r.texts("panel.categories"),
        min_survey=r.integer("minimum.survey"),
        min_onsite=r.integer("minimum.onsite"),
        unit_level_labels=unit_level_labels,
        rank_groups=rank_groups,
        rank_group_labels=rank_group_labels,
        channels=channels,
        case_sources=r.texts("vocab.case_sources"),
        rectification_status=status,
        rectification_done=done,
        milestone_steps=milestone_steps,
        yes=tuple(s.lower() for s in r.texts("vocab.yes")),
        no=tuple(s.lower() for s in r.texts("vocab.no")),
        flags=flags,
        timeline=timeline,
        deadlines=deadlines,
        timeline_levels=timeline_levels,
        problems=_problems(r, items),
        stats=_stats(r),
        respondent_targets=_respondent_targets(r),
        component_labels=component_labels,
        column_labels=column_labels,
        survey_window=survey_window,
        integrity=_integrity(r, channels),
        column_units=column_units,
        glossary=glossary,
        notice=notice,
        source=source,
    )


def _glossary(r: _Reader, levels: tuple[Level, ...], w: Weights, column_labels: dict[str, str]) -> dict[str, str]:
    """``labels.glossary`` with the ruleset's own numbers filled in, so the words cannot drift from the rules."""
    values = {
        "onsite_pct": f"{w.onsite * 100:g}", "survey_pct": f"{w.survey * 100:g}",
        "case_cap": f"{r.number('cases.cap', lo=0):g}", "bonus_cap": f"{r.number('bonus.cap', lo=0):g}",
        "talk_threshold": f"{r.number('rules.talk_threshold', lo=0, hi=100):g}",
        "bottom_max": str(r.integer("rules.bottom_max", lo=0)),
        "level_scores": "、".join(f"{lv.label}{lv.score:g}" for lv in levels if lv.score is not None),
        "satisfied_levels": "、".join(lv.label for lv in levels if lv.satisfied and lv.score is not None),
        "abstain": "、".join(lv.label for lv in levels if lv.score is None) or "无",
    }
    out = {}
    for k in r.table("labels.glossary", {}):
        if k not in column_labels:
            r.fail(f"labels.glossary.{k}", "names a column that has no label in labels.columns or labels.components")
        text = r.text(f"labels.glossary.{k}")
        try:
            out[k] = text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            r.fail(f"labels.glossary.{k}", f"uses an unknown placeholder {exc}; known: {', '.join(values)}")
    return out
