"""Planning as a table: tasks × rules × calendar × now → notifications."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from scheduler.model import AgencyRef, Deadline, Document, Notification, Task, TaskState
from scheduler.planner import plan
from scheduler.rules import DigestRule, Match, ReminderRule, RuleSet, load_rules
from scheduler.workdays import Workdays

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = Workdays()
DEFAULT_RULES = load_rules([Path(__file__).parent.parent / "rules" / "reminders.toml"])
DOC = Document(path="seeds/plan.txt", title="实施方案", doc_number="漳政办〔2024〕1号", issued_on=date(2024, 1, 5), jurisdiction="漳州市")
GROUPS = {"各县(市、区)人民政府": ("芗城区人民政府", "龙文区人民政府")}


def expand(name: str) -> tuple[str, ...]:
    return GROUPS.get(name, (name,))


def at(day: date, clock: time = time(9)) -> datetime:
    return datetime.combine(day, clock, tzinfo=TZ)


def deadline(day: date, precision: str = "day", text: str = "") -> Deadline:
    return Deadline(text or day.isoformat(), 0, 0, "deadline", day, precision=precision)


def state(
    *deadlines: Deadline,
    key: str = "t1",
    agencies: tuple[AgencyRef, ...] = (AgencyRef("市卫健委", "lead", "市卫健委"),),
    title: str = "推进社会办医",
    document: Document = DOC,
    **lifecycle,
) -> TaskState:
    task = Task(key=key, number="1", title=title, text=title, agencies=agencies, deadlines=deadlines)
    return TaskState(task=task, document=document, **lifecycle)


def rule(name: str = "r", kind: str = "reminder", **fields) -> ReminderRule:
    fields.setdefault("offset", relativedelta(days=7) if kind != "due" else relativedelta())
    fields.setdefault("template", kind)
    return ReminderRule(name=name, kind=kind, **fields)


def run(states, *rules: ReminderRule, now: datetime = at(date(2024, 1, 1)), **kwargs) -> list[Notification]:
    return plan(states, RuleSet(reminders=rules), CALENDAR, now, tz=TZ, expand=expand, **kwargs)


def days(notes: list[Notification]) -> list[date]:
    return [n.planned_at.date() for n in notes]


@pytest.mark.parametrize(
    ("kind", "offset", "due", "planned", "why"),
    [
        ("reminder", 7, date(2024, 6, 21), date(2024, 6, 14), "a plain Friday, a week before"),
        ("reminder", 7, date(2024, 10, 8), date(2024, 9, 30), "10-01 is National Day: back to the last workday"),
        ("reminder", 1, date(2024, 10, 14), date(2024, 10, 12), "10-13 is Sunday: back to the make-up Saturday"),
        ("reminder", 30, date(2025, 2, 25), date(2025, 1, 26), "01-26 is itself a make-up Sunday"),
        ("reminder", 7, date(2025, 2, 5), date(2025, 1, 27), "01-29 is Spring Festival: back before the eve"),
        ("due", 0, date(2024, 10, 5), date(2024, 9, 30), "due on a holiday: the last workday before it"),
        ("due", 0, date(2025, 2, 8), date(2025, 2, 8), "due on the make-up Saturday itself"),
        ("overdue", 1, date(2024, 9, 30), date(2024, 10, 8), "after National Day: forward to the first workday"),
        ("overdue", 1, date(2025, 1, 25), date(2025, 1, 26), "the day after is a make-up Sunday"),
        ("escalation", 14, date(2024, 9, 20), date(2024, 10, 8), "10-04 is a holiday: forward"),
        ("overdue", 1, date(2024, 2, 28), date(2024, 2, 29), "a leap day"),
        ("overdue", 1, date(2023, 2, 28), date(2023, 3, 1), "no leap day in 2023"),
    ],
)
def test_each_kind_lands_on_a_workday(kind: str, offset: int, due: date, planned: date, why: str) -> None:
    [note] = run([state(deadline(due))], rule(kind=kind, offset=relativedelta(days=offset)))
    assert (note.kind, note.planned_at, note.due) == (kind, at(planned), due), why


def test_key_and_fields() -> None:
    escalate = rule("escalate", "escalation", offset=relativedelta(days=14), cc=("督查室",), catch_up=relativedelta(days=5))
    [note] = run([state(deadline(date(2024, 6, 28)))], escalate)
    assert note == Notification(
        key="reminder:escalate:t1:2024-06-28:市卫健委",
        kind="escalation",
        rule="escalate",
        template="escalation",
        agency="市卫健委",
        planned_at=at(date(2024, 7, 12)),
        task_key="t1",
        due=date(2024, 6, 28),
        role="lead",
        expires_at=at(date(2024, 7, 17)),
        cc=("督查室",),
    )


def test_planning_twice_gives_the_same_answer() -> None:
    states = [state(deadline(date(2024, 10, 31), "month"), deadline(date(2025, 12, 31), "year"))]
    now = at(date(2024, 9, 1), time(13, 5))
    first = plan(states, DEFAULT_RULES, CALENDAR, now, tz=TZ, expand=expand)
    assert first == plan(states, DEFAULT_RULES, Workdays(), now, tz=TZ, expand=expand)
    assert len({n.key for n in first}) == len(first)
