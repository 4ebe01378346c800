"""Which round a dataset is: city, year, title and the day its ledger is read.

A dataset folder may hold a ``round.toml``::

    city = "临江市"
    year = 2013
    title = "临江市安监系统2013年民主评议政风行风"   # optional: made from city and year
    report_date = 2013-09-20                      # optional: the day the ledger is read
    survey_start = 2013-07-25                     # optional: the survey window of this round
    survey_end = 2013-08-31

    [responsibility.lawful]                       # optional, per dimension (seed §三)
    leaders = ["李士庆"]                           # 责任领导
    lead_offices = ["政策法规处"]                   # 牵头处室
    responsible_offices = ["机关各处室", "监察支队"]  # 责任处室

The round's identity comes from here, never from the ruleset (a ruleset holds the rules of a
scheme and serves many rounds). Without the file, the year is read from the dates in the
data, and the title names only a city the data names (the city bureau's name, such as
常州市安全生产监督管理局 → 常州市).

Who answers for each dimension (:class:`Duty`, seed §三: 责任领导, 牵头处室, 责任处室) belongs
to a city and a year, so it is here and not in the ruleset; a dimension is named by its code
or its label in the ruleset (``lawful`` or ``依法履职``). A round without it is valid: its
dimensions have no one named (the pages say 未指定).

The day the rectification ledger is read (:meth:`RoundInfo.report_day`): the one asked for
(``--report-date``), else ``report_date`` of round.toml, else the last date in the data —
never the machine's clock for a past round. A day more than a year after the round is
reported with a warning.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pingyi_lib.common.controlchars import visible
from pingyi_lib.common.errors import DatasetError, OptionError
from pingyi_lib.dataset.validate import parse_datetimes
from pingyi_lib.scheme.ruleset import Ruleset

ROUND_FILE = "round.toml"
# key → (type, what it is): the one list of the keys round.toml may hold (docs/data-contract.md)
ROUND_KEYS: dict[str, tuple[str, str]] = {
    "city": ("文本", "城市名称，如 临江市"),
    "year": ("整数", "评议年度，如 2013"),
    "title": ("文本", "报告标题；省略时由城市和年度生成，如 临江市2013年民主评议政风行风"),
    "report_date": ("日期", "整改台账的读取日（逾期按此日计算）；省略时取数据中最后的日期"),
    "survey_start": ("日期", "本轮问卷调查开始日（问卷异常检测用；省略时取评议规则的 timeline.survey_start）"),
    "survey_end": ("日期", "本轮问卷调查截止日（问卷异常检测用；报告日不晚于此日时为阶段性结果；"
                           "省略时取评议规则的 timeline.survey_end）"),
    "responsibility": ("表", "各评议内容的责任分工（实施意见三）：[responsibility.评议内容] 下写 leaders（责任领导）、"
                            "lead_offices（牵头处室）、responsible_offices（责任处室），各为名称列表；"
                            "评议内容写规则中的编号或名称，如 lawful 或 \"依法履职\"；省略时各页显示“未指定”"),
}
# the keys of one dimension's [responsibility.X] table → what they hold (round.toml, docs)
DUTY_KEYS: dict[str, str] = {"leaders": "责任领导", "lead_offices": "牵头处室", "responsible_offices": "责任处室"}
_NAME_SEPARATORS = re.compile(r"[、，,；;\s]+")
_CITY = re.compile(r"^\s*(\S{1,12}?市)")


@dataclass(frozen=True)
class ReportDay:
    """The day a ledger is read, where it came from (in words) and a warning ('' if none);
    ``from_today``: the day is the day of the run (a round with no date at all)."""

    day: dt.date
    source: str
    warning: str = ""
    from_today: bool = False


@dataclass(frozen=True)
class Duty:
    """Who answers for one dimension in a round (seed §三): its responsible leaders (责任领导),
    lead offices (牵头处室) and responsible offices (责任处室), in the order round.toml gives."""

    leaders: tuple[str, ...] = ()
    lead_offices: tuple[str, ...] = ()
    responsible_offices: tuple[str, ...] = ()

    @property
    def named(self) -> bool:
        """Anyone named at all."""
        return bool(self.leaders or self.lead_offices or self.responsible_offices)


@dataclass(frozen=True)
class RoundInfo:
    """The identity of one evaluation round.

    ``city`` is '' when neither round.toml nor the data names one; ``year`` is None when
    the data has no date at all and round.toml gives none. ``last_date`` is the last date in
    the data (None without dates); ``source`` the round.toml read ('' without one).
    """

    title: str
    city: str = ""
    year: int | None = None
    report_date: dt.date | None = None
    survey_start: dt.date | None = None
    survey_end: dt.date | None = None
    last_date: dt.date | None = None
    source: str = ""
    duties: tuple[tuple[str, Duty], ...] = ()  # (dimension code, Duty) as round.toml gives them

    def duty(self, item: str) -> Duty:
        """Who answers for dimension ``item`` (an empty Duty when round.toml names no one)."""
        return dict(self.duties).get(item, Duty())

    @property
    def offices(self) -> tuple[str, ...]:
        """Every office the round names (lead and responsible offices), in order of first mention."""
        names = [o for _, d in self.duties for o in (*d.lead_offices, *d.responsible_offices)]
        return tuple(dict.fromkeys(names))

    @property
    def end(self) -> dt.date | None:
        """The last day of the round as far as it is known: the last date in the data, else
        the end of its year."""
        if self.last_date is not None:
            return self.last_date
        return dt.date(self.year, 12, 31) if self.year else None

    def report_day(self, value=None, today: dt.date | None = None) -> ReportDay:
        """The day the ledger is read: ``value`` (a date or 'YYYY-MM-DD') when given, else
        round.toml's ``report_date``, else the last date in the data, else (no date at all)
        the end of the round's year or today, whichever is earlier."""
        today = today or dt.date.today()
        from_today = False
        if value not in (None, ""):
            day, source = parse_date(value), "命令行指定（--report-date）"
        elif self.report_date is not None:
            day, source = self.report_date, f"{ROUND_FILE} 的 report_date"
        elif self.last_date is not None:
            day, source = self.last_date, "数据中最后的日期"
        elif self.year is not None and dt.date(self.year, 12, 31) < today:
            day, source = dt.date(self.year, 12, 31), f"{self.year}年末（数据中没有日期）"
        else:
            day, source, from_today = today, "今天（数据中没有日期）", True
        warning = ""
        end = self.end
        if end is not None and day > _one_year_after(end):
            warning = (f"整改台账读取日 {day.isoformat()} 比本轮评议（最后日期 {end.isoformat()}）晚一年以上，"
                       "逾期天数会很大；如需按当时的情况读取，请用 --report-date 或 round.toml 的 report_date 指定")
        return ReportDay(day, source, warning, from_today)


