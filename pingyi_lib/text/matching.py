"""Reading one comment: the themes it raises, or praise, or nothing, and why.

Every rule comes from the ruleset's ``[problems]`` (themes with keywords and example
sentences, synonyms, negation, praise cues); nothing here knows a Chinese word.

A comment is read in this order, and the first step that decides wins:

1. **Keywords.** A theme's keyword found in the text raises the theme. A keyword may
   contain ``*`` for up to ``problems.gap`` characters of the same clause (``处罚*不公示``
   finds 处罚标准不公示), and every word of a ``problems.synonyms`` group stands for the
   others (``未公示`` also finds 没有公开, 不公布). A keyword that is negated does not
   count: a negation word right before it, with only filler words between
   (``没有推诿``, ``没遇到刁难``), or a word saying it went away right after it
   (``乱罚款少了``). The keyword's own words are never its negation: ``没有出示*证``
   finds 执法时没有出示执法证件 as a complaint. A negation after a suggestion cue still
   raises the problem (``希望杜绝乱罚款``).
2. **Improvement.** Only negated keywords: the comment says a problem went away; praise.
3. **Nothing said.** Fewer than ``problems.min_chars`` characters, or a stock phrase
   (无, 没有意见): not substantive.
4. **Praise.** A praise cue (点赞, 服务热情) that is not negated, read after the last
   contrast word (总体不错，但是…: only what follows 但是 is read for praise).
5. **Similar example.** The example sentence (of a theme, or of praise) whose character
   n-grams are closest to the comment (:mod:`pingyi_lib.text.ngrams`), if its cosine
   similarity reaches ``problems.similarity`` and they share at least
   ``problems.shared_pairs`` pairs of neighbouring characters.
6. Otherwise the comment is substantive but fits no theme: **unthemed**
   (:mod:`pingyi_lib.text.unmatched` groups these for the analyst).

Every theme found carries the rule that found it (:class:`Match`), so a report can say
"关键词“推诿”" or "相似例句“……”（0.41）".

    >>> m = matcher(load_ruleset().problems)               # doctest: +SKIP
    >>> m.read("处罚标准不公示，自由裁量太随意").themes      # doctest: +SKIP
    ['办事程序和结果不公开', '乱罚款、自由裁量随意']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pingyi_lib.scheme.ruleset import ProblemRules, Theme
from pingyi_lib.text.ngrams import NgramSpace, grams, letters

PROBLEM, PRAISE, BLANK, UNTHEMED = "problem", "praise", "blank", "unthemed"
KIND_LABELS = {PROBLEM: "反映问题", PRAISE: "表扬肯定", BLANK: "无实质内容", UNTHEMED: "未归类"}
KEYWORD, EXAMPLE = "keyword", "example"

_MEMO_MAX = 500_000  # distinct texts remembered per ruleset
_CLAUSE_END = "，。；！？,.;!?\n\r\t "  # a negation or a "*" never reaches across these


@dataclass(frozen=True)
class Match:
    """Why a comment raised a theme (or reads as praise: ``theme`` is '')."""

    theme: str
    dimension: str
    via: str  # "keyword" or "example"
    rule: str  # the keyword as the ruleset writes it, or the example sentence
    found: str  # the words of the comment that matched a keyword ('' for an example)
    score: float  # 1 for a keyword, the cosine similarity for an example
    negated: bool = False  # a keyword found negated (没有推诿): the reason a comment reads as praise

    def explain(self) -> str:
        """In words, for a report: 关键词“未公示”（原文“不公示”） or 相似例句“…”（相似度0.42）."""
        if self.via == KEYWORD:
            shown = self.rule.replace("*", "…")
            said = f"原文“{self.found}”" if self.found != self.rule else ""
            said = "，".join(filter(None, [said, "已否定" if self.negated else ""]))
            return f"关键词“{shown}”" + (f"（{said}）" if said else "")
        return f"相似例句“{self.rule}”（相似度{self.score:.2f}）"


@dataclass(frozen=True)
class Reading:
    """What one comment says: its kind (problem, praise, blank, unthemed) and the matches."""

    kind: str
    matches: tuple[Match, ...] = ()  # one per theme raised (kind 'problem'); the reason for 'praise'

    @property
    def themes(self) -> list[str]:
        """The themes raised (none for praise, even praise that names a problem gone)."""
        return [m.theme for m in self.matches] if self.kind == PROBLEM else []

    @property
    def substantive(self) -> bool:
        """A complaint or suggestion, themed or not (praise and empty comments are not)."""
        return self.kind in (PROBLEM, UNTHEMED)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


class Matcher:
    """The compiled rules of one ruleset (build with :func:`matcher`, which caches)."""

    def __init__(self, rules: ProblemRules):
        self.rules = rules
        self._memo: dict[str, Reading] = {}
        self._synonyms = {w: g for g in rules.synonyms for w in g}
        self._by_length = sorted(self._synonyms, key=lambda w: (-len(w), w))
        self._keywords: list[tuple[Theme, list[tuple[str, re.Pattern]], re.Pattern]] = []
        for t in rules.themes:
            pats = [(k, re.compile(self.keyword_pattern(k))) for k in t.keywords]
            self._keywords.append((t, pats, re.compile("|".join(f"(?:{p.pattern})" for _, p in pats))))
        fill = f"(?:{_alternation(rules.negation_fillers)})*" if rules.negation_fillers else ""
        self._neg_before = (re.compile(f"({_alternation(rules.negation_before)}){fill}$")
                            if rules.negation_before else None)
        self._neg_after = (re.compile(f"^{fill}(?:{_alternation(rules.negation_after)})")
                           if rules.negation_after else None)
        self._any_keyword = re.compile("|".join(f"(?:{c.pattern})" for _, _, c in self._keywords)) \
            if self._keywords else None
        self._neg_word = re.compile(_alternation(rules.negation_before)) if rules.negation_before else None
        self._suggestion = re.compile(_alternation(rules.suggestion_cues)) if rules.suggestion_cues else None
        self._contrast = re.compile(_alternation(rules.contrast_cues)) if rules.contrast_cues else None
        self._praise = re.compile(_alternation(rules.praise.cues)) if rules.praise.cues else None
        self._blank = {letters(s) for s in rules.non_substantive}
        self._examples: list[tuple[Theme | None, str]] = [(t, e) for t in rules.themes for e in t.examples]
        self._examples += [(None, e) for e in rules.praise.examples]
        self._domain = re.compile(_alternation(rules.domain_words)) if rules.domain_words else None
        self._space = NgramSpace([self.plain(e) for _, e in self._examples])
        self._example_vectors = self._space.vectors([self.plain(e) for _, e in self._examples])

    def plain(self, text: str) -> str:
        """The text without the words every comment uses (安监, 检查), for similarity."""
        return self._domain.sub("，", text) if self._domain is not None else text

    # ---- keywords ------------------------------------------------------------------
    def keyword_pattern(self, keyword: str) -> str:
        """The regular expression of a keyword: synonyms as alternatives, ``*`` as a gap."""
        gap = f"[^{re.escape(_CLAUSE_END)}]{{0,{self.rules.gap}}}?"
        return gap.join(self._words(part) for part in keyword.split("*"))

    def keyword_forms(self, limit: int = 24) -> list[str]:
        """The plain words the keywords stand for (each "*" part, with its synonyms), at most
        ``limit`` forms per part: for a word segmenter's dictionary."""
        forms: dict[str, None] = {}
        for t in self.rules.themes:
            for k in t.keywords:
                for part in k.split("*"):
                    variants = [""]
                    for alts in self._tokens(part):
                        variants = [v + a for v in variants for a in alts][:limit]
                    forms.update(dict.fromkeys(v for v in variants if len(v) >= 2))
        return list(forms)

    def _words(self, part: str) -> str:
        return "".join(re.escape(alts[0]) if len(alts) == 1 else f"(?:{_alternation(alts)})"
                       for alts in self._tokens(part))

    def _tokens(self, part: str) -> list[tuple[str, ...]]:
        """A keyword part as its alternatives, longest synonym first: 未公示 -> [(没有, 没, 未, 不, 无),
        (公示, 公开, …)]; a character of no group stands alone."""
        out, i = [], 0
        while i < len(part):
            w = next((w for w in self._by_length if part.startswith(w, i)), None)
            out.append(self._synonyms[w] if w else (part[i],))
            i += len(w) if w else 1
        return out

    def _negated(self, text: str, start: int, end: int) -> bool:
        """Negated before (没有推诿, not after a suggestion cue) or after (乱罚款少了).

        Words that say no themselves (没有出示, 不公示, 没人过问) are not negated by a
        negation before them: in a complaint that is a separate thought ("整改了没有也没人
        过问"), hardly ever a double negative.
        """
        clause_start = max((text.rfind(c, 0, start) for c in _CLAUSE_END), default=-1) + 1
        before = text[clause_start:start]
        says_no = self._neg_word is not None and self._neg_word.search(text, start, end)
        if self._neg_before is not None and not says_no:
            if self._any_keyword is not None:  # 没有推诿扯皮: the negation reaches over other problems named
                before = self._any_keyword.sub("", before)
            m = self._neg_before.search(before)
            if m and not (self._suggestion is not None and self._suggestion.search(before, 0, m.start())):
                return True
        if self._neg_after is not None:
            ends = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
            after = text[end:min(ends, default=len(text))]
            if self._any_keyword is not None:  # 推诿扯皮的少多了: over the other problems named
                after = self._any_keyword.sub("", after)
            return bool(self._neg_after.search(after))
        return False

    def keyword_matches(self, text: str) -> tuple[list[Match], list[Match]]:
        """(themes raised, keywords found but negated), one match per theme, ruleset order."""
        raised, negated = [], []
        for theme, pats, combined in self._keywords:
            first_negated = None
            for m in combined.finditer(text):
                kw = next(k for k, p in pats if p.fullmatch(m.group()))
                hit = Match(theme.name, theme.dimension, KEYWORD, kw, m.group(), 1.0)
                if not self._negated(text, m.start(), m.end()):
                    raised.append(hit)
                    break
                first_negated = first_negated or replace(hit, negated=True)
            else:
                if first_negated is not None:
                    negated.append(first_negated)
        return raised, negated

    # ---- praise and emptiness -------------------------------------------------------
    def is_blank(self, text: str) -> bool:
        """Too short, or every clause a stock phrase (没接触过，不好评价)."""
        s = letters(text)
        if len(s) < self.rules.min_chars:
            return True
        clauses = [letters(c) for c in re.split(f"[{re.escape(_CLAUSE_END)}]", text)]
        return all(c in self._blank for c in clauses if c)

    def praise_cue(self, text: str) -> str:
        """The first praise cue after the last contrast word that is not negated, or ''."""
        if self._praise is None:
            return ""
        focus = text
        if self._contrast is not None:
            cuts = [m.end() for m in self._contrast.finditer(text)]
            focus = text[cuts[-1]:] if cuts else text
        for m in self._praise.finditer(focus):
            if not self._negated(focus, m.start(), m.end()):
                return m.group()
        return ""

    def _shared_pairs(self, text: str, example: str) -> int:
        """How many pairs of neighbouring characters a text and an example share (a short
        comment must not take a theme on one shared word)."""
        return len(grams(self.plain(str(text)), (2,)).keys() & grams(self.plain(example), (2,)).keys())

    # ---- reading ---------------------------------------------------------------------
    def read(self, text: str) -> Reading:
        return self.read_all([text])[0]

    def read_all(self, texts: Sequence[str]) -> list[Reading]:
        """Read many texts; the similarity step runs once for all that reach it. Readings
        are remembered (a report reads the same comments for its themes, its coverage and
        its unthemed groups)."""
        todo = list(dict.fromkeys(str(t) for t in texts if str(t) not in self._memo))
        if len(self._memo) + len(todo) > _MEMO_MAX:
            self._memo.clear()
        self._memo.update(zip(todo, self._read_all(todo)))
        return [self._memo[str(t)] for t in texts]

    def _read_all(self, texts: Sequence[str]) -> list[Reading]:
        out: list[Reading | None] = []
        pending: list[int] = []
        for i, raw in enumerate(texts):
            text = str(raw).strip()
            raised, negated = self.keyword_matches(text)
            if raised:
                out.append(Reading(PROBLEM, tuple(raised)))
            elif negated:
                out.append(Reading(PRAISE, tuple(negated[:1])))
            elif self.is_blank(text):
                out.append(Reading(BLANK))
            elif cue := self.praise_cue(text):
                out.append(Reading(PRAISE, (Match("", "", KEYWORD, cue, cue, 1.0),)))
            else:
                out.append(None)
                pending.append(i)
        if pending and self._examples:
            sims = self._space.similarity([self.plain(str(texts[i]).strip()) for i in pending], self._example_vectors)
            best = sims.argmax(axis=1)
            for i, j, s in zip(pending, best, sims[np.arange(len(pending)), best]):
                theme, example = self._examples[j]
                if s < self.rules.similarity or s <= 0 \
                        or self._shared_pairs(texts[i], example) < self.rules.shared_pairs:
                    continue
                if theme is None:
                    out[i] = Reading(PRAISE, (Match("", "", EXAMPLE, example, "", float(s)),))
                else:
                    out[i] = Reading(PROBLEM, (Match(theme.name, theme.dimension, EXAMPLE, example, "", float(s)),))
        return [r if r is not None else Reading(UNTHEMED) for r in out]


@functools.lru_cache(maxsize=8)
def matcher(rules: ProblemRules) -> Matcher:
    """The compiled matcher of a ruleset's problem rules (cached: rules are frozen)."""
    return Matcher(rules)
