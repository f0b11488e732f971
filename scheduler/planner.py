"""Planning: tasks × rules × calendar × now → every notification the rules want.

:func:`plan` is a pure function, so the daemon, ``duban plan`` and the tests all get
the same answer for the same arguments, and planning twice changes nothing once the
log has reconciled it. It plans what can still be sent, up to a horizon: a
notification whose catch-up window (``expires_at``) closed before ``now`` is not
planned, so plans issued years ago do not fill the log with stale reminders (a row
already in the log whose window closes unsent is the dispatcher's to record as
skipped), and neither is one due after the horizon (:data:`HORIZON`, 90 days), which a
later replan plans in its turn.

How one reminder is placed:

1. Each dated deadline of an open task gives a due date: a deadline's date, every date
   of a multi, every occurrence of a recurring rrule up to the horizon. An extension
   (``TaskState.due``) replaces them all with one day-precision date.
2. The rule's offset moves away from it (before for ``reminder``, after for
   ``overdue``/``escalation``; ``due`` is the day itself).
3. A day off moves to a workday: back when the day is on or before the deadline (a
   reminder must arrive before it), forward when it is after.
4. The rule's time of day in the configured zone gives ``planned_at``; it expires
   after the rule's ``catch_up``, or earlier when the next occurrence of a repeating
   chaser is due, so only the latest chaser is sent late. It is planned when that
   time lies between now and the horizon, and its catch-up window is still open.

Keys are ``reminder:<rule>:<task>:<deadline>:<agency>``, with ``:<n>`` appended for
the n-th (n ≥ 2) occurrence of a repeating chaser, and
``digest:<rule>:<agency>:<period day>``; they are stable across replans, which is what
lets the log reconcile instead of duplicating.

Digests are periods of a cron schedule; a period whose day is a day off is sent on the
next workday at the same time. The current period and those up to the digest horizon
(four weeks: every replan plans ahead again, and each digest's cron time replans) are
planned for each agency with an open task or one completed within the rule's window
(every agency named by a task, with ``include_empty``); what a digest says is decided
when it is rendered, from the tasks as they are then.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from scheduler.model import Notification, Precision, Role, TaskState
from scheduler.rules import DigestRule, Match, ReminderRule, RuleSet
from scheduler.workdays import Workdays

_ROLE_PRIORITY: dict[Role, int] = {"lead": 0, "responsible": 1, "support": 2}
_LOOKBACK_LIMIT = timedelta(days=366 * 30)
# How far ahead reminders and digests are planned. Every replan (hourly in the daemon,
# and at each digest's cron time) looks ahead again, so a notification is in the log
# long before it is due; the log need not hold years of reminders of far deadlines.
HORIZON = timedelta(days=90)
DIGEST_HORIZON = timedelta(weeks=4)


@dataclass(frozen=True, slots=True)
class Due:
    """One date a task is due by, with what the rules filter on.

    ``since`` is the previous occurrence of a recurring obligation (the issue date for
    the first): a reminder ahead of this one is only worth sending after it, so a weekly
    report is not announced a week ahead on the very day the last one is due.
    """

    date: date
    kind: str
    precision: Precision | None
    since: date | None = None


def plan(
    states: Iterable[TaskState],
    rules: RuleSet,
    workdays: Workdays,
    now: datetime,
    *,
    tz: ZoneInfo,
    expand: Callable[[str], Sequence[str]] = lambda name: (name,),
    horizon: timedelta = HORIZON,
    digest_horizon: timedelta = DIGEST_HORIZON,
) -> list[Notification]:
    """Every notification the rules still want, sorted by time then key; keys are unique."""
    planner = Planner(
        rules, workdays, now, tz=tz, expand=expand, horizon=horizon, digest_horizon=digest_horizon
    )
    notes = planner.reminders(states) + planner.digests()
    return sorted(notes, key=lambda note: (note.planned_at, note.key))


@dataclass
class Audience:
    """Whom a digest may concern, gathered task by task.

    A replan feeds its tasks to the planner a batch at a time, so it never holds them
    all; the digests need only this summary of them: every agency a task names, those
    with an open task, and when each last had a task completed.
    """

    named: set[str] = field(default_factory=set)
    open: set[str] = field(default_factory=set)
    last_done: dict[str, datetime] = field(default_factory=dict)

    def add(self, state: TaskState, agencies: Iterable[str]) -> None:
        for agency in agencies:
            self.named.add(agency)
            if state.status == "open":
                self.open.add(agency)
            elif state.done_at is not None:
                last = self.last_done.get(agency)
                if last is None or state.done_at > last:
                    self.last_done[agency] = state.done_at

    def reporting(self, rule: DigestRule, day: date) -> list[str]:
        """Agencies a digest sent on ``day`` may have something for.

        An open task (dated or not) or one completed within the window; every agency
        named by a task when the rule includes empty digests. The renderer has the last
        word at send time, from the tasks as they are then.
        """
        if rule.include_empty:
            return sorted(self.named)
        since = day - timedelta(days=rule.window_days)
        recent = {agency for agency, done in self.last_done.items() if done.date() >= since}
        return sorted(self.open | recent)


class Planner:
    """The planning of one replan: tasks go in batch by batch, their reminders come out,
    and the digests come last, from what the tasks told :class:`Audience`.

    A reminder's times depend only on its rule and due date, which many tasks share
    (year and quarter ends above all), so they are worked out once per replan.
    """

    def __init__(
        self,
        rules: RuleSet,
        workdays: Workdays,
        now: datetime,
        *,
        tz: ZoneInfo,
        expand: Callable[[str], Sequence[str]] = lambda name: (name,),
        horizon: timedelta = HORIZON,
        digest_horizon: timedelta = DIGEST_HORIZON,
    ) -> None:
        self.rules = rules
        self.workdays = workdays
        self.now = now.astimezone(tz)
        self.tz = tz
        self.expand = expand
        self.until = self.now + horizon
        self.digest_until = self.now + digest_horizon
        self.audience = Audience()
        self._times: dict[tuple[int, date, date | None], list[_Time]] = {}
        self._recurring: dict[tuple[str, date, date], list[date]] = {}
        self._rules_by_due: dict[tuple[str, Precision | None], list[tuple[int, ReminderRule]]] = {}
        self._every_rule = range(len(rules.reminders))
        self._filtered = any(_filters_tasks(rule.match) for rule in rules.reminders)

    def reminders(self, states: Iterable[TaskState]) -> list[Notification]:
        """The reminders of these tasks that can still be sent; keys are unique."""
        notes: list[Notification] = []
        for state in states:
            self.audience.add(state, [name for name, _ in _recipients(state, Match(), None, self.expand)])
            if state.status != "open":
                continue
            rules = self._task_rules(state)
            recipients: dict[int, list[tuple[str, Role]]] = {}
            wanted: dict[str, Notification] = {}
            for due in due_dates(state, start=self.now.date(), until=self.until.date(), occurrences=self._rrule_dates):
                for index, rule in self._due_rules(due):
                    if index not in rules:
                        continue
                    times = self._occurrences(index, rule, due)
                    if not times:
                        continue
                    if index not in recipients:
                        recipients[index] = _recipients(state, rule.match, rule.roles, self.expand)
                    for note in _reminders(rule, state, due, times, recipients[index]):
                        wanted.setdefault(note.key, note)
            notes.extend(wanted.values())
        return notes

    def digests(self) -> list[Notification]:
        """Each digest rule's current period and the next ones to the digest horizon."""
        return [
            note
            for rule in self.rules.digests
            for note in _digests(rule, self.audience, self.workdays, self.now, self.digest_until, self.tz)
        ]

    def _task_rules(self, state: TaskState) -> Container[int]:
        """The indexes of the rules whose filters on the task and its document let it pass."""
        if not self._filtered:
            return self._every_rule
        return {index for index, rule in enumerate(self.rules.reminders) if _task_matches(rule.match, state)}

    def _due_rules(self, due: Due) -> list[tuple[int, ReminderRule]]:
        """The rules (with their index) whose filters on the due date itself let it pass."""
        key = (due.kind, due.precision)
        rules = self._rules_by_due.get(key)
        if rules is None:
            rules = self._rules_by_due[key] = [
                (index, rule) for index, rule in enumerate(self.rules.reminders) if _due_matches(rule.match, due)
            ]
        return rules

    def _occurrences(self, index: int, rule: ReminderRule, due: Due) -> list[_Time]:
        """The rule's times for a due date from now to the horizon, computed once.

        Only a notice ahead of the date depends on the previous occurrence (``since``).
        """
        key = (index, due.date, due.since if rule.kind == "reminder" else None)
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = [
                when
                for when in _occurrences(rule, due, self.workdays, self.tz)
                if when.expires >= self.now and when.planned <= self.until
            ]
        return times

    def _rrule_dates(self, rrule: str, first: date, until: date) -> list[date]:
        """:func:`rrule_dates`, once per rule and start (the tasks of a plan share both)."""
        dates = self._recurring.get((rrule, first, until))
        if dates is None:
            dates = self._recurring[rrule, first, until] = rrule_dates(rrule, first, until)
        return dates