def collection_end(info: RoundInfo, ruleset: Ruleset) -> dt.date | None:
    """The day the round's collection closes (问卷调查 and the on-site panels, seed 五(四)):
    round.toml's ``survey_end``, else the ruleset's ``timeline.survey_end`` in the round's
    year; None when neither is known (a round whose ruleset has no survey window)."""
    if info.survey_end is not None:
        return info.survey_end
    if ruleset.survey_window is None or info.year is None:
        return None
    md = ruleset.survey_window[1]
    return _month_day_in(info.year, md)


def _month_day_in(year: int, md: str) -> dt.date:
    """'MM-DD' in ``year`` (29 February in a common year → 28 February)."""
    month, day = int(md[:2]), int(md[3:])
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, 28)


@dataclass(frozen=True)
class AsOf:
    """The day a round's results are read, and the day its collection closes (None: not known)."""

    day: dt.date
    collection_end: dt.date | None = None

    @property
    def interim(self) -> bool:
        """Collection still open on the day: the results are interim (阶段性结果)."""
        return self.collection_end is not None and self.day <= self.collection_end

    @property
    def label(self) -> str:
        """阶段性结果（截至 DAY，问卷调查至 END 结束） when interim, else ''."""
        if not self.interim:
            return ""
        return f"阶段性结果（截至{self.day.isoformat()}，问卷调查至{self.collection_end.isoformat()}结束）"


def as_of(info: RoundInfo, ruleset: Ruleset, day: dt.date) -> AsOf:
    """The round read on ``day``: see :class:`AsOf`."""
    return AsOf(day, collection_end(info, ruleset))


def _one_year_after(day: dt.date) -> dt.date:
    """The same calendar day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def parse_date(value) -> dt.date:
    """A date, a datetime or text as a date. Text is read as dates in the data are
    (:func:`pingyi_lib.dataset.validate.parse_datetimes`: year first, years 1900–2100, so
    ``9/15``, ``3/8/2011`` and ``now`` are refused rather than guessed); anything else raises
    OptionError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    day = parse_datetimes(pd.Series([str(value).strip()], dtype=object)).iloc[0]
    if pd.isna(day):
        raise OptionError(f"日期“{visible(str(value))}”无法识别（不是日期）；请按年月日写，如 2011-09-15")
    return pd.Timestamp(day).date()


