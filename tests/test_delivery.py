"""Delivery never loses a notification and never sends one twice (issue 6).

Real parts throughout: an aiosmtpd server with AUTH (tests/smtpserver.py), SQLite, and
``duban run`` as a subprocess where a process must die. The server counts what it
received by Message-ID; the Message-ID derives from the notification key, so a
notification sent twice shows up as the same id twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import cli
from scheduler import dispatch as dispatching
from scheduler import config as configuration
from scheduler.app import App
from scheduler.backends.memory import MemoryBackend
from scheduler.mail import message_id
from scheduler.model import Notification
from scheduler.store import Store
from tests.daemons import (
    PASSWORD_ENV,
    SENDER_DOMAIN,
    TIMEZONE,
    Daemon,
    Tally,
    agency_name,
    expected_ids,
    load_workspace,
    wait_until,
    wall_clock,
)
from tests.smtpserver import SMTPServer

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo(TIMEZONE))  # the in-process tests' clock
OWNER = "test:1"


def make_app(tmp_path: Path, server: SMTPServer, **schedule: int) -> App:
    """Twenty agencies mailed through ``server``, their digests planned at NOW."""
    config = load_workspace(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'duban.db'}",
        server=server,
        agencies=20,
        now=NOW,
        schedule=schedule,
    )
    app = App(configuration.load(config))
    app.replan(now=NOW)
    return app


@pytest.fixture
def app(tmp_path: Path, smtp_server: SMTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv(PASSWORD_ENV, smtp_server.password)
    app = make_app(tmp_path, smtp_server)
    yield app
    app.store.dispose()


def received(server: SMTPServer) -> Counter[str]:
    return Counter(server.message_ids)


class KillOnReceipt(list):
    """A server's ``envelopes`` that SIGKILLs the sender as the ``at``-th message is taken.

    The kill happens after the server has the message and before its "250" reply
    leaves, so that message is in flight: delivered, yet not recorded as sent.
    """

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.victim: Daemon | None = None

    def append(self, item: object) -> None:
        super().append(item)
        if len(self) == self.at:
            assert self.victim is not None
            self.victim.kill()


def test_killed_daemon_loses_nothing_and_resends_only_what_it_had_not_recorded(
    tmp_path: Path, smtp_server: SMTPServer
) -> None:
    agencies = 2000
    now = wall_clock()
    url = f"sqlite:///{tmp_path / 'duban.db'}"
    load_workspace(tmp_path, database_url=url, server=smtp_server, agencies=agencies, now=now, schedule={"lease": 10, "batch": 20})
    env = {PASSWORD_ENV: smtp_server.password}
    started = time.monotonic()
    smtp_server.envelopes = trap = KillOnReceipt(at=agencies // 3)
    tally = Tally(smtp_server)

    trap.victim = first = Daemon(tmp_path, env=env)
    try:
        assert first.exit_status(180) == -9
    finally:
        first.kill()
    store = Store(url)
    try:
        held = {message_id(e.key, SENDER_DOMAIN) for e in store.entries(status=["claimed"])}
        recorded = {e.message_id for e in store.entries(status=["sent"])}
        at_kill = set(tally.update())
        in_flight = at_kill - recorded

        second = Daemon(tmp_path, env=env)
        try:
            wait_until(lambda: tally.distinct() >= agencies, timeout=300, what="every digest arriving")
            second.wait_for("daemon", "started")
            assert second.stop() == 0
        finally:
            second.kill()
        counts = store.counts()
        entries = store.entries(status=["sent"])
    finally:
        store.dispose()

    got = tally.update()
    twice = {mid for mid, count in got.items() if count > 1}
    print(
        f"\ncrash: {agencies} digests, {len(at_kill)} received at the kill, {len(recorded)} recorded sent,"
        f" {len(held)} claimed, {len(in_flight)} in flight; {sum(got.values())} messages at the server,"
        f" {len(twice)} twice; {time.monotonic() - started:.1f}s"
    )
    assert set(got) == expected_ids(agencies, year=now.year)
    assert counts["sent"] == agencies and counts["claimed"] == counts["failed"] == counts["dead"] == 0
    assert {e.message_id for e in entries} == set(got)
    # One connection, one message at a time; outcomes recorded a group at a time: what
    # was delivered and not yet recorded is the message in flight and its group.
    assert 1 <= len(in_flight) <= dispatching.MARK_EVERY and in_flight <= held
    assert twice == in_flight and max(got.values()) == 2


def test_outage_retries_with_backoff_then_delivers_each_once(
    app: App, smtp_server: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp_server.stop()
    now = NOW
    for attempt in (1, 2, 3):
        result = app.dispatch(now=now, owner=OWNER)
        assert (result.sent, result.failed, result.dead) == (0, 20, 0)
        failed = app.store.entries(status=["failed"])
        assert len(failed) == 20
        for entry in failed:
            assert entry.attempts == attempt and "Cannot connect" in (entry.error or "")
            assert now + timedelta(seconds=30 * 2 ** (attempt - 1)) <= entry.retry_at <= now + timedelta(seconds=60 * 2 ** (attempt - 1))
        assert app.dispatch(now=min(e.retry_at for e in failed) - timedelta(seconds=1), owner=OWNER).failed == 0
        now = max(e.retry_at for e in failed)

    assert cli.main(["--config", str(app.config.path), "sent", "--status", "failed", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 20 and {row["status"] for row in listed} == {"failed"}
    assert {row["attempts"] for row in listed} == {3}

    smtp_server.start()
    result = app.dispatch(now=now, owner=OWNER)
    assert (result.sent, result.failed) == (20, 0)
    assert app.dispatch(now=now + timedelta(days=1), owner=OWNER).sent == 0
    got = received(smtp_server)
    assert set(got) == expected_ids(20, year=NOW.year) and max(got.values()) == 1
    assert {e.attempts for e in app.store.entries(status=["sent"])} == {4}
    assert app.store.counts()["sent"] == 20


def test_rejected_recipient_goes_dead_and_the_rest_is_delivered(app: App, smtp_server: SMTPServer) -> None:
    smtp_server.refuse["a0007@ceshi.example"] = "550 5.1.1 <a0007@ceshi.example>: no such user"
    result = app.dispatch(now=NOW, owner=OWNER)
    assert (result.sent, result.dead, result.failed) == (19, 1, 0)
    [dead] = app.store.entries(status=["dead"])
    assert dead.agency == agency_name(7) and dead.attempts == 1
    assert "550 5.1.1" in (dead.error or "") and "a0007@ceshi.example" in (dead.error or "")
    assert set(received(smtp_server)) == expected_ids(20, year=NOW.year) - {message_id(dead.key, SENDER_DOMAIN)}
    assert app.dispatch(now=NOW + timedelta(days=30), owner=OWNER).sent == 0  # dead stays dead


def test_wrong_password_stops_the_run_with_one_sentence_and_keeps_every_row(
    tmp_path: Path, smtp_server: SMTPServer
) -> None:
    url = f"sqlite:///{tmp_path / 'duban.db'}"
    load_workspace(tmp_path, database_url=url, server=smtp_server, agencies=20, now=wall_clock())
    wrong = "not-the-password-91c2"
    run = subprocess.run(
        [sys.executable, "-m", "scheduler", "run", "--once"],
        cwd=tmp_path,
        env={**os.environ, "DUBAN_CONFIG": str(tmp_path / "config.toml"), PASSWORD_ENV: wrong},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("duban:")]
    assert len(errors) == 1 and "refused the login of user 'duban'" in errors[0], run.stderr
    assert "Traceback" not in run.stderr
    assert wrong not in run.stderr + run.stdout and smtp_server.password not in run.stderr + run.stdout
    assert smtp_server.envelopes == []
    store = Store(url)
    try:
        assert store.counts() == {**{s: 0 for s in store.counts()}, "planned": 20}  # this year's digests
        assert {e.attempts for e in store.entries()} == {0}
    finally:
        store.dispose()


class SlowBackend(MemoryBackend):
    """Each message takes ``seconds`` of the dispatcher's clock; meanwhile another
    dispatcher, whose ``now`` has moved as far, claims whatever it can of the rows
    the first one holds."""

    def __init__(self, app: App, seconds: float) -> None:
        super().__init__()
        self.app, self.seconds = app, seconds
        self.elapsed = 0.0
        self.stolen: set[str] = set()

    def monotonic(self) -> float:
        return self.elapsed

    def send(self, msg: EmailMessage) -> str:
        self.elapsed += self.seconds
        held = [e.key for e in self.app.store.entries(status=["claimed"]) if e.owner == OWNER]
        taken = self.app.store.claim_due(
            now=NOW + timedelta(seconds=self.elapsed), owner="other:2", lease=timedelta(hours=1), limit=100, keys=held
        )
        self.stolen |= {message_id(e.key, SENDER_DOMAIN) for e in taken}
        return super().send(msg)


@pytest.mark.parametrize("batch", [2, 5], ids=["run-outlasts-the-lease", "batch-outlasts-the-lease"])
def test_a_dispatcher_never_sends_a_row_whose_lease_another_could_take(
    batch: int, tmp_path: Path, smtp_server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lease 12 s, each message 5 s (the SMTP timeout, its longest): a 100-second run
    must lease each batch from its own claim, and must not start a row whose lease
    could run out while it is being sent."""
    monkeypatch.setenv(PASSWORD_ENV, smtp_server.password)
    app = make_app(tmp_path, smtp_server, lease=12, batch=batch)
    backend = SlowBackend(app, seconds=app.config.smtp.timeout)
    monkeypatch.setattr(dispatching, "monotonic", backend.monotonic)
    try:
        dispatching.dispatch(app, backend, now=NOW, owner=OWNER)
        sent = Counter(str(msg["Message-ID"]) for msg in backend.messages)
        assert backend.stolen == set()
        assert set(sent) == expected_ids(20, year=NOW.year) and max(sent.values()) == 1
        assert app.store.counts()["sent"] == 20 and app.store.counts()["claimed"] == 0
    finally:
        app.store.dispose()