def due_dates(
    state: TaskState,
    *,
    start: date,
    until: date,
    occurrences: Callable[[str, date, date], Sequence[date]] | None = None,
) -> Iterator[Due]:
    """The dates a task is due by; a recurring rrule counts from the issue date or ``start``.

    ``occurrences`` expands a recurring rule (default :func:`rrule_dates`).
    """
    expand = occurrences or rrule_dates
    if state.due is not None:
        yield Due(state.due, "deadline", "day")
        return
    for deadline in state.task.deadlines:
        if deadline.kind == "deadline" and deadline.date is not None:
            yield Due(deadline.date, "deadline", deadline.precision)
        elif deadline.kind == "multi":
            for day in deadline.dates:
                yield Due(day, "multi", deadline.precision)
        elif deadline.kind == "recurring" and deadline.rrule:
            since = state.document.issued_on or start
            for occurrence in expand(deadline.rrule, since, until):
                yield Due(occurrence, "recurring", None, since)
                since = occurrence


def rrule_dates(rrule: str, first: date, until: date) -> list[date]:
    """The days a recurring obligation (an RFC 5545 rule body) falls due, ``first`` to ``until``."""
    start = datetime.combine(first, time())
    return [when.date() for when in rrulestr(rrule, dtstart=start).between(start, datetime.combine(until, time()), inc=True)]