def _loaded(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables whose rows are in memory: a response table the engine read is built only
    on first use (``load.Tables``) and is not built for this; its dates come from its
    ``days`` counts (dataset/engine.py) instead."""
    items = dict.items(tables) if isinstance(tables, dict) else tables.items()
    return {name: df for name, df in items if isinstance(df, pd.DataFrame)}


def data_dates(tables: Mapping[str, pd.DataFrame], days: Mapping[str, pd.Series] | None = None) -> pd.Series:
    """Every date in the clean tables (date and date-time columns), as days. ``days``: the
    day counts (day → rows) of tables not in memory, by table."""
    parts = [df[c].dropna().dt.normalize() for df in _loaded(tables).values() for c in df.columns
             if pd.api.types.is_datetime64_any_dtype(df[c])]
    parts += [pd.Series(pd.DatetimeIndex(d.index[d.to_numpy() > 0])) for d in (days or {}).values()]
    parts = [p.astype("datetime64[ns]") for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype="datetime64[ns]")


def year_of(tables: Mapping[str, pd.DataFrame], days: Mapping[str, pd.Series] | None = None) -> int | None:
    """The calendar year of a round from its data: the most common year of its milestone,
    questionnaire and rectification dates (the earliest such year on a tie), else of any
    date in the data; None without dates. ``days`` as for :func:`data_dates` (the survey's
    submission days counted by the engine weigh as its rows would)."""
    keys = (("milestones", "submitted_on"), ("survey", "submitted_at"), ("rectifications", "deadline"))
    days = days or {}
    loaded = _loaded(tables)
    per_year = [loaded[t][c].dt.year.dropna().astype(int).value_counts()
                for t, c in keys if t not in days and t in loaded and c in loaded[t]]
    per_year += [pd.Series(days[t].to_numpy(dtype=np.int64), index=pd.DatetimeIndex(days[t].index).year)
                 for t, _ in keys if t in days]
    n = pd.concat([pd.Series([], dtype=np.int64)] + per_year)
    n = n.groupby(level=0).sum() if len(n) else n
    n = n[n > 0]
    if not len(n):
        n = data_dates(tables, days).dt.year.value_counts()
    return int(n.index[n.to_numpy() == n.max()].min()) if len(n) else None


def city_of(units: pd.DataFrame) -> str:
    """The city the data names: the place in the name of the city-level unit (常州市安全生产
    监督管理局 → 常州市); '' when there is none."""
    names = units.loc[units["level"] == "city", "name"] if "level" in units else []
    for name in names:
        m = _CITY.match(str(name))
        if m:
            return m.group(1)
    return ""


def make_title(city: str, year: int | None, ruleset: Ruleset) -> str:
    """``{city}{year}年{activity}``, leaving out what is unknown."""
    return f"{city}{f'{year}年' if year else ''}{ruleset.activity}"


def read_round_file(path: Path) -> dict:
    """round.toml as a checked dict (unknown keys and wrong types are refused in Chinese)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DatasetError(f"{path}：不是有效的 TOML 文件（{exc}）", path=str(path)) from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}：请以 UTF-8 编码保存", path=str(path)) from None

    def fail(key: str, problem: str):
        raise DatasetError(f"{path}：{key} {problem}", path=str(path), column=key)

    unknown = sorted(set(raw) - set(ROUND_KEYS))
    if unknown:
        fail("、".join(unknown), f"不是认识的项目；可用的项目：{'、'.join(ROUND_KEYS)}")
    out: dict = {}
    for key in ("city", "title"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key].strip():
                fail(key, "应为非空文本")
            out[key] = raw[key].strip()
    if "year" in raw:
        if isinstance(raw["year"], bool) or not isinstance(raw["year"], int) or not 1900 <= raw["year"] <= 2999:
            fail("year", f"应为年份数字，如 2013，而不是 {raw['year']!r}")
        out["year"] = raw["year"]
    for key in ("report_date", "survey_start", "survey_end"):
        if key in raw:
            v = raw[key]
            if isinstance(v, dt.datetime):
                v = v.date()
            elif isinstance(v, str):
                try:
                    v = dt.date.fromisoformat(v.strip())
                except ValueError:
                    fail(key, f"应为日期，如 2013-09-20，而不是 {raw[key]!r}")
            elif not isinstance(v, dt.date):
                fail(key, f"应为日期，如 2013-09-20，而不是 {raw[key]!r}")
            out[key] = v
    if "responsibility" in raw:
        out["responsibility"] = _read_duties(raw["responsibility"], fail)
    return out


