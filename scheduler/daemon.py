"""The long-running daemon: APScheduler ticks, the notification log decides.

APScheduler 3 carries no delivery guarantee: two schedulers on one job store both
fire every job, ``next_run_time`` is written before a job runs, and a job due during
shutdown can be dropped. So the daemon uses it only as a clock. Jobs have fixed ids
and are registered with ``replace_existing`` (restarts do not pile them up), coalesce,
never expire (``misfire_grace_time=None``), run one at a time on a single worker, and
each one is idempotent through the log's unique keys. One daemon holds the database
(a file lock on SQLite, an advisory lock on PostgreSQL); a second one refuses to start.

Jobs are stored pickled in the database, so they reference the module-level
functions below and take only plain arguments; the running :class:`App` is found
through a module global set by :func:`run`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.app import App
from scheduler.errors import DubanError

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
DISPATCH_JOB = "dispatch"
REPLAN_JOB = "replan"
DIGEST_JOB_PREFIX = "digest:"

_app: App | None = None
_stop = threading.Event()
_owner = ""
_clock: Callable[[], datetime] = lambda: datetime.now().astimezone()


class AlreadyRunning(DubanError):
    """Another daemon holds this database."""


def owner_id() -> str:
    """Who claims rows: host and process, so a lease names its holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run(app: App, *, once: bool, clock: Callable[[], datetime] | None = None) -> None:
    """Start the daemon (or one cycle with ``once``) while holding the database lock.

    SIGTERM and SIGINT are handled from the start, so even the first cycle stops
    after the message in flight and leaves nothing claimed.
    """
    global _app, _owner, _clock
    _app, _owner = app, owner_id()
    _clock = clock or (lambda: datetime.now(app.config.timezone))
    _stop.clear()
    scheduler = build_scheduler(app)

    def stop(signum: int, frame: object) -> None:
        if _stop.is_set():  # a second signal while stopping: already on it
            return
        log.info("received signal %s: finishing the message in flight", signum)
        _stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        app.store.migrate()
        with app.store.daemon_lock(_owner) as held:
            if not held:
                raise AlreadyRunning(
                    f"Another duban daemon is already running on {app.store.engine.url.render_as_string()}; stop it first."
                )
            cycle_job()
            if not (once or _stop.is_set()):
                _serve(app, scheduler)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(app: App, scheduler: BaseScheduler) -> None:
    """Run the scheduler until a signal sets the stop event and shuts it down.

    The dispatch job checks the event between messages; shutting down waits for the
    job in flight, so the message being sent finishes and the rest of its batch goes
    back to planned.
    """
    keep = register_jobs(scheduler, app)

    def started(event: object) -> None:
        prune_jobs(scheduler, keep)
        log.info("duban daemon %s started; dispatch every %ss", _owner, app.config.dispatch_interval)
        if _stop.is_set():  # a signal came before the scheduler ran
            scheduler.shutdown(wait=False)

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    scheduler.start()
    log.info("duban daemon %s stopped", _owner)


def build_scheduler(app: App, kind: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """The daemon's scheduler; tests build a BackgroundScheduler on the same store."""
    return kind(
        jobstores={"default": SQLAlchemyJobStore(engine=app.store.engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=app.config.timezone,
    )


def register_jobs(scheduler: BaseScheduler, app: App) -> list[str]:
    """Add the fixed jobs and one cron job per digest rule; return their ids."""
    config = app.config
    scheduler.add_job(
        dispatch_job, "interval", seconds=config.dispatch_interval, id=DISPATCH_JOB, replace_existing=True
    )
    scheduler.add_job(replan_job, "interval", seconds=config.replan_interval, id=REPLAN_JOB, replace_existing=True)
    ids = [DISPATCH_JOB, REPLAN_JOB]
    for rule in app.rules.digests:
        job_id = DIGEST_JOB_PREFIX + rule.name
        trigger = CronTrigger.from_crontab(rule.cron, timezone=config.timezone)
        scheduler.add_job(cycle_job, trigger, id=job_id, replace_existing=True)
        ids.append(job_id)
    return ids


def prune_jobs(scheduler: BaseScheduler, keep: list[str]) -> None:
    """Remove jobs left in the store by digest rules that no longer exist."""
    for job in scheduler.get_jobs():
        if job.id not in keep:
            log.info("removing job %s: its rule is gone", job.id)
            job.remove()


def dispatch_job() -> None:
    """Send what is due now."""
    app = _current()
    result = app.dispatch(now=_clock(), owner=_owner, stop=_stop)
    if result.sent or result.failed or result.dead or result.skipped:
        log.info("dispatch: %s", result)


def replan_job() -> None:
    """Pick up changed documents and reconcile the log with the rules."""
    app = _current()
    now = _clock()
    app.ingest(None, now=now)
    log.info("replan: %s", app.replan(now=now))


def cycle_job() -> None:
    """Ingest, replan and dispatch: what a digest's cron time and start-up do."""
    app = _current()
    ingest, reconcile, sent = app.cycle(now=_clock(), owner=_owner, stop=_stop)
    log.info("cycle: %s; %s; %s", ingest, reconcile, sent)


def _current() -> App:
    if _app is None:
        raise RuntimeError("duban daemon job ran outside a running daemon")
    return _app
