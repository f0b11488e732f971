"""Ingest and plan: from files to stored tasks, and from tasks to the notification log.

Ingest is timed as ``duban ingest`` does it (:meth:`App.ingest`: parse every file,
resolve the names, store the tasks), at several corpus sizes so the growth shows; the
parse alone (no database) is timed beside it, which splits the cost between the pure
core and the store. Plan is timed as ``duban plan`` and the daemon's replan do it
(:meth:`App.replan`): read the tasks, plan them against the default rules, reconcile
the log. Then one document changes (one deadline moves a year) and it is ingested and
replanned again, as ``duban ingest FILE`` does; the rows that replan touched show
whether it touched only that document's.

Each figure runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scheduler import config as configuration
from scheduler.app import App

from benchmarks.measure import NOW


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


def plan(config: Path, changed: Path) -> dict[str, Any]:
    """Plan the stored tasks into an empty log, replan unchanged, then replan after ``changed`` changes.

    ``changed`` must be one of the stored documents; its first four-digit year moves
    one year on, so its dated tasks get new deadlines and new reminder keys.
    """
    app = _app(config)
    start, cpu = time.perf_counter(), time.process_time()
    states = app.task_states()
    loaded = time.perf_counter()
    desired = app.desired(now=NOW)
    planned = time.perf_counter()
    first = app.store.reconcile(desired, now=NOW)
    reconciled, first_cpu = time.perf_counter(), time.process_time() - cpu
    again = app.replan(now=NOW)
    steady = time.perf_counter()

    text = changed.read_text(encoding="utf-8")
    changed.write_text(_move_a_year(text), encoding="utf-8")
    try:
        edit = time.perf_counter()
        ingested = app.ingest([changed], now=NOW)
        after = app.desired(now=NOW)
        replanned = app.store.reconcile(after, now=NOW)
        edited = time.perf_counter()
    finally:
        changed.write_text(text, encoding="utf-8")
    app.store.dispose()
    number = app.parse([changed])[0].doc_number
    moved = {(n.key, n.task_key) for n in desired} ^ {(n.key, n.task_key) for n in after}
    return {
        "tasks": len(states),
        "notifications": len(desired),
        "load_seconds": loaded - start,
        "plan_seconds": planned - loaded,
        "reconcile_seconds": reconciled - planned,
        "first_seconds": reconciled - start,
        "first_cpu_seconds": first_cpu,
        "first": asdict(first),
        "steady_seconds": steady - reconciled,
        "steady": asdict(again),
        "change_seconds": edited - edit,
        "change_tasks": ingested.updated + ingested.added + ingested.removed,
        "change": asdict(replanned),
        "change_keys": len(moved),
        "change_foreign": sum(1 for _, task in moved if not (task or "").startswith(f"{number}#")),
    }


def _move_a_year(text: str) -> str:
    """The document with the first year of its body (after the issue date) one later."""
    body = text.index("二、")
    for position in range(body, len(text) - 4):
        if text[position : position + 4].isdigit() and text[position + 4] == "年":
            year = int(text[position : position + 4])
            return text[:position] + str(year + 1) + text[position + 4 :]
    raise ValueError("the document has no year in its tasks")
