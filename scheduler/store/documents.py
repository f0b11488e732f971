"""Documents and their tasks: upsert by key, rebuild as model values, lifecycle.

A task is identified by :attr:`Task.key` alone, so re-ingesting a document (or the
same plan under a new path) keeps what people recorded about its tasks: done, notes,
extensions. A task that disappears from its document is marked removed, never deleted,
and comes back with its history if it reappears.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

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

_V = TypeVar("_V")

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


# The statements of storing documents, built once: SQLAlchemy then finds each one's
# compiled form in its cache instead of coercing a fresh statement's values per row.
_FIND_DOCUMENTS = sa.select(documents.c.path, documents.c.id, documents.c.digest).where(
    documents.c.path.in_(sa.bindparam("paths", expanding=True))
)
_COUNT_LIVE = (
    sa.select(tasks.c.document_id, sa.func.count())
    .where(tasks.c.document_id.in_(sa.bindparam("documents", expanding=True)), tasks.c.removed_at.is_(None))
    .group_by(tasks.c.document_id)
)
_UPDATE_DOCUMENTS = sa.update(documents).where(documents.c.id == sa.bindparam("document"))
_UPDATE_TASKS = (
    sa.update(tasks)
    .where(tasks.c.id == sa.bindparam("task"))
    .values(
        document_id=sa.bindparam("document"),
        position=sa.bindparam("place"),
        number=sa.bindparam("task_number"),
        title=sa.bindparam("task_title"),
        text=sa.bindparam("task_text"),
        removed_at=None,
        updated_at=sa.bindparam("now"),
    )
)
_REMOVE_TASKS = (
    sa.update(tasks)
    .where(tasks.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(removed_at=sa.bindparam("now"), updated_at=sa.bindparam("now"))
)
_DELETE_AGENCIES = sa.delete(task_agencies).where(task_agencies.c.task_id.in_(sa.bindparam("ids", expanding=True)))
_DELETE_DEADLINES = sa.delete(task_deadlines).where(task_deadlines.c.task_id.in_(sa.bindparam("ids", expanding=True)))
_IN_DOCUMENTS = tasks.c.document_id.in_(sa.bindparam("documents", expanding=True)) | tasks.c.key.in_(
    sa.bindparam("keys", expanding=True)
)

# Task keys read per round at most: the stored tasks of a round are found by their keys,
# and one statement may bind at most 32,766 values on SQLite, 65,535 on PostgreSQL.
KEYS_PER_ROUND = 10_000


@dataclass(slots=True)
class _Changes:
    """What storing one changed document writes, worked out from the stored tasks."""

    document_id: int
    new: list[tuple[int, Task]]
    kept: list[tuple[_Stored, int, Task]]
    gone: list[int]
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def result(self) -> SaveResult:
        return SaveResult(added=self.added, updated=self.updated, removed=len(self.gone), unchanged=self.unchanged)


def save_documents(
    connection: sa.Connection, docs: Sequence[tuple[Document, str]], *, now: datetime
) -> list[SaveResult]:
    """Upsert documents (each with its digest) and their tasks, as storing them in turn would.

    A fixed handful of statements per round of documents, not per document: on
    PostgreSQL each statement costs more client CPU than the rows it carries. A round is
    the longest run of documents that share no path, task key or stored document, so
    writing them together cannot differ from writing them one after another; usually a
    round is all of ``docs``. A document whose digest is stored already writes nothing.
    """
    for doc, _ in docs:
        refuse_duplicate_keys(doc)
    results: list[SaveResult] = []
    while len(results) < len(docs):
        results.extend(_save_round(connection, docs[len(results) :], now))
    return results


def refuse_duplicate_keys(doc: Document) -> None:
    """Refuse a document whose tasks share a key: the one input storing refuses."""
    duplicates = sorted(key for key, count in Counter(task.key for task in doc.tasks).items() if count > 1)
    if duplicates:
        raise InputError(f"{doc.path} has more than one task with the key {duplicates[0]!r}.")


def _save_round(connection: sa.Connection, docs: Sequence[tuple[Document, str]], now: datetime) -> list[SaveResult]:
    """Store the first round of ``docs``; its results, one per document (at least one)."""
    docs = _capped(docs)
    rows = {r.path: r for r in connection.execute(_FIND_DOCUMENTS, {"paths": [doc.path for doc, _ in docs]})}
    stored = _stored_tasks(connection, [doc for doc, digest in docs if _changed(rows, doc, digest)], rows)
    by_key = {s.task.key: s for s in stored}
    by_document: dict[int, list[_Stored]] = {}
    for s in stored:
        by_document.setdefault(s.document_id, []).append(s)
    docs = docs[: _independent(docs, rows, by_key)]
    changed = [(doc, digest) for doc, digest in docs if _changed(rows, doc, digest)]

    ids = _write_documents(connection, changed, rows, now)
    changes = {doc.path: _changes(doc, ids[doc.path], by_key, by_document.get(ids[doc.path], [])) for doc, _ in changed}
    _write_tasks(connection, list(changes.values()), now)
    live = _count_live(connection, [rows[doc.path].id for doc, _ in docs if doc.path not in changes])
    return [
        changes[doc.path].result()
        if doc.path in changes
        else SaveResult(unchanged=live.get(rows[doc.path].id, 0), unchanged_document=True)
        for doc, _ in docs
    ]


def _changed(rows: dict[str, sa.Row], doc: Document, digest: str) -> bool:
    return doc.path not in rows or rows[doc.path].digest != digest


def _stored_tasks(connection: sa.Connection, changed: Sequence[Document], rows: dict[str, sa.Row]) -> list[_Stored]:
    """Every stored task of these documents or with one of their keys, in one go."""
    if not changed:
        return []
    stored_ids = [rows[doc.path].id for doc in changed if doc.path in rows]
    keys = [task.key for doc in changed for task in doc.tasks]
    return _load(connection, _IN_DOCUMENTS, {"documents": stored_ids, "keys": keys})


def _capped(docs: Sequence[tuple[Document, str]]) -> Sequence[tuple[Document, str]]:
    """The first of ``docs`` whose tasks number at most :data:`KEYS_PER_ROUND` (one at least)."""
    total = 0
    for count, (doc, _) in enumerate(docs):
        total += len(doc.tasks)
        if total > KEYS_PER_ROUND and count:
            return docs[:count]
    return docs


def _independent(docs: Sequence[tuple[Document, str]], rows: dict[str, sa.Row], stored: dict[str, _Stored]) -> int:
    """How many of ``docs``, from the first, share no path, task key or stored document.

    Such documents can be written in any order, hence all at once: none moves a task
    another one keeps, removes or counts.
    """
    taken: set[tuple[str, object]] = set()
    for count, (doc, _) in enumerate(docs):
        claims: set[tuple[str, object]] = {("path", doc.path)}
        if doc.path in rows:
            claims.add(("document", rows[doc.path].id))
        for task in doc.tasks:
            claims.add(("key", task.key))
            if task.key in stored:
                claims.add(("document", stored[task.key].document_id))
        if claims & taken:
            return count
        taken |= claims
    return len(docs)


def _write_documents(
    connection: sa.Connection, changed: Sequence[tuple[Document, str]], rows: dict[str, sa.Row], now: datetime
) -> dict[str, int]:
    """Insert or update the rows of these documents; the id of each, by path.

    New ids come back by path, for the reason :func:`_insert_tasks` gives for keys.
    """
    ids = {doc.path: rows[doc.path].id for doc, _ in changed if doc.path in rows}
    fresh = [
        _document_values(doc, digest, now) | {"path": doc.path, "created_at": now}
        for doc, digest in changed
        if doc.path not in ids
    ]
    known = [_document_values(doc, digest, now) | {"document": ids[doc.path]} for doc, digest in changed if doc.path in ids]
    if fresh:
        inserted = _insert(connection, documents, fresh, documents.c.path, documents.c.id)
        ids.update({path: document_id for path, document_id in inserted})
    if known:
        connection.execute(_UPDATE_DOCUMENTS, known)
    return ids


def _document_values(doc: Document, digest: str, now: datetime) -> dict[str, Any]:
    return {
        "title": doc.title,
        "doc_number": doc.doc_number,
        "issuer": doc.issuer,
        "issued_on": doc.issued_on,
        "jurisdiction": doc.jurisdiction,
        "warnings": list(doc.warnings),
        "digest": digest,
        "updated_at": now,
    }


def _changes(doc: Document, document_id: int, stored: dict[str, _Stored], its_own: Sequence[_Stored]) -> _Changes:
    """Sort ``doc``'s tasks into new, rewritten and untouched ones, and find those it lost.

    ``its_own`` holds every stored task of the document: those not among its keys are gone.
    """
    keys = {task.key for task in doc.tasks}
    gone = [s.id for s in its_own if not s.removed and s.task.key not in keys]
    changes = _Changes(document_id, new=[], kept=[], gone=gone)
    for position, task in enumerate(doc.tasks):
        old = stored.get(task.key)
        if old is None:
            changes.new.append((position, task))
            changes.added += 1
            continue
        if old.removed:
            changes.added += 1
        elif old.task != task or old.document_id != document_id:
            changes.updated += 1
        else:
            changes.unchanged += 1
            if old.position == position:
                continue
        changes.kept.append((old, position, task))
    return changes


def _write_tasks(connection: sa.Connection, changes: Sequence[_Changes], now: datetime) -> None:
    """Write the tasks of a round: each kind of write is one statement over all its rows."""
    written = _insert_tasks(connection, changes, now)
    kept = [(c.document_id, old, position, task) for c in changes for old, position, task in c.kept]
    if kept:
        connection.execute(
            _UPDATE_TASKS,
            [
                {
                    "task": old.id,
                    "document": document_id,
                    "place": position,
                    "task_number": task.number,
                    "task_title": task.title,
                    "task_text": task.text,
                    "now": now,
                }
                for document_id, old, position, task in kept
            ],
        )
    agencies = [(old.id, task) for _, old, _, task in kept if old.task.agencies != task.agencies]
    deadlines = [(old.id, task) for _, old, _, task in kept if old.task.deadlines != task.deadlines]
    if agencies:
        connection.execute(_DELETE_AGENCIES, {"ids": [task_id for task_id, _ in agencies]})
    if deadlines:
        connection.execute(_DELETE_DEADLINES, {"ids": [task_id for task_id, _ in deadlines]})
    _write_agencies(connection, written + agencies)
    _write_deadlines(connection, written + deadlines)
    gone = [task_id for c in changes for task_id in c.gone]
    if gone:
        connection.execute(_REMOVE_TASKS, {"ids": gone, "now": now})


def _insert_tasks(connection: sa.Connection, changes: Sequence[_Changes], now: datetime) -> list[tuple[int, Task]]:
    """Insert the new tasks of a round in one statement; each with the id it was given.

    The ids come back by key: asking for them in the order of the rows would make
    SQLAlchemy insert one row at a time on SQLite, which does not promise that order.
    """
    new = [(c.document_id, position, task) for c in changes for position, task in c.new]
    if not new:
        return []
    ids = _insert(
        connection,
        tasks,
        [
            {
                "key": task.key,
                "document_id": document_id,
                "position": position,
                "number": task.number,
                "title": task.title,
                "text": task.text,
                "status": "open",
                "created_at": now,
                "updated_at": now,
            }
            for document_id, position, task in new
        ],
        tasks.c.key,
        tasks.c.id,
    )
    by_key = {key: task_id for key, task_id in ids}
    return [(by_key[task.key], task) for _, _, task in new]


def _count_live(connection: sa.Connection, document_ids: Sequence[int]) -> dict[int, int]:
    """The number of live tasks of each of these documents (one with none is left out)."""
    if not document_ids:
        return {}
    return {document_id: live for document_id, live in connection.execute(_COUNT_LIVE, {"documents": list(document_ids)})}


def _write_agencies(connection: sa.Connection, written: Sequence[tuple[int, Task]]) -> None:
    """Insert the agencies of these tasks (by id), all in one statement."""
    rows = [
        {"task_id": task_id, "position": i, "name": a.name, "role": a.role, "canonical": a.canonical}
        for task_id, task in written
        for i, a in enumerate(task.agencies)
    ]
    if rows:
        _insert(connection, task_agencies, rows)


def _write_deadlines(connection: sa.Connection, written: Sequence[tuple[int, Task]]) -> None:
    """Insert the deadlines of these tasks (by id), all in one statement."""
    rows = [
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
        for task_id, task in written
        for i, d in enumerate(task.deadlines)
    ]
    if rows:
        _insert(connection, task_deadlines, rows)


def _insert(
    connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *returning: sa.Column[Any]
) -> sa.CursorResult[Any]:
    """Insert ``rows`` (all with the same keys) in one statement, returning ``returning``.

    On PostgreSQL the rows go as one array per column through ``unnest``: psycopg's
    executemany costs some 40 µs of client CPU a row, and psycopg re-parses the long
    VALUES list of SQLAlchemy's many-row INSERT on every execution; arrays cost about
    15 µs a row, which took storing 1,000 plans from 2.5 to 0.95 ms per document.
    Elsewhere it is SQLAlchemy's executemany.
    """
    names = tuple(rows[0])
    if connection.dialect.name != "postgresql":
        return connection.execute(_plain_insert(table, returning), rows)
    arrays = {name: [row[name] for row in rows] for name in names}
    for name in names:
        if isinstance(table.c[name].type, sa.JSON):
            arrays[name] = [json.dumps(value) for value in arrays[name]]
    return connection.execute(_unnest_insert(table, names, returning), arrays)


@functools.cache
def _plain_insert(table: sa.Table, returning: tuple[sa.Column[Any], ...]) -> sa.Insert:
    return sa.insert(table).returning(*returning) if returning else sa.insert(table)


@functools.cache
def _unnest_insert(table: sa.Table, names: tuple[str, ...], returning: tuple[sa.Column[Any], ...]) -> sa.Insert:
    """``INSERT INTO table (names) SELECT * FROM unnest(:name, …)``; JSON goes as text."""
    columns = [table.c[name] for name in names]
    element = [sa.Text() if isinstance(c.type, sa.JSON) else c.type for c in columns]
    arrays = [sa.cast(sa.bindparam(c.name, type_=pg.ARRAY(e)), pg.ARRAY(e)) for c, e in zip(columns, element)]
    source = sa.func.unnest(*arrays).table_valued(*names).render_derived()
    values = [sa.cast(source.c[c.name], c.type) if isinstance(c.type, sa.JSON) else source.c[c.name] for c in columns]
    statement = sa.insert(table).from_select(names, sa.select(*values))
    return statement.returning(*returning) if returning else statement


def _load(
    connection: sa.Connection, where: sa.ColumnElement[bool], params: dict[str, Any] | None = None
) -> list[_Stored]:
    """The tasks matching ``where`` (with its bound ``params``), rebuilt with their agencies
    and deadlines; three statements, or one when no task matches."""
    found = connection.execute(sa.select(tasks).where(where), params).all()
    if not found:
        return []
    ids = sa.select(tasks.c.id).where(where)
    # Equal values read once share one object: the same agencies and time phrases recur
    # across thousands of tasks, and reading every task (a digest run, `duban tasks`)
    # then holds each distinct one once instead of once per task.
    shared: dict[Any, Any] = {}
    agencies: dict[int, list[AgencyRef]] = {}
    for a in connection.execute(
        sa.select(task_agencies)
        .where(task_agencies.c.task_id.in_(ids))
        .order_by(task_agencies.c.task_id, task_agencies.c.position),
        params,
    ):
        ref = AgencyRef(name=a.name, role=a.role, canonical=a.canonical)
        agencies.setdefault(a.task_id, []).append(_shared(shared, ref))
    deadlines: dict[int, list[Deadline]] = {}
    for d in connection.execute(
        sa.select(task_deadlines)
        .where(task_deadlines.c.task_id.in_(ids))
        .order_by(task_deadlines.c.task_id, task_deadlines.c.position),
        params,
    ):
        deadline = Deadline(
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
        deadlines.setdefault(d.task_id, []).append(_shared(shared, deadline))
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
                agencies=_shared(shared, tuple(agencies.get(t.id, ()))),
                deadlines=_shared(shared, tuple(deadlines.get(t.id, ()))),
            ),
        )
        for t in found
    ]


def _shared(shared: dict[Any, Any], value: _V) -> _V:
    """The first value read equal to ``value``: that one object stands for all of them."""
    return shared.setdefault(value, value)


def task_states(connection: sa.Connection, *, include_removed: bool) -> list[TaskState]:
    """Stored tasks as the planner sees them, in document path and reading order.

    ``TaskState.document`` carries the document's metadata with ``tasks=()``: the
    planner needs the issuer and issue date, not a second copy of every task.
    """
    return states(connection, sa.true() if include_removed else tasks.c.removed_at.is_(None))


def states(connection: sa.Connection, where: sa.ColumnElement[bool]) -> list[TaskState]:
    """The stored tasks ``where`` selects, each with its document's metadata and state."""
    by_id = {s.id: s.task for s in _load(connection, where)}
    docs: dict[int, Document] = {}
    found = []
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
        found.append(
            TaskState(
                task=by_id[row.task_id],
                document=docs[row.id],
                status=row.status,
                done_at=row.done_at,
                due=row.due,
            )
        )
    return found


