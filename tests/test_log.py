"""The notification log's invariants, on SQLite and PostgreSQL through one suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from scheduler.model import Notification
from scheduler.store import LeaseLost, LogEntry, ReconcileResult, Store, log
from scheduler.store.engine import SCHEMA_KEY, writing
from scheduler.store.lock import DAEMON_LOCK
from scheduler.store.schema import notifications

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2019, 11, 1, 9, 0, tzinfo=SHANGHAI)
LEASE = timedelta(minutes=5)
UTC = timezone.utc


def note(n: int, *, hours: int = 0, **fields) -> Notification:
    values = {
        "key": f"reminder:r7:zz:二.({n}):2019-11-30:市卫健委",
        "kind": "reminder",
        "rule": "r7",
        "template": "reminder",
        "agency": "漳州市卫生健康委员会",
        "planned_at": NOW + timedelta(hours=hours),
        "task_key": f"zz:二.({n})",
        "due": date(2019, 11, 30),
        "role": "lead",
        "cc": ("督查室",),
    }
    return Notification(**{**values, **fields})


def by_key(store: Store) -> dict[str, LogEntry]:
    return {entry.key: entry for entry in store.entries()}


def claim(store: Store, owner: str = "a", *, now: datetime = NOW, limit: int = 10) -> list[str]:
    return [e.key for e in store.claim_due(now=now, owner=owner, lease=LEASE, limit=limit)]


def test_reconcile_inserts_and_round_trips_every_field(store: Store) -> None:
    wanted = note(1, expires_at=NOW + timedelta(days=2), period="2019-11", shifted_from=date(2019, 11, 30))
    assert store.reconcile([wanted], now=NOW) == ReconcileResult(added=1)
    (entry,) = store.entries()
    assert entry == LogEntry(
        key=wanted.key,
        kind="reminder",
        rule="r7",
        template="reminder",
        agency="漳州市卫生健康委员会",
        task_key="zz:二.(1)",
        due=date(2019, 11, 30),
        role="lead",
        period="2019-11",
        cc=("督查室",),
        planned_at=NOW,
        expires_at=NOW + timedelta(days=2),
        shifted_from=date(2019, 11, 30),
        status="planned",
        attempts=0,
        owner=None,
        lease_until=None,
        retry_at=None,
        sent_at=None,
        message_id=None,
        reply=None,
        error=None,
        reason=None,
        created_at=NOW,
        updated_at=NOW,
    )
    assert entry.planned_at.tzinfo == UTC


def test_reconcile_twice_changes_nothing(store: Store) -> None:
    desired = [note(n) for n in range(3)]
    store.reconcile(desired, now=NOW)
    before = store.entries()
    assert store.reconcile(desired, now=NOW + LEASE) == ReconcileResult(unchanged=3)
    assert store.entries() == before


def test_reconcile_moves_planned_rows_when_the_rule_moves_them(store: Store) -> None:
    store.reconcile([note(1), note(2)], now=NOW)
    moved = note(1, hours=24, expires_at=NOW + timedelta(days=3), template="reminder2")
    assert store.reconcile([moved, note(2)], now=NOW) == ReconcileResult(updated=1, unchanged=1)
    entry = by_key(store)[moved.key]
    assert (entry.planned_at, entry.expires_at, entry.template) == (
        moved.planned_at,
        moved.expires_at,
        "reminder2",
    )


def test_reconcile_cancels_with_a_reason_and_restores(store: Store) -> None:
    store.reconcile([note(1), note(2)], now=NOW)
    result = store.reconcile([note(2)], now=NOW, reason="task done")
    assert result == ReconcileResult(cancelled=1, unchanged=1)
    entry = by_key(store)[note(1).key]
    assert (entry.status, entry.reason) == ("cancelled", "task done")

    later = note(1, hours=5)
    assert store.reconcile([later, note(2)], now=NOW) == ReconcileResult(restored=1, unchanged=1)
    entry = by_key(store)[note(1).key]
    assert (entry.status, entry.reason, entry.planned_at) == ("planned", None, later.planned_at)


def test_reconcile_never_touches_claimed_sent_dead_or_skipped_rows(store: Store) -> None:
    store.reconcile([note(n) for n in range(5)], now=NOW)
    claim(store, limit=4)
    store.mark_sent(note(0).key, owner="a", at=NOW, message_id="<m0@duban>", reply="250 ok")
    store.mark_dead(note(1).key, owner="a", error="550 no such user", at=NOW)
    store.mark_skipped(note(2).key, owner="a", reason="too late", at=NOW)
    before = store.entries()

    moved = [note(n, hours=48) for n in range(4)]
    assert store.reconcile(moved, now=NOW) == ReconcileResult(unchanged=4, cancelled=1)
    assert store.reconcile([], now=NOW) == ReconcileResult()
    after = by_key(store)
    assert [after[e.key] for e in before[:4]] == before[:4]
    assert after[note(4).key].status == "cancelled"


def test_reconcile_cancels_failed_rows_but_leaves_wanted_ones_to_retry(store: Store) -> None:
    store.reconcile([note(1), note(2)], now=NOW)
    claim(store)
    for n in (1, 2):
        store.mark_failed(note(n).key, owner="a", error="timeout", retry_at=NOW + LEASE, at=NOW)
    assert store.reconcile([note(1, hours=3)], now=NOW) == ReconcileResult(
        cancelled=1, unchanged=1
    )
    entries = by_key(store)
    assert (entries[note(1).key].status, entries[note(1).key].planned_at) == ("failed", NOW)
    assert entries[note(2).key].status == "cancelled"


def test_add_plans_these_and_cancels_nothing_else(store: Store) -> None:
    store.reconcile([note(n) for n in range(4)], now=NOW)
    claim(store, limit=1)
    store.mark_sent(note(0).key, owner="a", at=NOW, message_id="<0>", reply="250")
    store.reconcile([note(0), note(1), note(3)], now=NOW)  # note(2) cancelled
    sent = by_key(store)[note(0).key]

    again = [note(0, hours=-1), note(1, hours=-1), note(2, hours=-1), note(5, hours=-1)]
    assert store.add(again, now=NOW) == ReconcileResult(
        added=1, updated=1, restored=1, unchanged=1
    )
    entries = by_key(store)
    assert entries[note(0).key] == sent
    assert {key: (e.status, e.planned_at) for key, e in entries.items() if key != sent.key} == {
        note(1).key: ("planned", NOW - timedelta(hours=1)),
        note(2).key: ("planned", NOW - timedelta(hours=1)),
        note(3).key: ("planned", NOW),
        note(5).key: ("planned", NOW - timedelta(hours=1)),
    }


def test_reconcile_leaves_a_row_past_its_window_to_be_skipped(store: Store) -> None:
    stale = note(1, hours=-48, expires_at=NOW - timedelta(hours=1))
    store.reconcile([stale, note(2)], now=NOW - timedelta(days=3))
    assert store.reconcile([], now=NOW) == ReconcileResult(cancelled=1)
    entries = by_key(store)
    assert (entries[stale.key].status, entries[note(2).key].status) == ("planned", "cancelled")
    assert store.skip_expired(now=NOW, reason="catch-up") == 1


def test_reconcile_refuses_two_notifications_with_one_key(store: Store) -> None:
    with pytest.raises(ValueError, match="share the key"):
        store.reconcile([note(1), note(1, hours=1)], now=NOW)


def test_reconcile_works_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "BATCH", 3)
    desired = [note(n) for n in range(10)]
    assert store.reconcile(desired, now=NOW).added == 10
    assert store.reconcile(desired[3:], now=NOW) == ReconcileResult(cancelled=3, unchanged=7)
    assert store.reconcile(desired, now=NOW) == ReconcileResult(restored=3, unchanged=7)
    assert store.counts()["planned"] == 10


def test_claim_takes_due_rows_oldest_first_and_counts_attempts(store: Store) -> None:
    store.reconcile([note(1, hours=2), note(2, hours=-1), note(3), note(4, hours=1)], now=NOW)
    day = timedelta(days=1)
    claimed = store.claim_due(now=NOW, owner="a", lease=day, limit=10)
    assert [e.key for e in claimed] == [note(2).key, note(3).key]
    assert {(e.status, e.owner, e.attempts, e.lease_until) for e in claimed} == {
        ("claimed", "a", 1, NOW + day)
    }
    assert claim(store, "b") == []
    assert claim(store, "b", now=NOW + timedelta(hours=3), limit=1) == [note(4).key]


def test_claim_can_be_limited_to_some_keys(store: Store) -> None:
    store.reconcile([note(n, hours=-n) for n in range(4)], now=NOW)
    claimed = store.claim_due(
        now=NOW, owner="a", lease=LEASE, limit=10, keys=[note(1).key, note(2).key, "other"]
    )
    assert [e.key for e in claimed] == [note(2).key, note(1).key]
    assert store.claim_due(now=NOW, owner="a", lease=LEASE, limit=10, keys=[]) == []
    assert claim(store, "b") == [note(3).key, note(0).key]


def test_an_expired_lease_returns_the_row_to_another_owner(store: Store) -> None:
    store.reconcile([note(1)], now=NOW)
    claim(store, "a")
    assert claim(store, "b", now=NOW + LEASE - timedelta(seconds=1)) == []
    (entry,) = store.claim_due(now=NOW + LEASE, owner="b", lease=LEASE, limit=10)
    assert (entry.owner, entry.attempts) == ("b", 2)
    with pytest.raises(LeaseLost, match="not claimed by 'a'"):
        store.mark_sent(entry.key, owner="a", at=NOW, message_id="<x>", reply="250")
    store.mark_sent(entry.key, owner="b", at=NOW + LEASE, message_id="<x>", reply="250")
    assert by_key(store)[entry.key].status == "sent"


def test_failed_rows_come_back_at_retry_at(store: Store) -> None:
    store.reconcile([note(1)], now=NOW)
    claim(store)
    store.mark_failed(note(1).key, owner="a", error="421 busy", retry_at=NOW + LEASE, at=NOW)
    entry = by_key(store)[note(1).key]
    assert (entry.status, entry.error, entry.retry_at, entry.lease_until) == (
        "failed",
        "421 busy",
        NOW + LEASE,
        None,
    )
    assert claim(store, "b", now=NOW + timedelta(minutes=1)) == []
    assert claim(store, "b", now=NOW + LEASE) == [note(1).key]


def test_sent_rows_are_final(store: Store) -> None:
    store.reconcile([note(1)], now=NOW)
    claim(store)
    store.mark_sent(note(1).key, owner="a", at=NOW, message_id="<m1@duban>", reply="250 queued")
    sent = by_key(store)[note(1).key]
    assert (sent.status, sent.sent_at, sent.message_id, sent.reply) == (
        "sent",
        NOW,
        "<m1@duban>",
        "250 queued",
    )
    for mark in (
        lambda: store.mark_failed(sent.key, owner="a", error="e", retry_at=NOW),
        lambda: store.mark_dead(sent.key, owner="a", error="e"),
        lambda: store.mark_skipped(sent.key, owner="a", reason="r"),
        lambda: store.release(sent.key, owner="a"),
        lambda: store.mark_sent(sent.key, owner="a", at=NOW, message_id="<2>", reply="250"),
    ):
        with pytest.raises(LeaseLost):
            mark()
    assert claim(store, "b", now=NOW + timedelta(days=1)) == []
    assert by_key(store)[note(1).key] == sent


def test_release_puts_the_row_back_unattempted(store: Store) -> None:
    store.reconcile([note(1)], now=NOW)
    claim(store)
    store.release(note(1).key, owner="a", at=NOW)
    entry = by_key(store)[note(1).key]
    assert (entry.status, entry.owner, entry.attempts, entry.lease_until) == (
        "planned",
        None,
        0,
        None,
    )
    assert claim(store, "b") == [note(1).key]


def test_marks_need_the_claim(store: Store) -> None:
    store.reconcile([note(1)], now=NOW)
    with pytest.raises(LeaseLost):
        store.mark_sent(note(1).key, owner="a", at=NOW, message_id="<1>", reply="250")
    assert by_key(store)[note(1).key].status == "planned"


def test_outcomes_are_recorded_together_except_where_the_lease_was_lost(store: Store) -> None:
    store.reconcile([note(n) for n in range(4)], now=NOW)
    claim(store, "a", limit=3)
    assert claim(store, "b") == [note(3).key]  # a never held it
    outcomes = [
        log.sent(note(0).key, at=NOW, message_id="<0>", reply="250"),
        log.failed(note(1).key, error="421", retry_at=NOW + LEASE),
        log.released(note(2).key),
        log.skipped(note(3).key, reason="late"),
    ]
    assert store.record(outcomes, owner="a", at=NOW) == [outcomes[3]]
    entries = by_key(store)
    assert [(entries[note(n).key].status, entries[note(n).key].attempts) for n in range(4)] == [
        ("sent", 1),
        ("failed", 1),
        ("planned", 0),
        ("claimed", 1),
    ]
    assert entries[note(0).key].message_id == "<0>" and entries[note(3).key].owner == "b"


def test_entries_filter_and_counts(store: Store) -> None:
    store.reconcile(
        [
            note(1),
            note(2, hours=2, agency="漳州市财政局"),
            note(3, hours=3, kind="digest", key="digest:weekly:漳州市财政局:2019-W44"),
        ],
        now=NOW,
    )
    claim(store)
    store.mark_sent(note(1).key, owner="a", at=NOW, message_id="<1>", reply="250")
    assert [e.key for e in store.entries(status=["sent"])] == [note(1).key]
    assert [e.key for e in store.entries(agency="漳州市财政局", kinds=["reminder"])] == [
        note(2).key
    ]
    assert [e.key for e in store.entries(since=NOW + timedelta(hours=2))] == []
    store.reconcile([note(1), note(2, hours=5, agency="漳州市财政局")], now=NOW + LEASE)
    changed = store.entries(since=NOW + timedelta(minutes=1))
    assert [(e.key, e.status) for e in changed] == [
        ("digest:weekly:漳州市财政局:2019-W44", "cancelled"),
        (note(2).key, "planned"),
    ]
    assert store.counts() == {
        "planned": 1,
        "claimed": 0,
        "sent": 1,
        "failed": 0,
        "dead": 0,
        "cancelled": 1,
        "skipped": 0,
    }


def test_concurrent_claims_never_share_a_row(store: Store, store_url: str) -> None:
    store.reconcile([note(n) for n in range(200)], now=NOW)
    workers = 4
    start = threading.Barrier(workers)
    claimed: dict[str, list[str]] = {}

    def work(owner: str) -> None:
        mine = claimed.setdefault(owner, [])
        worker = Store(store_url)
        start.wait()
        while batch := claim(worker, owner, limit=7):
            mine.extend(batch)
        worker.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [key for keys in claimed.values() for key in keys]
    assert len(every) == len(set(every)) == 200
    assert store.counts()["claimed"] == 200


def test_concurrent_reconcilers_never_duplicate_a_key(store: Store, store_url: str) -> None:
    desired = [note(n) for n in range(300)]
    workers = 3
    start = threading.Barrier(workers)
    results: list[ReconcileResult] = []

    def work() -> None:
        worker = Store(store_url)
        start.wait()
        results.append(worker.reconcile(desired, now=NOW))
        worker.dispose()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.added for r in results) == 300
    assert len(store.entries()) == 300


def test_daemon_lock_admits_one_holder(store: Store, store_url: str) -> None:
    other = Store(store_url)
    with store.daemon_lock("host:1") as first:
        assert first is True
        with other.daemon_lock("host:2") as second:
            assert second is False
    with other.daemon_lock("host:2") as again:
        assert again is True
    other.dispose()


# Takes the daemon lock, says whether it did, then holds it until killed.
LOCK_HOLDER = """
import sys
from scheduler.store import Store
with Store(sys.argv[1]).daemon_lock("child") as taken:
    print(taken, flush=True)
    sys.stdin.read()
