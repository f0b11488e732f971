"""Dispatch: messages per second to a local SMTP server, against the practical limit.

The server is aiosmtpd (tests/smtpserver.py, with AUTH) in a process of its own, so
it does not share the client's interpreter lock. duban's side is a real dispatch run
(:func:`scheduler.dispatch.dispatch`: claim due rows, load the tasks, render, build,
send over one connection, record each row as sent) through the SMTP backend the
config builds. The limit is a bare :mod:`smtplib` loop sending the very messages
duban built, over one logged-in connection, to the same server: what any Python
sender pays for SMTP alone. The ratio is duban's rate over the bare rate.

The rows are reminders the default rules plan for the generated corpus, re-timed to
be due now, so the run renders real tasks and agencies rather than one template over
and over.
"""

from __future__ import annotations

import multiprocessing
import os
import smtplib
import time
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from scheduler import config as configuration
from scheduler import dispatch as dispatching
from scheduler.app import App
from scheduler.backends import MailBackend

from benchmarks.generate import write_config
from benchmarks.measure import NOW

PASSWORD_ENV = "DUBAN_BENCH_SMTP_PASSWORD"
OWNER = "bench:dispatch"


class Recording(MailBackend):
    """Passes messages to a backend and keeps them, for the bare loop to send again."""

    def __init__(self, backend: MailBackend) -> None:
        self.backend = backend
        self.messages: list[EmailMessage] = []

    def close(self) -> None:
        self.backend.close()

    def send(self, msg: EmailMessage) -> str:
        self.messages.append(msg)
        return self.backend.send(msg)


def serve(ready: Any, stop: Any) -> None:
    """Run the test suite's aiosmtpd server until ``stop`` is set; report its address on ``ready``."""
    from tests.smtpserver import SMTPServer  # a library of the dev install, not of duban

    with SMTPServer() as server:
        ready.put((server.host, server.port, server.username, server.password))
        stop.wait()
        ready.put(len(server.envelopes))


def measure(directory: Path, database: str, messages: int) -> dict[str, Any]:
    """duban's and the bare loop's messages per second on ``database``, to a server of its own."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(ready, stop), daemon=True)
    server.start()
    try:
        host, port, username, password = ready.get(timeout=30)
        os.environ[PASSWORD_ENV] = password
        smtp = {"host": host, "port": port, "security": "none", "username": username, "password_env": PASSWORD_ENV}
        app = App(configuration.load(write_config(directory, database, name="dispatch.toml", smtp=smtp)))
        app.store.migrate()
        app.ingest(None, now=NOW)
        queued = _queue(app, messages)

        recording = Recording(app.backend())
        start = time.perf_counter()
        try:
            result = dispatching.dispatch(app, recording, now=NOW, owner=OWNER)
        finally:
            recording.close()
        duban_seconds = time.perf_counter() - start
        bare_seconds = min(_bare(recording.messages, host, port, username, password) for _ in range(2))
        app.store.dispose()
    finally:
        stop.set()
    received = ready.get(timeout=30)
    server.join(timeout=30)
    sent = len(recording.messages)
    return {
        "queued": queued,
        "sent": result.sent,
        "failed": result.failed + result.dead,
        "received": received,
        "duban_seconds": duban_seconds,
        "duban_rate": result.sent / duban_seconds,
        "bare_rate": sent / bare_seconds,
    }


def _queue(app: App, count: int) -> int:
    """Put ``count`` of the planned reminders in the log, due now and within their window."""
    notes = [
        replace(n, planned_at=NOW - timedelta(minutes=1), expires_at=None)
        for n in app.desired(now=NOW)
        if n.kind != "digest"
    ][:count]
    app.store.add(notes, now=NOW)
    return len(notes)


def _bare(messages: list[EmailMessage], host: str, port: int, username: str, password: str) -> float:
    """Seconds for smtplib to send ``messages`` over one logged-in connection."""
    start = time.perf_counter()
    with smtplib.SMTP(host, port, timeout=30) as client:
        client.login(username, password)
        for msg in messages:
            client.send_message(msg)
    return time.perf_counter() - start
