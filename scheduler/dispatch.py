"""Sending what is due: claim, render, send, record.

The log decides, never the scheduler: rows are claimed with a lease in one
transaction, rendered at send time (so a template fix or a corrected address applies
to everything still queued), handed to the backend, and recorded as sent with a
Message-ID derived from their key, never before the backend accepted them. One
message is in flight at a time; the server's verdict on it is read once the next
message is built, so the server takes in one while duban renders the next. Outcomes
are recorded a group at a time (half of :data:`MARK_EVERY` rows, or what
:data:`MARK_SECONDS` gathered), in one transaction each, by a thread of their own
while the next group is sent; a group is handed over only once the one before it is
recorded. A crash before a group is recorded leaves its rows claimed until their
lease expires; they are then sent again with the same Message-ID: at most
:data:`MARK_EVERY` messages. Each batch is leased from its own claim, a row is
started only while its lease outlasts one send (the SMTP timeout), and the group
sent so far is recorded before the lease could run out, so no other dispatcher can
take a row while it is being sent or once it is sent: a lease must be longer than
that timeout. Transient failures retry with exponential backoff and jitter;
permanent ones go dead with the reason; rows older than their catch-up window are
skipped, not sent late.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from time import monotonic
from typing import TYPE_CHECKING, TypeVar

from scheduler.backends import MailBackend
from scheduler.digest import by_agency, phrase_for
from scheduler.errors import DeliveryError, InputError
from scheduler.mail import build_message
from scheduler.model import TaskState
from scheduler.render import TaskNotice
from scheduler.store import LogEntry, Outcome
from scheduler.store.log import dead, failed, released, sent, skipped

if TYPE_CHECKING:
    from scheduler.app import App

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CATCH_UP = "catch-up: its window closed before it could be sent"
# Outcomes are recorded in one transaction per MARK_EVERY // 2 rows, or sooner once
# the oldest has waited MARK_SECONDS: a commit per message cost as much as building it,
# and waiting for each commit's flush to disk as much again. So a group is recorded by
# a thread of its own while the next group is sent, and handed over only once the one
# before it is recorded: a crash may send again the messages of two groups not yet
# recorded (the one being recorded and the one being sent), at most MARK_EVERY, the
# one in flight included, each with its original Message-ID.
MARK_EVERY = 20
MARK_SECONDS = 1.0


@dataclass
class DispatchResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)


def dispatch(
    app: App,
    backend: MailBackend,
    *,
    now: datetime,
    owner: str,
    stop: threading.Event | None = None,
    keys: Sequence[str] | None = None,
) -> DispatchResult:
    """Send every row due at ``now``, batch after batch, within the rate limit.

    ``keys`` restricts the run to those rows (``duban digest --send``).
    Nothing is sent in the rules' quiet hours; due rows wait for the end of them.
    Stopping (``stop`` set) lets the message in flight finish and puts the rest of
    the claimed batch back to planned, so nothing is left claimed.
    """
    config = app.config
    result = DispatchResult()
    if app.rules.is_quiet(now.astimezone(config.timezone).time()):
        return result
    # Rows past their catch-up window are recorded as skipped up front, in one
    # statement, so no claimed row is ever stale at ``now``.
    result.skipped += app.store.skip_expired(now=now, reason=CATCH_UP)
    budget = _budget(config.rate_limit, config.dispatch_interval)
    lease = timedelta(seconds=config.lease)
    # The longest a send may wait: the SMTP timeout, or half the lease when the config
    # (wrongly) makes the lease shorter, so a batch still sends more than one row.
    margin = min(config.smtp.timeout, config.lease / 2) if config.mail_backend == "smtp" and config.smtp else 0
    started = monotonic()
    tasks = _Tasks(app)
    with _Pending(app, owner, result) as pending:
        while budget is None or result.sent < budget:
            limit = config.batch if budget is None else min(config.batch, budget - result.sent)
            # ``now`` is when the run began; a batch claimed later in a long run must still
            # be leased for ``lease`` from its own claim, or other dispatchers could take
            # (and send) rows this one is about to send.
            claimed = monotonic()
            entries = app.store.claim_due(
                now=now, owner=owner, lease=lease + timedelta(seconds=claimed - started), limit=limit, keys=keys
            )
            if not entries:
                break
            tasks.read(entries)
            for index, entry in enumerate(entries):
                if stop is not None and stop.is_set():
                    pending.flush()
                    result.released += _release(app, entries[index:], owner=owner)
                    return result
                held = monotonic() - claimed
                if index and held > config.lease - margin:
                    # Too little lease is left to send this row before another dispatcher may
                    # take it: the batch outlasted its lease. Give the rest back and claim anew.
                    pending.flush()
                    result.released += _release(app, entries[index:], owner=owner)
                    break
                if held > config.lease - 2 * margin:
                    pending.flush()  # what was sent is recorded while the lease still holds
                try:
                    prepared = _prepare(app, entry, tasks, now=now, result=result)
                    if isinstance(prepared, Outcome):
                        pending.add(prepared)
                    else:
                        pending.send(lambda: _start(app, backend, entry, prepared, now=now, result=result))
                except InputError:
                    pending.flush()
                    _release(app, entries[index:], owner=owner)
                    raise
            pending.flush()
    return result


class _Tasks:
    """The tasks a run's rows speak of, read as the rows are claimed: a reminder needs
    its own task, a digest every task of its agency (so every task is then read, once
    for the whole run, and sorted by agency)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.known: dict[str, TaskState] = {}
        self.asked: set[str] = set()
        self.of_agency: dict[str, list[TaskState]] = {}
        self.complete = False

    def read(self, entries: Sequence[LogEntry]) -> None:
        if self.complete:
            return
        if any(entry.kind == "digest" for entry in entries):
            states = self.app.task_states()
            self.known = {state.task.key: state for state in states}
            self.of_agency = by_agency(states, self.app.directory.expand)
            self.complete = True
            return
        missing = {entry.task_key for entry in entries if entry.task_key} - self.asked
        if missing:
            self.asked |= missing
            self.known.update((state.task.key, state) for state in self.app.task_states(keys=missing))


