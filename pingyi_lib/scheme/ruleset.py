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
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pingyi_lib.common.errors import RulesetError
from pingyi_lib.scheme.collection import (  # noqa: F401 - re-exported: the rules of the collection
    INTEGRITY_REASONS,
    PLATFORM_REASONS,
    IntegrityRules,
    ProgressRules,
    Reason,
    _integrity,
    _progress,
)
from pingyi_lib.scheme.consequence_rules import RepeatRule, _repeat_bottom
from pingyi_lib.scheme.problem_rules import (  # noqa: F401 - re-exported: the rules of the main problems
    Praise,
    ProblemRules,
    Theme,
    UnmatchedRules,
    _problems,
)
from pingyi_lib.scheme.reader import _distinct, _exclusive, _Reader, _shown

DEFAULT_RULESET = "changzhou-2011"
UNIT_LEVELS = ("city", "district", "window", "station")
FLAGS = ("no_excellence", "talk", "worst", "panel_noncompliant", "low_sample")  # SPEC §5, in this order
COMPONENTS = ("onsite", "survey", "cases", "bonus")  # the parts of the composite (SPEC §4)
COMPONENT_COLUMNS = {"onsite": "onsite_index", "survey": "survey_index", "cases": "case_points",
                     "bonus": "bonus_points"}


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
    activity: str  # the name of the activity a round's title ends with (民主评议政风行风)
    respondent_categories: tuple[str, ...]  # suggested in the template; other values are accepted
    column_labels: dict[str, str]  # unit-table column -> the Chinese header a reader sees
    survey_window: tuple[str, str] | None  # "MM-DD" first and last day of the questionnaire survey
    integrity: IntegrityRules
    progress: ProgressRules | None = None  # [progress]: how the collection window is watched (pingyi progress)
    column_units: dict[str, str] = field(default_factory=dict)  # column -> 分, %, 指数
    glossary: dict[str, str] = field(default_factory=dict)  # column -> what its figure means (numbers filled in)
    notice: Notice = field(default_factory=lambda: Notice("", "", ""))
    repeat_bottom: RepeatRule = field(default_factory=RepeatRule)  # [consequences.repeat_bottom]: off by default
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
    if p.is_dir():
        raise RulesetError(f"规则文件 {p} 是一个文件夹，请给出 .toml 文件", path=str(p))
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RulesetError(f"规则文件不存在：{p}", path=str(p)) from None
    except OSError as exc:
        raise RulesetError(f"无法读取规则文件 {p}：{exc.strerror}", path=str(p)) from None
    if len(data) > MAX_RULESET_BYTES:
        raise RulesetError(f"规则文件 {p} 超过 {MAX_RULESET_BYTES // 2**20} MB，不像规则文件", path=str(p))
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))  # a BOM (Windows Notepad) is welcome
    except UnicodeDecodeError:
        raise RulesetError(f"规则文件 {p} 不是 UTF-8 文本", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesetError(f"规则文件 {p} 不是有效的 TOML：{exc}", path=str(p)) from None
    return parse_ruleset(raw, source=str(p))


MAX_RULESET_BYTES = 2**20


def _levels(r: _Reader) -> tuple[Level, ...]:
    raw = r.get("levels")
    if not isinstance(raw, list) or len(raw) < 2:
        r.fail("levels", "必须是至少两个 [[levels]] 表的数组")
    out = []
    for i, entry in enumerate(raw):
        sub = r.sub(f"levels[{i}]", entry)
        code = sub.integer("code", lo=1)
        if code != i + 1:
            sub.fail("code", f"必须是 {i + 1}（代码按等次的顺序排列），而不是 {code}")
        score = sub.number("score", lo=0, hi=1, default=None)  # omitted: the abstaining level
        out.append(Level(code, sub.text("label"), score, sub.boolean("satisfied", default=False)))
        sub.refuse_unknown()
    if all(lv.score is None for lv in out):
        r.fail("levels", "中至少要有一个等次给出 score")
    _distinct(r, "levels", [lv.label for lv in out])
    return tuple(out)


def _month_day(r: _Reader, key: str, default: Any = ...) -> str | None:
    v = r.get(key, default)
    if v is None and default is None:
        return None
    try:
        if not (isinstance(v, str) and len(v) == 5 and v[2] == "-" and v[:2].isdigit() and v[3:].isdigit()):
            raise ValueError
        dt.date(2000, int(v[:2]), int(v[3:5]))
    except ValueError:
        r.fail(key, f"必须是 \"07-10\" 这样的月-日，而不是 {_shown(v)}")
    return v


def _stats(r: _Reader) -> StatsRules:
    """``[stats]``: how sampling uncertainty is measured and put into words (docs/statistics.md)."""
    level = r.number("stats.level", lo=0.5, hi=0.999, default=0.95)
    robust = r.number("stats.robust", lo=0, hi=1, default=0.95)
    likely = r.number("stats.likely", lo=0, hi=1, default=0.75)
    if likely > robust:
        r.fail("stats.likely", f"不能大于 stats.robust（{robust:g}），现为 {likely:g}")
    funnel = r.get("stats.funnel_levels", [0.95, 0.998])
    if not (isinstance(funnel, list) and funnel and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                        and 0.5 <= x < 1 for x in funnel)):
        r.fail("stats.funnel_levels", f"必须是 0.5 到 1 之间（不含 1）的数值列表，而不是 {_shown(funnel)}")
    return StatsRules(
        level=level,
        replicates=r.integer("stats.replicates", lo=100, hi=100_000, default=2000),
        seed=r.integer("stats.seed", default=20110831),
        exact_max_patterns=r.integer("stats.exact_max_patterns", lo=1, hi=100_000, default=100),
        normal_min_answers=r.integer("stats.normal_min_answers", lo=1, default=50),
        robust=robust, likely=likely,
        labels={k: r.text(f"stats.labels.{k}", default) for k, default in
                (("robust", "稳健"), ("likely", "较可能"), ("noise", "可能是抽样波动"))},
        funnel_levels=tuple(sorted(float(x) for x in funnel)))


