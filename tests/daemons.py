"""Helpers for tests that run real daemons: subprocesses, workspaces, a synthetic load.

:class:`Daemon` runs ``python -m scheduler run`` and lets a test await its log lines;
:func:`wait_until` awaits anything else another process changes (a server's count of
messages, a row's status) with a deadline instead of a fixed sleep.

:func:`load_workspace` writes a config.toml with ``agencies`` synthetic agencies, all
mailed through a test SMTP server, and stores one task naming each agency. Its yearly
digest rule (``include_empty``, on 1 January, which the calendar makes a workday) wants
one digest per agency for the current year, due since 1 January and never expiring
within the year, so the daemon's own replan keeps exactly those rows due at whatever
the wall clock says: thousands of due notifications without thousands of documents.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.mail import message_id
from scheduler.model import AgencyRef, Document, Task
from scheduler.store import Store
from tests.smtpserver import SMTPServer

ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = "Asia/Shanghai"
JURISDICTION = "测试市"
SENDER_DOMAIN = "duban.example"
AGENCY_DOMAIN = "ceshi.example"
PASSWORD_ENV = "DUBAN_TEST_SMTP_PASSWORD"
AGENCIES_PER_TASK = 50  # one task per this many agencies keeps task_states small


class Daemon:
    """A ``duban run`` subprocess whose log lines can be awaited (with a deadline)."""

    def __init__(self, workspace: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        environment = {**os.environ, "DUBAN_CONFIG": str(workspace / "config.toml"), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "run", *args],
            cwd=workspace,
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            self.lines.put(line)
        self.lines.put("")

    def wait_for(self, *words: str, timeout: float = 60) -> str:
        """The first log line holding every word; fails on exit or after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                pytest.fail(f"no log line with {words} within {timeout}s")
            if not line:
                pytest.fail(f"the daemon exited with {self.process.wait()} before logging {words}")
            if all(word in line for word in words):
                return line

    @property
    def owner(self) -> str:
        """The owner id the daemon claims rows with (scheduler.daemon.owner_id)."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def logged(self, *words: str) -> bool:
        """Whether a line read so far holds every word (without consuming the queue)."""
        return any(all(word in line for word in words) for line in list(self.log))

    def exit_status(self, timeout: float) -> int:
        """Wait for the process to end; fail with the last log lines if it does not."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the daemon still runs after {timeout}s; it last logged:\n{''.join(self.log[-5:])}")

    def stop(self) -> int:
        """SIGTERM, then the exit status (a leader or a follower alike)."""
        self.process.send_signal(signal.SIGTERM)
        return self.exit_status(60)

    def kill(self) -> None:
        """SIGKILL (a no-op once it has exited): no handler runs, nothing is cleaned up."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Poll ``condition`` (changed by another process) until true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)


class Tally:
    """Message-IDs a server received, counted incrementally: polling parses each header once."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server
        self.counts: Counter[str] = Counter()
        self._seen = 0

    def update(self) -> Counter[str]:
        new = self.server.envelopes[self._seen :]
        self._seen += len(new)
        self.counts.update(str(received.message["Message-ID"]) for received in new)
        return self.counts

    def distinct(self) -> int:
        return len(self.update())


def agency_name(number: int) -> str:
    return f"{JURISDICTION}第{number:04d}局"


def write_config(
    workspace: Path,
    *,
    database_url: str,
    server: SMTPServer,
    agencies: int,
    year: int,
    schedule: Mapping[str, int] | None = None,
) -> Path:
    """A config.toml mailing ``agencies`` agencies through ``server``, and its digest rule.

    ``year`` is the current year in the configured zone: its 1 January (and the next)
    are declared workdays, so the yearly digest is due from that midnight on.
    """
    rules = workspace / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "digests.toml").write_text(
        '[[digest]]\nname = "yearly"\ncron = "0 0 1 1 *"\nwindow_days = 14\ninclude_empty = true\n',
        encoding="utf-8",
    )
    settings = {"dispatch_interval": 1, **(schedule or {})}
    lines = [
        "[database]",
        f'url = "{database_url}"',
        "[mail]",
        'backend = "smtp"',
        f'from = "督查室 <duban@{SENDER_DOMAIN}>"',
        "[mail.smtp]",
        f'host = "{server.host}"',
        f"port = {server.port}",
        'security = "none"',
        f'username = "{server.username}"',
        f'password_env = "{PASSWORD_ENV}"',
        "timeout = 5",
        "[schedule]",
        f'timezone = "{TIMEZONE}"',
        'rules = ["rules/*.toml"]',
        *(f"{key} = {value}" for key, value in settings.items()),
        "[calendar]",
        f"extra_workdays = [{year}-01-01, {year + 1}-01-01]",
    ]
    for number in range(agencies):
        lines += [
            "[[agencies]]",
            f'jurisdiction = "{JURISDICTION}"',
            f'name = "{agency_name(number)}"',
            f'email = ["a{number:04d}@{AGENCY_DOMAIN}"]',
        ]
    config = workspace / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def store_tasks(store: Store, *, agencies: int, now: datetime) -> None:
    """One stored plan whose tasks name every agency, so each one gets a digest."""
    tasks = tuple(
        Task(
            key=f"load:{start // AGENCIES_PER_TASK + 1}",
            number=str(start // AGENCIES_PER_TASK + 1),
            title=f"压力测试任务{start // AGENCIES_PER_TASK + 1}",
            text="长期坚持。",
            agencies=tuple(
                AgencyRef(agency_name(n), "responsible", agency_name(n))
                for n in range(start, min(start + AGENCIES_PER_TASK, agencies))
            ),
        )
        for start in range(0, agencies, AGENCIES_PER_TASK)
    )
    document = Document(
        path="load.txt",
        title="压力测试工作方案",
        issuer=f"{JURISDICTION}人民政府",
        issued_on=date(now.year, 1, 1),
        jurisdiction=JURISDICTION,
        tasks=tasks,
    )
    store.save_document(document, digest="load", now=now)


def load_workspace(
    workspace: Path,
    *,
    database_url: str,
    server: SMTPServer,
    agencies: int,
    now: datetime,
    schedule: Mapping[str, int] | None = None,
) -> Path:
    """A migrated database with the synthetic plan, and its config; returns the config.

    ``now`` picks the year: the wall clock for a daemon, any moment for a test that
    passes its own ``now`` to the app.
    """
    config = write_config(
        workspace, database_url=database_url, server=server, agencies=agencies, year=now.year, schedule=schedule
    )
    store = Store(database_url)
    try:
        store.migrate()
        store_tasks(store, agencies=agencies, now=now)
    finally:
        store.dispose()
    return config


def wall_clock() -> datetime:
    """Now in the configured zone: what a daemon subprocess plans and sends by."""
    return datetime.now(ZoneInfo(TIMEZONE))


def expected_ids(agencies: int, *, year: int) -> set[str]:
    """The Message-IDs of this year's digests: one per agency."""
    return {
        message_id(f"digest:yearly:{agency_name(n)}:{year}-01-01", SENDER_DOMAIN) for n in range(agencies)
    }
