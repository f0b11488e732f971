"""Documents and their tasks: upsert by key, rebuild as model values, lifecycle.

A task is identified by :attr:`Task.key` alone, so re-ingesting a document (or the
same plan under a new path) keeps what people recorded about its tasks: done, notes,
extensions. A task that disappears from its document is marked removed, never deleted,
and comes back with its history if it reappears.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from scheduler.errors import InputError
from scheduler.model import AgencyRef, Deadline, Document, Task, TaskState
from scheduler.store.schema import (
    documents,
    extensions,
    task_agencies,
    task_deadlines,
    task_events,
    tasks,
)

# The characters after which a reference may start inside a key: "二.(三)" names the
# task "…:二.(三)" but not "…:十二.(三)", whose key merely ends the same way.
KEY_SEPARATORS = frozenset(":/.#| ")


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What storing one document changed, in tasks.

    ``added`` counts new tasks and removed ones that came back; ``unchanged_document``
    says the digest matched and nothing at all was written.
    """

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    unchanged_document: bool = False


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    document_id: int
    position: int
    removed: bool
    task: Task


def save_document(
    connection: sa.Connection, doc: Document, *, digest: str, now: datetime
) -> SaveResult:
    """Upsert ``doc`` and its tasks; an unchanged ``digest`` means nothing to write."""
    keys = [task.key for task in doc.tasks]
    duplicates = sorted(key for key, count in Counter(keys).items() if count > 1)
    if duplicates:
        raise InputError(f"{doc.path} has more than one task with the key {duplicates[0]!r}.")
    row = connection.execute(
        sa.select(documents.c.id, documents.c.digest).where(documents.c.path == doc.path)
    ).first()
    if row is not None and row.digest == digest:
        live = connection.execute(
            sa.select(sa.func.count())
            .select_from(tasks)
            .where(tasks.c.document_id == row.id, tasks.c.removed_at.is_(None))
        ).scalar_one()
        return SaveResult(unchanged=live, unchanged_document=True)
    meta = {
        "title": doc.title,
        "doc_number": doc.doc_number,
        "issuer": doc.issuer,
        "issued_on": doc.issued_on,
        "jurisdiction": doc.jurisdiction,
        "warnings": list(doc.warnings),
        "digest": digest,
        "updated_at": now,
    }
    if row is None:
        document_id = connection.execute(
            sa.insert(documents)
            .values(path=doc.path, created_at=now, **meta)
            .returning(documents.c.id)
        ).scalar_one()
    else:
        document_id = row.id
        connection.execute(sa.update(documents).where(documents.c.id == document_id).values(meta))

    stored = {
        s.task.key: s
        for s in _load(
            connection, (tasks.c.document_id == document_id) | tasks.c.key.in_(keys)
        )
    }
    added = updated = unchanged = 0
    for position, task in enumerate(doc.tasks):
        old = stored.get(task.key)
        if old is None:
            task_id = connection.execute(
                sa.insert(tasks)
                .values(
                    key=task.key,
                    document_id=document_id,
                    position=position,
                    number=task.number,
                    title=task.title,
                    text=task.text,
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
                .returning(tasks.c.id)
            ).scalar_one()
            _write_agencies(connection, task_id, task.agencies)
            _write_deadlines(connection, task_id, task.deadlines)
            added += 1
            continue
        if old.removed:
            added += 1
        elif old.task != task or old.document_id != document_id:
            updated += 1
        else:
            unchanged += 1
            if old.position == position:
                continue
        connection.execute(
            sa.update(tasks)
            .where(tasks.c.id == old.id)
            .values(
                document_id=document_id,
                position=position,
                number=task.number,
                title=task.title,
                text=task.text,
                removed_at=None,
                updated_at=now,
            )
        )
        _replace_children(connection, old, task)

    gone = connection.execute(
        sa.update(tasks)
        .where(
            tasks.c.document_id == document_id,
            tasks.c.removed_at.is_(None),
            tasks.c.key.not_in(keys),
        )
        .values(removed_at=now, updated_at=now)
    ).rowcount
    return SaveResult(added=added, updated=updated, removed=gone, unchanged=unchanged)


def _write_agencies(
    connection: sa.Connection, task_id: int, agencies: Sequence[AgencyRef]
) -> None:
    if agencies:
        connection.execute(
            sa.insert(task_agencies),
            [
                {
                    "task_id": task_id,
                    "position": i,
                    "name": a.name,
                    "role": a.role,
                    "canonical": a.canonical,
                }
                for i, a in enumerate(agencies)
            ],
        )


def _write_deadlines(
    connection: sa.Connection, task_id: int, deadlines: Sequence[Deadline]
) -> None:
    if deadlines:
        connection.execute(
            sa.insert(task_deadlines),
            [
                {
                    "task_id": task_id,
                    "position": i,
                    "text": d.text,
                    "start": d.start,
                    "end": d.end,
                    "kind": d.kind,
                    "date": d.date,
                    "dates": [x.isoformat() for x in d.dates],
                    "precision": d.precision,
                    "rrule": d.rrule,
                    "hedged": d.hedged,
                    "reason": d.reason,
                }
                for i, d in enumerate(deadlines)
            ],
        )


def _replace_children(connection: sa.Connection, old: _Stored, task: Task) -> None:
    if old.task.agencies != task.agencies:
        connection.execute(sa.delete(task_agencies).where(task_agencies.c.task_id == old.id))
        _write_agencies(connection, old.id, task.agencies)
    if old.task.deadlines != task.deadlines:
        connection.execute(sa.delete(task_deadlines).where(task_deadlines.c.task_id == old.id))
        _write_deadlines(connection, old.id, task.deadlines)


def _load(connection: sa.Connection, where: sa.ColumnElement[bool]) -> list[_Stored]:
    """The tasks matching ``where``, rebuilt with their agencies and deadlines."""
    ids = sa.select(tasks.c.id).where(where)
    agencies: dict[int, list[AgencyRef]] = {}
    for a in connection.execute(
        sa.select(task_agencies)
        .where(task_agencies.c.task_id.in_(ids))
        .order_by(task_agencies.c.task_id, task_agencies.c.position)
    ):
        agencies.setdefault(a.task_id, []).append(
            AgencyRef(name=a.name, role=a.role, canonical=a.canonical)
        )
    deadlines: dict[int, list[Deadline]] = {}
    for d in connection.execute(
        sa.select(task_deadlines)
        .where(task_deadlines.c.task_id.in_(ids))
        .order_by(task_deadlines.c.task_id, task_deadlines.c.position)
    ):
        deadlines.setdefault(d.task_id, []).append(
            Deadline(
                text=d.text,
                start=d.start,
                end=d.end,
                kind=d.kind,
                date=d.date,
                dates=tuple(date.fromisoformat(x) for x in d.dates),
                precision=d.precision,
                rrule=d.rrule,
                hedged=d.hedged,
                reason=d.reason,
            )
        )
    return [
        _Stored(
            id=t.id,
            document_id=t.document_id,
            position=t.position,
            removed=t.removed_at is not None,
            task=Task(
                key=t.key,
                number=t.number,
                title=t.title,
                text=t.text,
                agencies=tuple(agencies.get(t.id, ())),
                deadlines=tuple(deadlines.get(t.id, ())),
            ),
        )
        for t in connection.execute(sa.select(tasks).where(where))
    ]


def task_states(connection: sa.Connection, *, include_removed: bool) -> list[TaskState]:
    """Stored tasks as the planner sees them, in document path and reading order.

    ``TaskState.document`` carries the document's metadata with ``tasks=()``: the
    planner needs the issuer and issue date, not a second copy of every task.
    """
    return _states(connection, sa.true() if include_removed else tasks.c.removed_at.is_(None))


def _states(connection: sa.Connection, where: sa.ColumnElement[bool]) -> list[TaskState]:
    by_id = {s.id: s.task for s in _load(connection, where)}
    docs: dict[int, Document] = {}
    states = []
    rows = connection.execute(
        sa.select(
            tasks.c.id.label("task_id"), tasks.c.status, tasks.c.done_at, tasks.c.due, documents
        )
        .join(documents, documents.c.id == tasks.c.document_id)
        .where(where)
        .order_by(documents.c.path, tasks.c.position)
    )
    for row in rows:
        if row.id not in docs:
            docs[row.id] = Document(
                path=row.path,
                title=row.title,
                doc_number=row.doc_number,
                issuer=row.issuer,
                issued_on=row.issued_on,
                jurisdiction=row.jurisdiction,
                warnings=tuple(row.warnings),
            )
        states.append(
            TaskState(
                task=by_id[row.task_id],
                document=docs[row.id],
                status=row.status,
                done_at=row.done_at,
                due=row.due,
            )
        )
    return states


def find_task(connection: sa.Connection, ref: str) -> TaskState:
    """The task named by its key, a key prefix or a suffix starting after a separator."""
    ref = ref.strip()
    if not ref:
        raise InputError("name a task by its key or the end of it, such as 二.(三).")
    exact = _states(connection, tasks.c.key == ref)
    if exact:
        return exact[0]
    keys = connection.execute(
        sa.select(tasks.c.key).where(
            tasks.c.removed_at.is_(None),
            tasks.c.key.startswith(ref, autoescape=True)
            | tasks.c.key.endswith(ref, autoescape=True),
        )
    ).scalars()
    matches = sorted(key for key in keys if _names(key, ref))
    if not matches:
        raise InputError(f"no task matches {ref!r}; `duban tasks` lists their keys.")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
        raise InputError(f"{ref!r} matches {len(matches)} tasks ({shown}); give more of the key.")
    return _states(connection, tasks.c.key == matches[0])[0]


def _names(key: str, ref: str) -> bool:
    if key.startswith(ref):
        return True
    before = len(key) - len(ref)
    return key.endswith(ref) and key[before - 1] in KEY_SEPARATORS


def _task_row(connection: sa.Connection, key: str) -> sa.Row:
    row = connection.execute(
        sa.select(tasks.c.id, tasks.c.status, tasks.c.due).where(tasks.c.key == key)
    ).first()
    if row is None:
        raise InputError(f"no task has the key {key!r}.")
    return row


def set_status(
    connection: sa.Connection, key: str, status: str, *, at: datetime, note: str | None
) -> None:
    """Mark a task done or open again; repeating the current status records nothing."""
    row = _task_row(connection, key)
    if row.status == status:
        return
    connection.execute(
        sa.update(tasks)
        .where(tasks.c.id == row.id)
        .values(status=status, done_at=at if status == "done" else None, updated_at=at)
    )
    event = "done" if status == "done" else "reopen"
    connection.execute(sa.insert(task_events).values(task_id=row.id, event=event, at=at, note=note))


def extend(
    connection: sa.Connection, key: str, new_due: date, *, reason: str, by: str, at: datetime
) -> None:
    """Move a task's due date, keeping the date it replaces, who moved it and why."""
    row = _task_row(connection, key)
    old_due = row.due
    if old_due is None:
        (stored,) = _load(connection, tasks.c.id == row.id)
        old_due = earliest_due(stored.task.deadlines)
    connection.execute(
        sa.insert(extensions).values(
            task_id=row.id,
            old_due=old_due,
            new_due=new_due,
            reason=reason,
            extended_by=by,
            at=at,
        )
    )
    connection.execute(
        sa.update(tasks).where(tasks.c.id == row.id).values(due=new_due, updated_at=at)
    )


def earliest_due(deadlines: Iterable[Deadline]) -> date | None:
    """The first date by which a task must be done, before any extension."""
    dates = [
        day
        for d in deadlines
        if d.kind in ("deadline", "multi")
        for day in ((d.date,) if d.kind == "deadline" else d.dates)
        if day is not None
    ]
    return min(dates, default=None)