def _shares(r: _Reader, key: str) -> dict[str, float]:
    """Target shares by respondent category (the keys are data), adding up to 1."""
    tbl = r.table(key, free=True)
    out = {str(cat): r.number(f"{key}.{cat}", lo=0, hi=1) for cat in tbl}
    if out and abs(sum(out.values()) - 1) > 1e-6:
        r.fail(key, f"各类比例之和必须为 1，现为 {sum(out.values()):g}")
    return out


def _respondent_targets(r: _Reader) -> dict[str, dict[str, float]]:
    """Target shares of respondent categories per unit level (seed §五(四) 按照一定比例)."""
    if r.get("respondent_mix", None) is None:
        return {}
    r.table("respondent_mix")
    default = _shares(r, "respondent_mix.targets") if r.get("respondent_mix.targets", None) is not None else {}
    by_level = r.table("respondent_mix.by_level", {}, free=True)
    for lvl in by_level:
        if lvl not in UNIT_LEVELS:
            r.fail(f"respondent_mix.by_level.{lvl}", f"不是单位层级（可用：{', '.join(UNIT_LEVELS)}）")
    out = {lvl: _shares(r, f"respondent_mix.by_level.{lvl}") if lvl in by_level else default for lvl in UNIT_LEVELS}
    return {lvl: t for lvl, t in out.items() if t}


def parse_ruleset(raw: dict, source: str = "<dict>") -> Ruleset:
    """Validate a ruleset already parsed from TOML (see :func:`load_ruleset`).

    Strict: exact types (the string "false" is not a boolean), bounded numbers, values
    that must belong to one list only (是 in both yes and no), and no key the parser does
    not read (``talk_treshold``, ``[weightz]``), each refused with the dotted key named.
    Each ``_read_*`` function below reads one part of the file and checks it."""
    r = _Reader(raw, source)
    levels = _levels(r)
    items = _read_items(r)
    w, case_cap = _read_weights(r)
    groups = _read_units_and_groups(r)
    timeline = _read_timeline(r)
    vocab = _read_vocab(r)
    labels = _read_labels(r, levels, w)
    respondent_targets = _respondent_targets(r)
    for level, targets in respondent_targets.items():
        unknown = [c for c in targets if vocab["respondent_categories"] and c not in vocab["respondent_categories"]]
        if unknown:
            r.fail("respondent_mix", f"为{level}列出的调查对象类别 {'、'.join(unknown)} "
                                     "不在 vocab.respondent_categories 中")

    rs = Ruleset(
        name=r.text("name"),
        title=r.text("title"),
        year=r.integer("year", lo=1900, hi=2100),
        decimals=r.integer("decimals", lo=0, hi=6, default=2),
        levels=levels,
        **items,
        weights=w,
        case_cap=case_cap,
        substantiated_only=r.boolean("cases.substantiated_only", default=True),
        bonus_cap=r.number("bonus.cap", lo=0, hi=100),
        talk_threshold=r.number("rules.talk_threshold", lo=0, hi=100),
        bottom_max=r.integer("rules.bottom_max", lo=0, hi=10_000),
        bottom_max_share=r.number("rules.bottom_max_share", lo=0, hi=1),
        violation_kinds=r.texts("rules.violation_kinds"),
        panel_min_share=r.number("panel.min_share", lo=0, hi=1),
        min_survey=r.integer("minimum.survey", hi=10**7),
        min_onsite=r.integer("minimum.onsite", hi=10**7),
        **groups,
        **timeline,
        **vocab,
        flags=_read_flags(r),
        problems=_problems(r, items["items"]),
        stats=_stats(r),
        respondent_targets=respondent_targets,
        integrity=_integrity(r, groups["channels"]),
        progress=_progress(r),
        repeat_bottom=_repeat_bottom(r),
        **labels,
        source=source,
    )
    r.refuse_unknown()
    return rs


