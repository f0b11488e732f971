"""Where an item writes its responsibility: the clauses found, and the body without them.

Plans put the responsibility of an item in many places (PATTERNS.md R1–R15): own lines
after the item (责任单位:A、B), a bracket closing it ((牵头单位:A,相关责任单位:B)), brackets
inside the text (…整治(交通局负责)), labels ending the paragraph without brackets
(…。牵头单位:A;配合单位:B。), a bare list of agencies in brackets ((市卫健委、财政局)),
and 由A承办,B配合 before the text. Each clause found is cut out of the body, so a task's
text is what is to be done and its clauses are read once, by
:func:`scheduler.responsibility.parse_responsibility`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from scheduler.names import looks_like_agency, split_top
from scheduler.outline import Item
from scheduler.responsibility import is_responsibility, label_pattern, may_hold_label

# "由A承办,B、C配合。" before the task text (R15).
_BY = re.compile(r"(?:^|(?<=。))由(?P<lead>[^,。]+?)(?:承办|牵头|负责)(?:[,](?P<support>[^,。]+?)(?:配合|协办))?[,。]")

# A bracket inside the text, one nesting level deep: (市卫健委负责), (各县(市、区)政府落实).
_BRACKET = re.compile(r"[(〔](?:[^()〔〕]|\([^()]*\))*[)〕]")

_OPEN = "(〔["
_CLOSE = ")〕]"

# Words that make a bracket after a sentence an explanation, not a list of agencies.
_NOT_A_LIST = re.compile(r"(?:以下简称|简称|含|包括|即|如)")


@dataclass(frozen=True, slots=True)
class Heads:
    """Every item's heading by its path: sections are known by their titles, and a
    heading repeated at the end of a body by a scraping error (X10) by its own.

    ``strays`` are the top-level headings as such an error writes them (三、保障措施),
    made once per plan, so checking a body does not go through every item of the plan.
    ``clauses`` remembers what :func:`split_responsibility` found in each item of the
    plan, which is asked of an item more than once (is it a unit, does the plan name
    agencies at all, and when it is read as a task).
    """

    by_path: dict[tuple[str, ...], str]
    strays: tuple[str, ...]
    clauses: dict[Item, tuple[str, tuple[str, ...]]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, items: Iterable[Item]) -> Heads:
        by_path = {item.path: item.head for item in items}
        return cls(by_path, tuple(f"{path[0]}、{head}" for path, head in by_path.items() if len(path) == 1))

    def get(self, path: tuple[str, ...]) -> str:
        """The heading of the item at ``path``; empty for a path no item has."""
        return self.by_path.get(path, "")


def split_responsibility(item: Item, heads: Heads) -> tuple[str, tuple[str, ...]]:
    """The item's body without its responsibility, and the responsibility clauses found."""
    found = heads.clauses.get(item)
    if found is None:
        found = heads.clauses[item] = _split(item, heads.strays)
    return found


def _split(item: Item, strays: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    labelled, kept = [], []
    for line in item.lines:
        (labelled if starts_with_label(line) else kept).append(line)
    clauses = [";".join(labelled)] if labelled else []
    body = _strip_stray_heading("\n".join([item.head, *kept]).strip(), strays)
    bracket = _trailing_bracket(body)
    if bracket is not None:
        start, content = bracket
        if is_responsibility(content) or (body[start - 1 : start] in ("。", "") and _is_agency_list(content)):
            clauses.insert(0, content)
            body = body[:start].rstrip()
    for inner in reversed(list(_BRACKET.finditer(body))):  # R15: …整治(交通局负责) too
        if is_responsibility(inner.group()[1:-1]):
            clauses.insert(0, inner.group()[1:-1])
            body = body[: inner.start()] + body[inner.end() :]
    inline = _trailing_labels(body)
    if inline is not None:
        clauses.insert(0, body[inline:].strip(" 。"))
        body = body[:inline].rstrip()
    by = _BY.search(body) if "由" in body else None
    if by:
        clauses.insert(0, f"{by.group('lead')}牵头" + (f",{by.group('support')}配合" if by.group("support") else ""))
        body = (body[: by.start()] + body[by.end() :]).strip()
    return body, tuple(clauses)


def has_responsibility(item: Item, heads: Heads) -> bool:
    """Whether an item names who is responsible in any of the forms the genre uses."""
    return bool(split_responsibility(item, heads)[1])


def starts_with_label(line: str) -> bool:
    """Whether a line starts with a responsibility label (责任单位:…), as own lines do (R1, R2)."""
    return may_hold_label(line) and bool(_label_line().match(line))


def _trailing_labels(body: str) -> int | None:
    """Where labels without brackets end a paragraph (…。牵头单位:A;配合单位:B。), if they do."""
    if not may_hold_label(body):
        return None
    for match in _sentence_label().finditer(body):
        if "。" not in body[match.start() :].rstrip("。 "):
            return match.start()
    return None


def _trailing_bracket(text: str) -> tuple[int, str] | None:
    """The bracket that ends a text (before a final 。), as (its start, its content)."""
    stripped = text.rstrip("。.;; \n")
    if not stripped or stripped[-1] not in _CLOSE:
        return None
    depth = 0
    for index in range(len(stripped) - 1, -1, -1):
        char = stripped[index]
        if char in _CLOSE:
            depth += 1
        elif char in _OPEN:
            depth -= 1
            if depth == 0:
                return index, stripped[index + 1 : -1]
    return None


def _is_agency_list(content: str) -> bool:
    """A bare list of agencies in brackets after a sentence (R10 without a label): (市卫健委、财政局)."""
    if _NOT_A_LIST.match(content):
        return False
    return all(looks_like_agency(part) for part in split_top(content))


def _strip_stray_heading(body: str, strays: tuple[str, ...]) -> str:
    """Drop a heading repeated at the end of a body by a scraping error (X10): …约谈。三、保障措施."""
    for stray in strays:
        if body.endswith(stray) and len(body) > len(stray):
            return body[: -len(stray)].rstrip()
    return body


@cache
def _label_line() -> re.Pattern[str]:
    return re.compile(rf"^(?:{label_pattern().pattern})")


@cache
def _sentence_label() -> re.Pattern[str]:
    """A label after a sentence's end: …。牵头单位:A."""
    return re.compile(rf"(?<=[。;])\s*(?:{label_pattern().pattern})")