"""


def test_daemon_lock_dies_with_a_killed_holder(store: Store, store_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, store_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "True\n"
        with store.daemon_lock("parent") as taken:
            assert taken is False
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
    if store.engine.dialect.name == "postgresql":
        # The server ends the killed client's session on its own time: wait for it.
        with store.engine.connect() as connection:
            connection.exec_driver_sql("SET lock_timeout = '10s'")
            lock = (DAEMON_LOCK, SCHEMA_KEY)
            connection.execute(sa.select(sa.func.pg_advisory_lock(*lock)))
            connection.execute(sa.select(sa.func.pg_advisory_unlock(*lock)))
    with store.daemon_lock("parent") as taken:
        assert taken is True


@pytest.mark.postgres
def test_daemon_locks_of_two_schemas_are_independent(new_pg_url) -> None:
    first, second = Store(new_pg_url()), Store(new_pg_url())
    with first.daemon_lock("a") as one, second.daemon_lock("b") as two:
        assert (one, two) == (True, True)
    first.dispose()
    second.dispose()


def tick() -> None:
    """A job for APScheduler to pickle: module-level, importable."""


def test_apscheduler_keeps_its_jobs_beside_the_store(store: Store) -> None:
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename="apscheduler_jobs")
    scheduler = BackgroundScheduler(jobstores={"default": jobstore}, timezone=UTC)
    scheduler.add_job(tick, "interval", minutes=1, id="dispatch", replace_existing=True)
    scheduler.start(paused=True)
    try:
        assert [job.id for job in jobstore.get_all_jobs()] == ["dispatch"]
    finally:
        scheduler.shutdown(wait=False)
    store.migrate()
    assert store.counts()["planned"] == 0


def test_migrate_twice_concurrently_creates_the_schema_once(store_url: str) -> None:
    workers = 2
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        store = Store(store_url)
        start.wait()
        try:
            store.migrate()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        store.dispose()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Store(store_url).counts()["planned"] == 0


@pytest.mark.postgres
def test_a_claim_in_flight_is_skipped_not_waited_for(pg_url: str) -> None:
    store = Store(pg_url)
    store.migrate()
    store.reconcile([note(n, hours=-n) for n in range(4)], now=NOW)
    with writing(store.engine) as in_flight:
        first = log.claim_due(in_flight, now=NOW, owner="a", lease=LEASE, limit=2)
        second = store.claim_due(now=NOW, owner="b", lease=LEASE, limit=2)
    assert [e.key for e in first] == [note(3).key, note(2).key]
    assert [e.key for e in second] == [note(1).key, note(0).key]
    store.dispose()


class LogMachine(RuleBasedStateMachine):
    """Random interleavings of planning, claiming and outcomes against a plain model.

    The model is a dict per key; after every step the store must agree with it, and a
    sent row must be exactly as it was when it was sent.
    """

    KEYS = [note(n).key for n in range(5)]
    OWNERS = ("a", "b")

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.now = NOW
        self.rows: dict[str, dict] = {}
        self.sent: dict[str, LogEntry] = {}

    def teardown(self) -> None:
        self.store.dispose()

    @rule(
        chosen=st.dictionaries(st.sampled_from(KEYS), st.integers(-30, 90), max_size=5)
    )
    def reconcile(self, chosen: dict[str, int]) -> None:
        desired = [
            replace(note(0), key=key, planned_at=NOW + timedelta(minutes=minutes))
            for key, minutes in chosen.items()
        ]
        self.store.reconcile(desired, now=self.now)
        for n in desired:
            row = self.rows.setdefault(
                n.key, {"status": "planned", "owner": None, "order": len(self.rows)}
            )
            if row["status"] in ("planned", "cancelled") or "planned_at" not in row:
                row.update(status="planned", planned_at=n.planned_at)
        for key, row in self.rows.items():
            if key not in chosen and row["status"] in ("planned", "failed"):
                row["status"] = "cancelled"

    @rule(minutes=st.integers(1, 20))
    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(owner=st.sampled_from(OWNERS), limit=st.integers(1, 3))
    def claim(self, owner: str, limit: int) -> None:
        due = sorted(
            (row["planned_at"], row["order"], key)
            for key, row in self.rows.items()
            if row["planned_at"] <= self.now
            and (
                row["status"] == "planned"
                or (row["status"] == "failed" and row["retry_at"] <= self.now)
                or (row["status"] == "claimed" and row["lease_until"] <= self.now)
            )
        )[:limit]
        expected = [key for _, _, key in due]
        assert claim(self.store, owner, now=self.now, limit=limit) == sorted(
            expected, key=lambda k: (self.rows[k]["planned_at"], k)
        )
        for key in expected:
            self.rows[key].update(status="claimed", owner=owner, lease_until=self.now + LEASE)

    @rule(
        key=st.sampled_from(KEYS),
        owner=st.sampled_from(OWNERS),
        outcome=st.sampled_from(["sent", "failed", "dead", "skipped", "planned"]),
    )
    def finish(self, key: str, owner: str, outcome: str) -> None:
        row = self.rows.get(key, {})
        mark = {
            "sent": lambda: self.store.mark_sent(
                key, owner=owner, at=self.now, message_id=f"<{key}>", reply="250"
            ),
            "failed": lambda: self.store.mark_failed(
                key, owner=owner, error="421", retry_at=self.now + LEASE, at=self.now
            ),
            "dead": lambda: self.store.mark_dead(key, owner=owner, error="550", at=self.now),
            "skipped": lambda: self.store.mark_skipped(
                key, owner=owner, reason="late", at=self.now
            ),
            "planned": lambda: self.store.release(key, owner=owner, at=self.now),
        }[outcome]
        if row.get("status") != "claimed" or row["owner"] != owner:
            with pytest.raises(LeaseLost):
                mark()
            return
        mark()
        row.update(status=outcome, retry_at=self.now + LEASE)
        if outcome == "planned":
            row["owner"] = None
        if outcome == "sent":
            self.sent[key] = by_key(self.store)[key]

    @invariant()
    def store_agrees_with_the_model(self) -> None:
        entries = by_key(self.store)
        assert {k: (e.status, e.owner) for k, e in entries.items()} == {
            k: (row["status"], row["owner"]) for k, row in self.rows.items()
        }
        for key, entry in self.sent.items():
            assert entries[key] == entry


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_log_agrees_with_a_model(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each example needs an empty database: a copied SQLite file, a new PostgreSQL schema."""
    if backend == "postgresql":
        new_pg_url = request.getfixturevalue("new_pg_url")

        def fresh() -> Store:
            store = Store(new_pg_url())
            store.migrate()
            return store

    else:
        template = tmp_path / "template.db"
        migrated = Store(f"sqlite:///{template}")
        migrated.migrate()
        migrated.dispose()  # the last connection out checkpoints the WAL into the file

        def fresh() -> Store:
            copy = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copy(template, copy)
            return Store(f"sqlite:///{copy}")

    run_state_machine_as_test(
        lambda: LogMachine(fresh()),
        settings=settings(
            max_examples=15, stateful_step_count=25, deadline=None, derandomize=True
        ),
    )


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(notifications).values(status="planned"),
        sa.update(notifications).values(reply="edited"),
        sa.delete(notifications),
    ],
)
def test_the_database_itself_refuses_to_change_a_sent_row(
    store: Store, statement: sa.Executable
) -> None:
    store.reconcile([note(1)], now=NOW)
    claim(store)
    store.mark_sent(note(1).key, owner="a", at=NOW, message_id="<1>", reply="250")
    sent = store.entries()
    with pytest.raises(sa.exc.IntegrityError, match="sent notifications are final"):
        with store.engine.begin() as connection:
            connection.execute(statement)
    assert store.entries() == sent


def test_skip_expired_records_stale_rows_in_one_statement(store: Store) -> None:
    stale = note(1, hours=-48, expires_at=NOW - timedelta(hours=1))
    fresh = note(2, hours=-1, expires_at=NOW + timedelta(hours=1))
    open_ended = note(3, hours=-48)
    store.reconcile([stale, fresh, open_ended], now=NOW)
    assert store.skip_expired(now=NOW, reason="catch-up: too late") == 1
    entries = by_key(store)
    assert (entries[stale.key].status, entries[stale.key].reason) == ("skipped", "catch-up: too late")
    assert entries[fresh.key].status == entries[open_ended.key].status == "planned"
    assert sorted(claim(store)) == sorted([fresh.key, open_ended.key])
    assert store.skip_expired(now=NOW, reason="again") == 0