def _read_duties(raw, fail) -> dict[str, Duty]:
    """[responsibility.X] tables as {X: Duty}; X is checked against the ruleset later
    (:func:`duties_of`). A list of names, or one text of names separated by 、 or commas."""
    if not isinstance(raw, dict):
        fail("responsibility", "应为表，如 [responsibility.lawful]，下写 leaders、lead_offices、responsible_offices")
    out: dict[str, Duty] = {}
    for dim, table in raw.items():
        where = f"responsibility.{dim}"
        if not isinstance(table, dict):
            fail(where, "应为表，下写 leaders、lead_offices、responsible_offices")
        unknown = sorted(set(table) - set(DUTY_KEYS))
        if unknown:
            fail(f"{where}.{'、'.join(unknown)}", f"不是认识的项目；可用的项目：{'、'.join(DUTY_KEYS)}")
        names = {}
        for key in DUTY_KEYS:
            v = table.get(key, [])
            if isinstance(v, str):
                v = [x for x in _NAME_SEPARATORS.split(v) if x]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                fail(f"{where}.{key}", f"应为名称列表，如 [\"政策法规处\", \"局办公室\"]，而不是 {v!r}")
            names[key] = tuple(dict.fromkeys(visible(x).strip() for x in v if x.strip()))
        out[str(dim)] = Duty(**names)
    return out


def duties_of(given: Mapping[str, Duty], ruleset: Ruleset, path: Path) -> tuple[tuple[str, Duty], ...]:
    """round.toml's duties keyed by dimension code in the ruleset's order; a dimension is named
    by its code or its label; one the ruleset does not score, or named twice, is refused."""
    by_name = {**{label: code for code, label in ruleset.item_labels.items() if code in ruleset.scored_items},
               **{code: code for code in ruleset.scored_items}}
    out: dict[str, Duty] = {}
    for name, duty in given.items():
        code = by_name.get(name.strip())
        if code is None:
            known = "、".join(f"{c}（{ruleset.item_labels[c]}）" for c in ruleset.scored_items)
            raise DatasetError(f"{path}：responsibility.{visible(name)} 不是评议规则中的评议内容；可用的：{known}",
                               path=str(path), column=f"responsibility.{name}")
        if code in out:
            raise DatasetError(f"{path}：评议内容 {code}（{ruleset.item_labels[code]}）的责任分工写了两次",
                               path=str(path), column=f"responsibility.{name}")
        out[code] = duty
    return tuple((c, out[c]) for c in ruleset.scored_items if c in out)


def round_info(folder: str | Path, tables: Mapping[str, pd.DataFrame], ruleset: Ruleset,
               days: Mapping[str, pd.Series] | None = None) -> RoundInfo:
    """The round of a dataset folder: round.toml where it says, the data for the rest.
    ``days``: day counts (day → rows) standing for the date-time column of a response table
    whose rows are not in memory (read by the engine, or merged counts), by table."""
    path = Path(folder) / ROUND_FILE
    given = read_round_file(path) if path.is_file() else {}
    dates = data_dates(tables, days)
    city = given.get("city") or city_of(tables["units"])
    year = given.get("year") or year_of(tables, days)
    title = given.get("title") or make_title(city, year, ruleset)
    return RoundInfo(title=title, city=city, year=year, report_date=given.get("report_date"),
                     survey_start=given.get("survey_start"), survey_end=given.get("survey_end"),
                     last_date=dates.max().date() if len(dates) else None,
                     source=str(path) if given or path.is_file() else "",
                     duties=duties_of(given.get("responsibility", {}), ruleset, path))


def round_toml(city: str, year: int, report_date: dt.date | None = None, title: str = "",
               dimensions: Mapping[str, str] | None = None, duties: Mapping[str, Duty] | None = None) -> str:
    """The text of a round.toml for a new round (``pingyi init``, the sample generator).
    ``dimensions`` (code → label, the ruleset's scored items): a [responsibility.X] table for
    each, holding ``duties[X]``'s names, or empty lists with a comment saying what goes there."""
    lines = ["# 本轮评议的基本信息（pingyi 读取；见 docs/data-contract.md）",
             f'city = "{city}"', f"year = {year}"]
    lines.append(f'title = "{title}"' if title else f'# title = "{city}{year}年民主评议政风行风"  # 省略时自动生成')
    lines.append(f"report_date = {report_date.isoformat()}" if report_date
                 else f"# report_date = {year}-09-20  # 整改台账读取日；省略时取数据中最后的日期")
    if dimensions:
        lines += ["", "# 各评议内容的责任分工（实施意见三）：责任领导（leaders）、牵头处室（lead_offices）、",
                  "# 责任处室（responsible_offices），填本市本年度的名单，",
                  "# 如 lead_offices = [\"政策法规处\", \"局办公室\"]。",
                  "# 不填的评议内容在报告中显示“未指定”；整改台账的 owner（责任处室）按这里的处室核对。"]
    for code, label in (dimensions or {}).items():
        duty = (duties or {}).get(code, Duty())
        lines += ["", f"[responsibility.{code}]  # {label}"]
        for key, what in DUTY_KEYS.items():
            given = ", ".join(json.dumps(n, ensure_ascii=False) for n in getattr(duty, key))
            lines.append(f"{key} = [{given}]  # {what}")
    return "\n".join(lines) + "\n"