def _read_items(r: _Reader) -> dict:
    """The items asked, the scored ones with their weights, and their labels (seed §三)."""
    items = r.texts("items.all")
    scored = r.texts("items.scored")
    for it in scored:
        if it not in items:
            r.fail("items.scored", f"列出的 '{it}' 不在 items.all 中")
    if not scored:
        r.fail("items.scored", "至少要有一个计分的评议内容")
    weights_tbl = r.table("items.weights", free=True)  # keys are item ids, checked just below
    item_weights = {it: r.number(f"items.weights.{it}", lo=0, hi=1000) for it in scored}
    if sum(item_weights.values()) <= 0:
        r.fail("items.weights", "中计分内容的权重之和必须大于 0")
    extra = set(weights_tbl) - set(items)
    if extra:
        r.fail("items.weights", f"列出了未知的评议内容：{', '.join(sorted(extra))}")
    for it in set(weights_tbl) - set(scored):
        r.number(f"items.weights.{it}", lo=0, hi=1000)
    return {"items": items, "scored_items": scored, "item_weights": item_weights,
            "item_labels": {it: r.text(f"items.labels.{it}") for it in items}}


def _read_weights(r: _Reader) -> tuple[Weights, float]:
    """Component weights and the case-deduction cap (seed §五(六))."""
    w = Weights(*(r.number(f"weights.{k}", lo=0, hi=1) for k in ("onsite", "survey", "cases")))
    if abs(w.onsite + w.survey + w.cases - 1) > 1e-9:
        r.fail("weights", f"之和必须为 1，而不是 {w.onsite + w.survey + w.cases:g}")
    if w.onsite + w.survey <= 0:
        r.fail("weights", "必须给现场评议和问卷调查合计大于 0 的权重")
    case_cap = r.number("cases.cap", lo=0, hi=100)
    if abs(case_cap - 100 * w.cases) > 1e-9:
        r.fail("cases.cap", f"必须等于 100 x weights.cases = {100 * w.cases:g}，而不是 {case_cap:g}")
    return w, case_cap


def _read_units_and_groups(r: _Reader) -> dict:
    """Unit levels, rank groups, channels and the on-site panel's categories."""
    rank_groups = {k: r.text(f"rank_groups.{k}") for k in r.table("rank_groups") if k != "labels"}
    for lvl in rank_groups:
        if lvl not in UNIT_LEVELS:
            r.fail(f"rank_groups.{lvl}", f"不是单位层级（应为 {', '.join(UNIT_LEVELS)} 之一）")
    rank_group_labels = {g: r.text(f"rank_groups.labels.{g}") for g in sorted(set(rank_groups.values()))}
    unit_level_labels = {lvl: r.text(f"levels_of_units.{lvl}") for lvl in UNIT_LEVELS}
    _distinct(r, "levels_of_units", unit_level_labels.values())
    channels = {k: r.text(f"vocab.channel.{k}") for k in r.table("vocab.channel")}
    _distinct(r, "vocab.channel", channels.values())
    public_categories = r.texts("panel.public_categories")
    panel_categories = r.texts("panel.categories")
    for c in public_categories:
        if c not in panel_categories:
            r.fail("panel.public_categories", f"列出的 '{c}' 不在 panel.categories 中")
    return {"rank_groups": rank_groups, "rank_group_labels": rank_group_labels,
            "unit_level_labels": unit_level_labels, "channels": channels,
            "public_categories": public_categories, "panel_categories": panel_categories}


