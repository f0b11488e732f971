"""Planning as a table: tasks × rules × calendar × now → notifications."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.model import AgencyRef, Deadline, Document, Notification, Task, TaskState
from scheduler.planner import Planner, plan
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


# Planned long before every date of the tables below, so no reminder is already past
# its catch-up window, and with a horizon beyond them all (the planner leaves out both).
LONG_BEFORE = at(date(2015, 1, 1))
BEYOND = timedelta(days=366 * 20)


def run(states, *rules: ReminderRule, now: datetime = LONG_BEFORE, horizon: timedelta = BEYOND, **kwargs) -> list[Notification]:
    return plan(states, RuleSet(reminders=rules), CALENDAR, now, tz=TZ, expand=expand, horizon=horizon, **kwargs)


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
        ("reminder", 7, date(2030, 10, 8), date(2030, 9, 30), "2030 has no notice: statutory 10-01 … 10-03 still off"),
        ("overdue", 1, date(2030, 10, 11), date(2030, 10, 14), "2030 has no notice: Saturday 10-12 is a plain weekend"),
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


LEAD = AgencyRef("市卫健委", "lead", "市卫健委")
SUPPORT = AgencyRef("财政局", "support", "市财政局")
RESPONSIBLE = AgencyRef("发改委", "responsible", "市发改委")
GROUP = AgencyRef("各县(市、区)人民政府", "lead", "各县(市、区)人民政府")
UNRESOLVED = AgencyRef("某某办", "lead", None)
EVERYONE = (LEAD, SUPPORT, RESPONSIBLE, GROUP, UNRESOLVED)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("lead",), {"市卫健委": "lead", "芗城区人民政府": "lead", "龙文区人民政府": "lead"}),
        (("support",), {"市财政局": "support"}),
        (("responsible",), {"市发改委": "responsible"}),
        (
            ("lead", "support", "responsible"),
            {"市卫健委": "lead", "市财政局": "support", "市发改委": "responsible", "芗城区人民政府": "lead", "龙文区人民政府": "lead"},
        ),
    ],
)
def test_roles_choose_recipients_groups_expand_unresolved_get_nothing(roles, expected) -> None:
    notes = run([state(deadline(date(2024, 6, 28)), agencies=EVERYONE)], rule(roles=roles))
    assert {n.agency: n.role for n in notes} == expected


def test_an_agency_named_twice_gets_one_message_in_its_leading_role() -> None:
    twice = (AgencyRef("市卫健委", "support", "市卫健委"), AgencyRef("卫健委", "lead", "市卫健委"))
    [note] = run([state(deadline(date(2024, 6, 28)), agencies=twice)], rule())
    assert note.role == "lead"
    assert run([state(deadline(date(2024, 6, 28)), agencies=twice)], rule(roles=("support",)))[0].role == "support"


OTHER_DOC = Document(path="seeds/other.txt", title="行动计划", doc_number="保政发〔2017〕3号", jurisdiction="保山市")


@pytest.mark.parametrize(
    ("match", "task", "wanted"),
    [
        (Match(precision=("day",)), state(deadline(date(2024, 6, 28))), True),
        (Match(precision=("month", "half")), state(deadline(date(2024, 6, 30), "half")), True),
        (Match(precision=("month",)), state(deadline(date(2024, 6, 28))), False),
        (Match(deadline_kind=("deadline",)), state(deadline(date(2024, 6, 28))), True),
        (Match(deadline_kind=("multi",)), state(deadline(date(2024, 6, 28))), False),
        (Match(document=("漳政办〔2024〕1号",)), state(deadline(date(2024, 6, 28))), True),
        (Match(document=("实施方案",)), state(deadline(date(2024, 6, 28))), True),
        (Match(document=("seeds/plan.txt",)), state(deadline(date(2024, 6, 28))), True),
        (Match(document=("漳政办〔2024〕1号",)), state(deadline(date(2024, 6, 28)), document=OTHER_DOC), False),
        (Match(jurisdiction=("漳州市",)), state(deadline(date(2024, 6, 28))), True),
        (Match(jurisdiction=("漳州市",)), state(deadline(date(2024, 6, 28)), document=OTHER_DOC), False),
        (Match(title_words=("医疗", "社会办医")), state(deadline(date(2024, 6, 28))), True),
        (Match(title_words=("养老",)), state(deadline(date(2024, 6, 28))), False),
        (Match(agency=("市卫健委",)), state(deadline(date(2024, 6, 28))), True),
        (Match(agency=("市财政局",)), state(deadline(date(2024, 6, 28))), False),
        (Match(precision=("day",), jurisdiction=("保山市",)), state(deadline(date(2024, 6, 28))), False),
    ],
)
def test_match_filters(match: Match, task: TaskState, wanted: bool) -> None:
    assert bool(run([task], rule(match=match))) is wanted


def test_agency_filter_takes_a_member_or_its_group() -> None:
    task = state(deadline(date(2024, 6, 28)), agencies=EVERYONE)
    by_member = run([task], rule(match=Match(agency=("龙文区人民政府",))))
    by_group = run([task], rule(match=Match(agency=("各县(市、区)人民政府",))))
    assert [n.agency for n in by_member] == ["龙文区人民政府"]
    assert sorted(n.agency for n in by_group) == ["芗城区人民政府", "龙文区人民政府"]


def test_starts_and_undated_tasks_get_no_reminders() -> None:
    start = Deadline("2017年起", 0, 6, "start", date(2017, 1, 1), precision="year")
    undated = Deadline("长期坚持", 0, 4, "none")
    assert run([state(start), state(undated, key="t2")], *DEFAULT_RULES.reminders) == []


def test_done_task_gets_no_reminders_but_its_agency_keeps_its_digest() -> None:
    open_ = state(deadline(date(2024, 6, 28)))
    done = replace(open_, status="done", done_at=at(date(2024, 6, 20), time(16)))
    rules = replace(DEFAULT_RULES, digests=(DigestRule("weekly", "0 9 * * mon"),))
    now = at(date(2024, 6, 21), time(10))
    before = plan([open_], rules, CALENDAR, now, tz=TZ, digest_horizon=timedelta(days=7))
    after = plan([done], rules, CALENDAR, now, tz=TZ, digest_horizon=timedelta(days=7))
    # The month-ahead (05-28) is past its catch-up window, so it is not planned; the
    # week-ahead of this morning still may be sent.
    assert [n.rule for n in before if n.kind != "digest"] == ["week-ahead", "due-today", "overdue", "overdue", "escalation", "overdue", "overdue"]
    assert [n.key for n in after] == [n.key for n in before if n.kind == "digest"] == [
        "digest:weekly:市卫健委:2024-06-17",
        "digest:weekly:市卫健委:2024-06-24",
    ]


def test_task_done_between_two_reminders_keeps_the_sent_one_and_drops_the_rest() -> None:
    """Done after the month-ahead was sent: replanning wants none of the rest."""
    open_ = state(deadline(date(2024, 10, 31), "month"))
    month_ahead = at(date(2024, 9, 30))
    sent = [n.key for n in run([open_], *DEFAULT_RULES.reminders, now=month_ahead) if n.planned_at <= month_ahead]
    assert sent == ["reminder:month-ahead:t1:2024-10-31:市卫健委"]
    done = replace(open_, status="done", done_at=at(date(2024, 10, 10), time(15)))
    assert run([done], *DEFAULT_RULES.reminders, now=at(date(2024, 10, 10), time(15))) == []


def test_extension_replaces_the_dates_and_sharpens_a_goal() -> None:
    goal = state(deadline(date(2024, 12, 31), "year"))
    extended = replace(goal, due=date(2025, 3, 14))
    before = {(n.rule, n.due) for n in run([goal], *DEFAULT_RULES.reminders)}
    after = {(n.rule, n.due) for n in run([extended], *DEFAULT_RULES.reminders)}
    assert before == {("goal-quarter-ahead", date(2024, 12, 31)), ("goal-month-ahead", date(2024, 12, 31))}
    assert after == {
        (name, date(2025, 3, 14)) for name in ("month-ahead", "week-ahead", "due-today", "overdue", "escalation")
    }


@pytest.mark.parametrize(
    ("year", "quarter_ahead", "month_ahead"),
    [
        (2024, date(2024, 9, 30), date(2024, 11, 29)),  # 11-30 is a Saturday
        (2025, date(2025, 9, 30), date(2025, 11, 28)),  # 11-30 is a Sunday
        (2026, date(2026, 9, 30), date(2026, 11, 30)),
    ],
)
def test_year_goals_get_a_quarter_and_a_month(year: int, quarter_ahead: date, month_ahead: date) -> None:
    notes = run([state(deadline(date(year, 12, 31), "year"))], *DEFAULT_RULES.reminders)
    assert [(n.rule, n.planned_at.date()) for n in notes] == [
        ("goal-quarter-ahead", quarter_ahead),
        ("goal-month-ahead", month_ahead),
    ]


@pytest.mark.parametrize(
    ("due", "months_before", "planned"),
    [
        (date(2024, 3, 31), 1, date(2024, 2, 29)),  # leap year: 31st → 29th
        (date(2023, 3, 31), 1, date(2023, 2, 28)),
        (date(2024, 5, 31), 3, date(2024, 2, 29)),
        (date(2024, 12, 31), 6, date(2024, 6, 28)),  # 06-30 is a Sunday
        (date(2028, 2, 29), 12, date(2027, 2, 26)),  # leap day → 2027-02-28, a Sunday
    ],
)
def test_month_offsets_keep_to_month_ends(due: date, months_before: int, planned: date) -> None:
    [note] = run([state(deadline(due))], rule(offset=relativedelta(months=months_before)))
    assert note.planned_at.date() == planned


def test_monthly_chaser_counts_from_the_deadline_so_month_ends_do_not_drift() -> None:
    chaser = rule(kind="overdue", offset=relativedelta(months=1), every=relativedelta(months=1), times=3)
    notes = run([state(deadline(date(2024, 1, 31)))], chaser)
    assert days(notes) == [date(2024, 2, 29), date(2024, 4, 1), date(2024, 4, 30)]  # 03-31 is a Sunday


def test_repeating_chaser_expires_at_its_successor_and_coalesces_over_holidays() -> None:
    daily = rule("daily", kind="overdue", offset=relativedelta(days=1), every=relativedelta(days=1), times=10)
    notes = run([state(deadline(date(2024, 9, 30)))], daily)
    assert [(n.key.rsplit(":", 1)[-1], n.planned_at, n.expires_at) for n in notes] == [
        ("市卫健委", at(date(2024, 10, 8)), at(date(2024, 10, 9))),  # 10-01 … 10-08 are one message
        ("9", at(date(2024, 10, 9)), at(date(2024, 10, 10))),
        ("10", at(date(2024, 10, 10)), at(date(2024, 10, 12))),  # the last keeps its catch-up window
    ]


def test_multi_deadline_reminds_of_each_date() -> None:
    both = Deadline("到2017年、2018年底", 0, 9, "multi", dates=(date(2017, 12, 29), date(2018, 12, 28)), precision="day")
    notes = run([state(both)], rule(), now=at(date(2017, 1, 1)))
    assert [(n.key, n.planned_at.date()) for n in notes] == [
        ("reminder:r:t1:2017-12-29:市卫健委", date(2017, 12, 22)),
        ("reminder:r:t1:2018-12-28:市卫健委", date(2018, 12, 21)),
    ]


def test_the_same_date_written_twice_is_one_notification() -> None:
    notes = run([state(deadline(date(2024, 6, 28), text="6月28日前"), deadline(date(2024, 6, 28), text="月底前"))], rule())
    assert len(notes) == 1


QUARTERLY = Deadline("每季度末", 0, 4, "recurring", rrule="FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1")


def test_recurring_obligation_reminds_of_each_occurrence_to_the_horizon() -> None:
    task = state(QUARTERLY, document=replace(DOC, issued_on=date(2024, 1, 5)))
    notes = run([task], *DEFAULT_RULES.reminders, now=at(date(2024, 5, 1)), horizon=timedelta(days=200))
    # 03-31's notices were past their catch-up window on 05-01: not planned.
    assert [(n.rule, n.due, n.planned_at.date()) for n in notes] == [
        ("recurring-week-ahead", date(2024, 6, 30), date(2024, 6, 21)),  # 06-23 is a Sunday
        ("recurring-due", date(2024, 6, 30), date(2024, 6, 28)),
        ("recurring-week-ahead", date(2024, 9, 30), date(2024, 9, 23)),
        ("recurring-due", date(2024, 9, 30), date(2024, 9, 30)),
    ]


def test_recurring_without_issue_date_counts_from_the_planning_day() -> None:
    task = state(QUARTERLY, document=replace(DOC, issued_on=None))
    notes = run([task], rule(kind="due"), now=at(date(2024, 5, 1)), horizon=timedelta(days=200))
    assert [n.due for n in notes] == [date(2024, 6, 30), date(2024, 9, 30)]


WEEKLY = RuleSet(digests=(DigestRule("weekly", "0 9 * * mon"),))


def digests(states, now: datetime, horizon: timedelta, rules: RuleSet = WEEKLY, tz: ZoneInfo = TZ) -> list[tuple[str, datetime, datetime]]:
    return [(n.key, n.planned_at, n.expires_at) for n in plan(states, rules, CALENDAR, now, tz=tz, expand=expand, digest_horizon=horizon)]


DONE_IN_MAY = state(key="t2", agencies=(SUPPORT,), status="done", done_at=at(date(2024, 5, 25), time(16)))


def test_digest_current_period_and_the_next_ones_per_agency() -> None:
    tasks = [state(deadline(date(2024, 6, 28)), agencies=(LEAD, GROUP, UNRESOLVED)), DONE_IN_MAY]
    got = digests(tasks, at(date(2024, 6, 5), time(8)), timedelta(days=7))
    monday, next_monday, after = at(date(2024, 6, 3)), at(date(2024, 6, 11)), at(date(2024, 6, 17))
    assert got == [
        ("digest:weekly:市卫健委:2024-06-03", monday, next_monday),
        ("digest:weekly:市财政局:2024-06-03", monday, next_monday),  # completed 05-25, within 14 days
        ("digest:weekly:芗城区人民政府:2024-06-03", monday, next_monday),
        ("digest:weekly:龙文区人民政府:2024-06-03", monday, next_monday),
        # 06-10 is the Dragon Boat Festival: the period is sent on Tuesday, when 市财政局's
        # completed task is 17 days old and it has nothing left to hear about.
        ("digest:weekly:市卫健委:2024-06-10", next_monday, after),
        ("digest:weekly:芗城区人民政府:2024-06-10", next_monday, after),
        ("digest:weekly:龙文区人民政府:2024-06-10", next_monday, after),
    ]


def test_include_empty_keeps_every_named_agency() -> None:
    rules = RuleSet(digests=(DigestRule("weekly", "0 9 * * mon", include_empty=True),))
    got = digests([DONE_IN_MAY, state(key="t3", agencies=(UNRESOLVED,))], at(date(2024, 9, 2), time(10)), timedelta(days=7), rules)
    assert [key for key, _, _ in got] == ["digest:weekly:市财政局:2024-09-02", "digest:weekly:市财政局:2024-09-09"]
    assert digests([DONE_IN_MAY], at(date(2024, 9, 2), time(10)), timedelta(days=7)) == []


@pytest.mark.parametrize(
    ("now", "periods"),
    [
        (at(date(2024, 10, 7), time(9)), [("2024-10-07", date(2024, 10, 8)), ("2024-10-14", date(2024, 10, 14))]),
        (at(date(2024, 10, 7), time(8, 59)), [("2024-09-30", date(2024, 9, 30)), ("2024-10-07", date(2024, 10, 8))]),
        (at(date(2024, 9, 16), time(12)), [("2024-09-16", date(2024, 9, 18)), ("2024-09-23", date(2024, 9, 23))]),
        (at(date(2024, 2, 12), time(12)), [("2024-02-12", date(2024, 2, 18)), ("2024-02-19", date(2024, 2, 19))]),
        (at(date(2025, 2, 3), time(12)), [("2025-02-03", date(2025, 2, 5)), ("2025-02-10", date(2025, 2, 10))]),
    ],
)
def test_digest_periods_around_holidays(now: datetime, periods: list[tuple[str, date]]) -> None:
    got = digests([state()], now, timedelta(days=7))
    assert [(key.rsplit(":", 1)[1], planned.date()) for key, planned, _ in got] == periods


def test_a_period_swallowed_by_a_holiday_gives_way_to_the_next() -> None:
    daily = RuleSet(digests=(DigestRule("daily", "0 9 * * *"),))
    got = digests([state()], at(date(2024, 9, 30), time(10)), timedelta(days=8), daily)
    assert [(key.rsplit(":", 1)[1], planned.date()) for key, planned, _ in got] == [
        ("2024-09-30", date(2024, 9, 30)),
        ("2024-10-08", date(2024, 10, 8)),  # 10-01 … 10-07 fall on the same morning: the latest wins
    ]


@pytest.mark.parametrize(
    ("zone", "periods"),
    [
        ("Asia/Shanghai", 53),  # now is Monday 2024-01-01 09:00 there: the first period
        ("Europe/Berlin", 54),  # still 2024-01-01 02:00: the current period began 2023-12-25
        ("America/New_York", 54),
    ],
)
def test_times_are_local_in_any_zone_across_a_year(zone: str, periods: int) -> None:
    tz = ZoneInfo(zone)
    notes = plan(
        [state(*(deadline(date(2024, month, 28)) for month in range(1, 13)))],
        RuleSet(reminders=(rule(),), digests=WEEKLY.digests),
        CALENDAR,
        datetime(2024, 1, 1, 1, tzinfo=ZoneInfo("UTC")),
        tz=tz,
        horizon=timedelta(days=366),
        digest_horizon=timedelta(days=366),
    )
    assert [n.kind for n in notes].count("reminder") == 12
    assert [n.kind for n in notes].count("digest") == periods
    assert {(n.planned_at.tzinfo, n.planned_at.time()) for n in notes} == {(tz, time(9))}
    offsets = {n.planned_at.utcoffset() for n in notes}
    assert len(offsets) == (1 if zone == "Asia/Shanghai" else 2)


def test_horizons_bound_reminders_and_digests() -> None:
    rules = RuleSet(reminders=(rule(kind="due"), rule("before", offset=relativedelta(days=30))), digests=WEEKLY.digests)
    far = state(deadline(date(2024, 4, 15)), QUARTERLY, document=replace(DOC, issued_on=date(2024, 1, 1)))
    notes = plan([far], rules, CALENDAR, at(date(2024, 1, 1)), tz=TZ)
    # 90 days ahead, to 03-31: the first quarter's notice and report, and the notice of
    # 04-15 (on 03-15); not yet its due note nor the next quarter.
    assert [(n.rule, n.due, n.planned_at.date()) for n in notes if n.kind != "digest"] == [
        ("before", date(2024, 3, 31), date(2024, 3, 1)),
        ("before", date(2024, 4, 15), date(2024, 3, 15)),
        ("r", date(2024, 3, 31), date(2024, 3, 29)),
    ]
    # Digests four weeks ahead: every replan plans ahead again.
    assert [n.period for n in notes if n.kind == "digest"] == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"]


@pytest.mark.parametrize(
    ("now", "rules"),
    [
        (at(date(2024, 6, 21), time(9)), ["week-ahead", "due-today", "overdue", "overdue", "escalation", "overdue", "overdue"]),
        # The week-ahead (06-21 09:00) may be sent until its two days of catch-up end …
        (at(date(2024, 6, 23), time(9)), ["week-ahead", "due-today", "overdue", "overdue", "escalation", "overdue", "overdue"]),
        # … and not a second later.
        (at(date(2024, 6, 23), time(9, 0, 1)), ["due-today", "overdue", "overdue", "escalation", "overdue", "overdue"]),
        (at(date(2024, 7, 10), time(9, 0, 1)), ["escalation", "overdue", "overdue"]),
        (at(date(2024, 8, 1)), []),
    ],
)
def test_what_can_no_longer_be_sent_is_not_planned(now: datetime, rules: list[str]) -> None:
    notes = run([state(deadline(date(2024, 6, 28)))], *DEFAULT_RULES.reminders, now=now)
    assert [n.rule for n in notes] == rules
    assert all(n.expires_at >= now for n in notes)


def test_tasks_planned_in_batches_give_what_planning_them_at_once_gives() -> None:
    states = [
        state(deadline(date(2024, 6, 28)), key="t1"),
        state(deadline(date(2024, 6, 28)), QUARTERLY, key="t2", agencies=(LEAD, GROUP)),
        replace(DONE_IN_MAY, task=replace(DONE_IN_MAY.task, key="t3")),
        state(deadline(date(2024, 9, 30), "quarter"), key="t4", agencies=(SUPPORT, RESPONSIBLE)),
    ]
    now = at(date(2024, 6, 3), time(10))
    planner = Planner(DEFAULT_RULES, CALENDAR, now, tz=TZ, expand=expand)
    batched = planner.reminders(states[:2]) + planner.reminders(states[2:]) + planner.digests()
    at_once = plan(states, DEFAULT_RULES, CALENDAR, now, tz=TZ, expand=expand)
    assert sorted(batched, key=lambda n: (n.planned_at, n.key)) == at_once
    assert {n.agency for n in at_once if n.kind == "digest"} == {"市卫健委", "市财政局", "市发改委", "芗城区人民政府", "龙文区人民政府"}


@pytest.mark.parametrize(
    ("rrule", "issued", "expected"),
    [
        # Weekly reports on Friday: a week's notice would land on the previous report's
        # day, so each Friday gets only its due note.
        (
            "FREQ=WEEKLY;BYDAY=FR",
            date(2024, 5, 6),
            [("recurring-due", date(2024, 5, day)) for day in (10, 17, 24, 31)],
        ),
        # Monthly, from the lexicon's 每月: notice a week ahead, then the day (05-31 is a Friday).
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            date(2024, 4, 2),
            [
                ("recurring-week-ahead", date(2024, 4, 23)),
                ("recurring-due", date(2024, 4, 30)),
                ("recurring-week-ahead", date(2024, 5, 24)),
                ("recurring-due", date(2024, 5, 31)),
            ],
        ),
        # Issued 04-25: a week's notice of 04-30 would predate the document.
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            date(2024, 4, 25),
            [("recurring-due", date(2024, 4, 30)), ("recurring-week-ahead", date(2024, 5, 24)), ("recurring-due", date(2024, 5, 31))],
        ),
    ],
)
def test_recurring_notice_comes_after_the_previous_occurrence(rrule: str, issued: date, expected: list) -> None:
    task = state(Deadline("每周五", 0, 3, "recurring", rrule=rrule), document=replace(DOC, issued_on=issued))
    notes = run([task], *DEFAULT_RULES.reminders, now=at(date(2024, 4, 1)), horizon=timedelta(days=60))
    assert [(n.rule, n.planned_at.date()) for n in notes] == expected


@settings(max_examples=300, deadline=None)
@given(
    due=st.dates(min_value=date(2016, 1, 1), max_value=date(2031, 12, 31)),
    kind=st.sampled_from(["reminder", "due", "overdue", "escalation"]),
    offset=st.integers(min_value=1, max_value=120),
)
def test_every_reminder_is_on_a_workday_and_on_its_side_of_the_deadline(due: date, kind: str, offset: int) -> None:
    [note] = run([state(deadline(due))], rule(kind=kind, offset=relativedelta(days=offset)))
    planned = note.planned_at.date()
    assert CALENDAR.is_workday(planned)
    if kind in ("reminder", "due"):
        nominal = due - timedelta(days=offset if kind == "reminder" else 0)
        assert planned <= nominal and not any(CALENDAR.is_workday(nominal - timedelta(days=k)) for k in range((nominal - planned).days))
    else:
        nominal = due + timedelta(days=offset)
        assert planned >= nominal and not any(CALENDAR.is_workday(nominal + timedelta(days=k)) for k in range((planned - nominal).days))


@pytest.mark.parametrize(
    ("kind", "due", "shifted_from", "planned"),
    [
        ("due", date(2024, 10, 7), date(2024, 10, 7), date(2024, 9, 30)),
        ("overdue", date(2024, 9, 30), date(2024, 10, 7), date(2024, 10, 8)),
        ("due", date(2024, 10, 8), None, date(2024, 10, 8)),
    ],
)
def test_a_shifted_reminder_keeps_the_day_its_rule_named(
    kind: str, due: date, shifted_from: date | None, planned: date
) -> None:
    (note,) = run([state(deadline(due))], rule(kind=kind), now=at(date(2024, 9, 1)))
    assert (note.planned_at.date(), note.shifted_from) == (planned, shifted_from)
