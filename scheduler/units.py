"""The units of a plan's outline that tasks are read from, and the part each sits in.

A task is a leaf of the outline, except where a plan writes one responsibility for an
item and its sub-points (1. 2. 3., then 责任单位: under the last): the item with its
sub-points is then one unit. Where an item sits matters as much: items of 总体要求 or
主要目标 are goals and items of 保障措施 are means, tasks only when they name who is
responsible. The section headings are data (rules/wording.toml).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from scheduler.clauses import Heads, has_responsibility, starts_with_label
from scheduler.outline import Item, Outline
from scheduler.wording import fold, load


def task_units(outline: Outline, heads: Heads) -> list[tuple[Item, bool]]:
    """The items in order, each with whether it is read as a task unit (a leaf).

    Sub-points (1. 2. 3.) whose only responsibility is a 责任单位 line after the last
    of them belong to their parent, as the plan writes one responsibility for the whole
    item: the parent with its sub-points is then one unit.
    """
    items, leaves = outline.items, outline.leaves()
    units: list[tuple[Item, bool]] = []
    index = 0
    while index < len(items):
        parent = items[index]
        end = index + 1
        while end < len(items) and items[end].path[: len(parent.path)] == parent.path:
            end += 1
        children = items[index + 1 : end]
        if _shares_last_line(parent, children, leaves[index + 1 : end], heads):
            lines = [*parent.lines, *(f"{child.path[-1]}.{child.text}" for child in children)]
            units.append((Item(parent.path, parent.head, tuple(lines), parent.line), True))
            index = end
            continue
        units.append((parent, leaves[index]))
        index += 1
    return units


def _shares_last_line(parent: Item, children: tuple[Item, ...], leaves: list[bool], heads: Heads) -> bool:
    if len(children) < 2 or not all(leaves) or has_responsibility(parent, heads):
        return False
    *first, last = children
    return any(starts_with_label(line) for line in last.lines) and not any(has_responsibility(child, heads) for child in first)


def section_of(item: Item, heads: Heads) -> str:
    """goal, means or task: what the top-level section above an item is about."""
    kinds = [_heading_kind(heads.get(item.path[: depth + 1])[:12]) for depth in range(len(item.path))]
    if "goal" in kinds:
        return "goal"
    if "means" in kinds:
        return "means"
    return "task"


@lru_cache(maxsize=1024)
def _heading_kind(start: str) -> str | None:
    """goal or means, for a heading that starts with these words, else None; remembered,
    as the same few section headings sit above every item of every plan."""
    goals, means = _sections()
    folded = fold(start)
    if goals.search(folded):
        return "goal"
    if means.search(folded):
        return "means"
    return None


@cache
def _sections() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Headings of sections whose items are goals or principles, and of sections of means
    (保障措施): tasks there only with a responsibility."""
    words = load()
    return re.compile("|".join(map(re.escape, words.goal_sections))), re.compile("|".join(map(re.escape, words.means_sections)))
