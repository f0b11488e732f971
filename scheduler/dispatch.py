"""Sending what is due: claim, render, send, record.

The log decides, never the scheduler: rows are claimed with a lease in one
transaction, rendered at send time (so a template fix or a corrected address applies
to everything still queued), handed to the backend, and recorded as sent with a
Message-ID derived from their key. A crash between send and record resends the same
Message-ID; an expired lease puts the row back. Each batch is leased from its own
claim, and a row is started only while its lease outlasts one send (the SMTP
timeout), so no other dispatcher can take a row while it is being sent: a lease must
be longer than that timeout. Transient failures retry with exponential backoff and
jitter; permanent ones go dead with the reason; rows older than their catch-up
window are skipped, not sent late.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from time import monotonic
from typing import TYPE_CHECKING

from scheduler.backends import MailBackend
from scheduler.digest import phrase_for
from scheduler.errors import DeliveryError, InputError
from scheduler.mail import build_message
from scheduler.model import TaskState
from scheduler.render import TaskNotice
from scheduler.store import LeaseLost, LogEntry

if TYPE_CHECKING:
    from scheduler.app import App

log = logging.getLogger(__name__)

CATCH_UP = "catch-up: its window closed before it could be sent"


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
    states: dict[str, TaskState] | None = None
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
        if states is None:
            states = {state.task.key: state for state in app.task_states()}
        for index, entry in enumerate(entries):
            if stop is not None and stop.is_set():
                result.released += _release(app, entries[index:], owner=owner)
                return result
            if index and monotonic() - claimed > config.lease - margin:
                # Too little lease is left to send this row before another dispatcher may
                # take it: the batch outlasted its lease. Give the rest back and claim anew.
                result.released += _release(app, entries[index:], owner=owner)
                break
            try:
                _send_one(app, backend, entry, states, now=now, owner=owner, result=result)
            except LeaseLost as exc:
                # Our lease ran out and another dispatcher holds the row now; it
                # records the outcome. Leases must outlast the SMTP timeout.
                log.warning("lost the lease of %s: %s", entry.key, exc)
            except InputError:
                _release(app, entries[index + 1 :], owner=owner)
                raise
    return result


def _release(app: App, entries: Sequence[LogEntry], *, owner: str) -> int:
    """Give back claimed rows unsent; count those still ours to give."""
    released = 0
    for entry in entries:
        try:
            app.store.release(entry.key, owner=owner)
        except LeaseLost:
            continue
        released += 1
    return released


def _budget(rate_limit: int, interval: int) -> int | None:
    """Messages one dispatch run may send: the per-minute limit over the run's interval."""
    if rate_limit == 0:
        return None
    return max(1, rate_limit * interval // 60)


def _send_one(
    app: App,
    backend: MailBackend,
    entry: LogEntry,
    states: dict[str, TaskState],
    *,
    now: datetime,
    owner: str,
    result: DispatchResult,
) -> None:
    store = app.store
    try:
        to = _addresses(app, (entry.agency,))
        cc = _addresses(app, entry.cc)
        if not to:
            raise DeliveryError(f"agency {entry.agency} has no e-mail address in the directory", permanent=True)
        context = _context(app, entry, states, now=now)
        if context is None:
            store.mark_skipped(entry.key, owner=owner, reason="nothing to report or task no longer open")
            result.skipped += 1
            return
        rendered = app.renderer.render(entry.template, context)
        msg = build_message(
            rendered,
            sender=app.config.sender,
            to=to,
            cc=cc,
            key=entry.key,
            thread=entry.task_key,
            now=now,
        )
        reply = backend.send(msg)
    except DeliveryError as exc:
        _record_failure(app, entry, str(exc), permanent=exc.permanent, now=now, owner=owner, result=result)
        return
    except InputError:
        # A wrong password or a broken template is the operator's to fix, not a
        # reason to burn this row's attempts: give it back and stop the run.
        store.release(entry.key, owner=owner)
        raise
    except Exception as exc:  # a bug or a bad template must not strand the row as claimed
        log.exception("could not prepare %s", entry.key)
        _record_failure(app, entry, f"{type(exc).__name__}: {exc}", permanent=False, now=now, owner=owner, result=result)
        return
    store.mark_sent(entry.key, owner=owner, at=now, message_id=msg["Message-ID"], reply=reply)
    result.sent += 1
    log.info("sent %s to %s", entry.key, entry.agency)


def _record_failure(
    app: App, entry: LogEntry, error: str, *, permanent: bool, now: datetime, owner: str, result: DispatchResult
) -> None:
    result.errors.append(f"{entry.key}: {error}")
    if permanent or entry.attempts >= app.config.max_attempts:
        app.store.mark_dead(entry.key, owner=owner, error=error)
        result.dead += 1
        log.error("gave up on %s: %s", entry.key, error)
        return
    app.store.mark_failed(entry.key, owner=owner, error=error, retry_at=now + backoff(app.config.retry_base, entry.attempts))
    result.failed += 1
    log.warning("will retry %s: %s", entry.key, error)


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


def _context(app: App, entry: LogEntry, states: dict[str, TaskState], *, now: datetime):
    today = now.astimezone(app.config.timezone).date()
    if entry.kind == "digest":
        return app.digest(entry.agency, as_of=today, period=entry.period or today.isoformat(), rule=entry.rule, states=list(states.values()))
    state = states.get(entry.task_key or "")
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
