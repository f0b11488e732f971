"""Which rows of an attachment table restate a task of the body (seed 001's 分解表).

Plans often close with a 任务分解表 that repeats the body's tasks with their agencies
and a 完成时间. Read as tasks of their own, those rows would remind the same agencies
twice for one piece of work; so a row that restates a body task is linked to it, and
only a table most of whose rows match the body counts as a restatement, so that a
table of new tasks that happens to share words with the body keeps its rows.
"""

from __future__ import annotations

import re

from scheduler.model import AgencyRef, Task
from scheduler.outline import Row

# How alike a table row and a body task must be: most rows of a restating table reach
# _RESTATED; within such a table, a row restates its best match from _RESTATED_IN_TABLE.
_RESTATED = 0.5
_RESTATED_IN_TABLE = 0.35


def restatements(rows: list[Row], agencies: list[tuple[AgencyRef, ...]], tasks: list[Task]) -> list[Task | None]:
    """For each row of one table, the body task it restates, or None.

    A table restates the body (seed 001's 分解表) when most of its rows match a body task
    closely; only then are its rows linked, each to its best match if that is fair. Rows
    of a table that does not restate the body are tasks of their own, even when one of
    them happens to share words with a body task.
    """
    if not tasks:
        return [None] * len(rows)
    wording = [_pairs(task.text) for task in tasks]
    best = [_best_match(row, refs, tasks, wording) for row, refs in zip(rows, agencies)]
    strong = sum(1 for _, score in best if score >= _RESTATED)
    if strong * 2 < len(rows):
        return [None] * len(rows)
    return [task if score >= _RESTATED_IN_TABLE else None for task, score in best]


def _best_match(
    row: Row, agencies: tuple[AgencyRef, ...], tasks: list[Task], wording: list[set[str]]
) -> tuple[Task, float]:
    """The body task most like a row, and how alike: shared character pairs of the wording,
    with agreement on agencies to break near ties (the lead only when the row's lead/support
    boundary is certain)."""
    pairs = _pairs("".join(row.cells.get("task", ())))
    names = {ref.name for ref in agencies}
    leads = {ref.name for ref in agencies if ref.role == "lead"}

    def score(index: int) -> float:
        task = tasks[index]
        if len(pairs) < 3:
            return 0.0
        text = len(pairs & wording[index]) / len(pairs)
        theirs = {ref.name for ref in task.agencies}
        overlap = len(names & theirs) / len(names | theirs) if names | theirs else 0.0
        same_lead = not row.boundary_lost and bool(leads) and leads == {ref.name for ref in task.agencies if ref.role == "lead"}
        return text + 0.1 * overlap + 0.2 * same_lead

    index = max(range(len(tasks)), key=score)
    return tasks[index], score(index)


def _pairs(text: str) -> set[str]:
    chars = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}
