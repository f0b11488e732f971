"""The deadline lexicon (rules/lexicon.toml), loaded once into typed tables.

The words are data so that a supervision office can add one (a new plan period, a
local word for year end) without touching Python. Every word is cleaned the way the
text is (:mod:`scheduler.numerals`), so 一季度 in the file matches 一季度, 1季度 and
１季度 in a document alike.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scheduler.errors import RuleError
from scheduler.numerals import Numerals

PATH = Path(__file__).resolve().parent.parent / "rules" / "lexicon.toml"


@dataclass(frozen=True, slots=True)
class Period:
    """A part of a year (months, 1-based, the last may pass 12) or of a month (days, 0 = last)."""

    first: int
    last: int
    precision: str
    point: bool
    after_year: bool = True


@dataclass(frozen=True, slots=True)
class PlanPart:
    """A year of a five-year plan, counted from its first or its last year."""

    from_last: bool
    offset: int


@dataclass(frozen=True, slots=True)
class Lexicon:
    numerals: Numerals
    earliest: int
    latest: int
    periods: dict[str, Period]
    month_periods: dict[str, Period]
    year_words: dict[str, int]
    month_words: dict[str, int]
    quarter_words: dict[str, int]
    plans: dict[str, tuple[int, int]]
    plan_parts: dict[str, PlanPart]
    festivals: dict[str, str]
    anchors: tuple[str, ...]
    anchor_documents: tuple[str, ...]
    leads: tuple[str, ...]
    until: tuple[str, ...]
    within: tuple[str, ...]
    since: tuple[str, ...]
    later: tuple[str, ...]
    hedges_before: tuple[str, ...]
    hedges_around: tuple[str, ...]
    hedges_after: tuple[str, ...]
    no_date: dict[str, str]
    starts_after: tuple[str, ...]
    starts_before: tuple[str, ...]
    recurring: dict[str, str]
    baselines_before: tuple[str, ...]
    baselines_after: tuple[str, ...]
    procedures_before: tuple[str, ...]
    procedures_after: tuple[str, ...]
    past_after: tuple[str, ...]
    past_before: tuple[str, ...]


@cache
def load(path: Path = PATH) -> Lexicon:
    """The lexicon at ``path``, read once per process."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _build(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"The deadline lexicon {path} cannot be read: {exc}.") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleError(f"The deadline lexicon {path} has a malformed entry: {exc!r}.") from exc


def _build(data: dict[str, Any]) -> Lexicon:
    num = data["numerals"]
    numerals = Numerals(num["digits"], num["units"], num["counted"], data["variants"])

    def word(w: str) -> str:
        return numerals.clean(w).text

    def words(ws: list[str]) -> tuple[str, ...]:
        return tuple(word(w) for w in ws)

    def period(spec: dict[str, Any], span: str) -> Period:
        first, last = spec[span]
        return Period(first, last, spec["precision"], spec.get("point", False), spec.get("after_year", True))

    return Lexicon(
        numerals=numerals,
        earliest=data["years"]["earliest"],
        latest=data["years"]["latest"],
        periods={word(w): period(s, "months") for w, s in data["periods"].items()},
        month_periods={word(w): period(s, "days") for w, s in data["month_periods"].items()},
        year_words={word(w): int(n) for w, n in data["year_words"].items()},
        month_words={word(w): int(n) for w, n in data["month_words"].items()},
        quarter_words={word(w): int(n) for w, n in data.get("quarter_words", {}).items()},  # newer than some offices' copies
        plans={w: (int(a), int(b)) for w, (a, b) in data["plans"].items()},
        plan_parts={word(w): PlanPart(s["from"] == "last", int(s["offset"])) for w, s in data["plan_parts"].items()},
        festivals={word(w): str(n) for w, n in data["festivals"].items()},
        anchors=words(data["anchors"]["words"]),
        anchor_documents=words(data["anchors"]["documents"]),
        leads=words(data["limits"]["before"]),
        until=words(data["limits"]["until"]),
        within=words(data["limits"]["within"]),
        since=words(data["limits"]["since"]),
        later=words(data["limits"]["later"]),
        hedges_before=words(data["hedges"]["before"]),
        hedges_around=words(data["hedges"]["around"]),
        hedges_after=words(data["hedges"]["after"]),
        no_date={word(w): str(r) for w, r in data["no_date"].items()},
        starts_after=words(data["starts"]["after"]),
        starts_before=words(data["starts"]["before"]),
        recurring={word(w): str(r) for w, r in data["recurring"].items()},
        baselines_before=words(data["baselines"]["before"]),
        baselines_after=words(data["baselines"]["after"]),
        procedures_before=words(data["procedures"]["before"]),
        procedures_after=words(data["procedures"]["after"]),
        past_after=words(data["past"]["after"]),
        past_before=words(data["past"].get("before", [])),  # newer than some offices' copies
    )
