"""The rules of the main problems the public raised (``[problems]``: themes and their keywords,
negations, praise, the comments no theme took): :class:`ProblemRules`. Read by
``ruleset.parse_ruleset``, which holds them in ``Ruleset.problems``; used by text/.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingyi_lib.scheme.reader import _distinct, _pair, _Reader, _shown


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


def _problems(r: _Reader, items: tuple[str, ...]) -> ProblemRules:
    themes = []
    raw = r.get("problems.themes", [])
    if not isinstance(raw, list):
        r.fail("problems.themes", "必须是 [[problems.themes]] 表的数组")
    for i, t in enumerate(raw):
        sub = r.sub(f"problems.themes[{i}]", t)
        dim = sub.text("dimension")
        if dim not in items:
            sub.fail("dimension", f"必须是评议内容之一（{', '.join(items)}），而不是 {_shown(dim)}")
        kws = sub.texts("keywords")
        if not kws:
            sub.fail("keywords", "至少要有一个关键词")
        for k in kws:
            if k.strip("*") != k or "**" in k:
                sub.fail("keywords", f"中的 {k!r} 不对：\"*\" 只能放在两个词之间，不能在首尾，也不能连用")
        themes.append(Theme(sub.text("name"), dim, kws, sub.texts("examples", [])))
        sub.refuse_unknown()
    names = [t.name for t in themes]
    _distinct(r, "problems.themes", names)
    groups = r.get("problems.synonyms", [])
    if not isinstance(groups, list):
        r.fail("problems.synonyms", "必须是词表的列表")
    synonyms = []
    for i, g in enumerate(groups):
        if not (isinstance(g, list) and len(g) >= 2 and all(isinstance(w, str) and w.strip() for w in g)
                and len(set(g)) == len(g)):
            r.fail(f"problems.synonyms[{i}]", f"必须列出至少两个不同的词，而不是 {_shown(g)}")
        for w in g:
            if any(w in other for other in synonyms):
                r.fail(f"problems.synonyms[{i}]", f"中的 {w!r} 已在前面的一组中出现")
        synonyms.append(tuple(g))
    return ProblemRules(
        top=r.integer("problems.top", lo=1, hi=100, default=5),
        quotes=r.integer("problems.quotes", hi=20, default=2),
        quote_chars=_pair(r, "problems.quote_chars", (10, 80), hi=10_000),
        workbook_top=r.integer("problems.workbook_top", lo=1, hi=100, default=3),
        negation_before=r.texts("problems.negation_before", []), negation_after=r.texts("problems.negation_after", []),
        themes=tuple(themes),
        negation_fillers=r.texts("problems.negation_fillers", []),
        suggestion_cues=r.texts("problems.suggestion_cues", []),
        contrast_cues=r.texts("problems.contrast_cues", []),
        synonyms=tuple(synonyms),
        gap=r.integer("problems.gap", lo=1, hi=100, default=6),
        min_chars=r.integer("problems.min_chars", lo=0, hi=1000, default=2),
        non_substantive=r.texts("problems.non_substantive", []),
        similarity=r.number("problems.similarity", lo=0, hi=1, default=1.0),
        shared_pairs=r.integer("problems.shared_pairs", lo=0, hi=100, default=2),
        praise=Praise(r.texts("problems.praise.cues", []), r.texts("problems.praise.examples", [])),
        unmatched=UnmatchedRules(r.number("problems.unmatched.similarity", lo=0, hi=1, default=0.5),
                                 r.integer("problems.unmatched.top", lo=1, hi=1000, default=10),
                                 r.integer("problems.unmatched.examples", lo=1, hi=100, default=3)),
        domain_words=r.texts("problems.domain_words", []))
