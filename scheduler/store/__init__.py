"""The store: documents, tasks and the notification log, on SQLite or PostgreSQL.

A :class:`Store` wraps one SQLAlchemy engine. Every method is one transaction, so a
method either happens entirely or not at all; methods that write begin with the write
lock on SQLite (``BEGIN IMMEDIATE``) and lock only the rows they claim on PostgreSQL.

    store = Store("sqlite:///duban.db")
    store.migrate()                                   # alembic upgrade head
    store.save_document(doc, digest=..., now=now)     # tasks upserted by key
    store.replan(plan_tasks, now=now)                  # the log matches the rules
    for entry in store.claim_due(now=now, owner="host:pid", lease=timedelta(minutes=5), limit=50):
        ...                                           # render, send, then
        store.mark_sent(entry.key, owner="host:pid", at=now, message_id=..., reply=...)

A ``mark_*`` or ``release`` whose owner no longer holds the row (its lease ran out and
another dispatcher claimed it) changes nothing and raises :class:`LeaseLost`.
The schema comes only from the Alembic migrations in ``scheduler/migrations``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from scheduler.model import Document, Notification, TaskState
from scheduler.store import documents, log
from scheduler.store.documents import SaveResult
from scheduler.store.engine import make_engine, migrate, writing
from scheduler.store.lock import daemon_lock
from scheduler.store.log import LeaseLost, LogEntry, Outcome, ReconcileResult
from scheduler.store.schema import documents as documents_table
from scheduler.store.schema import notifications, tasks

__all__ = ["DOCUMENTS_PER_SAVE", "LeaseLost", "LogEntry", "Outcome", "ReconcileResult", "SaveResult", "Store"]

# Documents replanned per transaction: a few thousand tasks, so a replan holds little
# memory and the SQLite write lock only briefly at a time.
DOCUMENTS_PER_REPLAN = 200
# Documents stored per transaction: a commit per few hundred plans, not per plan.
DOCUMENTS_PER_SAVE = 200


class Store:
    """duban's database. ``engine`` is public so APScheduler's job store can share it."""

    def __init__(self, url: str) -> None:
        self.engine: sa.Engine = make_engine(url)

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # documents and tasks

    def save_document(self, doc: Document, *, digest: str, now: datetime) -> SaveResult:
        return self.save_documents([(doc, digest)], now=now)[0]

    def save_documents(self, docs: Sequence[tuple[Document, str]], *, now: datetime) -> list[SaveResult]:
        """Store documents with their digests, :data:`DOCUMENTS_PER_SAVE` per transaction.

        A transaction per document made the commit (a disk flush on SQLite, a round trip
        on PostgreSQL) a third of the cost of storing thousands of plans; within one,
        :func:`documents.save_documents` writes the batch with a few statements in all.
        """
        results: list[SaveResult] = []
        for start in range(0, len(docs), DOCUMENTS_PER_SAVE):
            with writing(self.engine) as connection:
                results.extend(documents.save_documents(connection, docs[start : start + DOCUMENTS_PER_SAVE], now=now))
        return results

    def check(self, doc: Document) -> None:
        """Raise the :class:`InputError` storing ``doc`` would raise, without storing it:
        so a caller storing many documents in batches can refuse a bad one before any."""
        documents.refuse_duplicate_keys(doc)

    def task_states(
        self,
        *,
        include_removed: bool = False,
        keys: Collection[str] | None = None,
        names: Collection[tuple[str, str | None]] | None = None,
    ) -> list[TaskState]:
        """Stored tasks: all of them, or the live ones with these keys and naming an
        agency by one of these ``names`` (as written, each with the jurisdiction of the
        documents it is written in), as far as given."""
        with self.engine.begin() as connection:
            if keys is None and names is None:
                return documents.task_states(connection, include_removed=include_removed)
            where = tasks.c.removed_at.is_(None)
            if keys is not None:
                where &= tasks.c.key.in_(keys)
            if names is not None:
                where &= documents.naming(names)
            return documents.states(connection, where)

    def agency_names(self) -> list[tuple[str, str | None]]:
        """Each distinct agency name of the live tasks, as written, with its document's jurisdiction."""
        with self.engine.begin() as connection:
            return documents.agency_names(connection)

    def find_task(self, ref: str) -> TaskState:
        with self.engine.begin() as connection:
            return documents.find_task(connection, ref)

    def mark_done(self, key: str, *, at: datetime, note: str | None) -> None:
        with writing(self.engine) as connection:
            documents.set_status(connection, key, "done", at=at, note=note)

    def reopen(self, key: str, *, at: datetime, note: str | None = None) -> None:
        with writing(self.engine) as connection:
            documents.set_status(connection, key, "open", at=at, note=note)

    def extend(self, key: str, new_due: date, *, reason: str, by: str, at: datetime) -> None:
        with writing(self.engine) as connection:
            documents.extend(connection, key, new_due, reason=reason, by=by, at=at)

    # the notification log

    def reconcile(
        self,
        desired: Iterable[Notification],
        *,
        now: datetime,
        reason: str = log.CANCEL_REASON,
    ) -> ReconcileResult:
        """Make the whole log carry ``desired``: what it lacks and may still be sent is cancelled."""
        with writing(self.engine) as connection:
            return log.reconcile(connection, desired, now=now, scope=sa.true(), reason=reason)

    def add(self, notifications: Iterable[Notification], *, now: datetime) -> ReconcileResult:
        """Put these notifications in the log as :meth:`reconcile` would, cancelling none.

        For one-off sends (``duban digest --send``) and for the digests a replan of some
        documents wants: a key already in the log keeps its row, so what was sent is not
        sent again.
        """
        with writing(self.engine) as connection:
            return log.reconcile(connection, notifications, now=now, scope=None)

    def replan(
        self,
        plan: Callable[[list[TaskState]], Iterable[Notification]],
        *,
        now: datetime,
        paths: Sequence[str] | None = None,
        reason: str = log.CANCEL_REASON,
    ) -> ReconcileResult:
        """Reconcile the reminders of the stored tasks with what ``plan`` wants of them.

        The documents (every one, or those stored under ``paths``) are taken a batch at
        a time: one transaction reads a batch's live tasks, plans them and reconciles
        the rows of every task of those documents, removed ones included, so memory
        stays that of one batch and a change to one document touches only its rows.
        Replanning every document also cancels what is left of tasks gone from the
        store.
        """
        chosen = sa.select(documents_table.c.id).order_by(documents_table.c.id)
        if paths is not None:
            chosen = chosen.where(documents_table.c.path.in_(paths))
        with self.engine.begin() as connection:
            ids = connection.execute(chosen).scalars().all()
        result = ReconcileResult()
        for start in range(0, len(ids), DOCUMENTS_PER_REPLAN):
            batch = ids[start : start + DOCUMENTS_PER_REPLAN]
            with writing(self.engine) as connection:
                states = documents.states(
                    connection, tasks.c.document_id.in_(batch) & tasks.c.removed_at.is_(None)
                )
                keys = sa.select(tasks.c.key).where(tasks.c.document_id.in_(batch))
                result += log.reconcile(
                    connection, plan(states), now=now, scope=notifications.c.task_key.in_(keys), reason=reason
                )
        if paths is None:
            with writing(self.engine) as connection:
                result += ReconcileResult(cancelled=log.cancel_orphans(connection, now=now, reason=reason))
        return result

    def reconcile_digests(
        self, desired: Iterable[Notification], *, now: datetime, reason: str = log.CANCEL_REASON
    ) -> ReconcileResult:
        """Make the log's digests carry ``desired``, the digests every stored task calls for."""
        scope = notifications.c.task_key.is_(None) & (notifications.c.kind == "digest")
        with writing(self.engine) as connection:
            return log.reconcile(connection, desired, now=now, scope=scope, reason=reason)

    def skip_expired(self, *, now: datetime, reason: str) -> int:
        """Skip, in one statement, every claimable row whose catch-up window has closed."""
        with writing(self.engine) as connection:
            return log.skip_expired(connection, now=now, reason=reason)

    def claim_due(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        keys: Sequence[str] | None = None,
    ) -> list[LogEntry]:
        with writing(self.engine) as connection:
            return log.claim_due(
                connection, now=now, owner=owner, lease=lease, limit=limit, keys=keys
            )

    def record(self, outcomes: Sequence[Outcome], *, owner: str, at: datetime | None = None) -> list[Outcome]:
        """Record what became of claimed rows, all in one transaction.

        Returns the outcomes not recorded because ``owner`` no longer holds their row
        (its lease ran out and another dispatcher claimed it). ``at`` defaults to the
        clock: it only stamps ``updated_at``.
        """
        with writing(self.engine) as connection:
            return log.record(connection, outcomes, holder=owner, at=at or log.utcnow())

    def mark_sent(
        self, key: str, *, owner: str, at: datetime, message_id: str, reply: str
    ) -> None:
        self._record_one(log.sent(key, at=at, message_id=message_id, reply=reply), owner, at)

    def mark_failed(
        self,
        key: str,
        *,
        owner: str,
        error: str,
        retry_at: datetime,
        at: datetime | None = None,
    ) -> None:
        self._record_one(log.failed(key, error=error, retry_at=retry_at), owner, at)

    def mark_dead(
        self, key: str, *, owner: str, error: str, at: datetime | None = None
    ) -> None:
        self._record_one(log.dead(key, error=error), owner, at)

    def mark_skipped(
        self, key: str, *, owner: str, reason: str, at: datetime | None = None
    ) -> None:
        self._record_one(log.skipped(key, reason=reason), owner, at)

    def release(self, key: str, *, owner: str, at: datetime | None = None) -> None:
        """Give a claimed row back unsent; the attempt it counted did not happen."""
        self._record_one(log.released(key), owner, at)

    def _record_one(self, outcome: Outcome, owner: str, at: datetime | None) -> None:
        if self.record([outcome], owner=owner, at=at):
            raise LeaseLost(f"notification {outcome.key!r} is not claimed by {owner!r}; its lease was lost.")

    def entries(
        self,
        *,
        status: Sequence[str] = (),
        since: datetime | None = None,
        agency: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[LogEntry]:
        """Log rows, oldest planned first.

        ``since`` keeps the rows changed at or after it: a sent row changes last when it
        is sent, so ``entries(status=["sent"], since=d)`` is what went out since ``d``.
        """
        with self.engine.begin() as connection:
            return log.entries(
                connection, status=status, since=since, agency=agency, kinds=kinds
            )

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as connection:
            return log.counts(connection)

    def daemon_lock(self, owner: str) -> AbstractContextManager[bool]:
        return daemon_lock(self.engine, owner)
