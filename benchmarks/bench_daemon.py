"""The daemon: start-up time, idle CPU and memory, and memory after a day of ticks.

Start-up and idle run the real thing, ``duban run`` in a process of its own: the time
from launching it to the log line that says the scheduler has started (migrate, the
first cycle of ingest, plan and dispatch, then the first tick is scheduled), then its
CPU time (/proc/<pid>/stat) and resident memory (/proc/<pid>/status) over an idle
stretch, then SIGTERM.

A day of ticks is simulated rather than waited for: the daemon's own jobs and
triggers (:func:`scheduler.daemon.register_jobs`) are fired in time order with the
clock the daemon reads advanced to each fire time, from :data:`NOW` through the
given hours: dispatch every ``dispatch_interval``, replan every ``replan_interval``
and each digest's cron. Resident memory is sampled every simulated hour, so growth
across ticks (a leak) shows apart from the first cycle's peak.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler import config as configuration
from scheduler import daemon
from scheduler.app import App
from scheduler.store.schema import tasks

from benchmarks.measure import NOW, cpu_seconds, resident_mb

STARTED = "started; dispatch every"  # scheduler.daemon logs it when the scheduler runs


def startup(config: Path, idle_seconds: float) -> dict[str, Any]:
    """Seconds from launch to the first tick of ``duban run``; its CPU share and RSS over an idle stretch."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        while STARTED not in (line := lines.get(timeout=3600)):
            if process.poll() is not None:
                raise RuntimeError(f"duban run exited with {process.returncode}: {line.strip()}")
        started = time.perf_counter() - start
        rss_started = resident_mb(process.pid)
        cpu_before, clock_before = cpu_seconds(process.pid), time.perf_counter()
        time.sleep(idle_seconds)
        cpu = cpu_seconds(process.pid) - cpu_before
        elapsed = time.perf_counter() - clock_before
        rss_idle = resident_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return {
        "startup_seconds": started,
        "idle_seconds": elapsed,
        "idle_cpu_percent": 100 * cpu / elapsed,
        "rss_started_mb": rss_started,
        "rss_idle_mb": rss_idle,
    }


def day(config: Path, hours: float) -> dict[str, Any]:
    """Fire the daemon's jobs over ``hours`` simulated hours from NOW, after its first cycle."""
    clock = [NOW]
    app = App(configuration.load(config))
    begun = time.perf_counter()
    daemon.run(app, once=True, clock=lambda: clock[0])  # migrate, ingest, plan, dispatch
    first_cycle = time.perf_counter() - begun
    rss = [resident_mb()]
    scheduler = build_schedule(app)
    pending = {job.id: (job.trigger.get_next_fire_time(NOW, NOW), job) for job in scheduler.get_jobs()}
    end, next_sample = NOW + timedelta(hours=hours), NOW + timedelta(hours=1)
    ticks: dict[str, int] = {}
    busy, cpu = time.perf_counter(), time.process_time()
    while True:
        job_id, (when, job) = min(pending.items(), key=lambda item: item[1][0])
        if when > end:
            break
        while next_sample <= when:
            rss.append(resident_mb())
            next_sample += timedelta(hours=1)
        clock[0] = when
        job.func()
        ticks[job_id] = ticks.get(job_id, 0) + 1
        pending[job_id] = (job.trigger.get_next_fire_time(when, when + timedelta(microseconds=1)), job)
    busy, cpu = time.perf_counter() - busy, time.process_time() - cpu
    rss.append(resident_mb())
    tasks = live_tasks(app)
    app.store.dispose()
    return {
        "tasks": tasks,
        "first_cycle_seconds": first_cycle,
        "ticks": ticks,
        "busy_seconds": busy,
        "busy_cpu_seconds": cpu,
        "hours": hours,
        "rss_first_mb": rss[0],
        "rss_end_mb": rss[-1],
        "rss_max_mb": max(rss),
    }


def live_tasks(app: App) -> int:
    """The number of live tasks, counted by the database: reading them all would raise
    the peak this process reports."""
    with app.store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).where(tasks.c.removed_at.is_(None))).scalar_one()


def build_schedule(app: App) -> BackgroundScheduler:
    """The daemon's jobs and triggers, registered on a scheduler that never starts."""
    scheduler = daemon.build_scheduler(app, BackgroundScheduler)
    daemon.register_jobs(scheduler, app)
    return scheduler
