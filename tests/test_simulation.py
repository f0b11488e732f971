"""A year of the daemon, day by day, with the default rules and a small log in memory.

Each morning at 09:00 the simulated daemon applies the day's lifecycle events, replans,
reconciles with its log (new keys are added, planned rows no longer wanted are
cancelled unless their catch-up window has closed, sent rows are never touched) and
sends what is due, skipping rows past their catch-up window; it is down from 2024-11-16 to 11-25. The expected counts below were
worked out by hand from the 2024 calendar (see the comments) and the run is replayed to
show it gives the same log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.model import AgencyRef, Deadline, Document, Notification, Task, TaskState
from scheduler.planner import plan
from scheduler.rules import load_rules
from scheduler.workdays import Workdays

TZ = ZoneInfo("Asia/Shanghai")
RULES = load_rules([Path(__file__).parent.parent / "rules" / "reminders.toml"])
GROUPS = {"各县(市、区)人民政府": ("芗城区人民政府", "龙文区人民政府")}
DOC = Document(path="seeds/zz.txt", title="漳州市支持社会力量提供多层次多样化医疗服务实施方案", issued_on=date(2023, 6, 1))
OUTAGE = (date(2024, 11, 16), date(2024, 11, 25))


def task(key: str, agencies: tuple[AgencyRef, ...], *deadlines: Deadline) -> TaskState:
    return TaskState(Task(key, key, key, key, agencies, deadlines), DOC)


def dated(day: date, precision: str, text: str) -> Deadline:
    return Deadline(text, 0, len(text), "deadline", day, precision=precision)


TASKS = {
    # Month deadline 06-30 (a Sunday); done on 06-25, between the week-ahead and the due day.
    "t1": task(
        "t1",
        (AgencyRef("市卫健委", "lead", "市卫健委"), AgencyRef("市财政局", "support", "市财政局")),
        dated(date(2024, 6, 30), "month", "2024年6月底前"),
    ),
    # Quarter deadline 09-30, led by a group; extended on 09-20 to 11-15 and never done.
    "t2": task(
        "t2",
        (AgencyRef("各县(市、区)人民政府", "lead", "各县(市、区)人民政府"), AgencyRef("市发改委", "responsible", "市发改委")),
        dated(date(2024, 9, 30), "quarter", "2024年第三季度"),
    ),
    # A year goal.
    "t3": task("t3", (AgencyRef("市卫健委", "lead", "市卫健委"),), dated(date(2024, 12, 31), "year", "到2024年")),
    # A quarterly report since the document was issued on 2023-06-01.
    "t4": task(
        "t4",
        (AgencyRef("市医保局", "lead", "市医保局"),),
        Deadline("每季度末", 0, 4, "recurring", rrule="FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"),
    ),
    # Named by nobody in the directory: nothing is planned for it.
    "t5": task("t5", (AgencyRef("某某办", "lead", None),), dated(date(2024, 5, 31), "day", "5月31日前")),
    # A start: no reminders, but its agency has digests anyway (it has t1 and t3 too).
    "t6": task("t6", (AgencyRef("市卫健委", "lead", "市卫健委"),), Deadline("2017年起", 0, 6, "start", date(2017, 1, 1), precision="year")),
}
EVENTS = {
    date(2024, 6, 25): ("t1", {"status": "done", "done_at": datetime(2024, 6, 25, 8, tzinfo=TZ)}),
    date(2024, 9, 20): ("t2", {"due": date(2024, 11, 15)}),
}


@dataclass
class Row:
    note: Notification
    status: str = "planned"
    sent_at: datetime | None = None


def simulate() -> dict[str, Row]:
    workdays = Workdays()
    states = dict(TASKS)
    log: dict[str, Row] = {}
    day = date(2024, 1, 1)
    while day <= date(2024, 12, 31):
        if day in EVENTS:
            key, change = EVENTS[day]
            states[key] = replace(states[key], **change)
        if not OUTAGE[0] <= day <= OUTAGE[1]:
            now = datetime.combine(day, time(9), tzinfo=TZ)
            wanted = {
                n.key: n
                for n in plan(
                    list(states.values()),
                    RULES,
                    workdays,
                    now,
                    tz=TZ,
                    expand=lambda name: GROUPS.get(name, (name,)),
                    horizon=timedelta(days=30),
                )
            }
            for key, row in log.items():
                if row.status == "planned" and key not in wanted and not _expired(row, now):
                    row.status = "cancelled"
            for key, note in wanted.items():
                log.setdefault(key, Row(note))
            for row in log.values():
                if row.status == "planned" and row.note.planned_at <= now:
                    if _expired(row, now):
                        row.status = "skipped"
                    else:
                        row.status, row.sent_at = "sent", now
        day += timedelta(days=1)
    return log


def _expired(row: Row, now: datetime) -> bool:
    """Past its catch-up window: the planner no longer plans it, and it is never sent."""
    return row.note.expires_at is not None and now > row.note.expires_at


LOG = simulate()


def test_sent_per_kind_and_agency() -> None:
    sent = Counter((row.note.kind, row.note.agency) for row in LOG.values() if row.status == "sent")
    digests = 53 - 1  # 53 Mondays in 2024; the 11-18 period falls in the outage and gives way to 11-25
    # 市财政局 is named by t1 alone, done 06-25: its digests run to 07-08, the last period
    # within 14 days of the completion: 5 + 4 + 4 + 5 + 4 + 4 + 2 Mondays from January.
    assert sent == {
        # t1: month-ahead 05-31, week-ahead 06-23→06-21; t3: 12-31 less 3 months 09-30, less 1 month 11-30→11-29.
        ("reminder", "市卫健委"): 2 + 2,
        ("reminder", "市财政局"): 2,
        # t2: month-ahead of 09-30 (08-31→08-30), then of 11-15: 10-16 and 11-08; due 11-15;
        # overdue 11-18 (skipped: the outage), 11-25 (sent late on 11-26), 12-02, 12-09.
        ("reminder", "芗城区人民政府"): 3,
        ("due", "芗城区人民政府"): 1,
        ("overdue", "芗城区人民政府"): 3,
        ("escalation", "芗城区人民政府"): 1,  # 11-29, lead role only, cc 督查室
        ("reminder", "龙文区人民政府"): 3,
        ("due", "龙文区人民政府"): 1,
        ("overdue", "龙文区人民政府"): 3,
        ("escalation", "龙文区人民政府"): 1,
        ("reminder", "市发改委"): 3,
        ("due", "市发改委"): 1,
        ("overdue", "市发改委"): 3,
        # t4: a week before and on each quarter end of 2024.
        ("reminder", "市医保局"): 4,
        ("due", "市医保局"): 4,
        ("digest", "市财政局"): 28,
        **{("digest", agency): digests for agency in ("市卫健委", "芗城区人民政府", "龙文区人民政府", "市发改委", "市医保局")},
    }


def test_cancelled_and_skipped() -> None:
    by_status = Counter(row.status for row in LOG.values())
    cancelled = Counter(row.note.rule for row in LOG.values() if row.status == "cancelled")
    skipped = Counter(row.note.rule for row in LOG.values() if row.status == "skipped")
    assert cancelled == {
        "due-today": 2 + 3,  # t1 done (2 agencies), t2 extended (3)
        # t1's four chasers (2 agencies); t2's chasers of 09-30 planned by 09-20, 30 days
        # ahead: 10-08 (10-01 and 10-08 both fall on 10-08 after National Day and
        # coalesce) and 10-14, not yet 10-21 (3 agencies).
        "overdue": 4 * 2 + 2 * 3,
        "escalation": 1 + 2,
        "week-ahead": 3,  # t2's 09-23, three days after its extension
        # 市财政局's 07-15 and 07-22 periods, already planned when t1 was done.
        "weekly": 2,
    }
    # t2's first chaser fell in the outage, and so did the five agencies' 11-18 period,
    # superseded before the daemon came back: their windows closed unsent. (t4's 2023
    # quarters were past their windows before the first run: never planned at all.)
    assert skipped == {"overdue": 3, "weekly": 5}
    assert by_status["planned"] == 4 * 5  # January 2025 digests within the 30-day horizon, 市财政局 aside


def test_every_message_was_planned_for_a_workday_morning() -> None:
    workdays = Workdays()
    for row in LOG.values():
        assert workdays.is_workday(row.note.planned_at.date()), row.note.key
        assert row.note.planned_at.timetz() == time(9, tzinfo=TZ), row.note.key


def test_late_sends_are_the_catch_up_ones() -> None:
    late = sorted((row.note.key, row.sent_at.date()) for row in LOG.values() if row.status == "sent" and row.sent_at != row.note.planned_at)
    assert late == [
        ("digest:weekly:市医保局:2024-11-25", date(2024, 11, 26)),
        ("digest:weekly:市卫健委:2024-11-25", date(2024, 11, 26)),
        ("digest:weekly:市发改委:2024-11-25", date(2024, 11, 26)),
        ("digest:weekly:芗城区人民政府:2024-11-25", date(2024, 11, 26)),
        ("digest:weekly:龙文区人民政府:2024-11-25", date(2024, 11, 26)),
        ("reminder:overdue:t2:2024-11-15:市发改委:2", date(2024, 11, 26)),
        ("reminder:overdue:t2:2024-11-15:芗城区人民政府:2", date(2024, 11, 26)),
        ("reminder:overdue:t2:2024-11-15:龙文区人民政府:2", date(2024, 11, 26)),
    ]


def test_replaying_the_year_gives_the_same_log() -> None:
    assert simulate() == LOG
