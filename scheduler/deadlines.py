"""Deadline phrases of Chinese implementation plans, turned into dates a person can check.

A plan writes its time limits in many ways: 到2025年, 2017年底前, 6月底前, 上半年,
十三五期间, 印发之日起30日内, 每季度末, 逐步. :func:`find_deadlines` finds every such
phrase of a text, in order, and normalizes it into a :class:`~scheduler.model.Deadline`:

- the due date is the LAST day of the period named (到2025年 → 2025-12-31), except
  that "X前" means before X starts (2018年前 → 2017-12-31) unless X is a moment
  (2018年底前, 3月15日前: inclusive);
- year-less phrases take the year of the phrase before them, else of ``base`` (the
  document's issue date) or the next one when theirs is over by then, and relative ones
  (年内, 明年, 三个月内) count from ``base``;
- starts (2017年起) give the first day, recurring ones (每季度末) an RFC 5545 rule,
  explicit no-date words (逐步, 及时) kind ``none`` with a reason, and impossible dates
  (2月30日) kind ``none`` with a reason rather than an exception;
- years that are not limits (baselines 比2015年, cited titles 《…2016年…》, processing
  limits 受理后20个工作日内) give no result at all.

:func:`normalize` reduces a text to the single result ``duban normalize`` prints: its
one phrase, or ``multi`` with the dates of its dated phrases.

Text is read through a cleaned copy (:mod:`scheduler.numerals`): Chinese and full-width
numerals become digits, traditional characters simplified, stray spaces dropped, and
every phrase is reported with its span in the original. The words come from
rules/lexicon.toml (:mod:`scheduler.lexicon`); the patterns here only say how the words
combine. Everything is pure: no clock, no I/O beyond reading the lexicon once.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import cache, reduce
from operator import or_
from pathlib import Path
from typing import NamedTuple

import holidays

from scheduler import lexicon
from scheduler.lexicon import Lexicon
from scheduler.model import Deadline, Kind, Precision
from scheduler.workdays import Workdays

AddWorkdays = Callable[[date, int], date]

_DAY_END = r"(?=\Z|\s|[前起至到止以之\-,.;:、)\]])"
# What may follow a day and still belong to it: its weekday, a time of day (零时, 17:00).
_WEEKDAY = r"(?:\((?:星期|周).\))?(?:(?:零|\d{1,2})[时点](?:整|\d{1,2}分)?|\d{1,2}:\d\d)?"
# A range joins two dates, so its separator follows a digit or the last character of a
# date word (6月至, 年底-, 年初至; the lexicon adds its own); a list of years (2017、2018年)
# or of parts (3、6月) joins digits. 到 alone (到2025年) needs no range scan.
_RANGE_SEPARATORS = ("-", "至", "到")
_RANGE_ENDS = "0123456789年月日号起"
_LIST_WORDS = tuple(f"{c}{sep}" for c in "0123456789" for sep in "、和及")
_POINT_GROUPS = ("y", "ys", "yw", "py", "fy", "m", "d", "mp", "iy", "im", "id", "ny", "nm", "sp", "fs", "mw", "lm", "ld", "lmp", "qw", "qe")
_BARE_YEAR = re.compile(r"\d{4}年度?")
_PAST_WINDOW = 12  # characters after a bare year in which a past marker makes it a fact
# A title opened and not yet closed: what comes next is inside it (《…2016年重点工作任务》).
_OPEN_TITLE = re.compile(r"《[^》]*\Z|〈[^〉]*\Z")
_DATED = ("deadline", "multi")  # the kinds with dates: a hedge (力争, 左右) qualifies them, a multi gathers them
_CLAUSE_ENDS = "。;!?\n"
_CLAUSE_END = re.compile(f"[{_CLAUSE_ENDS}]")
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A duration's unit in hours, days or months; 半年 is six months, 半月 fifteen days. Hours
# count whole days only (24小时内 → the next day; 2小时内 → the day itself).
_STEPS = {
    "小时": ("hours", 1),
    "日": ("days", 1),
    "天": ("days", 1),
    "周": ("days", 7),
    "星期": ("days", 7),
    "月": ("months", 1),
    "季度": ("months", 3),
    "年": ("months", 12),
    "半年": ("months", 6),
    "半月": ("days", 15),
    "半季度": ("days", 45),
}
# The units of a duration as written: a month or quarter needs its 个 (3个月; 3月 is March,
# 3季度 the third quarter) except after 半; a bare cell takes no 日 (15日 is a day of a month).
# A half more is written inside (1个半月) or after (1年半) the unit.
_DURATION_UNITS = "个?(?:工作日|星期|小时)|个半?(?:月|季度)|(?<=半)个?月|周|天|日|年半?"
_CELL_UNITS = "个?(?:工作日|星期)|个半?(?:月|季度)|(?<=半)个?月|周|天|年半?"


class _Rule(NamedTuple):
    """A pattern, what a match means, and words one of which a text needs for a match.

    The words let most texts skip most patterns: one scan for all the words is far
    cheaper than a scan per pattern, and normalizing must be fast enough for whole
    documents.
    """

    needs: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Callable[[re.Match[str], _Context], _Result | None]
    # Whether a match binds nothing (a baseline, a cited title, a past fact), so that it
    # yields no result and its year lends nothing to the phrases after it.
    unbound: Callable[[re.Match[str]], bool]


class _Invalid(Exception):
    """A phrase that looks like a date but names none; the message is the reason."""


class _Span(NamedTuple):
    """A period of days named by a phrase; ``point`` when it names a moment (年底, 3月15日)."""

    first: date
    last: date
    precision: Precision
    point: bool


class _Result(NamedTuple):
    kind: Kind
    date: date | None = None
    precision: Precision | None = None
    rrule: str | None = None
    reason: str | None = None
    dates: tuple[date, ...] = ()


class _Context:
    """What a phrase may borrow from the text before it and from the caller."""

    def __init__(self, base: date | None, add_workdays: AddWorkdays) -> None:
        self.base = base
        self.add_workdays = add_workdays
        self.year: int | None = None

    def need_base(self) -> date:
        if self.base is None:
            raise _Invalid("no base date")
        return self.base

    def yearless(self, span_in: Callable[[int], _Span]) -> _Span:
        """A period written without its year (6月底前, 春节前, 一季度), in the year of the
        phrase before it; failing that, in the base's year, or in the next one when the
        period is over by the base date: a plan issued in June that asks for 3月底前 means
        the coming March. The year chosen carries on (3月底前…6月底前…12月底前)."""
        if self.year is not None:
            return span_in(self.year)
        base = self.need_base()
        span = span_in(base.year)
        if span.last >= base:
            self.year = base.year
            return span
        self.year = base.year + 1
        return span_in(self.year)


def find_deadlines(
    text: str,
    base: date | None = None,
    *,
    add_workdays: AddWorkdays | None = None,
    lexicon_path: Path = lexicon.PATH,
) -> list[Deadline]:
    """Every time phrase of ``text``, in order, with ``text[d.start:d.end] == d.text``.

    ``add_workdays`` counts working days (default: China's official calendar, without
    the extra days of a config.toml); ``lexicon_path`` names another lexicon than
    rules/lexicon.toml, for an office that keeps its own words.
    """
    return _grammar(lexicon_path).find(text, base, add_workdays or _official_workdays())


def normalize(
    text: str,
    base: date | None = None,
    *,
    add_workdays: AddWorkdays | None = None,
    lexicon_path: Path = lexicon.PATH,
) -> Deadline:
    """The one result for ``text``: its phrase, a ``multi`` of its dated phrases, or ``none``.

    A cell or clause with two dated phrases (到2017年、2018年底…分别达) is one obligation
    with two milestones, so they come back together rather than the first alone.
    """
    found = find_deadlines(text, base, add_workdays=add_workdays, lexicon_path=lexicon_path)
    if len(found) == 1:
        return found[0]
    dated = [d for d in found if d.kind in _DATED]
    dates = tuple(dict.fromkeys(day for d in dated for day in (d.dates or (d.date,))))
    if len(dates) > 1:
        start, end = dated[0].start, dated[-1].end
        return Deadline(text[start:end], start, end, "multi", dates=dates, hedged=any(d.hedged for d in dated))
    for kind in ("deadline", "multi", "recurring", "start", "none"):
        for d in found:
            if d.kind == kind:
                return d
    return Deadline(text, 0, len(text), "none", reason="no time phrase")


@cache
def _official_workdays() -> AddWorkdays:
    """China's official calendar (调休 included), for callers that bring no calendar of
    their own: 10个工作日内 counts the days a government office works, not Monday to Friday."""
    return Workdays().add


def _add_months(day: date, n: int) -> date:
    """``day`` moved by ``n`` months, clamped to the month's end (08-31 + 6 months → 02-28)."""
    year, month = _month(day.year, day.month + n)
    return date(year, month, min(day.day, _days_in(year, month)))


