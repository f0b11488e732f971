"""Replanning through the store: a batch of documents at a time, and only some documents.

The plan function here is a stand-in for the planner: one reminder per agency of each
task, due on the task's first deadline. What is tested is what the store does with
it, on SQLite and PostgreSQL: which rows a replan reads, writes and leaves alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import scheduler.store
from scheduler.model import AgencyRef, Deadline, Document, Notification, Task, TaskState
from scheduler.store import LogEntry, ReconcileResult, Store
from scheduler.store.schema import documents, notifications

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=5)


def task(key: str, due: date, *agencies: str) -> Task:
    return Task(
        key=key,
        number=key.rsplit("#", 1)[1],
        title=key,
        text=key,
        agencies=tuple(AgencyRef(name, "lead", name) for name in agencies),
        deadlines=(Deadline("…", 0, 1, "deadline", due, precision="day"),),
    )


def document(path: str, *tasks: Task) -> Document:
    return Document(path=path, title=path, doc_number=path, issued_on=date(2024, 1, 1), tasks=tasks)


def reminders(states: Sequence[TaskState]) -> list[Notification]:
    return [
        Notification(
            key=f"reminder:due:{state.task.key}:{state.task.deadlines[0].date}:{ref.canonical}",
            kind="due",
            rule="due",
            template="due",
            agency=ref.canonical or ref.name,
            planned_at=datetime.combine(state.task.deadlines[0].date, datetime.min.time(), timezone.utc),
            task_key=state.task.key,
            due=state.task.deadlines[0].date,
            expires_at=datetime.combine(state.task.deadlines[0].date, datetime.max.time(), timezone.utc),
        )
        for state in states
        if state.status == "open"
        for ref in state.task.agencies
    ]


A = document("a.txt", task("A#1", date(2024, 7, 1), "甲", "乙"), task("A#2", date(2024, 7, 8), "甲"))
B = document("b.txt", task("B#1", date(2024, 7, 1), "乙"), task("B#2", date(2024, 8, 1), "丙"))


def save(store: Store, *docs: Document, now: datetime = NOW) -> None:
    for doc in docs:
        store.save_document(doc, digest=repr(doc), now=now)


def rows(store: Store) -> dict[str, LogEntry]:
    return {entry.key: entry for entry in store.entries()}


def touched(before: dict[str, LogEntry], after: dict[str, LogEntry]) -> set[str | None]:
    """The tasks whose rows a change added or altered."""
    return {entry.task_key for key, entry in after.items() if before.get(key) != entry}


def test_a_full_replan_plans_every_document_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler.store, "DOCUMENTS_PER_REPLAN", 1)
    save(store, A, B)
    assert store.replan(reminders, now=NOW) == ReconcileResult(added=5)
    assert {entry.task_key for entry in store.entries()} == {"A#1", "A#2", "B#1", "B#2"}
    before = store.entries()
    assert store.replan(reminders, now=LATER) == ReconcileResult(unchanged=5)
    assert store.entries() == before


def test_replanning_one_document_leaves_the_rows_of_others_untouched(store: Store) -> None:
    save(store, A, B)
    store.replan(reminders, now=NOW)
    before = rows(store)
    moved = document("a.txt", task("A#1", date(2024, 7, 2), "甲", "乙"), task("A#3", date(2024, 7, 9), "丁"))
    save(store, moved, now=LATER)
    result = store.replan(reminders, now=LATER, paths=["a.txt"])
    # A#1 moved (two new keys, two old ones cancelled), A#2 was removed, A#3 is new.
    assert result == ReconcileResult(added=3, cancelled=3)
    after = rows(store)
    assert touched(before, after) == {"A#1", "A#2", "A#3"}
    assert {key: entry for key, entry in after.items() if entry.task_key.startswith("B#")} == {
        key: entry for key, entry in before.items() if entry.task_key.startswith("B#")
    }
    assert after["reminder:due:A#2:2024-07-08:甲"].status == "cancelled"


def test_a_replan_of_some_documents_keeps_what_the_log_holds_of_them(store: Store) -> None:
    save(store, A)
    store.replan(reminders, now=NOW)
    (first, *_) = store.claim_due(now=datetime(2024, 7, 1, 1, tzinfo=timezone.utc), owner="d", lease=timedelta(minutes=5), limit=1)
    store.mark_sent(first.key, owner="d", at=NOW, message_id="<1>", reply="250")
    sent = rows(store)[first.key]
    save(store, document("a.txt"), now=LATER)  # every task removed
    assert store.replan(reminders, now=LATER, paths=["a.txt"]) == ReconcileResult(cancelled=2)
    assert rows(store)[first.key] == sent


def test_only_a_full_replan_cancels_the_rows_of_deleted_tasks(store: Store) -> None:
    save(store, A, B)
    store.replan(reminders, now=NOW)
    with store.engine.begin() as connection:
        connection.execute(sa.delete(documents).where(documents.c.path == "b.txt"))
    assert store.replan(reminders, now=LATER, paths=["a.txt"]) == ReconcileResult(unchanged=3)
    assert store.replan(reminders, now=LATER) == ReconcileResult(cancelled=2, unchanged=3)
    assert {e.task_key for e in store.entries() if e.status == "cancelled"} == {"B#1", "B#2"}


def digest(agency: str, period: str) -> Notification:
    return Notification(
        key=f"digest:weekly:{agency}:{period}",
        kind="digest",
        rule="weekly",
        template="digest",
        agency=agency,
        planned_at=NOW,
        period=period,
        expires_at=NOW + timedelta(days=7),
    )


def test_digests_reconcile_apart_from_reminders(store: Store) -> None:
    save(store, A)
    store.replan(reminders, now=NOW)
    assert store.reconcile_digests([digest("甲", "2024-06-03"), digest("乙", "2024-06-03")], now=NOW) == ReconcileResult(added=2)
    assert store.add([digest("丙", "2024-06-03")], now=NOW) == ReconcileResult(added=1)
    assert store.reconcile_digests([digest("甲", "2024-06-03")], now=LATER) == ReconcileResult(cancelled=2, unchanged=1)
    statuses = {e.key: e.status for e in store.entries()}
    assert {key for key, status in statuses.items() if status == "cancelled"} == {
        "digest:weekly:乙:2024-06-03",
        "digest:weekly:丙:2024-06-03",
    }
    assert all(status == "planned" for key, status in statuses.items() if key.startswith("reminder:"))


def test_a_replan_reads_only_the_plan_fingerprint_of_unchanged_rows(store: Store) -> None:
    save(store, A)
    store.replan(reminders, now=NOW)
    with store.engine.begin() as connection:
        hashes = dict(connection.execute(sa.select(notifications.c.key, notifications.c.plan_hash)).all())
        # A row from before the fingerprint: the next replan gives it one, as an update.
        connection.execute(sa.update(notifications).where(notifications.c.task_key == "A#2").values(plan_hash=None))
    assert store.replan(reminders, now=LATER) == ReconcileResult(updated=1, unchanged=2)
    with store.engine.begin() as connection:
        assert dict(connection.execute(sa.select(notifications.c.key, notifications.c.plan_hash)).all()) == hashes
