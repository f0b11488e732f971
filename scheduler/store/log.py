"""The notification log: every message the rules want, and what became of it.

Each row is one notification with a unique key; the unique constraint is what makes
planning, dispatching and restarting idempotent. A row moves::

    planned ──claim──▶ claimed ──▶ sent            (final: a trigger refuses any change)
       │                  │──────▶ failed ──claim when retry_at ≤ now──▶ claimed …
       │                  │──────▶ dead            (final: a permanent rejection)
       │                  │──────▶ skipped         (final: too late, by the catch-up policy)
       │                  └──────▶ planned         (released on a clean shutdown)
       └──reconcile──▶ cancelled ──reconcile──▶ planned (wanted again)

A claim is a lease: a dispatcher that dies leaves its rows claimed until
``lease_until``, after which any dispatcher may claim them again. Every transition out
of ``claimed`` is guarded by the owner, so a dispatcher whose lease ran out cannot
overwrite what the new owner records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from scheduler.errors import DubanError
from scheduler.model import Notification
from scheduler.store.engine import SCHEMA_KEY
from scheduler.store.schema import notifications as log
from scheduler.store.schema import tasks

STATUSES = ("planned", "claimed", "sent", "failed", "dead", "cancelled", "skipped")
# Columns the rules decide; reconcile rewrites them on a still-planned row.
PLAN_COLUMNS = (
    "kind",
    "rule",
    "template",
    "agency",
    "task_key",
    "due",
    "role",
    "period",
    "cc",
    "planned_at",
    "expires_at",
    "shifted_from",
)
CANCEL_REASON = "no longer planned by the rules"
RECONCILE_LOCK = 0x7265_636F  # "reco": a PostgreSQL advisory lock, per schema
BATCH = 500


class LeaseLost(DubanError):
    """A dispatcher tried to record the outcome of a row it no longer holds."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One row of the log, every datetime aware UTC."""

    key: str
    kind: str
    rule: str
    template: str
    agency: str
    task_key: str | None
    due: date | None
    role: str | None
    period: str | None
    cc: tuple[str, ...]
    planned_at: datetime
    expires_at: datetime | None
    shifted_from: date | None
    status: str
    attempts: int
    owner: str | None
    lease_until: datetime | None
    retry_at: datetime | None
    sent_at: datetime | None
    message_id: str | None
    reply: str | None
    error: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """How the log changed to match the desired notifications.

    ``restored`` counts cancelled rows wanted again; ``unchanged`` counts desired keys
    left as they were (still planned as wanted, or already claimed, sent, failed …).
    """

    added: int = 0
    updated: int = 0
    restored: int = 0
    cancelled: int = 0
    unchanged: int = 0


    def __add__(self, other: ReconcileResult) -> ReconcileResult:
        return ReconcileResult(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(ReconcileResult))
        )


def _entry(row: sa.Row) -> LogEntry:
    values = row._asdict()
    values.pop("id")
    values.pop("plan_hash")
    values["cc"] = tuple(values["cc"])
    return LogEntry(**values)


def plan_hash(notification: Notification) -> str:
    """A fingerprint of what the rules decide about a notification (its plan columns).

    Stored with the row, so that reconciling compares one short column instead of
    reading and converting twelve. Times count as instants, whatever their zone.
    """
    n = notification
    parts = (
        n.kind, n.rule, n.template, n.agency, n.task_key, n.due, n.role, n.period, n.cc,
        n.planned_at.timestamp(), n.expires_at.timestamp() if n.expires_at else None, n.shifted_from,
    )
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).hexdigest()


def _plan(notification: Notification) -> dict[str, Any]:
    values = {column: getattr(notification, column) for column in PLAN_COLUMNS}
    values["cc"] = list(notification.cc)
    values["plan_hash"] = plan_hash(notification)
    return values


