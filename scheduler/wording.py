"""The wording of a plan's structure (rules/wording.toml), loaded once into typed tables.

Role labels, role verbs, section headings, table column headers and the web chrome of
scraped pages are data so that a supervision office can add the word a new plan uses
without touching Python. The genre is also republished in traditional characters, so
the file maps the characters of its words to their traditional forms, and
:func:`variants` and :func:`fold` let a pattern match either.

The modules that use these tables build their patterns on first use, not on import, so
a malformed file is reported (as a :class:`RuleError`) by the command that reads a
plan, and every other command still runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scheduler.errors import RuleError

PATH = Path(__file__).resolve().parent.parent / "rules" / "wording.toml"

# The kinds a label or a verb may give the names it introduces (see rules/wording.toml).
_LABEL_KINDS = frozenset({"lead", "support", "implementer", "bare", "person", "time"})
_VERB_KINDS = frozenset({"lead", "support", "each", "implementer", "charge"})
_COLUMN_KINDS = frozenset({"number", "category", "task", "lead", "support", "responsible", "deadline", "span"})


@dataclass(frozen=True, slots=True)
class Wording:
    """The tables of rules/wording.toml; labels and verbs keep the file's order."""

    traditional: dict[str, str]
    labels: tuple[tuple[str, str], ...]
    verbs: tuple[tuple[str, str], ...]
    goal_sections: tuple[str, ...]
    means_sections: tuple[str, ...]
    chrome: tuple[str, ...]
    footer: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]


@cache
def load(path: Path = PATH) -> Wording:
    """The wording at ``path``, read once per process."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _build(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"The wording file {path} cannot be read: {exc}.") from exc
    except KeyError as exc:
        raise RuleError(f"The wording file {path} lacks the entry {exc}.") from exc
    except (TypeError, ValueError) as exc:
        raise RuleError(f"The wording file {path} has a malformed entry: {exc}.") from exc


def _build(data: dict[str, Any]) -> Wording:
    traditional: dict[str, str] = {}
    for simplified, written in data["traditional"].items():
        if len(simplified) != len(written):
            raise ValueError(f"traditional {simplified!r} = {written!r}: not character for character")
        traditional.update(zip(simplified, written))
    chrome = tuple(str(pattern) for pattern in data["chrome"]["starts"])
    footer = tuple(str(pattern) for pattern in data["footer"]["starts"])
    for pattern in (*chrome, *footer):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is no regular expression ({exc})") from exc
    return Wording(
        traditional=traditional,
        labels=_kinds(data["labels"], _LABEL_KINDS, "labels"),
        verbs=_kinds(data["verbs"], _VERB_KINDS, "verbs"),
        goal_sections=tuple(str(word) for word in data["sections"]["goals"]),
        means_sections=tuple(str(word) for word in data["sections"]["means"]),
        chrome=chrome,
        footer=footer,
        columns=_columns(data["columns"]),
    )


def _kinds(table: dict[str, Any], known: frozenset[str], name: str) -> tuple[tuple[str, str], ...]:
    for word, kind in table.items():
        if kind not in known:
            raise ValueError(f"{name} {word!r} = {kind!r}: the kind is one of {', '.join(sorted(known))}")
    return tuple((str(word), str(kind)) for word, kind in table.items())


def _columns(table: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    unknown = set(table) - _COLUMN_KINDS
    if unknown:
        raise ValueError(f"columns {sorted(unknown)}: a column is one of {', '.join(sorted(_COLUMN_KINDS))}")
    return {column: tuple(str(header) for header in headers) for column, headers in table.items()}


def variants(text: str) -> str:
    """A regex matching ``text`` in simplified or traditional characters."""
    traditional = load().traditional
    return "".join(f"[{c}{traditional[c]}]" if c in traditional else re.escape(c) for c in text)


def initials(words: Iterable[str]) -> str:
    """The characters ``words`` start with, in either form, escaped for a character class.

    A pattern of many alternative words is tried word by word at every character of a
    text; led by a lookahead of their initials, ``(?=[…])``, it passes over the
    characters no word starts with at once (a label search over a paragraph went from
    about 110 µs to 5 µs).
    """
    traditional = load().traditional
    return re.escape("".join(sorted({form for word in words for form in (word[:1], traditional.get(word[:1], ""))})))


def fold(text: str) -> str:
    """``text`` with the traditional characters of the genre's fixed words simplified.

    One character for one, so a match in the folded copy slices the original.
    """
    return text.translate(_folding())


@cache
def _folding() -> dict[int, str]:
    return str.maketrans({written: simplified for simplified, written in load().traditional.items()})


@cache
def column_headers() -> dict[str, str]:
    """The column each table header names (牵头部门 → lead), for reading task tables."""
    return {header: column for column, headers in load().columns.items() for header in headers}