class _Pending:
    """The message in flight, and outcomes handled but not yet recorded; see
    :data:`MARK_EVERY` for why and how many.

    A context manager: leaving it records what is still pending, whatever the reason
    for leaving, and stops the recording thread.
    """

    def __init__(self, app: App, owner: str, result: DispatchResult) -> None:
        self.store, self.owner, self.result = app.store, owner, result
        self.outcomes: list[Outcome] = []
        self.since = 0.0
        self.recorder = ThreadPoolExecutor(1, thread_name_prefix="duban-record")
        self.recording: Future[list[Outcome]] | None = None
        self.handed: list[Outcome] = []
        self.in_flight: Callable[[], Outcome] | None = None

    def __enter__(self) -> _Pending:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.flush()
        finally:
            self.recorder.shutdown()

    def add(self, outcome: Outcome) -> None:
        if not self.outcomes:
            self.since = monotonic()
        self.outcomes.append(outcome)
        if len(self.outcomes) >= MARK_EVERY // 2 or monotonic() - self.since >= MARK_SECONDS:
            self._hand_over()

    def send(self, start: Callable[[], Callable[[], Outcome]]) -> None:
        """Settle the message in flight, then ``start`` the next: one delivery at a time.

        The server's verdict on a message is read only when the next one has been
        built, so the server takes one in while duban renders the next.
        """
        self.settle()
        self.in_flight = start()

    def settle(self) -> None:
        """Wait for the verdict on the message in flight, if any, and add its outcome."""
        verdict, self.in_flight = self.in_flight, None
        if verdict is not None:
            self.add(verdict())

    def flush(self) -> None:
        """Record every outcome handled so far (the message in flight's too), and return once they are recorded."""
        self.settle()
        self._hand_over()
        self._wait()

    def _hand_over(self) -> None:
        """Give the group gathered so far to the recording thread, once the group before it is recorded."""
        self._wait()
        outcomes, self.outcomes = self.outcomes, []
        if outcomes:
            self.handed = outcomes
            self.recording = self.recorder.submit(self.store.record, outcomes, owner=self.owner)

    def _wait(self) -> None:
        """Wait for the group being recorded, if any, and count it (a failure to record it is raised here)."""
        recording, self.recording = self.recording, None
        if recording is not None:
            self._count(self.handed, recording.result())

    def _count(self, outcomes: list[Outcome], lost: list[Outcome]) -> None:
        lost_keys = {outcome.key for outcome in lost}
        for outcome in outcomes:
            if outcome.key in lost_keys:
                # Our lease ran out and another dispatcher holds the row now; it records
                # the outcome. Leases must outlast the SMTP timeout.
                log.warning("lost the lease of %s before recording it %s", outcome.key, outcome.status)
                continue
            field_name = "released" if outcome.status == "planned" else outcome.status
            setattr(self.result, field_name, getattr(self.result, field_name) + 1)


def _release(app: App, entries: Sequence[LogEntry], *, owner: str) -> int:
    """Give back claimed rows unsent; count those still ours to give."""
    outcomes = [released(entry.key) for entry in entries]
    return len(outcomes) - len(app.store.record(outcomes, owner=owner))


