"""Loading rule files: the default set, and one clear error per kind of mistake."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from scheduler.errors import RuleError
from scheduler.rules import DigestRule, Match, ReminderRule, RuleSet, load_rules

DEFAULT = Path(__file__).parent.parent / "rules" / "reminders.toml"
TZ = ZoneInfo("Asia/Shanghai")


def write(tmp_path: Path, text: str, name: str = "reminders.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_rules_load() -> None:
    rules = load_rules([DEFAULT])
    by_name = {rule.name: rule for rule in rules.reminders}
    assert set(by_name) == {
        "month-ahead",
        "week-ahead",
        "due-today",
        "recurring-week-ahead",
        "recurring-due",
        "goal-quarter-ahead",
        "goal-month-ahead",
        "overdue",
        "escalation",
    }
    assert by_name["overdue"].every == relativedelta(days=7) and by_name["overdue"].times == 4
    assert by_name["escalation"].cc == ("督查室",) and by_name["escalation"].roles == ("lead",)
    assert by_name["goal-quarter-ahead"].offset == relativedelta(months=3)
    assert by_name["goal-quarter-ahead"].match == Match(precision=("year",))
    assert rules.digests == (DigestRule(name="weekly", cron="0 9 * * mon", window_days=14),)


def test_a_full_reminder_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[reminder]]
        name = "report"
        kind = "overdue"
        offset = { weeks = 1, days = 1 }
        every = { months = 1 }
        times = 3
        roles = ["lead", "responsible"]
        cc = ["督查室"]
        template = "overdue-report"
        at = 14:30:00
        catch_up = { days = 1 }
        match = { precision = ["month"], deadline_kind = ["deadline"], document = ["漳政办〔2018〕98号"], jurisdiction = ["漳州市"], agency = ["市卫健委"], title_words = ["医疗"] }
        """,
    )
    assert load_rules([path]) == RuleSet(
        reminders=(
            ReminderRule(
                name="report",
                kind="overdue",
                offset=relativedelta(weeks=1, days=1),
                every=relativedelta(months=1),
                times=3,
                roles=("lead", "responsible"),
                cc=("督查室",),
                template="overdue-report",
                at=time(14, 30),
                catch_up=relativedelta(days=1),
                match=Match(
                    precision=("month",),
                    deadline_kind=("deadline",),
                    document=("漳政办〔2018〕98号",),
                    jurisdiction=("漳州市",),
                    agency=("市卫健委",),
                    title_words=("医疗",),
                ),
            ),
        )
    )


