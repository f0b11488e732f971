"""Reminder and digest rules: TOML in, validated frozen values out.

A rule file holds any number of ``[[reminder]]`` and ``[[digest]]`` tables and at
most one ``[quiet_hours]`` table (see rules/reminders.toml, which documents each key).
Loading is strict because a typo in a rule silently changes who gets mail: every
unknown key, impossible value or cron that never fires is a :class:`RuleError` naming
the file, the rule and the key, and the daemon refuses to start.

A reminder's ``kind`` says where it stands relative to the deadline, so ``offset`` is
always a positive distance: ``reminder`` is ``offset`` before, ``due`` on the day,
``overdue`` and ``escalation`` ``offset`` after (and may repeat ``every`` … at most
``times`` times while the task stays open). Offsets are calendar distances
(``{ months = 3 }`` before 12-31 is 09-30), counted by dateutil's relativedelta.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, get_args

from apscheduler.triggers.cron import CronTrigger
from dateutil.relativedelta import relativedelta

from scheduler.errors import RuleError
from scheduler.model import NotificationKind, Precision, Role

TASK_KINDS = ("reminder", "due", "overdue", "escalation")
PLANNED_DEADLINE_KINDS = ("deadline", "multi", "recurring")
ROLES: tuple[Role, ...] = get_args(Role)
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
OFFSET_UNITS = ("years", "months", "weeks", "days")

_NAME = re.compile(r"^[\w-]+$")
_REPEATING_KINDS = ("overdue", "escalation")


@dataclass(frozen=True, slots=True)
class Match:
    """Which tasks a reminder applies to; an empty field does not filter.

    Every non-empty field must hold (and); within a field any value will do (or).
    ``precision`` looks at one-shot deadlines only: a recurring obligation has an
    rrule, not a precision, so it never passes a precision filter.
    """

    precision: tuple[Precision, ...] = ()
    deadline_kind: tuple[str, ...] = ()
    document: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()
    agency: tuple[str, ...] = ()
    title_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """One message per task deadline and agency, at a distance from the deadline."""

    name: str
    kind: NotificationKind
    offset: relativedelta
    roles: tuple[Role, ...] = ROLES
    cc: tuple[str, ...] = ()
    template: str = "reminder"
    every: relativedelta | None = None
    times: int = 1
    at: time = time(9, 0)
    catch_up: relativedelta = relativedelta(days=2)
    match: Match = Match()


@dataclass(frozen=True, slots=True)
class DigestRule:
    """A periodic summary per agency, on a 5-field crontab in the configured zone."""

    name: str
    cron: str
    window_days: int = 14
    include_empty: bool = False
    template: str = "digest"

    def trigger(self, tz: tzinfo) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=tz)


    def time_of_day(self) -> time:
        minute, hour = self.cron.split()[:2]
        return time(int(hour), int(minute))


@dataclass(frozen=True, slots=True)
class RuleSet:
    reminders: tuple[ReminderRule, ...] = ()
    digests: tuple[DigestRule, ...] = ()
    quiet_hours: tuple[time, time] | None = None
    """(start, end) local times in which nothing is sent; may wrap midnight.

    Loading refuses rules whose own send time is quiet, so the planner never plans
    into them; what is left to hold back is a late send after an outage, which is
    :meth:`after_quiet_hours`' job at send time.
    """

    def is_quiet(self, moment: time) -> bool:
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        return start <= moment < end if start < end else moment >= start or moment < end

    def after_quiet_hours(self, moment: datetime) -> datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (same zone)."""
        if self.quiet_hours is None or not self.is_quiet(moment.time()):
            return moment
        end = self.quiet_hours[1]
        day = moment.date() + timedelta(days=1) if moment.time() >= end else moment.date()
        return datetime.combine(day, end, tzinfo=moment.tzinfo)


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Read and validate rule files; rule names must be unique across all of them."""
    reminders: list[ReminderRule] = []
    digests: list[DigestRule] = []
    quiet: tuple[time, time] | None = None
    seen: dict[str, Path] = {}
    for path in paths:
        data = _read(path)
        _check_keys(path, "the file", data, {"reminder", "digest", "quiet_hours"})
        for table, parse, out in (("reminder", _reminder, reminders), ("digest", _digest, digests)):
            entries = data.get(table, [])
            if not isinstance(entries, list):
                raise RuleError(f"{path}: {table} must be an array of tables written [[{table}]].")
            for index, entry in enumerate(entries, 1):
                rule = parse(path, index, entry)
                if rule.name in seen:
                    raise RuleError(f"{path}: rule {rule.name!r} is already defined in {seen[rule.name]}.")
                seen[rule.name] = path
                out.append(rule)
        if "quiet_hours" in data:
            if quiet is not None:
                raise RuleError(f"{path}: [quiet_hours] is already set in another rule file; keep one.")
            quiet = _quiet_hours(path, data["quiet_hours"])
    rules = RuleSet(tuple(reminders), tuple(digests), quiet)
    for rule in (*rules.reminders, *rules.digests):
        key, moment = ("at", rule.at) if isinstance(rule, ReminderRule) else ("cron", rule.time_of_day())
        if rules.is_quiet(moment):
            raise RuleError(
                f"{seen[rule.name]}: rule {rule.name!r}, key {key!r}: {moment:%H:%M} is inside the quiet hours."
            )
    return rules


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise RuleError(f"Cannot read rule file {path}: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path} is not valid TOML: {exc}.") from exc


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise RuleError(f"{path}: {where} has unknown key {key!r} (expected one of {', '.join(sorted(allowed))}).")


class _Entry:
    """One rule table, with typed getters whose errors name file, rule and key."""

    def __init__(self, path: Path, table: str, index: int, data: Any, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise RuleError(f"{path}: [[{table}]] #{index} must be a table.")
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise RuleError(
                f"{path}: [[{table}]] #{index} needs a name of letters, digits, '-' and '_' (got {name!r})."
            )
        self.path, self.data, self.where = path, data, f"{table} rule {name!r}"
        _check_keys(path, self.where, data, allowed)

    def fail(self, key: str, problem: str) -> RuleError:
        return RuleError(f"{self.path}: {self.where}, key {key!r}: {problem}.")

    def get(self, key: str, kind: type, default: Any) -> Any:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"expected {kind.__name__}, got {value!r}")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: Any) -> Any:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def choices(self, key: str, allowed: Sequence[str], default: tuple[str, ...], data: Any = None) -> tuple:
        values = (self.data if data is None else data).get(key, list(default))
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.fail(key, f"expected a list of strings, got {values!r}")
        for value in values:
            if allowed and value not in allowed:
                raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return tuple(values)

    def offset(self, key: str) -> relativedelta:
        value = self.data[key]
        if not isinstance(value, dict) or not value:
            raise self.fail(key, "expected a table such as { days = 7 }")
        for unit, amount in value.items():
            if unit not in OFFSET_UNITS:
                raise self.fail(key, f"unknown unit {unit!r} (use {', '.join(OFFSET_UNITS)})")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise self.fail(key, f"{unit} must be a whole number of zero or more, not {amount!r}")
        return relativedelta(**value)

    def template(self, default: str) -> str:
        value = self.get("template", str, default)
        if not _NAME.match(value):
            raise self.fail("template", f"{value!r} is not a template name (letters, digits, '-' and '_')")
        return value


def _reminder(path: Path, index: int, data: Any) -> ReminderRule:
    entry = _Entry(
        path,
        "reminder",
        index,
        data,
        {"name", "kind", "offset", "every", "times", "roles", "cc", "template", "at", "catch_up", "match"},
    )
    kind = entry.choice("kind", TASK_KINDS, None)
    if kind == "due":
        if "offset" in data:
            raise entry.fail("offset", "a due reminder is sent on the deadline itself and takes no offset")
        offset = relativedelta()
    elif "offset" not in data:
        raise entry.fail("offset", f"a {kind} rule needs an offset such as {{ days = 7 }}")
    else:
        offset = entry.offset("offset")
    every, times = None, 1
    if "every" in data or "times" in data:
        if kind not in _REPEATING_KINDS:
            raise entry.fail("every", f"only {' and '.join(_REPEATING_KINDS)} rules repeat")
        if "every" not in data or "times" not in data:
            raise entry.fail("every" if "every" not in data else "times", "every and times go together")
        every = entry.offset("every")
        if not every:
            raise entry.fail("every", "a repeat needs a distance greater than zero")
        times = entry.get("times", int, 1)
        if times < 1:
            raise entry.fail("times", f"must be 1 or more, not {times}")
    roles = entry.choices("roles", ROLES, ROLES)
    if not roles:
        raise entry.fail("roles", "name at least one role")
    at = entry.get("at", time, time(9, 0))
    if at.tzinfo is not None:
        raise entry.fail("at", "write a local time such as 09:00:00; the zone comes from config.toml")
    catch_up = entry.offset("catch_up") if "catch_up" in data else relativedelta(days=2)
    return ReminderRule(
        name=data["name"],
        kind=kind,
        offset=offset,
        roles=roles,
        cc=entry.choices("cc", (), ()),
        template=entry.template(kind),
        every=every,
        times=times,
        at=at,
        catch_up=catch_up,
        match=_match(entry),
    )


def _match(entry: _Entry) -> Match:
    data = entry.get("match", dict, {})
    filters = [f.name for f in fields(Match)]
    for key in data:
        if key not in filters:
            raise entry.fail("match", f"unknown filter {key!r} (expected one of {', '.join(filters)})")
    kinds = entry.choices("deadline_kind", (), (), data)
    for kind in kinds:
        if kind not in PLANNED_DEADLINE_KINDS:
            raise entry.fail(
                "match",
                f"deadline_kind {kind!r} gets no reminders; use {', '.join(PLANNED_DEADLINE_KINDS)}",
            )
    return Match(
        precision=entry.choices("precision", PRECISIONS, (), data),
        deadline_kind=kinds,
        document=entry.choices("document", (), (), data),
        jurisdiction=entry.choices("jurisdiction", (), (), data),
        agency=entry.choices("agency", (), (), data),
        title_words=entry.choices("title_words", (), (), data),
    )


def _digest(path: Path, index: int, data: Any) -> DigestRule:
    entry = _Entry(path, "digest", index, data, {"name", "cron", "window_days", "include_empty", "template"})
    cron = entry.get("cron", str, None)
    fields = cron.split()
    if len(fields) != 5:
        raise entry.fail("cron", f"{cron!r} must have 5 fields: minute hour day month weekday")
    if not (fields[0].isdigit() and fields[1].isdigit()):
        raise entry.fail("cron", f"{cron!r} must name one minute and one hour, so a digest period is a day")
    try:
        trigger = CronTrigger.from_crontab(cron, timezone=timezone.utc)
    except ValueError as exc:
        raise entry.fail("cron", f"{cron!r} is not a valid crontab ({exc})") from exc
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=timezone.utc)) is None:
        raise entry.fail("cron", f"{cron!r} never fires")
    window = entry.get("window_days", int, 14)
    if window < 0:
        raise entry.fail("window_days", f"must be 0 or more, not {window}")
    return DigestRule(
        name=data["name"],
        cron=cron,
        window_days=window,
        include_empty=entry.get("include_empty", bool, False),
        template=entry.template("digest"),
    )


def _quiet_hours(path: Path, data: Any) -> tuple[time, time]:
    if not isinstance(data, dict):
        raise RuleError(f"{path}: quiet_hours must be a table with start and end.")
    _check_keys(path, "[quiet_hours]", data, {"start", "end"})
    bounds = []
    for key in ("start", "end"):
        value = data.get(key)
        if not isinstance(value, time) or value.tzinfo is not None:
            raise RuleError(f"{path}: [quiet_hours], key {key!r}: expected a local time such as 21:00:00, got {value!r}.")
        bounds.append(value)
    if bounds[0] == bounds[1]:
        raise RuleError(f"{path}: [quiet_hours] start and end are equal; remove the table for no quiet hours.")
    return bounds[0], bounds[1]
