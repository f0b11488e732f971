"""The long-running daemon: APScheduler ticks, the notification log decides.

APScheduler 3 carries no delivery guarantee: two schedulers on one job store both
fire every job, ``next_run_time`` is written before a job runs, and a job due during
shutdown can be dropped. So the daemon uses it only as a clock. Jobs have fixed ids
and are registered with ``replace_existing`` (restarts do not pile them up), coalesce,
never expire (``misfire_grace_time=None``), run one at a time on a single worker, and
each one is idempotent through the log's unique keys.

One daemon per database schedules: it holds the daemon lock (a file lock on SQLite,
an advisory lock on PostgreSQL). On SQLite a second daemon refuses to start. On
PostgreSQL it becomes a follower: it shares the sending (claims use ``FOR UPDATE SKIP
LOCKED``, so no row is sent twice) and retries the lock every ``dispatch_interval``
seconds, so it takes over the scheduling within that time when the leader dies.

SIGTERM and SIGINT stop after the message in flight; SIGHUP reloads config.toml and
the rules, and replans, without a restart (a broken new config is logged and the old
one kept).

Jobs are stored pickled in the database, so they reference the module-level
functions below and take no arguments; the running :class:`App` is found through a
module global set by :func:`run`.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler import config as configuration
from scheduler.app import App
from scheduler.dispatch import DispatchResult
from scheduler.errors import DubanError

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
DISPATCH_JOB = "dispatch"
REPLAN_JOB = "replan"
RELOAD_JOB = "reload"
DIGEST_JOB_PREFIX = "digest:"

_app: App | None = None
_scheduler: BaseScheduler | None = None
_stop = threading.Event()
_reload = threading.Event()
_owner = ""
_clock: Callable[[], datetime] = lambda: datetime.now().astimezone()


class AlreadyRunning(DubanError):
    """Another daemon holds this SQLite database."""


def owner_id() -> str:
    """Who claims rows: host and process, so a lease names its holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run(app: App, *, once: bool, clock: Callable[[], datetime] | None = None) -> None:
    """Run the daemon (or one cycle with ``once``).

    Signals are handled from the start, so even the first cycle stops after the
    message in flight and leaves nothing claimed.
    """
    global _app, _owner, _clock, _scheduler
    _app, _owner = app, owner_id()
    _clock = clock or (lambda: datetime.now(app.config.timezone))
    _stop.clear()
    _reload.clear()
    scheduler = _scheduler = build_scheduler(app)

    # Handlers run on the main thread, which may be inside the scheduler's own job
    # store transaction: they only set flags and hand the work to a thread, so they
    # never wait on a lock their own thread holds.
    def stop(signum: int, frame: object) -> None:
        if _stop.is_set():  # a second signal while stopping: already on it
            return
        log.info("received signal %s: finishing the message in flight", signum)
        _stop.set()
        if scheduler.running:
            threading.Thread(target=scheduler.shutdown, name="duban-stop").start()

    def reload(signum: int, frame: object) -> None:
        _reload.set()
        if scheduler.running:
            threading.Thread(
                target=scheduler.add_job, args=(reload_job,), kwargs={"id": RELOAD_JOB, "replace_existing": True}
            ).start()

    handlers = {signal.SIGTERM: stop, signal.SIGINT: stop, signal.SIGHUP: reload}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        app.store.migrate()
        if not _lead(scheduler, once=once):
            if once or app.store.engine.dialect.name != "postgresql":
                raise AlreadyRunning(
                    f"Another duban daemon is already running on {app.store.engine.url.render_as_string()}; stop it first."
                )
            _follow(scheduler)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _scheduler = None


def _lead(scheduler: BaseScheduler, *, once: bool) -> bool:
    """Schedule while holding the daemon lock; False when another daemon holds it."""
    app = _current()
    with app.store.daemon_lock(_owner) as held:
        if not held:
            return False
        log.info("duban daemon %s leads: it holds the daemon lock", _owner)
        cycle_job()
        if not (once or _stop.is_set()):
            _serve(app, scheduler)
        return True