def _alt(words: Iterable[str]) -> str:
    """A pattern matching any of ``words``, longest first, factored as a trie.

    Python's regex engine tries the branches of ``a|b|c`` one by one at every position;
    with a lexicon of a hundred words that is most of the scan. Sharing prefixes
    (年(?:底|末)|上半年…) lets it fail after one character instead.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_pattern(trie)


def _trie_pattern(node: dict[str, dict]) -> str:
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    single = [b for b in branches if len(b) == 1]
    if len(single) > 1:  # 底|末|终 → [底末终]
        branches = [b for b in branches if len(b) != 1] + ["[" + "".join(single) + "]"]
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _days_in(year: int, month: int) -> int:
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def _month_end(year: int, month: int) -> date:
    return date(year, month, _days_in(year, month))


def _quarter(year: int, n: int) -> _Span:
    return _Span(date(year, 3 * n - 2, 1), _month_end(year, 3 * n), "quarter", False)


def _month(year: int, month: int) -> tuple[int, int]:
    """(year, month) of a month count that may pass 12 (秋冬季 runs into the next year)."""
    return year + (month - 1) // 12, (month - 1) % 12 + 1


@cache
def _festival_day(year: int, name: str) -> date:
    """The first day of a public holiday in python-holidays' Chinese calendar (lunar ones included)."""
    days = [d for d, n in holidays.China(years=year, language="zh_CN").items() if n == name]
    if not days:
        raise _Invalid(f"{name} is unknown in {year}")
    return min(days)