def _due_matches(match: Match, due: Due) -> bool:
    return (not match.precision or (due.kind != "recurring" and due.precision in match.precision)) and (
        not match.deadline_kind or due.kind in match.deadline_kind
    )


def _filters_tasks(match: Match) -> bool:
    return bool(match.document or match.jurisdiction or match.title_words)


def _task_matches(match: Match, state: TaskState) -> bool:
    document = state.document
    return (
        (not match.document or bool({document.doc_number, document.title, document.path} & set(match.document)))
        and (not match.jurisdiction or document.jurisdiction in match.jurisdiction)
        and (not match.title_words or any(word in state.task.title for word in match.title_words))
    )


def _recipients(
    state: TaskState, match: Match, roles: Sequence[Role] | None, expand: Callable[[str], Sequence[str]]
) -> list[tuple[str, Role]]:
    """Resolved agencies with their most responsible role; groups become their members.

    Unresolved names get nothing here: they are reported by ``duban agencies check``.
    """
    best: dict[str, Role] = {}
    for ref in state.task.agencies:
        if ref.canonical is None or (roles is not None and ref.role not in roles):
            continue
        for member in expand(ref.canonical):
            if match.agency and member not in match.agency and ref.canonical not in match.agency:
                continue
            if member not in best or _ROLE_PRIORITY[ref.role] < _ROLE_PRIORITY[best[member]]:
                best[member] = ref.role
    return sorted(best.items())


def _reminders(
    rule: ReminderRule,
    state: TaskState,
    due: Due,
    times: Sequence[_Time],
    recipients: Sequence[tuple[str, Role]],
) -> list[Notification]:
    notes = []
    for agency, role in recipients:
        base = f"reminder:{rule.name}:{state.task.key}:{due.date.isoformat()}:{agency}"
        for when in times:
            notes.append(
                Notification(
                    key=base if when.number == 1 else f"{base}:{when.number}",
                    kind=rule.kind,
                    rule=rule.name,
                    template=rule.template,
                    agency=agency,
                    planned_at=when.planned,
                    task_key=state.task.key,
                    due=due.date,
                    role=role,
                    expires_at=when.expires,
                    cc=rule.cc,
                    shifted_from=when.named if when.named != when.planned.date() else None,
                )
            )
    return notes