def test_a_crash_before_a_group_is_recorded_resends_that_group_only(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies as it records its second group of outcomes (MARK_EVERY // 2 = 5
    rows): the first group is recorded, the second was sent but is not, and the third
    was sent meanwhile, since a group is recorded while the next is sent; the rest was
    never sent. Unrecorded: two groups, MARK_EVERY messages. Once the lease has run out,
    the next run sends those ten again (same Message-IDs) and the rest once."""
    monkeypatch.setattr(dispatching, "MARK_EVERY", 10)
    monkeypatch.setattr(dispatching, "MARK_SECONDS", float("inf"))  # groups by count only
    backend = MemoryBackend()
    record = app.store.record
    groups = []

    def dies_on_the_second_group(outcomes, **kw):
        groups.append(outcomes)
        if len(groups) >= 2:
            raise SystemExit("killed")
        return record(outcomes, **kw)

    monkeypatch.setattr(app.store, "record", dies_on_the_second_group)
    with pytest.raises(SystemExit):
        dispatching.dispatch(app, backend, now=NOW, owner=OWNER)
    assert len(backend.messages) == 15
    assert app.store.counts()["sent"] == 5 and app.store.counts()["claimed"] == 15

    monkeypatch.setattr(app.store, "record", record)
    later = NOW + timedelta(seconds=app.config.lease + 60)
    assert dispatching.dispatch(app, backend, now=later, owner="test:2").sent == 15
    sent = Counter(str(msg["Message-ID"]) for msg in backend.messages)
    assert set(sent) == expected_ids(20, year=NOW.year)
    assert sorted(sent.values()) == [1] * 10 + [2] * 10
    assert app.store.counts()["sent"] == 20 and app.store.counts()["claimed"] == 0


def test_a_group_is_recorded_while_the_next_is_sent_and_no_more(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first group's record waits until the next group has been sent: messages
    sent and not yet recorded then reach MARK_EVERY, and never pass it."""
    monkeypatch.setattr(dispatching, "MARK_SECONDS", float("inf"))  # groups by count only
    group = dispatching.MARK_EVERY // 2
    sending = threading.Condition()
    worst = checked = 0

    class Watching(MemoryBackend):
        def send(self, msg: EmailMessage) -> str:
            nonlocal worst, checked
            reply = super().send(msg)
            with sending:
                worst = max(worst, len(self.messages) - app.store.counts()["sent"])
                checked += 1
                sending.notify_all()
            return reply

    backend = Watching()
    record = app.store.record
    calls = []

    def lags_one_group(outcomes, **kw):
        calls.append(outcomes)
        if len(calls) == 1:
            with sending:
                assert sending.wait_for(lambda: checked >= 2 * group, timeout=60)
        return record(outcomes, **kw)

    monkeypatch.setattr(app.store, "record", lags_one_group)
    assert dispatching.dispatch(app, backend, now=NOW, owner=OWNER).sent == 20
    assert worst == dispatching.MARK_EVERY
    assert [len(outcomes) for outcomes in calls] == [group, group]


def test_the_verdict_on_a_message_is_read_once_the_next_is_built(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """One message in flight at a time; the server takes it in while the next is built."""
    events = []
    build = dispatching.build_message
    monkeypatch.setattr(dispatching, "build_message", lambda *a, **kw: events.append("build") or build(*a, **kw))

    class Noting(MemoryBackend):
        def start(self, msg: EmailMessage):
            events.append("start")
            reply = self.send(msg)
            return lambda: events.append("verdict") or reply

    assert dispatching.dispatch(app, Noting(), now=NOW, owner=OWNER).sent == 20
    assert events == ["build", "start"] + ["build", "verdict", "start"] * 19 + ["verdict"]


def test_a_run_of_reminders_reads_only_their_tasks(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering a reminder needs its own task; only a digest needs them all."""
    dispatching.dispatch(app, MemoryBackend(), now=NOW, owner=OWNER)  # the digests go first
    reminder = Notification(
        key="reminder:due:load:1:2026-03-02:" + agency_name(0),
        kind="due",
        rule="due",
        template="due",
        agency=agency_name(0),
        planned_at=NOW,
        task_key="load:1",
        due=NOW.date(),
        role="responsible",
    )
    app.store.add([reminder], now=NOW)
    read = []
    task_states = app.task_states
    monkeypatch.setattr(app, "task_states", lambda keys=None: read.append(keys) or task_states(keys))
    backend = MemoryBackend()
    assert dispatching.dispatch(app, backend, now=NOW, owner=OWNER).sent == 1
    assert read == [{"load:1"}]
    assert "压力测试任务1" in backend.messages[0].get_body(("plain",)).get_content()