def _budget(rate_limit: int, interval: int) -> int | None:
    """Messages one dispatch run may send: the per-minute limit over the run's interval."""
    if rate_limit == 0:
        return None
    return max(1, rate_limit * interval // 60)


def _prepare(
    app: App, entry: LogEntry, tasks: _Tasks, *, now: datetime, result: DispatchResult
) -> EmailMessage | Outcome:
    """Render and build one row's message; for a row not to send, what became of it."""

    def build() -> EmailMessage | Outcome:
        to = _addresses(app, (entry.agency,))
        cc = _addresses(app, entry.cc)
        if not to:
            raise DeliveryError(f"agency {entry.agency} has no e-mail address in the directory", permanent=True)
        context = _context(app, entry, tasks, now=now)
        if context is None:
            return skipped(entry.key, reason="nothing to report or task no longer open")
        rendered = app.renderer.render(entry.template, context)
        return build_message(
            rendered, sender=app.config.sender, to=to, cc=cc, key=entry.key, thread=entry.task_key, now=now
        )

    return _guarded(app, entry, build, now=now, result=result)


def _start(
    app: App, backend: MailBackend, entry: LogEntry, msg: EmailMessage, *, now: datetime, result: DispatchResult
) -> Callable[[], Outcome]:
    """Start sending one row's message; the function returned waits for the server and
    says what became of the row, to record."""
    finish = _guarded(app, entry, lambda: backend.start(msg), now=now, result=result)
    if isinstance(finish, Outcome):
        return lambda: finish

    def verdict() -> Outcome:
        reply = _guarded(app, entry, finish, now=now, result=result)
        if isinstance(reply, Outcome):
            return reply
        log.info("sent %s to %s", entry.key, entry.agency)
        return sent(entry.key, at=now, message_id=msg["Message-ID"], reply=reply)

    return verdict


def _guarded(
    app: App, entry: LogEntry, step: Callable[[], _T], *, now: datetime, result: DispatchResult
) -> _T | Outcome:
    """What ``step`` returns, or the failure to record for the row when it raised."""
    try:
        return step()
    except DeliveryError as exc:
        return _failure(app, entry, str(exc), permanent=exc.permanent, now=now, result=result)
    except InputError:
        # A wrong password or a broken template is the operator's to fix, not a
        # reason to burn this row's attempts: the caller gives it back and stops.
        raise
    except Exception as exc:  # a bug or a bad template must not strand the row as claimed
        log.exception("could not send %s", entry.key)
        return _failure(app, entry, f"{type(exc).__name__}: {exc}", permanent=False, now=now, result=result)


def _failure(
    app: App, entry: LogEntry, error: str, *, permanent: bool, now: datetime, result: DispatchResult
) -> Outcome:
    result.errors.append(f"{entry.key}: {error}")
    if permanent or entry.attempts >= app.config.max_attempts:
        log.error("gave up on %s: %s", entry.key, error)
        return dead(entry.key, error=error)
    log.warning("will retry %s: %s", entry.key, error)
    return failed(entry.key, error=error, retry_at=now + backoff(app.config.retry_base, entry.attempts))


def backoff(base: int, attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter, capped at a day.

    Jitter spreads retries of a whole batch after an outage instead of hammering the
    server with all of them at the same second.
    """
    ceiling = min(base * 2 ** max(attempts - 1, 0), 86_400)
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _addresses(app: App, names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        try:
            agency = app.directory.agency(name)
        except KeyError:
            agency = app.directory.contact(name)
        out.extend(agency.email)
    return out


def _context(app: App, entry: LogEntry, tasks: _Tasks, *, now: datetime):
    today = now.astimezone(app.config.timezone).date()
    if entry.kind == "digest":
        states = tasks.of_agency.get(entry.agency, [])
        return app.digest(entry.agency, as_of=today, period=entry.period or today.isoformat(), rule=entry.rule, states=states)
    state = tasks.known.get(entry.task_key or "")
    if state is None or state.status != "open" or entry.due is None:
        return None
    return task_notice(state, entry.agency, entry.kind, entry.due, today=today)


def task_notice(state: TaskState, agency: str, kind: str, due: date, *, today: date) -> TaskNotice:
    """What a reminder about one task tells one agency."""
    task = state.task
    mine = [ref for ref in task.agencies if ref.canonical == agency]
    role = mine[0].role if mine else None
    others = tuple((ref.canonical or ref.name, ref.role) for ref in task.agencies if ref.canonical != agency)
    phrase = phrase_for(task, due)
    if state.due == due:
        deadline_text = f"延期至{due.isoformat()}"
    else:
        deadline_text = phrase.text if phrase is not None else due.isoformat()
    return TaskNotice(
        kind=kind,
        agency=agency,
        role=role,
        task_key=task.key,
        task_number=task.number,
        task_title=task.title,
        task_text=task.text,
        document_title=state.document.title,
        document_number=state.document.doc_number,
        deadline_text=deadline_text,
        due=due,
        precision=phrase.precision if phrase is not None else None,
        days_left=(due - today).days,
        others=others,
        done_command=f'duban done "{task.key}"',
    )
