"""Which rows of an attachment table restate a task of the body (seed 001's 分解表).

Plans often close with a 任务分解表 that repeats the body's tasks with their agencies
and a 完成时间. Read as tasks of their own, those rows would remind the same agencies
twice for one piece of work; so a row that restates a body task is linked to it, and
only a table most of whose rows match the body counts as a restatement, so that a
table of new tasks that happens to share words with the body keeps its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scheduler.model import AgencyRef, Task
from scheduler.outline import Row

# How alike a table row and a body task must be: most rows of a restating table reach
# _RESTATED; within such a table, a row restates its best match from _RESTATED_IN_TABLE.
_RESTATED = 0.5
_RESTATED_IN_TABLE = 0.35

# What is not compared: punctuation, spaces, anything but CJK, Latin letters and digits.
_NOT_A_WORD = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")


def restatements(rows: list[Row], agencies: list[tuple[AgencyRef, ...]], tasks: list[Task]) -> list[Task | None]:
    """For each row of one table, the body task it restates, or None.

    A table restates the body (seed 001's 分解表) when most of its rows match a body task
    closely; only then are its rows linked, each to its best match if that is fair. Rows
    of a table that does not restate the body are tasks of their own, even when one of
    them happens to share words with a body task.
    """
    if not tasks:
        return [None] * len(rows)
    wording = [_pairs(_row_text(row)) for row in rows]
    wanted = set().union(*wording)
    body = [_Wording.of(task, wanted) for task in tasks]
    best = [_best_match(pairs, row, refs, body) for pairs, row, refs in zip(wording, rows, agencies)]
    strong = sum(1 for _, score in best if score >= _RESTATED)
    if strong * 2 < len(rows):
        return [None] * len(rows)
    return [tasks[index] if score >= _RESTATED_IN_TABLE else None for index, score in best]


@dataclass(frozen=True, slots=True)
class _Wording:
    """What a row is compared with in a body task, taken from the task once per table.

    ``pairs`` holds the task's character pairs that some row of the table has, which is
    all a comparison uses. A table's rows are short, a task's text long: when the rows
    have fewer pairs than the task has characters, each of theirs is looked up in the
    text, rather than every pair of the text listed.
    """

    pairs: set[str]
    names: set[str]
    leads: set[str]

    @classmethod
    def of(cls, task: Task, wanted: set[str]) -> _Wording:
        chars = _words(task.text)
        pairs = {pair for pair in wanted if pair in chars} if len(wanted) < len(chars) else _pairs(chars) & wanted
        names = {ref.name for ref in task.agencies}
        leads = {ref.name for ref in task.agencies if ref.role == "lead"}
        return cls(pairs, names, leads)


def _best_match(
    pairs: set[str], row: Row, agencies: tuple[AgencyRef, ...], body: list[_Wording]
) -> tuple[int, float]:
    """The index of the body task most like a row (whose wording has ``pairs``), and how
    alike: shared character pairs of the wording, with agreement on agencies to break
    near ties (the lead only when the row's lead/support boundary is certain)."""
    if len(pairs) < 3:
        return 0, 0.0
    names = {ref.name for ref in agencies}
    leads = {ref.name for ref in agencies if ref.role == "lead"} if not row.boundary_lost else set()

    def score(task: _Wording) -> float:
        text = len(pairs & task.pairs) / len(pairs)
        either = names | task.names
        overlap = len(names & task.names) / len(either) if either else 0.0
        same_lead = bool(leads) and leads == task.leads
        return text + 0.1 * overlap + 0.2 * same_lead

    scores = [score(task) for task in body]
    index = max(range(len(scores)), key=scores.__getitem__)
    return index, scores[index]


def _row_text(row: Row) -> str:
    return _words("".join(row.cells.get("task", ())))


def _words(text: str) -> str:
    """The characters compared: CJK, Latin letters and digits, run together."""
    return _NOT_A_WORD.sub("", text)


def _pairs(chars: str) -> set[str]:
    return {chars[i : i + 2] for i in range(len(chars) - 1)}