@cache
def _grammar(path: Path) -> _Grammar:
    return _Grammar(lexicon.load(path))


class _Grammar:
    """The patterns built from one lexicon, and how each kind of match becomes a result."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        # After a year, a period is written whole (2018年年底) or shortened (2018年底).
        stripped = {w[1:]: p for w, p in lex.periods.items() if p.after_year and w.startswith("年")}
        self.year_periods = {**lex.periods, **stripped}
        self.lone_parts = {w: p for w, p in lex.plan_parts.items() if w.endswith("之年")}
        self.plan_by_year = {y: name for name, (a, b) in lex.plans.items() for y in range(a, b + 1)}
        self.alt_attached = _alt(self.year_periods)
        self.alt_periods = _alt(lex.periods)
        self.alt_month_periods = _alt(lex.month_periods)
        self.alt_festivals = _alt(lex.festivals)
        self.period_spans: dict[tuple[int, str], _Span] = {}
        hedges_before = _alt(lex.hedges_before)
        lead = rf"(?P<hb>{hedges_before})?(?:{_alt(lex.leads)})?"
        tails = _alt(lex.until + lex.within)
        around = _alt(lex.hedges_around)
        tail = rf"(?P<about>{around})?(?P<tail>{tails})?(?P<around>{around})?"
        anchors = _alt(lex.anchors)
        starts_before = _alt(lex.starts_before)
        anchor = rf"(?P<anchor>(?:{starts_before})?(?:(?:{anchors})之日|即日)起)"
        after_anchor = (
            rf"(?P<anchor>(?:{starts_before})?(?:本(?:{_alt(lex.anchor_documents)}))?"
            rf"(?:{anchors})(?:之日起|之日后|之后|以后|后|起)|(?:{starts_before})?即日起)"
        )
        upto = r"(?:\d{1,3}(?:-|至|到))?"
        range_ends = set(_RANGE_ENDS).union(
            *(
                {w[-1] for w in words}
                for words in (self.year_periods, lex.month_periods, lex.festivals, lex.year_words, lex.month_words, lex.quarter_words)
            )
        )
        range_words = tuple(f"{c}{sep}" for c in sorted(range_ends) for sep in _RANGE_SEPARATORS)
        starts_after = _alt(lex.starts_after)
        recurring_units = _alt(lex.recurring)
        # Every phrase starts with a digit or the first character of one of these words; a
        # pattern that first looks for one skips the rest of a document at C speed.
        first = "".join(
            sorted(
                set("0123456789本在半用经通花今未即")
                | {
                    w[0]
                    for words in (
                        lex.leads, lex.hedges_before, lex.starts_before, lex.year_words, lex.month_words, lex.quarter_words,
                        lex.periods, lex.festivals, lex.plans, self.lone_parts, lex.anchors,
                    )
                    for w in words
                }
            )
        )
        lead = rf"(?=[{re.escape(first)}]){lead}"
        limit = self._compared_or_cited
        self.rules: list[_Rule] = [
            _Rule(
                ("每", "按", "次"),
                re.compile(
                    rf"(?:(?:每个?|按)(?:(?P<rn>\d{{1,2}})个?)?(?P<ru>{recurring_units})"
                    rf"|(?P<on>半|\d{{1,2}})个?(?P<ou>{recurring_units})(?:一|1)次)的?"
                    rf"(?:(?:第(?P<qm>[1-3])个月|首月)的?(?P<qd>\d{{1,2}})[日号]"
                    rf"|(?:最后1个月|末月)的?(?P<ld>\d{{1,2}})[日号]"
                    rf"|(?:年|月|季度?)?(?P<re>底|末)"
                    rf"|(?P<wmp>{self.alt_month_periods})"
                    rf"|(?<=周|期)(?P<wd>[1-7一二三四五六日天])(?![\d月号季])"
                    rf"|(?:结束后|后|次月)(?P<an>\d{{1,2}})(?:个工作日|日|天)内?"
                    rf"|(?P<rm>\d{{1,2}}(?:月份?(?:底|末)?[、和及]\d{{1,2}})*)月份?(?:(?P<rd>\d{{1,2}})[日号]|(?P<rmp>{self.alt_month_periods}))?"
                    rf"|(?P<dd>\d{{1,2}})[日号]"
                    rf"|(?P<rp>{self.alt_attached}))?"
                    rf"(?P<rparen>\([^()\n]{{0,30}}\))?(?:以前|之前|前|以内|内)?"
                ),
                self._recurring,
                limit,
            ),
            _Rule(
                ("五", "之年"),
                re.compile(
                    rf"{lead}(?:(?P<plan>{_alt(lex.plans)})(?P<part>{_alt(lex.plan_parts)})?"
                    rf"|(?P<lone>{_alt(self.lone_parts)})){tail}"
                ),
                self._plan,
                limit,
            ),
            _Rule(
                range_words,
                re.compile(
                    # 2016-2020年, and in a table cell 2018-2020 with no 年 at all
                    rf"{lead}(?<!\d)(?P<ya>\d{{4}})年?(?:-|至|到)(?P<yb>\d{{4}})(?:年度?|(?![\d.%]))"
                    rf"(?P<ybp>{self.alt_attached})?(?:{tails})?"
                ),
                self._year_range,
                limit,
            ),
            _Rule(
                _LIST_WORDS,
                re.compile(
                    rf"{lead}(?<!\d)(?P<years>\d{{4}}(?:[、和及]\d{{4}})+)年(?P<yp>{self.alt_attached})?(?:{tails})?"
                ),
                self._years,
                limit,
            ),
            _Rule(
                _LIST_WORDS + tuple(f"{d}{sep}" for d in "0123456789" for sep in _RANGE_SEPARATORS),
                re.compile(
                    # 2024年3、6月底前 (each a milestone), 2023年1-3季度 (the last ends it)
                    rf"{lead}(?:(?<!\d)(?P<y>\d{{4}})年度?|(?P<yw>{_alt(lex.year_words)}))?第?(?<![\d.])"
                    rf"(?P<parts>\d{{1,2}}(?:(?P<sep>[、和及]|-|至|到)第?\d{{1,2}})+)(?P<unit>季度|月份?)"
                    rf"(?P<part>{self.alt_month_periods})?(?:{tails})?"
                ),
                self._parts,
                limit,
            ),
            _Rule(
                range_words,
                re.compile(
                    rf"{lead}(?:{starts_before})?{self._point('a')}起?(?:-|至|到)"
                    rf"(?:{self._point('b')}|(?P<dend>\d{{1,2}})[日号])"
                    rf"(?:{tails})?"
                ),
                self._range,
                limit,
            ),
            _Rule(
                ("即日", "之日"),
                re.compile(rf"{lead}{anchor}(?:至|到|-)(?:{self._point('c')}|(?P<dend>\d{{1,2}})[日号])(?:{tails})?"),
                self._anchored_range,
                limit,
            ),
            _Rule(
                range_words,
                re.compile(
                    rf"{lead}(?:(?<!\d)(?P<y>\d{{4}})年|(?P<yw>{_alt(lex.year_words)}))?(?<![\d.])\d{{1,2}}(?:月份?)?"
                    rf"(?:-|至|到)(?P<mb>\d{{1,2}})月份?(?P<mbp>{self.alt_month_periods})?(?:{tails})?"
                ),
                self._month_range,
                limit,
            ),
            _Rule(
                ("内", "时间", "努力", "今后", "未来"),
                re.compile(
                    rf"{lead}(?:{after_anchor}?(?:在)?(?<![\d.]){upto}(?<![\d.])(?P<n>\d{{1,3}}|半)"
                    rf"(?P<u>{_DURATION_UNITS})(?:以|之)?内"
                    rf"|(?:用|经过|通过|花)(?<![\d.]){upto}(?P<n1>\d{{1,2}})个?年(?P<h1>半)?(?:左右)?的?(?:时间|努力)"
                    rf"|(?:今后|未来){upto}(?P<n2>\d{{1,2}})年)"
                ),
                self._duration,
                self._procedure,
            ),
            # a deadline cell that holds a bare duration (完成时限: 3个月) counts from the issue date
            _Rule(
                ("工作日", "星期", "个", "半", "周", "天", "年"),
                re.compile(rf"\A\s*{upto}(?P<n>\d{{1,3}}|半)(?P<u>{_CELL_UNITS})(?:左右)?(?:时间)?\s*\Z"),
                self._cell_duration,
                limit,
            ),
            _Rule(("即日", "之日"), re.compile(rf"{anchor}(?:{_alt(lex.anchors)})?"), self._anchored_start, limit),
            _Rule(
                (*"0123456789", *lex.year_words, *lex.month_words, *lex.quarter_words, *lex.periods, *lex.festivals),
                re.compile(
                    rf"{lead}(?P<sb>{starts_before})?{self._point('p')}"
                    rf"(?:(?P<since>{_alt(lex.since)})|(?P<later>{_alt(lex.later)})"
                    rf"|(?P<sa>{starts_after})(?!草)"  # 2018年起草 is a draft, not a start
                    rf"(?:,?(?:(?:用|经过|在)?(?P<n>\d{{1,3}})(?P<u>{_DURATION_UNITS})(?:以|之)?(?:内|左右的?时间|的?时间)"
                    rf"|连续(?P<cn>\d{{1,2}})年))?"
                    rf"|{tail})"
                ),
                self._at_point,
                self._past_fact,
            ),
            _Rule(tuple(lex.no_date), re.compile(rf"(?:到|至)?(?P<word>{_alt(lex.no_date)})"), self._no_date, self._cited),
        ]
        # Overlapping, so that a word inside another (内 in 规定时限内) is found too: each
        # match is one character that can begin a word, and the lookbehind reads the longest
        # word from there; the character first lets the engine skip to such characters fast.
        # A word brings in the rules of every needed word it begins with (7 in 7年).
        needs = {word: i for i, rule in enumerate(self.rules) for word in rule.needs}
        firsts = re.escape("".join(sorted({word[0] for word in needs})))
        self.needed = re.compile(f"[{firsts}](?<=(?=({_alt(needs)})).)", re.DOTALL)
        # The rules a word brings in, as bits of a mask: or-ing the masks of a text's words
        # and looking the mask up is far cheaper than a union of sets and a sort per text.
        self.rule_bits = {
            word: sum({1 << i for i, rule in enumerate(self.rules) for w in rule.needs if word.startswith(w)})
            for word in needs
        }
        self.gated: dict[int, tuple[int, ...]] = {}
        # The groups of a point, in the order _resolve reads them, by number (faster than
        # by name) in the one rule that holds each tag's point.
        self.point_groups: dict[str, tuple[int, ...]] = {}
        for rule in self.rules:
            for t in "abcp":
                names = [f"{name}{t}" for name in _POINT_GROUPS]
                if all(name in rule.pattern.groupindex for name in names):
                    self.point_groups[t] = tuple(rule.pattern.groupindex[name] for name in names)
        # The groups of each rule that hedge its date (力争, 左右), by rule.
        self.hedges = [tuple(g for g in ("hb", "about", "around") if g in rule.pattern.groupindex) for rule in self.rules]
        self.baselines_before = tuple(lex.baselines_before)
        self.baselines_after = re.compile(rf"的?(?:{_alt(lex.baselines_after)})")
        self.procedures_before = re.compile(_alt(lex.procedures_before))
        self.procedures_after = re.compile(_alt(lex.procedures_after))
        self.past_after = re.compile(_alt(lex.past_after))
        self.hedges_after = re.compile(rf"[,]?(?:{_alt(lex.hedges_after + lex.hedges_before)})")

    # -- patterns ----------------------------------------------------------------------

    def _year_point(self, t: str) -> str:
        """A year (2018年, damaged 20186月, or 今年/明年), then a part of it."""
        year = (
            rf"(?:(?<!\d)(?P<y{t}>\d{{4,}})(?:年度?|(?=\d{{1,2}}月))"
            # 18年底, 19年6月: a two-digit year, read only before a part of a year
            rf"|(?<![\d.])(?P<ys{t}>\d\d)年(?=\d{{1,2}}月|{self.alt_attached}|{self.alt_festivals})"
            rf"|(?P<yw{t}>{_alt(self.lex.year_words)}))"
        )
        month = (
            rf"(?P<m{t}>\d{{1,2}})月份?(?:(?P<d{t}>\d{{1,2}})(?:[日号]|{_DAY_END}){_WEEKDAY}"
            rf"|(?P<mp{t}>{self.alt_month_periods})(?!步))?"
        )
        festival = rf"(?P<fy{t}>{self.alt_festivals})"
        return rf"{year}(?:(?P<py{t}>{self.alt_attached})(?!步)|{festival}|{month})?"

    def _month_point(self, t: str) -> str:
        """A month without a year (6月底), or one named relative to the base (本月底)."""
        return (
            rf"(?:(?<!\d)(?P<lm{t}>\d{{1,2}})月份?|(?P<mw{t}>{_alt(self.lex.month_words)}))"
            rf"(?:(?P<ld{t}>\d{{1,2}})(?:[日号]|{_DAY_END}){_WEEKDAY}|(?P<lmp{t}>{self.alt_month_periods})(?!步))?"
        )

    def _point(self, t: str) -> str:
        iso = rf"(?<!\d)(?P<iy{t}>\d{{4}})(?P<sep{t}>[-./])(?P<im{t}>\d{{1,2}})(?P=sep{t})(?P<id{t}>\d{{1,2}})(?![\d.])"
        # 2018.12 in a table cell; only with a plausible year and month, and not before a unit.
        dotted = rf"(?<![\d.])(?P<ny{t}>(?:19|20)\d\d)\.(?P<nm{t}>1[0-2]|0?[1-9])(?![\d.%万亿元个人家倍余])"
        return (
            rf"(?:{self._year_point(t)}|{iso}|{dotted}|{self._month_point(t)}"
            rf"|(?P<sp{t}>{self.alt_periods})|(?P<fs{t}>{self.alt_festivals})"
            rf"|(?P<qw{t}>{_alt(self.lex.quarter_words)})(?P<qe{t}>[底末])?)"
        )

    # -- reading a point -----------------------------------------------------------------

    def _year(self, text: str) -> int:
        year = int(text)
        if not self.lex.earliest <= year <= self.lex.latest:
            raise _Invalid(f"{year}年 is not a plausible year")
        return year

    def _resolve(self, m: re.Match[str], t: str, ctx: _Context) -> _Span:
        (y, ys, yw, py, fy, mo, d, mp, iy, im, iday, ny, nm, sp, fs, mw, lm, ld, lmp, qw, qe) = m.group(*self.point_groups[t])
        if y or ys or yw:
            if yw:
                year = ctx.need_base().year + self.lex.year_words[yw]
            else:
                year = self._year(y or ("20" if ys < "50" else "19") + ys)
            ctx.year = year
            if py:
                return self._period(year, py)
            if fy:
                return self._festival(year, fy)
            if mo:
                return self._in_month(year, int(mo), d, mp)
            return _Span(date(year, 1, 1), date(year, 12, 31), "year", False)
        if iy:
            year = self._year(iy)
            ctx.year = year
            day = self._date(year, int(im), int(iday))
            return _Span(day, day, "day", True)
        if ny:
            year = self._year(ny)
            ctx.year = year
            return self._in_month(year, int(nm), None, None)
        if sp:
            return ctx.yearless(lambda year: self._period(year, sp))
        if fs:
            return ctx.yearless(lambda year: self._festival(year, fs))
        if qw:  # 本季度, 下季度末: the base's quarter, moved on
            base = ctx.need_base()
            year, index = divmod(4 * base.year + (base.month - 1) // 3 + self.lex.quarter_words[qw], 4)
            span = _quarter(year, index + 1)
            return span._replace(first=span.last, point=True) if qe else span
        if mw:
            shifted = _add_months(ctx.need_base(), self.lex.month_words[mw])
            return self._in_month(shifted.year, shifted.month, ld, lmp)
        return ctx.yearless(lambda year: self._in_month(year, int(lm), ld, lmp))

    def _period(self, year: int, word: str) -> _Span:
        """The period a word names in a year; remembered by year and word, as a document
        asks for the same few (2025年底) again and again and a word hashes fast."""
        span = self.period_spans.get((year, word))
        if span is None:
            period = self.year_periods[word]
            first = date(*_month(year, period.first), 1)
            last = _month_end(*_month(year, period.last))
            span = self.period_spans[year, word] = _Span(first, last, period.precision, period.point)  # type: ignore[arg-type]
        return span

    def _festival(self, year: int, word: str) -> _Span:
        day = _festival_day(year, self.lex.festivals[word])
        return _Span(day, day, "day", False)

    def _in_month(self, year: int, month: int, day: str | None, part: str | None) -> _Span:
        if not 1 <= month <= 12:
            raise _Invalid(f"{month}月 is not a month")
        if day:
            d = self._date(year, month, int(day))
            return _Span(d, d, "day", True)
        end = _month_end(year, month)
        if part:
            p = self.lex.month_periods[part]
            first = end if p.first == 0 else date(year, month, p.first)
            last = end if p.last == 0 else date(year, month, p.last)
            return _Span(first, last, p.precision, p.point)  # type: ignore[arg-type]
        return _Span(date(year, month, 1), end, "month", False)

    @staticmethod
    def _date(year: int, month: int, day: int) -> date:
        try:
            return date(year, month, day)
        except ValueError:
            raise _Invalid(f"{year}年{month}月{day}日 is not a date") from None

    # -- one handler per rule ------------------------------------------------------------

    def _at_point(self, m: re.Match[str], ctx: _Context) -> _Result:
        """A date or period with what follows it: 以来 (none), 起 (a start, or the start of a duration), 前…"""
        since, later, count, unit, years, after, before, tail = m.group("since", "later", "n", "u", "cn", "sa", "sb", "tail")
        if since:  # and its year lends nothing to the phrases after it
            return _Result("none", reason="it looks back and sets no time limit")
        span = self._resolve(m, "p", ctx)
        if years:  # 从2018年起连续3年
            count, unit = years, "年"
        if later:
            return _Result("start", span.last + timedelta(days=1), span.precision)
        if count:
            return _Result("deadline", self._add(span.first, count, unit, ctx) - timedelta(days=1), "day")
        if after or before:
            return _Result("start", span.first, span.precision)
        due = span.first - timedelta(days=1) if tail in self.lex.until and not span.point else span.last
        return _Result("deadline", due, span.precision)

    def _range(self, m: re.Match[str], ctx: _Context) -> _Result:
        first = self._resolve(m, "a", ctx)
        if m.group("dend"):
            day = self._date(first.first.year, first.first.month, int(m.group("dend")))
            return _Result("deadline", day, "day")
        ctx.year = first.first.year  # the end of a range takes the year of its start: 2017年6月-12月
        span = self._resolve(m, "b", ctx)
        return _Result("deadline", span.last, span.precision)

    def _written_year(self, m: re.Match[str], ctx: _Context) -> None:
        """The year a phrase writes before its parts (2018年, 明年), for the parts to take."""
        if m.group("y"):
            ctx.year = self._year(m.group("y"))
        elif m.group("yw"):
            ctx.year = ctx.need_base().year + self.lex.year_words[m.group("yw")]

    def _month_range(self, m: re.Match[str], ctx: _Context) -> _Result:
        self._written_year(m, ctx)
        month, part = int(m.group("mb")), m.group("mbp")
        span = ctx.yearless(lambda year: self._in_month(year, month, None, part))
        return _Result("deadline", span.last, span.precision)

    def _anchored_range(self, m: re.Match[str], ctx: _Context) -> _Result:
        if m.group("dend"):  # 即日起至30日: the day of the issue month
            base = ctx.need_base()
            return _Result("deadline", self._date(base.year, base.month, int(m.group("dend"))), "day")
        span = self._resolve(m, "c", ctx)
        return _Result("deadline", span.last, span.precision)

    def _year_range(self, m: re.Match[str], ctx: _Context) -> _Result | None:
        first, last = int(m.group("ya")), int(m.group("yb"))
        if not self.lex.earliest <= first < last <= self.lex.latest:
            return None  # 2018-2016, 6623-5191: numbers or codes, no range of years
        ctx.year = last
        word = m.group("ybp")
        if word:
            # 2019-2020年秋冬季: a season that crosses the year is anchored on the first.
            year = first if self.year_periods[word].last > 12 and last == first + 1 else last
            span = self._period(year, word)
            return _Result("deadline", span.last, span.precision)
        return _Result("deadline", date(last, 12, 31), "year")

    def _years(self, m: re.Match[str], ctx: _Context) -> _Result:
        """2017、2018年: one phrase, one 年 for several years, each a milestone."""
        years = [self._year(y) for y in re.findall(r"\d{4}", m.group("years"))]
        ctx.year = years[-1]
        word = m.group("yp") or "年底"
        spans = [self._period(year, word) for year in dict.fromkeys(years)]
        if len(spans) == 1:
            return _Result("deadline", spans[0].last, spans[0].precision)
        return _Result("multi", dates=tuple(span.last for span in spans))

    def _parts(self, m: re.Match[str], ctx: _Context) -> _Result:
        """3、6月 or 三、四季度: one phrase, one unit for several parts, each a milestone;
        1-3季度: one range of parts, ended by its last."""
        self._written_year(m, ctx)
        parts = [int(n) for n in re.findall(r"\d+", m.group("parts"))]
        if m.group("sep") in _RANGE_SEPARATORS:
            parts = parts[-1:]
        if m.group("unit") == "季度":
            if not all(1 <= n <= 4 for n in parts):
                raise _Invalid(f"{m.group('parts')}季度 names no quarter")
            spans = [ctx.yearless(lambda year: _quarter(year, n)) for n in parts]
        else:
            part = m.group("part")
            spans = [ctx.yearless(lambda year: self._in_month(year, n, None, part)) for n in parts]
        if len(spans) == 1:
            return _Result("deadline", spans[0].last, spans[0].precision)
        return _Result("multi", dates=tuple(dict.fromkeys(span.last for span in spans)))

    def _plan(self, m: re.Match[str], ctx: _Context) -> _Result:
        part = self.lex.plan_parts.get(m.group("part") or m.group("lone") or "")
        if m.group("plan"):
            first, last = self.lex.plans[m.group("plan")]
        else:
            name = self.plan_by_year.get(ctx.need_base().year)
            if name is None:
                raise _Invalid(f"no five-year plan covers {ctx.need_base().year}")
            first, last = self.lex.plans[name]
        year = last if part is None else (last - part.offset if part.from_last else first + part.offset)
        return _Result("deadline", date(year, 12, 31), "year")

    def _duration(self, m: re.Match[str], ctx: _Context) -> _Result:
        base = ctx.need_base()
        years = m.group("n1") or m.group("n2")
        if years:
            months = 12 * int(years) + (6 if m.group("h1") else 0)
            return _Result("deadline", _add_months(base, months), "day")
        return _Result("deadline", self._add(base, m.group("n"), m.group("u"), ctx), "day")

    def _cell_duration(self, m: re.Match[str], ctx: _Context) -> _Result:
        return _Result("deadline", self._add(ctx.need_base(), m.group("n"), m.group("u"), ctx), "day")

    @staticmethod
    def _add(day: date, count: str, unit: str, ctx: _Context) -> date:
        unit = unit.removeprefix("个")
        if count != "半" and "半" in unit:  # 1年半, 1个半月: the whole units, then half of one more
            whole = unit.replace("半", "")
            return _Grammar._add(_Grammar._add(day, count, whole, ctx), "半", whole, ctx)
        key = "半" + unit if count == "半" else unit
        if key == "工作日":
            return ctx.add_workdays(day, int(count))
        if key not in _STEPS:
            raise _Invalid(f"{key} is no whole number of days")
        field, size = _STEPS[key]
        n = size * (1 if count == "半" else int(count))
        return _add_months(day, n) if field == "months" else day + timedelta(**{field: n})

    def _anchored_start(self, m: re.Match[str], ctx: _Context) -> _Result:
        return _Result("start", ctx.need_base(), "day")

    def _recurring(self, m: re.Match[str], ctx: _Context) -> _Result:
        g = m.group
        unit, interval = (g("ru"), g("rn")) if g("ru") else (g("ou"), g("on"))  # 每2年 or 2年一次
        if interval == "半":
            unit, interval = "半" + unit, None
        if unit not in self.lex.recurring:
            raise _Invalid(f"{m.group()} names no period that repeats")
        rule = dict(part.split("=", 1) for part in self.lex.recurring[unit].split(";"))
        if interval and interval != "1":
            rule["INTERVAL"] = interval
        if g("re"):
            rule["BYMONTHDAY"] = "-1"
        elif g("rm"):
            months = [int(mo) for mo in re.findall(r"\d+", g("rm"))]
            rule["BYMONTH"] = ",".join(map(str, months))
            if g("rd"):
                for month in months:
                    self._date(2000, month, int(g("rd")))
                rule["BYMONTHDAY"] = g("rd")
            else:
                rule["BYMONTHDAY"] = str(self.lex.month_periods[g("rmp") or "底"].last or -1)
        elif g("wmp"):
            rule["BYMONTHDAY"] = str(self.lex.month_periods[g("wmp")].last or -1)
        elif g("qd"):
            rule["BYMONTH"] = ",".join(str(int(g("qm") or 1) + 3 * i) for i in range(4))
            rule["BYMONTHDAY"] = g("qd")
        elif g("ld"):
            rule["BYMONTH"] = "3,6,9,12"
            rule["BYMONTHDAY"] = g("ld")
        elif g("dd"):
            rule["BYMONTHDAY"] = g("dd")
        elif g("wd"):
            rule["BYDAY"] = _WEEKDAYS["1234567一二三四五六日天".index(g("wd")) % 7]
        elif g("an"):
            if "BYMONTH" in rule:
                rule["BYMONTH"] = ",".join(str(mo) for mo in sorted(int(mo) % 12 + 1 for mo in rule["BYMONTH"].split(",")))
            rule["BYMONTHDAY"] = g("an")
        elif g("rp"):
            p = self.year_periods[g("rp")]
            rule["BYMONTH"] = str(_month(2000, p.last)[1])
            rule["BYMONTHDAY"] = "-1"
        months = re.findall(r"(\d{1,2})月", g("rparen") or "")
        if months:
            rule["BYMONTH"] = ",".join(months)
        if "BYMONTHDAY" in rule and not all(1 <= abs(int(d)) <= 31 for d in rule["BYMONTHDAY"].split(",")):
            raise _Invalid(f"{m.group()} names no day of a month")
        order = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY")
        return _Result("recurring", rrule=";".join(f"{k}={rule[k]}" for k in order if k in rule))

    def _no_date(self, m: re.Match[str], ctx: _Context) -> _Result:
        return _Result("none", reason=self.lex.no_date[m.group("word")])

    # -- the scan ------------------------------------------------------------------------

    def find(self, text: str, base: date | None, add_workdays: AddWorkdays) -> list[Deadline]:
        cleaned = self.lex.numerals.clean(text)
        clean = cleaned.text
        words = self.needed.findall(clean)
        if not words:
            return []
        mask = reduce(or_, map(self.rule_bits.__getitem__, words))
        gated = self.gated.get(mask)
        if gated is None:
            gated = self.gated[mask] = tuple(i for i in range(len(self.rules)) if mask >> i & 1)
        candidates = []
        for priority in gated:
            search = self.rules[priority].pattern.search
            # from the end of the last match, as finditer would, without its iterator
            m = search(clean)
            while m is not None:
                start, end = m.span()
                if end > start:
                    candidates.append((start, -end, priority, m))
                m = search(clean, end if end > start else end + 1)
        if not candidates:
            return []
        candidates.sort()  # by start, longest first, then by rule: (start, -end, priority) is unique
        ctx = _Context(base, add_workdays)
        found: list[Deadline] = []
        done = 0
        for start, neg_end, priority, m in candidates:
            if start < done:
                continue
            _, _, handler, unbound = self.rules[priority]
            if unbound(m):
                done = -neg_end  # and its year lends nothing to the phrases after it
                continue
            try:
                result = handler(m, ctx)
            except _Invalid as exc:
                result = _Result("none", reason=str(exc))
            if result is None:
                continue
            done = -neg_end
            a, b = cleaned.span(start, -neg_end)
            hedged = result.kind in _DATED and (
                any(map(m.group, self.hedges[priority])) or self.hedges_after.match(clean, -neg_end) is not None
            )
            kind, day, precision, rrule, reason, dates = result
            found.append(Deadline(text[a:b], a, b, kind, day, dates, precision, rrule, hedged, reason))
        return found

    # -- matches that bind nothing -------------------------------------------------------

    def _compared_or_cited(self, m: re.Match[str]) -> bool:
        """比2015年, 2015年的基础上: a year compared with; 《…2016年重点工作任务》: a year cited."""
        clean, start = m.string, m.start()
        return (
            clean.endswith(self.baselines_before, max(0, start - 4), start)
            or self.baselines_after.match(clean, m.end()) is not None
            or self._cited(m)
        )

    @staticmethod
    def _cited(m: re.Match[str]) -> bool:
        return _OPEN_TITLE.search(m.string, 0, m.start()) is not None

    def _past_fact(self, m: re.Match[str]) -> bool:
        """What happened, not what is due: a bare year or a status date (截至2023年5月底)
        whose clause reports a result (2020年全市累计投入, 已完成投资). A bare year over
        before the plan's issue date may still be its task (2016年启动… in a plan of March
        2017), so that alone makes no past fact."""
        if self._compared_or_cited(m):
            return True
        phrase = m.group()
        if not (_BARE_YEAR.fullmatch(phrase) or phrase.startswith(self.lex.past_before)):
            return False
        clean, end = m.string, m.end()
        clause_end = _CLAUSE_END.search(clean, end)
        window_end = min(len(clean) if clause_end is None else clause_end.start(), end + _PAST_WINDOW)
        return self.past_after.search(clean, end, window_end) is not None

    def _procedure(self, m: re.Match[str]) -> bool:
        """受理后20个工作日内办结: the processing limit of a procedure, not a deadline of the plan."""
        if self._compared_or_cited(m):
            return True
        if m.group("anchor") or not m.group("n"):
            return False
        clean, start = m.string, m.start()
        sentence_start = max(clean.rfind(mark, 0, start) for mark in _CLAUSE_ENDS) + 1
        return (
            self.procedures_before.search(clean, sentence_start, start) is not None
            or self.procedures_after.match(clean, m.end()) is not None
        )