def _follow(scheduler: BaseScheduler) -> None:
    """Share the sending while another daemon schedules; take over when it is gone."""
    log.info("duban daemon %s follows: another daemon schedules; sending alongside it", _owner)
    while not _stop.is_set():
        if _reload.is_set():
            reload_job()
        if _lead(scheduler, once=False):
            return
        interval = _current().config.dispatch_interval
        try:
            busy = _dispatch_turn(interval)
        except DubanError as exc:
            log.error("dispatch failed: %s", exc)
            busy = False
        if not busy:
            _stop.wait(interval)


def _dispatch_turn(seconds: float) -> bool:
    """Send what is due for at most ``seconds``; whether rows were left for the next turn.

    A backlog keeps a dispatch run busy until it is sent: a follower that ran it to the
    end would leave a dead leader's scheduling undone all that time. Ending the turn
    (like a stop: the message in flight finishes, the rest of the batch goes back)
    brings it back to the daemon lock every ``dispatch_interval`` seconds.
    """
    turn = threading.Event()
    threading.Thread(target=lambda: (_stop.wait(seconds), turn.set()), name="duban-turn", daemon=True).start()
    result = _current().dispatch(now=_clock(), owner=_owner, stop=turn)
    _report(result)
    return result.released > 0 and not _stop.is_set()


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
        if job.id not in keep and job.id != RELOAD_JOB:
            log.info("removing job %s: its rule is gone", job.id)
            job.remove()


def dispatch_job() -> None:
    """Send what is due now."""
    result = _current().dispatch(now=_clock(), owner=_owner, stop=_stop)
    _report(result)
    if _busy(result):
        release_memory()


def _report(result: DispatchResult) -> None:
    if _busy(result):
        log.info("dispatch: %s", result)


def _busy(result: DispatchResult) -> bool:
    return bool(result.sent or result.failed or result.dead or result.skipped)


def replan_job() -> None:
    """Pick up changed documents and reconcile the log with the rules."""
    app = _current()
    now = _clock()
    app.ingest(None, now=now)
    log.info("replan: %s", app.replan(now=now))
    release_memory()


def cycle_job() -> None:
    """Ingest, replan and dispatch: what a digest's cron time and start-up do."""
    app = _current()
    ingest, reconcile, sent = app.cycle(now=_clock(), owner=_owner, stop=_stop)
    log.info("cycle: %s; %s; %s", ingest, reconcile, sent)
    release_memory()


def reload_job() -> None:
    """Reload config.toml and the rules (SIGHUP), re-register the jobs, replan.

    A new config that does not load is logged and the running one kept: a typo must
    not take a working daemon down.
    """
    global _app
    _reload.clear()
    old = _current()
    try:
        new = App(configuration.load(old.config.path))
    except DubanError as exc:
        log.error("reload refused, keeping the running configuration: %s", exc)
        return
    _app = new
    log.info("reloaded %s", new.config.path)
    if _scheduler is not None and _scheduler.running:
        prune_jobs(_scheduler, register_jobs(_scheduler, new))
    new.ingest(None, now=_clock())
    log.info("replan: %s", new.replan(now=_clock()))
    release_memory()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_trim = _malloc_trim()


def release_memory() -> None:
    """Give the C heap's free memory back to the system after a job that did work (glibc only).

    A job frees what it built, but glibc keeps freed heap pages for reuse, so an idle
    daemon would go on holding its busiest moment. What the jobs build is bounded
    where it is made (ingest a batch at a time, digests a few agencies at a time);
    this returns what glibc keeps of it afterwards: a simulated day on 1,000 plans
    ended at 99 MB instead of 103, and the first dispatch on 10,000 plans, which
    reads every task for its digests, left 36 MB to give back. A trim costs a few
    milliseconds.
    """
    if _trim is not None:
        _trim(0)


def _current() -> App:
    if _app is None:
        raise RuntimeError("duban daemon job ran outside a running daemon")
    return _app
