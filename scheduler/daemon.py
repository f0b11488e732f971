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
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.app import App
from scheduler.errors import DubanError

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
DISPATCH_JOB = "dispatch"
REPLAN_JOB = "replan"
DIGEST_JOB_PREFIX = "digest:"
PRUNE_JOB = "prune"

_app: App | None = None
_scheduler: BlockingScheduler | None = None
_stop = threading.Event()
_owner = ""
_clock: Callable[[], datetime] = lambda: datetime.now().astimezone()


class AlreadyRunning(DubanError):
    """Another daemon holds this database."""


def owner_id() -> str:
    """Who claims rows: host and process, so a lease names its holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run(app: App, *, once: bool, clock: Callable[[], datetime] | None = None) -> None:
    """Start the daemon (or one cycle with ``once``) while holding the database lock."""
    global _app, _owner, _clock
    _app, _owner = app, owner_id()
    _clock = clock or (lambda: datetime.now(app.config.timezone))
    _stop.clear()
    app.store.migrate()
    with app.store.daemon_lock(_owner) as held:
        if not held:
            raise AlreadyRunning(
                f"Another duban daemon is already running on {app.store.engine.url.render_as_string()}; stop it first."
            )
        cycle_job()
        if once:
            return
        _serve(app)


def _serve(app: App) -> None:
    global _scheduler
    scheduler = _scheduler = build_scheduler(app)
    register_jobs(scheduler, app)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("received signal %s: finishing the message in flight and stopping", signum)
        _stop.set()
        scheduler.shutdown(wait=True)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    log.info("duban daemon %s started; dispatch every %ss", _owner, app.config.dispatch_interval)
    scheduler.start()
    log.info("duban daemon %s stopped", _owner)


def build_scheduler(app: App) -> BlockingScheduler:
    return BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.store.engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=app.config.timezone,
    )


def register_jobs(scheduler: BlockingScheduler, app: App) -> list[str]:
    """Add the fixed jobs and one cron job per digest rule; drop digest jobs of removed rules.

    Works on a scheduler that has not started: APScheduler then queues the changes
    and applies them to the job store on start.
    """
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
    scheduler.add_job(prune_jobs, "date", args=[ids], id=PRUNE_JOB, replace_existing=True)
    return ids


def prune_jobs(keep: list[str]) -> None:
    """Remove jobs left in the store by rules that no longer exist."""
    scheduler = _scheduler
    if scheduler is None:
        return
    for job in scheduler.get_jobs():
        if job.id not in keep and job.id != PRUNE_JOB:
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