def naming(names: Collection[tuple[str, str | None]]) -> sa.ColumnElement[bool]:
    """Tasks with an agency reference written as one of ``names`` in a document of its
    jurisdiction (a name and a jurisdiction, as :func:`agency_names` gives them)."""
    task = tasks.alias()
    placed = [(name, jurisdiction) for name, jurisdiction in names if jurisdiction is not None]
    unplaced = [name for name, jurisdiction in names if jurisdiction is None]
    named = (
        sa.select(task_agencies.c.task_id)
        .join(task, task.c.id == task_agencies.c.task_id)
        .join(documents, documents.c.id == task.c.document_id)
        .where(
            sa.tuple_(task_agencies.c.name, documents.c.jurisdiction).in_(placed)
            | (task_agencies.c.name.in_(unplaced) & documents.c.jurisdiction.is_(None))
        )
    )
    return tasks.c.id.in_(named)


def agency_names(connection: sa.Connection) -> list[tuple[str, str | None]]:
    """Each distinct agency name of the live tasks with its document's jurisdiction:
    what resolving them takes, a few thousand pairs however many tasks name them."""
    rows = connection.execute(
        sa.select(task_agencies.c.name, documents.c.jurisdiction)
        .distinct()
        .join(tasks, tasks.c.id == task_agencies.c.task_id)
        .join(documents, documents.c.id == tasks.c.document_id)
        .where(tasks.c.removed_at.is_(None))
    )
    return [(name, jurisdiction) for name, jurisdiction in rows]


def find_task(connection: sa.Connection, ref: str) -> TaskState:
    """The task named by its key, a key prefix or a suffix starting after a separator."""
    ref = ref.strip()
    if not ref:
        raise InputError("name a task by its key or the end of it, such as 二.(三).")
    exact = states(connection, tasks.c.key == ref)
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
    return states(connection, tasks.c.key == matches[0])[0]


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
