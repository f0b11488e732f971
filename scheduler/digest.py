"""What a digest tells one agency: a pure function of the stored tasks.

A digest lists, per document, the agency's open tasks that are overdue, those due
within the rule's window, those with no date (starts and open-ended work, so they are
not forgotten), and those completed within the window. It is computed when the
message is sent, so it always shows the state of the tasks at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from scheduler.model import Role, TaskState
from scheduler.render import Digest, DigestLine, DigestSection


def due_dates(state: TaskState) -> list[date]:
    """The dated deadlines of a task; an extension replaces them all."""
    if state.due is not None:
        return [state.due]
    dates: list[date] = []
    for deadline in state.task.deadlines:
        if deadline.kind == "deadline" and deadline.date is not None:
            dates.append(deadline.date)
        elif deadline.kind == "multi":
            dates.extend(deadline.dates)
    return sorted(dates)


def role_of(state: TaskState, agency: str, expand: Callable[[str], Sequence[str]]) -> Role | None:
    """The agency's role on the task, directly or as a member of a named group."""
    for ref in state.task.agencies:
        if ref.canonical is not None and agency in expand(ref.canonical):
            return ref.role
    return None


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
    dates = due_dates(state)
    missed = [d for d in dates if d < as_of]
    coming = [d for d in dates if d >= as_of]
    bucket: str | None
    if state.status == "done":
        due = dates[-1] if dates else None
        bucket = "completed" if state.done_at is not None and state.done_at.date() >= since else None
    elif missed:
        due, bucket = missed[-1], "overdue"
    elif coming:
        due = coming[0]
        bucket = "due_soon" if due <= horizon else None
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
        phrase = next((d.text for d in task.deadlines if d.date == due or due in d.dates), due.isoformat())
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
