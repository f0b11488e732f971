"""From a plan's text to a :class:`scheduler.model.Document`: metadata, tasks, agencies, deadlines.

The conventions are those of PATTERNS.md section 1. A task is a numbered leaf item (or a
table row) of the task part of the plan that names who is responsible or by when; items
of 总体要求/主要目标 without a responsible agency are goals, set aside with a warning, as
are notice-level obligations (于…前报…). Every warning goes to ``Document.warnings`` so
a person sees what was left out and why.

Responsibility is read from every form the genre uses (R1–R17): own lines ``责任单位:``,
labelled brackets ``(牵头单位:A,相关责任单位:B)``, verb brackets ``(A牵头;B配合)`` and
``(A、B按职责分别负责)``, the carry-forward clause ``以下任务均需X落实,不再列出``, and
task tables. Names are expanded by :mod:`scheduler.names`; they are resolved against the
directory later (``scheduler.agencies``), so ``AgencyRef.canonical`` stays ``None`` here.

Rows of an attachment table that restate a body task (seed 001's 分解表) are linked to
that task instead of becoming tasks of their own: the row's 完成时间 is added to the body
task's deadlines and a warning records the link, so the agencies get one set of
reminders, with every date the plan set.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from scheduler.clauses import has_responsibility, split_responsibility, starts_with_label
from scheduler.cleaning import clean_lines
from scheduler.deadlines import find_deadlines
from scheduler.metadata import plan_start, plan_year, read_metadata
from scheduler.model import AgencyRef, Deadline, Document, Task
from scheduler.names import split_names
from scheduler.outline import Item, Outline, Row, parse_outline
from scheduler.reader import read_text
from scheduler.responsibility import (
    carry_forward,
    merge,
    parse_responsibility,
    role_mode,
    role_of,
    same_below,
    split_time,
    with_role,
)
from scheduler.wording import fold

# -- tasks -----------------------------------------------------------------------------

# Sections whose items are goals or principles, not tasks, unless they name an agency.
_GOALS = re.compile(r"总体要求|指导思想|基本原则|主要目标|工作目标|发展目标|总体目标|目标任务|目标要求|总体思路|基本思路|工作原则")

# Sections of means rather than tasks: items there are tasks only with a responsibility.
_MEANS = re.compile(r"保障措施|组织实施|工作要求|实施步骤|组织保障|工作步骤")

# Notice-level obligations (D18): 于…前将…报, 每季度…报送.
_NOTICE_LEVEL = re.compile(r"于.{0,20}?前.{0,30}?(?:报|送|备案)|(?:每季度|每月|每半年).{0,20}?(?:报送|上报)")

# Citations whose years are not deadlines (D17): 《…》 titles and document numbers.
_CITATION = re.compile(r"《[^》]*》|[\u4e00-\u9fff]{1,10}[〔\[(]\s*\d{4}\s*[〕\])]?\s*\d{1,4}\s*[号號]")

# A baseline year (D17): 比2015年, 较2017-2018年.
_BASELINE = re.compile(r"(?:比|较|與|与|相比|同比)\s*$")

# Kinds of time phrase that bind a task; starts (2017年起) and no-date words do not.
_DEADLINE_KINDS = ("deadline", "multi", "recurring")

# The sentences a task's deadlines are read from, one by one.
_SENTENCE = re.compile(r"[^。;!?\n]+[。;!?]?")

# How alike a table row and a body task must be: most rows of a restating table reach
# _RESTATED; within such a table, a row restates its best match from _RESTATED_IN_TABLE.
_RESTATED = 0.5
_RESTATED_IN_TABLE = 0.35

def parse_file(path: Path) -> Document:
    """Read a document file and extract its plan."""
    return extract(read_text(Path(path)), str(path))


def extract(text: str, path: str) -> Document:
    """Extract metadata and tasks from a plan's text; pure, names left unresolved."""
    lines = clean_lines(text)
    outline = parse_outline(lines)
    meta = read_metadata(lines, outline.items[0].line if outline.items else len(lines))
    start = plan_start(lines, meta.title)
    notice_items = [item for item in outline.items if start is not None and item.line < start]
    if notice_items:
        outline = replace(outline, items=outline.items[len(notice_items) :])
        meta = read_metadata(lines, outline.items[0].line if outline.items else len(lines))
    base = meta.issued_on or plan_year(meta.title, text)
    identity = meta.doc_number or meta.title or Path(path).stem
    builder = _Builder(identity, base, role_mode(text))
    builder.items(outline)
    builder.rows(outline.rows)
    warnings = list(outline.warnings) + builder.warnings
    if notice_items:
        warnings.insert(0, f"{len(notice_items)} numbered items of the notice, before the plan's title, are not tasks.")
    if not builder.tasks:
        warnings.append(f"No task found in {path}: no numbered item names a responsible agency or a deadline.")
    return Document(
        path=path,
        title=meta.title or "",
        doc_number=meta.doc_number,
        issuer=meta.issuer,
        issued_on=meta.issued_on,
        jurisdiction=meta.jurisdiction,
        tasks=tuple(builder.tasks),
        warnings=tuple(warnings),
    )


# -- tasks -------------------------------------------------------------------------------