def test_rules_from_several_files_add_up(tmp_path: Path) -> None:
    extra = write(tmp_path, '[[digest]]\nname = "monthly"\ncron = "30 8 1 * *"\ninclude_empty = true\n', "extra.toml")
    rules = load_rules([DEFAULT, extra])
    assert [d.name for d in rules.digests] == ["weekly", "monthly"]
    assert rules.digests[1].include_empty is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[reminder]]\nname = "a"\nkind = "due"\ntemplte = "x"', "rule 'a' has unknown key 'templte'"),
        ('[[reminder]]\nname = "a"\nkind = "reminder"\noffset = { days = -7 }', "rule 'a', key 'offset': days must be a whole number of zero or more"),
        ('[[reminder]]\nname = "a"\nkind = "reminder"\noffset = { fortnights = 1 }', "key 'offset': unknown unit 'fortnights'"),
        ('[[reminder]]\nname = "a"\nkind = "reminder"\noffset = 7', "key 'offset': expected a table such as { days = 7 }"),
        ('[[reminder]]\nname = "a"\nkind = "reminder"', "rule 'a', key 'offset': a reminder rule needs an offset"),
        ('[[reminder]]\nname = "a"\nkind = "due"\noffset = { days = 1 }', "key 'offset': a due reminder is sent on the deadline itself"),
        ('[[reminder]]\nname = "a"\nkind = "nag"', "rule 'a', key 'kind': 'nag' is not one of reminder, due, overdue, escalation"),
        ('[[reminder]]\nname = "a"', "rule 'a', key 'kind': is required"),
        ('[[reminder]]\nkind = "due"', "[[reminder]] #1 needs a name"),
        ('[[reminder]]\nname = "a:b"\nkind = "due"', "[[reminder]] #1 needs a name of letters, digits"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nroles = ["boss"]', "rule 'a', key 'roles': 'boss' is not one of lead, support, responsible"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nroles = []', "rule 'a', key 'roles': name at least one role"),
        ('[[reminder]]\nname = "a"\nkind = "due"\ncc = "督查室"', "rule 'a', key 'cc': expected a list of strings"),
        ('[[reminder]]\nname = "a"\nkind = "due"\ntemplate = "../etc/passwd"', "rule 'a', key 'template': '../etc/passwd' is not a template name"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nat = "09:00"', "rule 'a', key 'at': expected time, got '09:00'"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nevery = { days = 7 }\ntimes = 2', "rule 'a', key 'every': only overdue and escalation rules repeat"),
        ('[[reminder]]\nname = "a"\nkind = "overdue"\noffset = { days = 1 }\nevery = { days = 7 }', "key 'times': every and times go together"),
        ('[[reminder]]\nname = "a"\nkind = "overdue"\noffset = { days = 1 }\nevery = { days = 0 }\ntimes = 2', "key 'every': a repeat needs a distance greater than zero"),
        ('[[reminder]]\nname = "a"\nkind = "overdue"\noffset = { days = 1 }\nevery = { days = 7 }\ntimes = 0', "key 'times': must be 1 or more"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nmatch = { precison = ["day"] }', "key 'match': unknown filter 'precison'"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nmatch = { precision = ["week"] }', "key 'precision': 'week' is not one of day, month, quarter, half, year"),
        ('[[reminder]]\nname = "a"\nkind = "due"\nmatch = { deadline_kind = ["start"] }', "deadline_kind 'start' gets no reminders"),
        ('[[digest]]\nname = "d"\ncron = "0 9 31 2 *"', "rule 'd', key 'cron': '0 9 31 2 *' never fires"),
        ('[[digest]]\nname = "d"\ncron = "0 9 * *"', "key 'cron': '0 9 * *' must have 5 fields"),
        ('[[digest]]\nname = "d"\ncron = "0 25 * * *"', "key 'cron': '0 25 * * *' is not a valid crontab"),
        ('[[digest]]\nname = "d"\ncron = "*/15 9 * * *"', "must name one minute and one hour"),
        ('[[digest]]\nname = "d"', "rule 'd', key 'cron': is required"),
        ('[[digest]]\nname = "d"\ncron = "0 9 * * 1"\nwindow_days = -1', "key 'window_days': must be 0 or more"),
        ('[[digest]]\nname = "d"\ncron = "0 9 * * 1"\ninclude_empty = "yes"', "key 'include_empty': expected bool"),
        ('[[digets]]\nname = "d"', "the file has unknown key 'digets'"),
        ("[reminder]\nname = 1", "reminder must be an array of tables written [[reminder]]"),
        ('[[reminder]]\nname = "a"\nkind = "due"\n[[reminder]]\nname = "a"\nkind = "due"', "rule 'a' is already defined in"),
        ('[quiet_hours]\nstart = 21:00:00\nend = "07:00"', "[quiet_hours], key 'end': expected a local time"),
        ("[quiet_hours]\nstart = 21:00:00\nend = 21:00:00", "start and end are equal"),
        ('[quiet_hours]\nstart = 21:00:00\nend = 07:00:00\n[[reminder]]\nname = "a"\nkind = "due"\nat = 06:30:00', "rule 'a', key 'at': 06:30 is inside the quiet hours"),
        ('[quiet_hours]\nstart = 08:00:00\nend = 10:00:00\n[[digest]]\nname = "d"\ncron = "0 9 * * 1"', "rule 'd', key 'cron': 09:00 is inside the quiet hours"),
        ("[[reminder]\n", "is not valid TOML"),
    ],
)
def test_bad_rules_name_file_rule_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="Cannot read rule file .*nowhere.toml"):
        load_rules([tmp_path / "nowhere.toml"])


def test_quiet_hours_set_twice(tmp_path: Path) -> None:
    one = write(tmp_path, "[quiet_hours]\nstart = 21:00:00\nend = 07:00:00\n", "one.toml")
    two = write(tmp_path, "[quiet_hours]\nstart = 22:00:00\nend = 07:00:00\n", "two.toml")
    with pytest.raises(RuleError, match="two.toml: \\[quiet_hours\\] is already set"):
        load_rules([one, two])


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        (None, datetime(2024, 6, 3, 23, 0), datetime(2024, 6, 3, 23, 0)),
        ((time(21), time(7)), datetime(2024, 6, 3, 20, 59), datetime(2024, 6, 3, 20, 59)),
        ((time(21), time(7)), datetime(2024, 6, 3, 21, 0), datetime(2024, 6, 4, 7, 0)),
        ((time(21), time(7)), datetime(2024, 6, 30, 23, 0), datetime(2024, 7, 1, 7, 0)),
        ((time(21), time(7)), datetime(2024, 6, 4, 3, 0), datetime(2024, 6, 4, 7, 0)),
        ((time(21), time(7)), datetime(2024, 6, 4, 7, 0), datetime(2024, 6, 4, 7, 0)),
        ((time(12), time(14)), datetime(2024, 6, 4, 12, 30), datetime(2024, 6, 4, 14, 0)),
        ((time(12), time(14)), datetime(2024, 6, 4, 15, 0), datetime(2024, 6, 4, 15, 0)),
    ],
)
def test_after_quiet_hours(quiet, moment: datetime, expected: datetime) -> None:
    rules = RuleSet(quiet_hours=quiet)
    assert rules.after_quiet_hours(moment.replace(tzinfo=TZ)) == expected.replace(tzinfo=TZ)
