"""Several daemons on one PostgreSQL schema: one leads, all send, none sends twice (issue 6).

Every daemon is a real ``duban run`` subprocess on a fresh schema, mailing thousands of
due digests through the test SMTP server. Exactly one holds the daemon lock and
schedules; the others log that they follow and claim rows alongside it (``FOR UPDATE
SKIP LOCKED``). Killing the leader with SIGKILL mid-run must lose nothing: a follower
takes the lock and the leader's claimed rows come back when their lease runs out. The
only message the server may see twice is one the leader had in flight when it died.
(SQLite's refusal of a second daemon is tested in test_cli.py.)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from scheduler import config as configuration
from scheduler import dispatch as dispatching
from scheduler.app import App
from scheduler.mail import message_id
from tests.daemons import (
    PASSWORD_ENV,
    SENDER_DOMAIN,
    Daemon,
    Tally,
    expected_ids,
    load_workspace,
    wait_until,
    wall_clock,
)
from tests.smtpserver import SMTPServer

AGENCIES = 2000
LEASE = 10  # seconds: short, so the dead leader's rows return soon, yet over the SMTP timeout (5)
INTERVAL = 1  # dispatch_interval: how often followers retry the lock
# A follower retries the lock every INTERVAL, even mid-backlog; the rest is slack for
# the message in flight, the batch handed back and a loaded two-core machine.
TAKEOVER = INTERVAL + 5


@pytest.mark.postgres
@pytest.mark.parametrize("count", [2, 3])
def test_one_leader_shares_the_sending_and_a_follower_takes_over_when_it_is_killed(
    count: int,
    tmp_path: Path,
    new_pg_url: Callable[[], str],
    smtp_server: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = new_pg_url()
    now = wall_clock()
    config = load_workspace(
        tmp_path,
        database_url=url,
        server=smtp_server,
        agencies=AGENCIES,
        now=now,
        schedule={"dispatch_interval": INTERVAL, "lease": LEASE, "batch": 20},
    )
    monkeypatch.setenv(PASSWORD_ENV, smtp_server.password)
    app = App(configuration.load(config))
    app.replan(now=now)  # the rows are due before any daemon starts, so all share them
    tally = Tally(smtp_server)
    started = time.monotonic()
    daemons = [Daemon(tmp_path, env={PASSWORD_ENV: smtp_server.password}) for _ in range(count)]
    try:
        wait_until(
            lambda: sum(d.logged("follows") for d in daemons) == count - 1, timeout=60, what=f"{count - 1} followers"
        )
        [leader] = [d for d in daemons if not d.logged("follows")]
        followers = [d for d in daemons if d is not leader]

        wait_until(lambda: tally.distinct() >= AGENCIES // 3, timeout=180, what="a third of the mail")
        leader.kill()
        killed = time.monotonic()
        at_kill = set(tally.update())  # before reading what is recorded: followers go on
        held = {message_id(e.key, SENDER_DOMAIN) for e in app.store.entries(status=["claimed"]) if e.owner == leader.owner}
        # delivered yet unrecorded, by the leader: what it had in flight when it died
        # and the group of outcomes it had not recorded yet
        in_flight = (at_kill - {e.message_id for e in app.store.entries(status=["sent"])}) & held

        wait_until(lambda: any(d.logged("leads") for d in followers), timeout=30, what="a follower taking the lock")
        takeover = time.monotonic() - killed
        wait_until(lambda: tally.distinct() >= AGENCIES, timeout=300, what="every digest arriving")
        delivered = time.monotonic() - started
        [successor] = [d for d in followers if d.logged("leads")]
        successor.wait_for("daemon", "started")
        # Checked before stopping: once the successor stops, a follower not yet told to
        # stop may rightly take the free lock.
        other_leaders = [d for d in followers if d is not successor and d.logged("leads")]
        for daemon in sorted(followers, key=lambda d: d is successor):  # the successor last
            assert daemon.stop() == 0
        senders = Counter(e.owner for e in app.store.entries(status=["sent"]))
        counts = app.store.counts()
    finally:
        for daemon in daemons:
            daemon.kill()
        app.store.dispose()

    got = tally.update()
    twice = {mid for mid, n in got.items() if n > 1}
    print(
        f"\n{count} daemons: {sum(got.values())} messages for {AGENCIES} digests, {len(twice)} twice,"
        f" {len(in_flight)} in flight and {len(held)} claimed by the leader at the kill;"
        f" takeover {takeover:.1f}s, all delivered after {delivered:.1f}s; sent per daemon {sorted(senders.values())}"
    )
    assert set(got) == expected_ids(AGENCIES, year=now.year)
    assert counts["sent"] == AGENCIES and counts["claimed"] == counts["failed"] == counts["dead"] == 0
    assert twice <= in_flight and len(in_flight) <= dispatching.MARK_EVERY and max(got.values()) <= 2
    assert set(senders) == {d.owner for d in daemons}  # every daemon took a share
    assert leader.logged("leads") and not leader.logged("follows") and other_leaders == []
    assert takeover <= TAKEOVER
