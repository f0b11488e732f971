"""What a digest tells an agency, computed from task states as literals."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from scheduler.digest import build_digest, by_agency, missed_and_coming
from scheduler.model import AgencyRef, Deadline, Document, Task, TaskState

DOC = Document(path="plan.txt", title="漳州市实施方案", doc_number="漳政办〔2018〕98号", jurisdiction="漳州市")
OTHER_DOC = Document(path="other.txt", title="保山市实施方案", doc_number=None, jurisdiction="保山市")
AS_OF = date(2018, 6, 4)


def deadline(text: str, when: date | None, kind: str = "deadline", dates: tuple[date, ...] = ()) -> Deadline:
    return Deadline(text=text, start=0, end=len(text), kind=kind, date=when, dates=dates, precision="day")  # type: ignore[arg-type]


def state(
    number: str,
    deadlines: tuple[Deadline, ...],
    *,
    agencies: tuple[AgencyRef, ...] = (AgencyRef("市卫计委", "lead", "卫健委"),),
    status: str = "open",
    done_at: datetime | None = None,
    due: date | None = None,
    document: Document = DOC,
) -> TaskState:
    task = Task(key=f"k#{number}", number=number, title=f"任务{number}", text="", agencies=agencies, deadlines=deadlines)
    return TaskState(task=task, document=document, status=status, done_at=done_at, due=due)  # type: ignore[arg-type]


def sections_of(states: list[TaskState], agency: str = "卫健委", **kwargs) -> dict[str, list[str]]:
    digest = build_digest(states, agency, as_of=AS_OF, period="2018-06-04", window_days=30, **kwargs)
    assert digest is not None
    found: dict[str, list[str]] = {"overdue": [], "due_soon": [], "undated": [], "completed": []}
    for section in digest.sections:
        for name in found:
            found[name].extend(line.task_number for line in getattr(section, name))
    return found


def test_tasks_land_in_the_right_section() -> None:
    states = [
        state("1", (deadline("2018年5月底前", date(2018, 5, 31)),)),
        state("2", (deadline("2018年6月底前", date(2018, 6, 30)),)),
        state("3", (deadline("2018年底前", date(2018, 12, 31)),)),
        state("4", (deadline("逐步", None, kind="none"),)),
        state("5", (deadline("2017年起", date(2017, 1, 1), kind="start"),)),
        state("6", (deadline("2018年5月底前", date(2018, 5, 31)),), status="done",
              done_at=datetime(2018, 5, 20, tzinfo=timezone.utc)),
        state("7", (deadline("2017年底前", date(2017, 12, 31)),), status="done",
              done_at=datetime(2018, 1, 5, tzinfo=timezone.utc)),
    ]
    assert sections_of(states) == {"overdue": ["1"], "due_soon": ["2"], "undated": ["4", "5"], "completed": ["6"]}


def test_a_missed_milestone_is_overdue_even_with_a_later_one_pending() -> None:
    multi = deadline("到2017年、2018年底", None, kind="multi", dates=(date(2017, 12, 31), date(2018, 12, 31)))
    digest = build_digest([state("1", (multi,))], "卫健委", as_of=AS_OF, period="p", window_days=30)
    assert digest is not None
    line = digest.sections[0].overdue[0]
    assert (line.due, line.days_left) == (date(2017, 12, 31), -155)


def test_an_extension_replaces_the_dates() -> None:
    extended = state("1", (deadline("2018年5月底前", date(2018, 5, 31)),), due=date(2018, 6, 15))
    assert missed_and_coming(extended, as_of=AS_OF, until=date(2019, 1, 1)) == ([], [date(2018, 6, 15)])
    digest = build_digest([extended], "卫健委", as_of=AS_OF, period="p", window_days=30)
    assert digest is not None
    assert digest.sections[0].due_soon[0].deadline_text == "延期至2018-06-15"


def test_group_members_see_the_group_tasks_with_its_role() -> None:
    group = AgencyRef("各县(市、区)人民政府", "support", "各县(市、区)人民政府")
    states = [state("1", (deadline("2018年6月底前", date(2018, 6, 30)),), agencies=(group,))]
    members = {"各县(市、区)人民政府": ("芗城区人民政府", "龙文区人民政府")}
    digest = build_digest(states, "龙文区人民政府", as_of=AS_OF, period="p", window_days=30,
                          expand=lambda name: members.get(name, (name,)))
    assert digest is not None and digest.sections[0].due_soon[0].role == "support"


def test_sections_are_grouped_by_document() -> None:
    states = [
        state("1", (deadline("2018年6月底前", date(2018, 6, 30)),), document=OTHER_DOC),
        state("2", (deadline("2018年6月底前", date(2018, 6, 30)),)),
    ]
    digest = build_digest(states, "卫健委", as_of=AS_OF, period="p", window_days=30)
    assert digest is not None
    assert [s.document_title for s in digest.sections] == ["保山市实施方案", "漳州市实施方案"]


def test_recurring_obligations_are_due_soon_never_overdue() -> None:
    quarterly = Deadline(text="每季度末", start=0, end=4, kind="recurring",
                         rrule="FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1")
    issued = Document(path="p.txt", title="季报方案", issued_on=date(2018, 1, 10), jurisdiction="漳州市")
    digest = build_digest([state("1", (quarterly,), document=issued)], "卫健委", as_of=AS_OF, period="p", window_days=30)
    assert digest is not None
    section = digest.sections[0]
    assert section.overdue == ()
    assert [(line.due, line.deadline_text) for line in section.due_soon] == [(date(2018, 6, 30), "每季度末")]


@pytest.mark.parametrize("include_empty", [False, True])
def test_nothing_to_report(include_empty: bool) -> None:
    far = [state("1", (deadline("2020年底前", date(2020, 12, 31)),))]
    digest = build_digest(far, "卫健委", as_of=AS_OF, period="p", window_days=30, include_empty=include_empty)
    assert (digest is not None) == include_empty
    unrelated = build_digest(far, "财政局", as_of=AS_OF, period="p", window_days=30, include_empty=include_empty)
    assert (unrelated is not None) == include_empty


def test_tasks_by_agency_give_each_agency_the_digest_it_gets_from_all_tasks() -> None:
    groups = {"各县区政府": ("芗城区政府", "龙文区政府")}
    expand = lambda name: groups.get(name, (name,))  # noqa: E731
    states = [
        state("1", (deadline("6月底前", date(2018, 6, 30)),), agencies=(AgencyRef("市卫计委", "lead", "卫健委"), AgencyRef("各县区", "support", "各县区政府"))),
        state("2", (deadline("5月底前", date(2018, 5, 31)),), agencies=(AgencyRef("芗城区", "lead", "芗城区政府"),)),
        state("3", (), agencies=(AgencyRef("某办", "lead", None),)),
    ]
    tasks = by_agency(states, expand)
    assert {agency: [s.task.number for s in mine] for agency, mine in tasks.items()} == {
        "卫健委": ["1"],
        "芗城区政府": ["1", "2"],
        "龙文区政府": ["1"],
    }
    for agency, mine in tasks.items():
        whole = build_digest(states, agency, as_of=AS_OF, period="p", window_days=30, expand=expand)
        assert build_digest(mine, agency, as_of=AS_OF, period="p", window_days=30, expand=expand) == whole
