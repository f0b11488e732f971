"""China's official working calendar, as the reminders and the deadline words need it.

Chinese public holidays are not weekends plus fixed dates: every year the State
Council publishes which days are off and which weekends become make-up working days
(调休), e.g. Saturday 2024-10-12 and Sunday 2025-01-26 were working days. That table
is data that changes with the world, so it comes from python-holidays
(``holidays.China``), which cites each notice, rather than from code here.

For a year the library has no notice for (the future, or before 2001) it still knows
the statutory holidays but not the 调休 swaps, so the calendar falls back to weekends
plus statutory holidays and logs a warning once per year. ``[calendar]
extra_workdays``/``extra_holidays`` in config.toml override both, which is how an
office applies a new notice before the library catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import holidays
from holidays.countries.china import ChinaStaticHolidays

from scheduler.errors import ConfigError

log = logging.getLogger(__name__)

OFFICIAL_YEARS = frozenset(ChinaStaticHolidays.special_public_holidays) | frozenset(
    ChinaStaticHolidays.special_public_holidays_observed
)
"""Years for which python-holidays carries the State Council's 调休 notice."""

_ONE_DAY = timedelta(days=1)


class Workdays:
    """Answers "is this a working day?" and walks to the nearest ones."""

    def __init__(self, extra_workdays: Iterable[date] = (), extra_holidays: Iterable[date] = ()) -> None:
        self._extra_workdays = frozenset(extra_workdays)
        self._extra_holidays = frozenset(extra_holidays)
        both = self._extra_workdays & self._extra_holidays
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ConfigError(f"[calendar] lists {days} both as an extra workday and as an extra holiday.")
        self._china = holidays.China()
        self._warned: set[int] = set()
        # Answers already given: counting 15个工作日 or walking to a workday asks about the
        # same few days again and again, and python-holidays answers each in microseconds.
        self._known: dict[date, bool] = {}

    def is_workday(self, d: date) -> bool:
        known = self._known.get(d)
        if known is None:
            known = self._known[d] = self._look_up(d)
        return known

    def _look_up(self, d: date) -> bool:
        if d in self._extra_holidays:
            return False
        if d in self._extra_workdays:
            return True
        if d.year not in OFFICIAL_YEARS and d.year not in self._warned:
            self._warned.add(d.year)
            log.warning(
                "No official holiday notice for %d in python-holidays: using weekends and statutory "
                "holidays without make-up workdays; add [calendar] extra_workdays/extra_holidays to correct it.",
                d.year,
            )
        return self._china.is_working_day(d)

    def previous(self, d: date) -> date:
        """``d`` itself if a workday, else the workday before it."""
        while not self.is_workday(d):
            d -= _ONE_DAY
        return d

    def next(self, d: date) -> date:
        """``d`` itself if a workday, else the workday after it."""
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def add(self, d: date, n: int) -> date:
        """The ``n``-th workday after ``d`` (before it when ``n`` is negative).

        ``d`` itself never counts, as in 印发之日起10个工作日内: the issue day is day 0.
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        for _ in range(abs(n)):
            d += step
            while not self.is_workday(d):
                d += step
        return d
