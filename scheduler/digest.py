"""What a digest tells one agency: a pure function of the stored tasks.

A digest lists, per document, the agency's open tasks that are overdue, those due
within the rule's window, those with no date (starts and open-ended work, so they are
not forgotten), and those completed within the window. It is computed when the
message is sent, so it always shows the state of the tasks at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from scheduler.model import Deadline, Role, Task, TaskState
from scheduler.planner import due_dates
from scheduler.render import Digest, DigestLine, DigestSection


def missed_and_coming(state: TaskState, *, as_of: date, until: date) -> tuple[list[date], list[date]]:
    """The task's due dates before ``as_of`` and from it to ``until``, each sorted.

    The dates are the planner's (an extension replaces them all; recurring
    obligations give their occurrences), but a past occurrence of a recurring
    obligation is not counted as missed: the log, not the digest, knows whether
    each periodic report went out.
    """
    missed: set[date] = set()
    coming: set[date] = set()
    for due in due_dates(state, start=as_of, until=until):
        if as_of <= due.date <= until:
            coming.add(due.date)
        elif due.date < as_of and due.kind != "recurring":
            missed.add(due.date)
    return sorted(missed), sorted(coming)


def phrase_for(task: Task, due: date) -> Deadline | None:
    """The deadline phrase a due date came from, so messages quote the text as written."""
    for deadline in task.deadlines:
        if deadline.date == due or due in deadline.dates:
            return deadline
    return next((d for d in task.deadlines if d.kind == "recurring"), None)


def role_of(state: TaskState, agency: str, expand: Callable[[str], Sequence[str]]) -> Role | None:
    """The agency's role on the task, directly or as a member of a named group."""
    for ref in state.task.agencies:
        if ref.canonical is not None and agency in expand(ref.canonical):
            return ref.role
    return None


def by_agency(states: Sequence[TaskState], expand: Callable[[str], Sequence[str]]) -> dict[str, list[TaskState]]:
    """Each agency's tasks: those naming it, or a group it is a member of.

    Digests for every agency are built from it, each from its own tasks rather than
    by looking through every task for each agency.
    """
    tasks: dict[str, list[TaskState]] = {}
    for state in states:
        agencies = {m for ref in state.task.agencies if ref.canonical is not None for m in expand(ref.canonical)}
        for agency in agencies:
            tasks.setdefault(agency, []).append(state)
    return tasks


def build_digest(
    states: Sequence[TaskState],
    agency: str,
    *,
    as_of: date,
    period: str,
    window_days: int,
    include_empty: bool = False,
    expand: Callable[[str], Sequence[str]] = lambda name: (name,),
) -> Digest | None:
    """The digest for ``agency`` as of a day, or None when there is nothing to say."""
    horizon = as_of + timedelta(days=window_days)
    since = as_of - timedelta(days=window_days)
    sections: dict[tuple[str, str | None], dict[str, list[DigestLine]]] = {}
    for state in states:
        role = role_of(state, agency, expand)
        if role is None:
            continue
        bucket, line = _classify(state, role, as_of=as_of, horizon=horizon, since=since)
        if bucket is None:
            continue
        key = (state.document.title, state.document.doc_number)
        sections.setdefault(key, {"overdue": [], "due_soon": [], "undated": [], "completed": []})[bucket].append(line)
    if not sections and not include_empty:
        return None
    return Digest(
        agency=agency,
        as_of=as_of,
        period=period,
        window_days=window_days,
        sections=tuple(
            DigestSection(
                document_title=title,
                document_number=number,
                overdue=tuple(lines["overdue"]),
                due_soon=tuple(lines["due_soon"]),
                undated=tuple(lines["undated"]),
                completed=tuple(lines["completed"]),
            )
            for (title, number), lines in sorted(sections.items(), key=lambda item: item[0][0])
        ),
    )


def _classify(
    state: TaskState, role: Role, *, as_of: date, horizon: date, since: date
) -> tuple[str | None, DigestLine]:
    """Which section a task belongs in, and its line there.

    An open task with any missed date is overdue (against the latest one missed): a
    supervision office chases a missed milestone even when a later one is pending.
    """
    missed, coming = missed_and_coming(state, as_of=as_of, until=horizon)
    bucket: str | None
    if state.status == "done":
        due = (missed + coming or [None])[-1]
        bucket = "completed" if state.done_at is not None and state.done_at.date() >= since else None
    elif missed:
        due, bucket = missed[-1], "overdue"
    elif coming:
        due, bucket = coming[0], "due_soon"
    elif any(d.kind in ("deadline", "multi", "recurring") for d in state.task.deadlines) or state.due is not None:
        due, bucket = None, None
    else:
        due, bucket = None, "undated"
    return bucket, _line(state, role, due, as_of)


def _line(state: TaskState, role: Role, due: date | None, as_of: date) -> DigestLine:
    task = state.task
    if due is None:
        phrase = "、".join(d.text for d in task.deadlines) or "未明确时限"
    elif state.due == due:
        phrase = f"延期至{due.isoformat()}"
    else:
        source = phrase_for(task, due)
        phrase = source.text if source is not None else due.isoformat()
    return DigestLine(
        task_key=task.key,
        task_number=task.number,
        task_title=task.title,
        deadline_text=phrase,
        due=due,
        days_left=(due - as_of).days if due is not None else None,
        role=role,
        status=state.status,
        done_at=state.done_at.date() if state.done_at is not None else None,
    )