def _read_flags(r: _Reader) -> dict[str, Flag]:
    """The words of each consequence (SPEC §5), in FLAGS order."""
    flags = {}
    for name in FLAGS:
        kind = r.text(f"flags.{name}.kind", "consequence")
        if kind not in FLAG_KINDS:
            r.fail(f"flags.{name}.kind", f"必须是 {', '.join(FLAG_KINDS)} 之一，而不是 {_shown(kind)}")
        flags[name] = Flag(r.text(f"flags.{name}.label"), r.text(f"flags.{name}.consequence"),
                           r.optional_text(f"flags.{name}.clause"), kind)
    return flags


def _read_timeline(r: _Reader) -> dict:
    """Report deadlines per step and the questionnaire window, as month-days (seed §五)."""
    milestone_steps = r.texts("vocab.milestone_steps")
    deadlines = {step: _month_day(r, f"timeline.{step}") for step in milestone_steps}
    start, end = (_month_day(r, f"timeline.{k}", None) for k in ("survey_start", "survey_end"))
    survey_window = None
    if start is not None or end is not None:  # one given: both are needed
        survey_window = (_month_day(r, "timeline.survey_start"), _month_day(r, "timeline.survey_end"))
        if survey_window[1] < survey_window[0]:
            r.fail("timeline.survey_end", f"不能早于 timeline.survey_start（{survey_window[0]}）")
    timeline = {**deadlines, **(dict(zip(("survey_start", "survey_end"), survey_window)) if survey_window else {})}
    timeline_levels = r.texts("timeline.timeline_levels", ["district"])
    for lvl in timeline_levels:
        if lvl not in UNIT_LEVELS:
            r.fail("timeline.timeline_levels", f"列出的 '{lvl}' 不是单位层级")
    return {"milestone_steps": milestone_steps, "deadlines": deadlines, "survey_window": survey_window,
            "timeline": timeline, "timeline_levels": timeline_levels}


def _read_vocab(r: _Reader) -> dict:
    """Case sources, rectification statuses, yes/no words, respondent categories."""
    status = r.texts("vocab.rectification_status")
    done = r.text("vocab.rectification_done")
    if done not in status:
        r.fail("vocab.rectification_done", f"必须是 vocab.rectification_status（{'、'.join(status)}）之一")
    yes = tuple(s.lower() for s in r.texts("vocab.yes"))
    no = tuple(s.lower() for s in r.texts("vocab.no"))
    _exclusive(r, "vocab.yes", yes, "vocab.no", no)
    return {"case_sources": r.texts("vocab.case_sources"), "rectification_status": status,
            "rectification_done": done, "yes": yes, "no": no,
            "respondent_categories": r.texts("vocab.respondent_categories", [])}


def _read_labels(r: _Reader, levels: tuple[Level, ...], w: Weights) -> dict:
    """What a reader sees: component and column labels, units, glossary, the notice's words."""
    component_labels = {c: r.text(f"labels.components.{c}") for c in COMPONENTS}
    column_labels = {k: r.text(f"labels.columns.{k}") for k in r.table("labels.columns")}
    column_labels.update({COMPONENT_COLUMNS[c]: label for c, label in component_labels.items()})
    column_units = {k: r.text(f"labels.units.{k}") for k in r.table("labels.units", {})}
    for k in column_units:
        if k not in column_labels:
            r.fail(f"labels.units.{k}", "所说的列在 labels.columns 或 labels.components 中没有名称")
    return {"component_labels": component_labels, "column_labels": column_labels, "column_units": column_units,
            "activity": r.text("labels.activity", "民主评议政风行风"),
            "glossary": _glossary(r, levels, w, column_labels),
            "notice": Notice(*(r.optional_text(f"notice.{k}") for k in ("recipient", "sender", "basis")))}


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
            r.fail(f"labels.glossary.{k}", "所说的列在 labels.columns 或 labels.components 中没有名称")
        text = r.text(f"labels.glossary.{k}")
        try:
            out[k] = text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            r.fail(f"labels.glossary.{k}", f"用了未知的占位符 {exc}；可用的有：{', '.join(values)}")
    return out