@dataclass(frozen=True, slots=True)
class _Time:
    """One occurrence of a rule for one due date: its number, when, the day the rule
    named (before a day off moved it) and when it is too late to send."""

    number: int
    planned: datetime
    named: date
    expires: datetime


def _occurrences(rule: ReminderRule, due: Due, workdays: Workdays, tz: ZoneInfo) -> list[_Time]:
    """Every occurrence of a rule for one due date.

    Occurrences of a repeating chaser that a long holiday pushes onto the same workday
    coalesce into the first, so nobody gets the same chaser twice in one morning. Each
    expires after the rule's catch-up window, or earlier when the next one is due, so
    only the latest chaser is sent late.
    """
    if rule.kind == "reminder":
        days = [due.date - rule.offset]
        if due.since is not None and days[0] <= due.since:
            return []
    elif rule.kind == "due":
        days = [due.date]
    else:
        step = rule.every or relativedelta()
        days = [due.date + (rule.offset + step * k) for k in range(rule.times)]
    out: list[tuple[int, datetime, date]] = []
    for number, day in enumerate(days, 1):
        shifted = workdays.previous(day) if day <= due.date else workdays.next(day)
        planned = datetime.combine(shifted, rule.at, tzinfo=tz)
        if not out or planned > out[-1][1]:
            out.append((number, planned, day))
    times = []
    for index, (number, planned, named) in enumerate(out):
        expires = planned + rule.catch_up
        if index + 1 < len(out):
            expires = min(expires, out[index + 1][1])
        times.append(_Time(number, planned, named, expires))
    return times


def _digests(
    rule: DigestRule,
    audience: Audience,
    workdays: Workdays,
    now: datetime,
    until: datetime,
    tz: ZoneInfo,
) -> list[Notification]:
    """The current period (latest fire at or before now) and the next ones to ``until``.

    Each period expires when the next one is planned: a late digest is only worth
    sending until a fresher one replaces it.
    """
    trigger = rule.trigger(tz)
    fire = current_fire(rule, now, tz)
    periods: list[tuple[date, datetime]] = []
    while fire is not None and (not periods or periods[-1][1] <= until):
        planned = datetime.combine(workdays.next(fire.date()), fire.timetz())
        if periods and planned <= periods[-1][1]:
            periods.pop()
        periods.append((fire.date(), planned))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    notes = []
    for (period, planned), (_, expires) in zip(periods, periods[1:]):
        for agency in audience.reporting(rule, planned.date()):
            notes.append(digest_notification(rule, agency, period, planned, expires_at=expires))
    return notes


def digest_notification(
    rule: DigestRule, agency: str, period: date, planned_at: datetime, *, expires_at: datetime | None = None
) -> Notification:
    """One agency's digest for one period; its key makes sure at most one is ever sent."""
    return Notification(
        key=f"digest:{rule.name}:{agency}:{period.isoformat()}",
        kind="digest",
        rule=rule.name,
        template=rule.template,
        agency=agency,
        planned_at=planned_at,
        period=period.isoformat(),
        expires_at=expires_at,
    )


def current_fire(rule: DigestRule, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The fire time that opens the digest period ``now`` falls in (or the first one ahead).

    ``duban digest --send`` names its period with it, so the row it writes has the
    key the daemon plans for the same period and is never sent twice.
    """
    trigger = rule.trigger(tz)
    return _previous_fire(trigger, now) or trigger.get_next_fire_time(None, now)


def _previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now``; cron has no "previous", so look back."""
    back = timedelta(days=1)
    while back <= _LOOKBACK_LIMIT:
        fire = trigger.get_next_fire_time(None, now - back)
        if fire is not None and fire <= now:
            while (later := trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))) is not None and later <= now:
                fire = later
            return fire
        back *= 2
    return None
