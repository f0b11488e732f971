"""Dispatch: messages per second to a local SMTP server, against the practical limit.

The server is aiosmtpd (tests/smtpserver.py, with AUTH) in a process of its own, so
it does not share the client's interpreter lock; like the tests' server it parses
every message it takes (about 1.6 ms of CPU each on the shared machine), a cost in
both rates: a lighter server makes the ratio harsher, a real MTA's disk writes kinder. duban's side is a real dispatch run
(:func:`scheduler.dispatch.dispatch`: claim due rows, load the tasks, render, build,
send over one connection, record each row as sent) through the SMTP backend the
config builds. The limit is a bare :mod:`smtplib` loop sending the very bytes duban
put on the wire, to the same envelopes, over one logged-in connection to the same
server: what any Python sender pays for SMTP alone. The ratio is duban's rate over
the bare rate.

The machine is shared, so one timing of each says little. The two take turns, in
rounds (duban then bare, bare then duban, …), each round sending the same reminders
under keys of its own; the figure is the median of the rounds' ratios, with their
range. Beside the wall clock, CPU seconds per message are read for the sending
process, the SMTP server's process and, on PostgreSQL, the database's server
processes: what duban costs per message does not depend on the neighbours, and on an
idle machine client and server take turns, so their CPU sums predict the ratio too.

The rows are reminders the default rules plan for the generated corpus, re-timed to
be due now, so the run renders real tasks and agencies rather than one template over
and over.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scheduler import config as configuration
from scheduler import dispatch as dispatching
from scheduler.app import App
from scheduler.backends import MailBackend
from scheduler.backends.smtp import wire
from scheduler.model import Notification

from benchmarks.generate import write_config, write_corpus
from benchmarks.measure import NOW, cpu_seconds, database, postgres_available, table

PASSWORD_ENV = "DUBAN_BENCH_SMTP_PASSWORD"
OWNER = "bench:dispatch"
ROUNDS = 7
Wire = tuple[str, list[str], bytes]  # envelope sender, recipients, the data as sent


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

    def start(self, msg: EmailMessage) -> Callable[[], str]:
        self.messages.append(msg)
        return self.backend.start(msg)


@dataclass(frozen=True)
class Run:
    """One timed sending: messages, wall seconds, and CPU seconds of each process involved."""

    messages: int
    seconds: float
    cpu: float
    server_cpu: float
    database_cpu: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def per_message(self, seconds: float) -> float:
        """``seconds`` in milliseconds per message."""
        return 1000 * seconds / self.messages


def serve(ready: Any, stop: Any) -> None:
    """Run the test suite's aiosmtpd server until ``stop`` is set; report its address on ``ready``.

    It parses every message as in the tests but keeps none, so its memory (and the
    garbage collector's work) does not grow from round to round.
    """
    from tests.smtpserver import SMTPServer  # a library of the dev install, not of duban

    with SMTPServer(keep=False) as server:
        ready.put((server.host, server.port, server.username, server.password))
        stop.wait()
        ready.put(server.received)


class Server:
    """The benchmark's SMTP server in a process of its own: where it listens, and its pid for its CPU."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, self._stop = context.Queue(), context.Event()
        self._process = context.Process(target=serve, args=(self._ready, self._stop), daemon=True)
        self._process.start()
        self.host, self.port, self.username, self.password = self._ready.get(timeout=30)
        self.pid = self._process.pid

    def stop(self) -> int:
        """Stop the server; how many messages it received."""
        self._stop.set()
        received = self._ready.get(timeout=30)
        self._process.join(timeout=30)
        return received


def measure(directory: Path, database: str, messages: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """duban's and the bare loop's rates and CPU per message on ``database``, over ``rounds`` turns each.

    ``duban_rate`` and ``bare_rate`` are the medians of the rounds; ``share`` is the
    median of the rounds' ratios, ``shares`` all of them.
    """
    server = Server()
    try:
        os.environ[PASSWORD_ENV] = server.password
        smtp = {"host": server.host, "port": server.port, "security": "none", "username": server.username, "password_env": PASSWORD_ENV}
        app = App(configuration.load(write_config(directory, database, name="dispatch.toml", smtp=smtp)))
        app.store.migrate()
        app.ingest(None, now=NOW)
        notes = _due(app, messages)
        try:
            duban, bare = _rounds(app, notes, server, rounds)
        finally:
            app.store.dispose()
    finally:
        received = server.stop()
    return _summary(duban, bare, queued=len(notes), received=received)


def _rounds(app: App, notes: Sequence[Notification], server: Server, rounds: int) -> tuple[list[Run], list[Run]]:
    """Alternate duban and the bare loop, each going first every other round."""
    engine = sa.create_engine(app.store.engine.url, poolclass=sa.NullPool)
    database_cpu = _database_cpu(engine)
    duban: list[Run] = []
    bare: list[Run] = []
    sent: list[Wire] = []
    try:
        for round_ in range(rounds):
            if round_ % 2 and sent:
                bare.append(_timed(lambda: _bare(sent, server), server.pid, database_cpu))
            app.store.add([replace(n, key=f"{n.key}~{round_}") for n in notes], now=NOW)
            recording = Recording(app.backend())
            duban.append(_timed(lambda: _duban(app, recording, len(notes)), server.pid, database_cpu))
            sent = [wire(msg) for msg in recording.messages]
            if not round_ % 2:
                bare.append(_timed(lambda: _bare(sent, server), server.pid, database_cpu))
    finally:
        engine.dispose()
    return duban, bare


def _timed(send: Callable[[], int], server: int, database_cpu: Callable[[], float]) -> Run:
    """Time ``send``, which returns how many messages it sent; the other processes are read outside the clock."""
    database, smtp = database_cpu(), cpu_seconds(server)
    cpu, start = time.process_time(), time.perf_counter()
    count = send()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Run(count, seconds, cpu, cpu_seconds(server) - smtp, database_cpu() - database)


def _duban(app: App, recording: Recording, expected: int) -> int:
    try:
        result = dispatching.dispatch(app, recording, now=NOW, owner=OWNER)
    finally:
        recording.close()
    if result.sent != expected:
        raise RuntimeError(f"duban sent {result.sent} of {expected} messages: {result.errors[:3]}")
    return result.sent


def _bare(messages: Sequence[Wire], server: Server) -> int:
    """smtplib sending ``messages`` over one logged-in connection."""
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        client.login(server.username, server.password)
        for sender, recipients, data in messages:
            client.sendmail(sender, recipients, data)
    return len(messages)


def _due(app: App, count: int) -> list[Notification]:
    """``count`` of the planned reminders, re-timed to be due now and within their window."""
    return [
        replace(n, planned_at=NOW - timedelta(minutes=1), expires_at=None)
        for n in app.desired(now=NOW)
        if n.kind != "digest"
    ][:count]


def _database_cpu(engine: sa.Engine) -> Callable[[], float]:
    """A reader of the CPU seconds PostgreSQL's server processes spent on ``engine``'s database
    (none on SQLite, whose work is the sending process's own)."""
    if engine.dialect.name != "postgresql":
        return lambda: 0.0
    query = sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")

    def read() -> float:
        with engine.connect() as connection:
            pids = connection.execute(query).scalars().all()
        return sum(_cpu_or_zero(pid) for pid in pids)

    return read


def _cpu_or_zero(pid: int) -> float:
    """A process's CPU seconds, or 0 if it has gone (a pooled connection closed)."""
    try:
        return cpu_seconds(pid)
    except FileNotFoundError:
        return 0.0


def _summary(duban: Sequence[Run], bare: Sequence[Run], *, queued: int, received: int) -> dict[str, Any]:
    """Medians and ranges of the rounds; CPU in milliseconds per message."""
    shares = [d.rate / b.rate for d, b in zip(duban, bare)]
    median = statistics.median

    def cpu(runs: Sequence[Run], seconds: Callable[[Run], float]) -> float:
        return median(run.per_message(seconds(run)) for run in runs)

    duban_cpu, bare_cpu = cpu(duban, lambda r: r.cpu), cpu(bare, lambda r: r.cpu)
    server_cpu = cpu([*duban, *bare], lambda r: r.server_cpu)
    database_cpu = cpu(duban, lambda r: r.database_cpu)
    return {
        "queued": queued,
        "sent": sum(run.messages for run in duban),
        "failed": 0,  # _duban raises unless every message of a round was sent
        "received": received,
        "rounds": len(duban),
        "duban_rate": median(run.rate for run in duban),
        "bare_rate": median(run.rate for run in bare),
        "duban_rates": [run.rate for run in duban],
        "bare_rates": [run.rate for run in bare],
        "share": median(shares),
        "shares": shares,
        "duban_cpu_ms": duban_cpu,
        "database_cpu_ms": database_cpu,
        "bare_cpu_ms": bare_cpu,
        "server_cpu_ms": server_cpu,
        # Client and server take turns on an idle machine: the share their CPU predicts.
        "cpu_share": (bare_cpu + server_cpu) / (duban_cpu + database_cpu + server_cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--messages", type=int, default=300, help="reminders per round (at most those the corpus plans)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    kinds = [k for k in args.databases.split(",") if k != "postgresql" or postgres_available()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="duban-bench-") as scratch:
        corpus = write_corpus(Path(scratch) / "dispatch", 200)
        for kind in kinds:
            with database(kind, corpus.directory) as url:
                rows.append((kind, measure(corpus.directory, url, args.messages, args.rounds)))
    print(report(rows))


def report(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The figures of :func:`measure` per database: rates and ratio (median, range), CPU per message."""
    return table(
        ["database", "rounds × msgs", "duban msg/s", "bare msg/s", "duban / bare", "range", "CPU ms/msg duban", "(+ PostgreSQL)", "bare", "server", "CPU share"],
        [
            (
                kind,
                f"{r['rounds']} × {r['sent'] // r['rounds']}",
                r["duban_rate"],
                r["bare_rate"],
                f"{r['share']:.0%}",
                f"{min(r['shares']):.0%}–{max(r['shares']):.0%}",
                r["duban_cpu_ms"],
                r["database_cpu_ms"],
                r["bare_cpu_ms"],
                r["server_cpu_ms"],
                f"{r['cpu_share']:.0%}",
            )
            for kind, r in rows
        ],
    )


if __name__ == "__main__":
    main()
