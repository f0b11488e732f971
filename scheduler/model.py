"""The plain data that flows between duban's stages.

Every stage of the pipeline (read → outline → extract → normalize → resolve → plan →
store → dispatch) passes these frozen values and nothing else, so each stage can be
tested on its own with literals and no database, clock or network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple

Kind = Literal["deadline", "start", "recurring", "none", "multi"]
Precision = Literal["day", "month", "quarter", "half", "year"]
Role = Literal["lead", "support", "responsible"]
NotificationKind = Literal["reminder", "due", "overdue", "escalation", "digest"]
TaskStatus = Literal["open", "done"]


class Deadline(NamedTuple):
    """One time phrase of a text, normalized.

    ``date`` is the last day of the period named (or the first day, for a start);
    ``dates`` holds every date of a ``multi``; ``rrule`` the RFC 5545 rule body of a
    recurring obligation. ``start``/``end`` index the phrase in the text it came from,
    so ``text == source[start:end]`` and a person can check every date.

    A named tuple rather than a frozen dataclass like its neighbours: one is built for
    every time phrase of every document, and a tuple builds four times faster.
    """

    text: str
    start: int
    end: int
    kind: Kind
    date: date | None = None
    dates: tuple[date, ...] = ()
    precision: Precision | None = None
    rrule: str | None = None
    hedged: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyRef:
    """An agency named by a task, with its role there.

    ``name`` is the name as written (prefixes and suffixes expanded); ``canonical`` is
    the directory's agency or group it resolves to, ``None`` while unresolved.
    """

    name: str
    role: Role
    canonical: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A numbered item of a plan that carries a responsibility or a deadline.

    ``key`` is stable across re-ingests of the same document, so a task's state
    (done, extended) survives them.
    """

    key: str
    number: str
    title: str
    text: str
    agencies: tuple[AgencyRef, ...] = ()
    deadlines: tuple[Deadline, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """A plan as extracted from one file."""

    path: str
    title: str
    doc_number: str | None = None
    issuer: str | None = None
    issued_on: date | None = None
    jurisdiction: str | None = None
    tasks: tuple[Task, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskState:
    """A stored task with its lifecycle, as the planner and the digests see it.

    ``due`` replaces the dated deadlines of the task when it has been extended.
    """

    task: Task
    document: Document
    status: TaskStatus = "open"
    done_at: datetime | None = None
    due: date | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """One message the rules want sent, identified by a unique ``key``.

    ``expires_at`` implements the catch-up policy: a row still unsent after it is
    recorded as skipped rather than sent late. ``cc`` names directory contacts.
    ``shifted_from`` is the day the rule named when it fell on a day off and the
    workday calendar moved it, so a person can see why a reminder comes early.
    """

    key: str
    kind: NotificationKind
    rule: str
    template: str
    agency: str
    planned_at: datetime
    task_key: str | None = None
    due: date | None = None
    role: Role | None = None
    period: str | None = None
    expires_at: datetime | None = None
    cc: tuple[str, ...] = field(default=())
    shifted_from: date | None = None
