"""The tasks of one plan, from its outline: body items first, then table rows.

Reading tasks is one pass over the items in order, because plans carry state forward:
a carry-forward clause (R12, 以下任务均需X落实) adds X to every later task, a parent's
agencies hold for sub-items that name none, and the notice's role rule (R16) sets how
bare lists read. A task is an item that names who is responsible or by when; goals,
means without a responsibility and notice-level obligations are set aside, each with a
warning, so a person sees what was left out and why. Table rows come last, so that a
row restating a body task (:mod:`scheduler.restatement`) adds its date to that task.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from scheduler.clauses import Heads, has_responsibility, split_responsibility
from scheduler.model import AgencyRef, Deadline, Task
from scheduler.names import split_names
from scheduler.outline import Item, Outline, Row
from scheduler.responsibility import carry_forward, merge, parse_responsibility, role_of, same_below, split_time, with_role
from scheduler.restatement import restatements
from scheduler.task_deadlines import notice_obligations, task_deadlines
from scheduler.units import section_of, task_units

_SPACE = re.compile(r"\s+")


def collect_tasks(outline: Outline, identity: str, base: date | None, mode: str) -> tuple[tuple[Task, ...], list[str]]:
    """The tasks of a plan's outline, and the warnings about what was set aside or linked.

    ``identity`` (the 文号, else the title) prefixes every task key; ``base`` is the date
    relative deadlines count from; ``mode`` is the notice's role rule
    (:func:`scheduler.responsibility.role_mode`).
    """
    builder = _Builder(identity, base, mode)
    builder.items(outline)
    builder.rows(outline.rows)
    return tuple(builder.tasks), builder.warnings


class _Builder:
    """Collects the tasks of one document, with the state that runs through it (R12, R16)."""

    def __init__(self, identity: str, base: date | None, mode: str) -> None:
        self.identity, self.base, self.mode = identity, base, mode
        self.tasks: list[Task] = []
        self.warnings: list[str] = []
        self.carried: tuple[AgencyRef, ...] = ()
        self.keys: dict[str, int] = {}  # how often each key was given, to number repeats
        self.index: dict[str, int] = {}  # where each task's key is in ``tasks``, for rows that restate one
        self.inherited: dict[tuple[str, ...], list[AgencyRef]] = {}  # a parent's agencies, for sub-items without their own

    def items(self, outline: Outline) -> None:
        """The body's items in order; a parent that is no unit of its own lends its agencies
        to its sub-items. A plan naming no agency anywhere (R17) keeps its items as tasks."""
        heads = Heads.of(outline.items)
        any_responsibility = any(has_responsibility(item, heads) for item in outline.items)
        for item, leaf in task_units(outline, heads):
            if leaf:
                self.item(item, heads, any_responsibility)
            else:
                self.inherited[item.path] = self.responsibility(item, heads)[1]
        unassigned = [task.number for task in self.tasks if not task.agencies]
        if unassigned and not any_responsibility:
            self.warnings.append(
                f"No item names a responsible agency (R17), so {len(unassigned)} items are tasks without agencies: "
                "the responsibility may be in an attachment that this text does not include."
            )

    def carry(self, text: str, where: str) -> str:
        """Note a carry-forward clause (R12) in ``text``: its units apply to every later task.
        Returns the text without the carry-forward words."""
        rest, carried = carry_forward(text)
        if carried:
            self.carried = tuple(AgencyRef(name, "responsible") for name in self.names(carried, where))
        return rest

    def responsibility(self, item: Item, heads: Heads) -> tuple[str, list[AgencyRef], list[str]]:
        """An item's body, the agencies it names, and the time limits of its clauses; notes
        any carry-forward on the way, including a clause that ends with 下同 (its own units
        carry forward)."""
        body, clauses = split_responsibility(item, heads)
        agencies: list[AgencyRef] = []
        times: list[str] = []
        for clause in clauses:
            clause, found = split_time(self.carry(clause, item.number))
            clause, same = same_below(clause)
            times.extend(found)
            refs = self.parse_clause(clause, item.number)
            agencies.extend(refs)
            if same:
                self.carried = tuple(replace(ref, role="responsible") for ref in refs)
        self.carry(body, item.number)
        return body, agencies, times

    def inherited_by(self, path: tuple[str, ...]) -> list[AgencyRef]:
        """The agencies of the nearest parent that names any: (一)…(市卫健委牵头) above 1. 2."""
        for depth in range(len(path) - 1, 0, -1):
            if self.inherited.get(path[:depth]):
                return list(self.inherited[path[:depth]])
        return []

    def item(self, item: Item, heads: Heads, any_responsibility: bool) -> None:
        """One unit as a task, or set aside with a warning saying why (a goal, a means
        without a responsibility, an item with neither agency nor date)."""
        body, agencies, times = self.responsibility(item, heads)
        agencies = agencies or self.inherited_by(item.path)
        section = section_of(item, heads)
        own = bool(agencies)
        deadlines = task_deadlines(body, self.base, notices=own) + tuple(d for slot in times for d in task_deadlines(slot, self.base))
        if not own:
            for notice in notice_obligations(body):
                self.warnings.append(f"{item.number}: notice-level obligation set aside, not a task deadline: {notice}")
        responsible = own or (bool(self.carried) and section == "task")
        if section == "goal" and not own:
            if deadlines:
                self.warnings.append(f"{item.number} is a goal with dates but no responsible agency: set aside.")
            return
        if not responsible and not deadlines:
            if section == "task" and not any_responsibility:
                self.add(item.number, body, (), ())
            elif section == "task":
                self.warnings.append(f"{item.number} names no responsible agency and no deadline: set aside.")
            return
        if not responsible and section == "means":
            self.warnings.append(f"{item.number} has dates but no responsible agency and is not in the task part: set aside.")
            return
        if not responsible:
            self.warnings.append(f"{item.number} has deadlines but no responsible agency.")
        self.add(item.number, body, merge(agencies, self.carried if responsible else ()), deadlines)

    def parse_clause(self, clause: str, where: str) -> list[AgencyRef]:
        found = parse_responsibility(clause, self.mode)
        self.warnings.extend(f"{where}: dropped from the agency list: {tail}" for tail in found.dropped)
        return list(found.agencies)

    def names(self, text: str, where: str) -> tuple[str, ...]:
        listed = split_names(text)
        self.warnings.extend(f"{where}: dropped from the agency list: {tail}" for tail in listed.dropped)
        return listed.names

    def add(self, number: str, body: str, agencies: tuple[AgencyRef, ...], deadlines: tuple[Deadline, ...]) -> None:
        key = f"{self.identity}#{number}"
        self.keys[key] = copies = self.keys.get(key, 0) + 1
        if copies > 1:
            key = f"{key}~{copies}"
        self.index.setdefault(key, len(self.tasks))
        self.tasks.append(Task(key, number, _title(body), body, agencies, deadlines))

    def rows(self, rows: tuple[Row, ...]) -> None:
        """Table rows: linked to the body task they restate, else tasks of their own."""
        body_tasks = list(self.tasks)
        tables: dict[int, list[Row]] = {}
        for row in rows:
            tables.setdefault(row.table, []).append(row)
        for table in tables.values():
            agencies = [self.row_agencies(row) for row in table]
            links = restatements(table, agencies, body_tasks)
            for row, refs, target in zip(table, agencies, links):
                self.row(row, refs, target)

    def row(self, row: Row, agencies: tuple[AgencyRef, ...], target: Task | None) -> None:
        """A row as a task of its own, or its deadlines added to the body task it restates
        (their spans then index the table cell, not the task's text)."""
        task_text = "\n".join(row.cells.get("task", ()))
        deadlines = self.row_deadlines(row)
        if target is not None:
            index = self.index[target.key]
            current = self.tasks[index]
            self.tasks[index] = replace(current, deadlines=current.deadlines + tuple(d for d in deadlines if d not in current.deadlines))
            self.warnings.append(f"Table row {row.number} restates task {target.number}: its deadline was added there.")
            return
        if not agencies and not deadlines:
            self.warnings.append(f"Table row {row.number} names no agency and no deadline: set aside.")
            return
        if row.boundary_lost:
            self.warnings.append(f"Table row {row.number}: cells split one agency per line, lead taken as the first (low confidence).")
        self.add(row.number, task_text, agencies, deadlines)

    def row_deadlines(self, row: Row) -> tuple[Deadline, ...]:
        """The 完成时间 cell, and a milestone per filled year column (D12).

        A year column's cell is read with that year as base (当年, 年底前); a cell with no
        time phrase of its own is due at the end of the column's year. One text repeated
        in every year column is a merged cell spanning them: due in the last year.
        """
        found = [d for cell in row.cells.get("deadline", ()) for d in task_deadlines(cell, self.base)]
        years = {column: cells[0] for column, cells in row.cells.items() if column.isdigit() and cells}
        if len(years) > 1 and len(set(years.values())) == 1:
            years = {max(years): years[max(years)]}
        for year, cell in sorted(years.items()):
            own = task_deadlines(cell, date(int(year), 1, 1))
            found.extend(own or task_deadlines(f"{year}年度", None))
        return tuple(found)

    def row_agencies(self, row: Row) -> tuple[AgencyRef, ...]:
        """Agencies by column. A 责任单位 column beside 牵头 alone is support (R2); as a third
        column beside 牵头 and 配合 it names the implementers, responsible (R13); alone it is
        read by the notice's role rule (R16), responsible by default."""
        if "lead" not in row.cells:
            implementers = role_of("bare", False, self.mode)
        else:
            implementers = "support" if "support" not in row.cells else "responsible"
        refs: list[AgencyRef] = []
        prefix = None
        for column, role in (("lead", "lead"), ("support", "support"), ("responsible", implementers)):
            for cell in row.cells.get(column, ()):
                listed = split_names(cell, prefix)
                prefix = listed.prefix
                refs.extend(with_role(listed.names, role))
        return merge(refs, self.carried)


def _title(body: str) -> str:
    """The first clause up to 。 (or the end of the heading line), whitespace removed."""
    first = body.split("。", 1)[0].split("\n", 1)[0]
    return _SPACE.sub("", first)