class _Builder:
    """Collects the tasks of one document, with the state that runs through it (R12, R16)."""

    def __init__(self, identity: str, base: date | None, mode: str) -> None:
        self.identity, self.base, self.mode = identity, base, mode
        self.tasks: list[Task] = []
        self.warnings: list[str] = []
        self.carried: tuple[AgencyRef, ...] = ()
        self.keys: dict[str, int] = {}  # how often each key was given, to number repeats
        self.inherited: dict[tuple[str, ...], list[AgencyRef]] = {}  # a parent's agencies, for sub-items without their own

    def items(self, outline: Outline) -> None:
        heads = {item.path: item.head for item in outline.items}
        any_responsibility = any(has_responsibility(item, heads) for item in outline.items)
        for item, leaf in _units(outline, heads):
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

    def responsibility(self, item: Item, heads: dict) -> tuple[str, list[AgencyRef], list[str]]:
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

    def item(self, item: Item, heads: dict, any_responsibility: bool) -> None:
        body, agencies, times = self.responsibility(item, heads)
        agencies = agencies or self.inherited_by(item.path)
        section = _section(item, heads)
        own = bool(agencies)
        deadlines = task_deadlines(body, self.base, notices=own) + tuple(d for slot in times for d in self.deadlines(slot))
        if not own:
            for notice in _NOTICE_LEVEL.finditer(body):
                self.warnings.append(f"{item.number}: notice-level obligation set aside, not a task deadline: {notice.group()}")
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

    def deadlines(self, text: str) -> tuple[Deadline, ...]:
        return task_deadlines(text, self.base)

    def add(self, number: str, body: str, agencies: tuple[AgencyRef, ...], deadlines: tuple[Deadline, ...]) -> None:
        key = f"{self.identity}#{number}"
        self.keys[key] = copies = self.keys.get(key, 0) + 1
        if copies > 1:
            key = f"{key}~{copies}"
        self.tasks.append(Task(key, number, _title(body), body, agencies, deadlines))

    def rows(self, rows: tuple[Row, ...]) -> None:
        """Table rows: linked to the body task they restate, else tasks of their own."""
        body_tasks = list(self.tasks)
        tables: dict[int, list[Row]] = {}
        for row in rows:
            tables.setdefault(row.table, []).append(row)
        for table in tables.values():
            agencies = [self.row_agencies(row) for row in table]
            links = _restatements(table, agencies, body_tasks)
            for row, refs, target in zip(table, agencies, links):
                self.row(row, refs, target)

    def row(self, row: Row, agencies: tuple[AgencyRef, ...], target: Task | None) -> None:
        """A row as a task of its own, or its deadlines added to the body task it restates
        (their spans then index the table cell, not the task's text)."""
        task_text = "\n".join(row.cells.get("task", ()))
        deadlines = self.row_deadlines(row)
        if target is not None:
            index = next(i for i, task in enumerate(self.tasks) if task.key == target.key)
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


def _units(outline: Outline, heads: dict) -> list[tuple[Item, bool]]:
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


def _shares_last_line(parent: Item, children: tuple[Item, ...], leaves: list[bool], heads: dict) -> bool:
    if len(children) < 2 or not all(leaves) or has_responsibility(parent, heads):
        return False
    *first, last = children
    return any(starts_with_label(line) for line in last.lines) and not any(has_responsibility(child, heads) for child in first)


def _section(item: Item, heads: dict) -> str:
    """goal, means or task: what the top-level section above an item is about."""
    titles = [heads.get(item.path[: depth + 1], "") for depth in range(len(item.path))]
    if any(_GOALS.search(fold(title[:12])) for title in titles):
        return "goal"
    if any(_MEANS.search(fold(title[:12])) for title in titles):
        return "means"
    return "task"


def _title(body: str) -> str:
    """The first clause up to 。 (or the end of the heading line), whitespace removed."""
    first = body.split("。", 1)[0].split("\n", 1)[0]
    return re.sub(r"\s+", "", first)


# -- deadlines ---------------------------------------------------------------------------


def task_deadlines(text: str, base: date | None, *, notices: bool = False) -> tuple[Deadline, ...]:
    """The deadlines binding a task, sentence by sentence, with spans into ``text``.

    Notice-level sentences (于…前报…) are skipped unless ``notices`` (an item that names
    its own responsible agency may well be due by such a report: 6月底前报市政府审定);
    citations are masked so that their years are not read, and baselines (比2015年) and
    starts (2017年起) are dropped.
    """
    found: list[Deadline] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group()
        if not notices and _NOTICE_LEVEL.search(sentence):
            continue
        masked = _CITATION.sub(lambda m: "□" * len(m.group()), sentence)
        for deadline in find_deadlines(masked, base=base):
            if deadline.kind not in _DEADLINE_KINDS or _BASELINE.search(masked[: deadline.start]):
                continue
            start, end = match.start() + deadline.start, match.start() + deadline.end
            found.append(replace(deadline, text=text[start:end], start=start, end=end))
    return tuple(found)


def _restatements(rows: list[Row], agencies: list[tuple[AgencyRef, ...]], tasks: list[Task]) -> list[Task | None]:
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
