"""Ingest and plan: from files to stored tasks, and from tasks to the notification log.

Ingest is timed as ``duban ingest`` does it (:meth:`App.ingest`: parse every file,
resolve the names, store the tasks), at several corpus sizes so the growth shows; the
parse alone (no database) is timed beside it, which splits the cost between the pure
core and the store. Plan is timed as the daemon's replan does it (:meth:`App.replan`:
read the tasks a batch of documents at a time, plan them against the default rules,
reconcile the log), into an empty log and again with nothing changed. Then one
document changes (one deadline moves a year) and it is ingested and replanned, as
``duban ingest FILE`` does (:meth:`App.replan_documents`); the rows that replan
touched show whether it touched only that document's.

Each figure runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scheduler import config as configuration
from scheduler.app import App
from scheduler.store import schema
from scheduler.store.schema import notifications

from benchmarks.measure import NOW, peak_mb


def _app(config: Path) -> App:
    app = App(configuration.load(config))
    app.store.migrate()
    return app


def parse_only(config: Path, paths: list[Path]) -> dict[str, Any]:
    """Seconds to read, extract and resolve ``paths``, storing nothing."""
    app = App(configuration.load(config))
    start, cpu = time.perf_counter(), time.process_time()
    documents = app.parse(paths)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "tasks": sum(len(d.tasks) for d in documents),
    }


def ingest(config: Path, paths: list[Path]) -> dict[str, Any]:
    """Seconds for :meth:`App.ingest` of ``paths`` into an empty database."""
    app = _app(config)
    start, cpu = time.perf_counter(), time.process_time()
    report = app.ingest(paths, now=NOW)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    app.store.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "tasks": report.tasks, "deadlines": report.deadlines}


def plan(config: Path, documents: list[Path]) -> dict[str, Any]:
    """Plan the stored tasks into an empty log, replan unchanged, then replan after one document changes.

    The document that changes is the first of ``documents`` (all stored) from the
    middle on with reminders of dated deadlines in the log, so the change has rows to
    move: every year in it moves one on, which gives those tasks new deadlines and
    reminder keys. That change is stored and replanned a minute after the rest, so the rows it
    touched are those written at that minute.
    """
    app = _app(config)
    if app.store.engine.dialect.name == "postgresql":
        # What autovacuum does after a large ingest; the benchmark server may run
        # without it, and its query plans would then be those of empty tables.
        with app.store.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    start, cpu = time.perf_counter(), time.process_time()
    first = app.replan(now=NOW)
    first_seconds, first_cpu, first_peak = time.perf_counter() - start, time.process_time() - cpu, peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    again = app.replan(now=NOW)
    steady_seconds, steady_cpu = time.perf_counter() - start, time.process_time() - cpu

    changed, number = _with_reminders(app, documents[len(documents) // 2 :])
    text = changed.read_text(encoding="utf-8")
    changed.write_text(_move_years(text), encoding="utf-8")
    later = NOW + timedelta(minutes=1)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        ingested = app.ingest([changed], now=later)
        replanned = app.replan_documents(ingested.changed, now=later)
        change_seconds, change_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        changed.write_text(text, encoding="utf-8")
    log, tasks = notifications.c, schema.tasks.c
    with app.store.engine.connect() as connection:
        touched = connection.execute(sa.select(log.task_key).where(log.updated_at >= later)).scalars().all()
        rows = connection.execute(sa.select(sa.func.count()).select_from(notifications)).scalar_one()
        live = connection.execute(sa.select(sa.func.count()).where(tasks.removed_at.is_(None))).scalar_one()
    app.store.dispose()
    return {
        "tasks": live,
        "notifications": rows,
        "first_seconds": first_seconds,
        "first_cpu_seconds": first_cpu,
        "first_peak_mb": first_peak,
        "first": asdict(first),
        "steady_seconds": steady_seconds,
        "steady_cpu_seconds": steady_cpu,
        "steady": asdict(again),
        "change_seconds": change_seconds,
        "change_cpu_seconds": change_cpu,
        "change_tasks": ingested.updated + ingested.added + ingested.removed,
        "change": asdict(replanned),
        "change_keys": len(touched),
        "change_foreign": sum(1 for task in touched if not (task or "").startswith(f"{number}#")),
    }


def _with_reminders(app: App, documents: list[Path]) -> tuple[Path, str]:
    """The first of ``documents`` with reminders of dated deadlines planned, and its number.

    Reminders of recurring obligations do not count: moving the years of a plan leaves
    this year's occurrences where they are.
    """
    recurring = [rule.name for rule in app.rules.reminders if rule.match.deadline_kind == ("recurring",)]
    log = notifications.c
    with app.store.engine.connect() as connection:
        for path in documents:
            number = app.parse([path])[0].doc_number
            planned = sa.select(sa.func.count()).where(
                log.status == "planned", log.task_key.startswith(f"{number}#"), log.rule.not_in(recurring)
            )
            if number and connection.execute(planned).scalar_one():
                return path, number
    raise ValueError("no document has reminders of dated deadlines planned")


def _move_years(text: str) -> str:
    """The document with every year written in it one later, its issue date's too, so
    that deadlines counted from the issue date move as well."""
    return re.sub(r"(\d{4})年", lambda m: f"{int(m[1]) + 1}年", text)