def _parameters(key: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Bound parameters of :func:`_rewrite`; SQLAlchemy reserves the column names."""
    return {"p_key": key, **{f"p_{column}": value for column, value in plan.items()}}


def _rewrite(
    connection: sa.Connection, status: str, plans: list[dict[str, Any]], *, now: datetime
) -> int:
    """Give rows still in ``status`` their new plan and make them planned; count them."""
    if not plans:
        return 0
    statement = (
        sa.update(log)
        .where(log.c.key == sa.bindparam("p_key"), log.c.status == status)
        .values(
            {
                **{column: sa.bindparam(f"p_{column}") for column in (*PLAN_COLUMNS, "plan_hash")},
                "status": "planned",
                "reason": None,
                "updated_at": now,
            }
        )
    )
    return connection.execute(statement, plans).rowcount


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _insert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(log)


def reconcile(
    connection: sa.Connection,
    desired: Iterable[Notification],
    *,
    now: datetime,
    scope: sa.ColumnElement[bool] | None,
    reason: str = CANCEL_REASON,
) -> ReconcileResult:
    """Make the log carry ``desired``.

    ``scope`` selects the rows ``desired`` is complete for (the whole log, the
    reminders of some tasks, the digests): its planned or failed rows that ``desired``
    lacks are cancelled, unless their catch-up window has closed (the dispatcher skips
    those). With no scope only the rows of ``desired`` are looked at and nothing is
    cancelled. Only the key, status and plan hash of the scope's rows within their
    catch-up window are read, and then the other desired keys alone: whatever they
    find (a row past its window) is not inserted again.
    """
    if connection.dialect.name == "postgresql":
        # One reconciler at a time, as SQLite's write lock already has it: what was read
        # stays true until the insert, so the rows inserted are exactly those not found.
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(RECONCILE_LOCK, SCHEMA_KEY)))
    wanted: dict[str, dict[str, Any]] = {}
    for notification in desired:
        if notification.key in wanted:
            raise ValueError(f"two desired notifications share the key {notification.key!r}")
        wanted[notification.key] = _plan(notification)
    columns = (log.c.key, log.c.status, log.c.plan_hash)
    rows = {}
    if scope is not None:
        # Not filtered by status, which would lead SQLite to its status index (every
        # pending row) rather than the scope's: a row past its window is all it skips.
        query = sa.select(*columns).where(scope, _open_window(now))
        rows = {row.key: row for row in connection.execute(query)}
    # A desired key may still be in the log, final or past its window: looked at alone.
    rows |= _rows(connection, sa.select(*columns), [key for key in wanted if key not in rows])

    new = [key for key in wanted if key not in rows]
    insert = _insert(connection.dialect.name).on_conflict_do_nothing(index_elements=[log.c.key])
    for batch in _batches(new):
        values = [
            {"key": key, **wanted[key], "status": "planned", "attempts": 0, "created_at": now, "updated_at": now}
            for key in batch
        ]
        connection.execute(insert, values)

    moved = [
        _parameters(key, wanted[key])
        for key, row in rows.items()
        if key in wanted and row.status == "planned" and row.plan_hash != wanted[key]["plan_hash"]
    ]
    updated = _rewrite(connection, "planned", moved, now=now)
    again = [_parameters(key, wanted[key]) for key, row in rows.items() if key in wanted and row.status == "cancelled"]
    restored = _rewrite(connection, "cancelled", again, now=now)

    dropped = 0
    unwanted = (key for key, row in rows.items() if key not in wanted and row.status in ("planned", "failed"))
    for batch in _batches(unwanted):
        dropped += connection.execute(
            sa.update(log)
            .where(log.c.key.in_(batch), log.c.status.in_(("planned", "failed")), _open_window(now))
            .values(status="cancelled", reason=reason, retry_at=None, updated_at=now)
        ).rowcount

    return ReconcileResult(
        added=len(new),
        updated=updated,
        restored=restored,
        cancelled=dropped,
        unchanged=len(wanted) - len(new) - updated - restored,
    )


def _rows(connection: sa.Connection, query: sa.Select, keys: Iterable[str]) -> dict[str, sa.Row]:
    """The rows ``query`` finds among ``keys``, by key, a batch of keys at a time."""
    return {
        row.key: row
        for batch in _batches(keys)
        for row in connection.execute(query.where(log.c.key.in_(batch)))
    }


def cancel_orphans(connection: sa.Connection, *, now: datetime, reason: str) -> int:
    """Cancel the reminders still to send of tasks that are gone from the store.

    Tasks are only marked removed, never deleted, so this only finds the rows of
    documents deleted from the database by hand.
    """
    return connection.execute(
        sa.update(log)
        .where(
            log.c.status.in_(("planned", "failed")),
            log.c.task_key.is_not(None),
            _open_window(now),
            ~sa.exists().where(tasks.c.key == log.c.task_key),
        )
        .values(status="cancelled", reason=reason, retry_at=None, updated_at=now)
    ).rowcount


def _open_window(now: datetime) -> sa.ColumnElement[bool]:
    """Rows that may still be sent at ``now`` by the catch-up policy."""
    return log.c.expires_at.is_(None) | (log.c.expires_at >= now)


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    """Rows a dispatcher may take at ``now``: planned, due for a retry, or with a lapsed lease."""
    return (
        (log.c.status == "planned")
        | ((log.c.status == "failed") & (log.c.retry_at <= now))
        | ((log.c.status == "claimed") & (log.c.lease_until <= now))
    )


def skip_expired(connection: sa.Connection, *, now: datetime, reason: str) -> int:
    """Record every claimable row whose catch-up window closed before ``now`` as skipped.

    One statement instead of a claim and an update per row: a first run on old plans
    has thousands of stale reminders, and none of them is ever sent.
    """
    return connection.execute(
        sa.update(log)
        .where(_claimable(now), log.c.expires_at < now)
        .values(status="skipped", reason=reason, owner=None, retry_at=None, lease_until=None, updated_at=now)
    ).rowcount


def claim_due(
    connection: sa.Connection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    keys: Sequence[str] | None = None,
) -> list[LogEntry]:
    """Lease the rows due at ``now``, oldest first; concurrent claimers get disjoint rows.

    On PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED``, so a
    second dispatcher passes over them instead of waiting; on SQLite the caller's
    ``BEGIN IMMEDIATE`` already serializes claimers. ``keys`` limits the claim to
    those rows.
    """
    due = sa.select(log.c.id).where(_claimable(now), log.c.planned_at <= now)
    if keys is not None:
        due = due.where(log.c.key.in_(keys))
    ids = (
        connection.execute(
            due.order_by(log.c.planned_at, log.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    rows = connection.execute(
        sa.update(log)
        .where(log.c.id.in_(ids))
        .values(
            status="claimed",
            owner=owner,
            lease_until=now + lease,
            attempts=log.c.attempts + 1,
            updated_at=now,
        )
        .returning(*log.c)
    ).all()
    return sorted((_entry(row) for row in rows), key=lambda e: (e.planned_at, e.key))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a claimed row: its key, its new status and the columns that say why."""

    key: str
    status: str
    values: dict[str, Any]


def sent(key: str, *, at: datetime, message_id: str, reply: str) -> Outcome:
    return Outcome(key, "sent", {"sent_at": at, "message_id": message_id, "reply": reply})


def failed(key: str, *, error: str, retry_at: datetime) -> Outcome:
    return Outcome(key, "failed", {"error": error, "retry_at": retry_at})


def dead(key: str, *, error: str) -> Outcome:
    return Outcome(key, "dead", {"error": error, "retry_at": None})


def skipped(key: str, *, reason: str) -> Outcome:
    return Outcome(key, "skipped", {"reason": reason, "retry_at": None})


def released(key: str) -> Outcome:
    """Back to planned, unsent: the attempt its claim counted did not happen."""
    return Outcome(key, "planned", {})


def record(
    connection: sa.Connection, outcomes: Iterable[Outcome], *, holder: str, at: datetime
) -> list[Outcome]:
    """Move rows out of ``claimed`` where ``holder`` still holds them; return the others.

    Nothing is recorded for a row whose lease was lost: its new owner records it.
    """
    shapes: dict[tuple[str, tuple[str, ...]], list[Outcome]] = {}
    for outcome in outcomes:
        shapes.setdefault((outcome.status, tuple(outcome.values)), []).append(outcome)
    lost = []
    for (status, columns), group in shapes.items():
        statement = _recording(status, columns)
        parameters = [
            {"r_key": o.key, "r_holder": holder, "r_at": at, **{f"r_{c}": v for c, v in o.values.items()}}
            for o in group
        ]
        # All at once (one round trip on PostgreSQL); one by one only to tell which
        # rows were lost when some were.
        savepoint = connection.begin_nested()
        if connection.execute(statement, parameters).rowcount == len(group):
            savepoint.commit()
            continue
        savepoint.rollback()
        lost += [o for o, p in zip(group, parameters) if connection.execute(statement, p).rowcount != 1]
    return lost


@lru_cache(maxsize=None)
def _recording(status: str, columns: tuple[str, ...]) -> sa.Update:
    """The statement recording outcomes of one status, built once per kind of outcome."""
    values: dict[str, Any] = {column: sa.bindparam(f"r_{column}") for column in columns}
    if status == "planned":
        values |= {"owner": None, "attempts": log.c.attempts - 1}
    return (
        sa.update(log)
        .where(log.c.key == sa.bindparam("r_key"), log.c.status == "claimed", log.c.owner == sa.bindparam("r_holder"))
        .values(status=status, lease_until=None, updated_at=sa.bindparam("r_at"), **values)
    )


def entries(
    connection: sa.Connection,
    *,
    status: Sequence[str],
    since: datetime | None,
    agency: str | None,
    kinds: Sequence[str],
) -> list[LogEntry]:
    query = sa.select(log).order_by(log.c.planned_at, log.c.key)
    if status:
        query = query.where(log.c.status.in_(status))
    if since is not None:
        query = query.where(log.c.updated_at >= since)
    if agency is not None:
        query = query.where(log.c.agency == agency)
    if kinds:
        query = query.where(log.c.kind.in_(kinds))
    return [_entry(row) for row in connection.execute(query)]


def counts(connection: sa.Connection) -> dict[str, int]:
    found = dict(
        connection.execute(sa.select(log.c.status, sa.func.count()).group_by(log.c.status)).all()
    )
    return {status: found.get(status, 0) for status in STATUSES}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
