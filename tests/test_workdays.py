"""China's working calendar: holidays, make-up working weekends (调休), overrides."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from scheduler.errors import ConfigError
from scheduler.workdays import Workdays

CALENDAR = Workdays()


@pytest.mark.parametrize(
    ("day", "workday", "why"),
    [
        (date(2024, 10, 1), False, "National Day"),
        (date(2024, 10, 7), False, "National Day week, a Monday off"),
        (date(2024, 10, 8), True, "first day back"),
        (date(2024, 9, 29), True, "Sunday made a workday for National Day"),
        (date(2024, 10, 12), True, "Saturday made a workday for National Day"),
        (date(2024, 10, 13), False, "an ordinary Sunday"),
        (date(2024, 2, 4), True, "Sunday made a workday for Spring Festival"),
        (date(2024, 2, 12), False, "Spring Festival, a Monday off"),
        (date(2024, 2, 18), True, "Sunday made a workday after Spring Festival"),
        (date(2025, 1, 26), True, "Sunday made a workday for Spring Festival"),
        (date(2025, 1, 28), False, "Spring Festival eve, off since 2025"),
        (date(2025, 2, 4), False, "last day of Spring Festival"),
        (date(2025, 2, 8), True, "Saturday made a workday for Spring Festival"),
        (date(2025, 10, 8), False, "National Day and Mid-Autumn together"),
        (date(2025, 10, 11), True, "Saturday made a workday for National Day"),
        (date(2024, 2, 29), True, "a leap day on a Thursday"),
        (date(2024, 3, 2), False, "an ordinary Saturday"),
    ],
)
def test_official_calendar(day: date, workday: bool, why: str) -> None:
    assert CALENDAR.is_workday(day) is workday, why


@pytest.mark.parametrize(
    ("day", "previous", "next_"),
    [
        (date(2024, 10, 1), date(2024, 9, 30), date(2024, 10, 8)),
        (date(2024, 10, 12), date(2024, 10, 12), date(2024, 10, 12)),
        (date(2024, 10, 13), date(2024, 10, 12), date(2024, 10, 14)),
        (date(2025, 1, 29), date(2025, 1, 27), date(2025, 2, 5)),
        (date(2025, 1, 27), date(2025, 1, 27), date(2025, 1, 27)),
        (date(2025, 2, 9), date(2025, 2, 8), date(2025, 2, 10)),
    ],
)
def test_previous_and_next(day: date, previous: date, next_: date) -> None:
    assert CALENDAR.previous(day) == previous
    assert CALENDAR.next(day) == next_


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 9, 27), 1, date(2024, 9, 29)),  # Friday → the make-up Sunday
        (date(2024, 9, 30), 1, date(2024, 10, 8)),  # across National Day
        (date(2024, 9, 30), 10, date(2024, 10, 18)),  # 10个工作日内, with the make-up Saturday
        (date(2024, 10, 8), 0, date(2024, 10, 8)),
        (date(2024, 10, 8), -1, date(2024, 9, 30)),
        (date(2025, 1, 24), 2, date(2025, 1, 27)),  # Friday, make-up Sunday, Monday
    ],
)
def test_add(start: date, n: int, expected: date) -> None:
    assert CALENDAR.add(start, n) == expected


def test_year_without_official_data_falls_back_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    calendar = Workdays()
    with caplog.at_level(logging.WARNING, logger="scheduler.workdays"):
        assert calendar.is_workday(date(2030, 10, 1)) is False  # statutory National Day
        assert calendar.is_workday(date(2030, 10, 12)) is False  # a Saturday: no 调休 known
        assert calendar.is_workday(date(2030, 10, 14)) is True
    [record] = caplog.records  # once per year, not once per question
    assert "2030" in record.getMessage() and "extra_workdays" in record.getMessage()


def test_official_year_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="scheduler.workdays"):
        Workdays().is_workday(date(2025, 5, 5))
    assert caplog.records == []


def test_config_overrides_win() -> None:
    calendar = Workdays(extra_workdays=[date(2030, 10, 12)], extra_holidays=[date(2024, 10, 8)])
    assert calendar.is_workday(date(2030, 10, 12)) is True
    assert calendar.is_workday(date(2024, 10, 8)) is False
    assert calendar.next(date(2024, 10, 1)) == date(2024, 10, 9)


def test_a_day_cannot_be_both_extra_workday_and_holiday() -> None:
    with pytest.raises(ConfigError, match="2030-10-12"):
        Workdays(extra_workdays=[date(2030, 10, 12)], extra_holidays=[date(2030, 10, 12)])
