"""Schedules: which calendar days a cron expression runs on, in its own timezone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lakehouse.config.models.base import Schedule

MARCH = [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]


def test_a_weekly_schedule_falls_on_its_weekday_only() -> None:
    sundays = Schedule(cron="0 2 * * 0", timezone="Australia/Sydney")

    assert [day for day in MARCH if sundays.fires_on(day)] == [date(2026, 3, n) for n in (1, 8, 15, 22, 29)]


def test_a_run_at_midnight_belongs_to_the_day_it_starts() -> None:
    midnight = Schedule(cron="0 0 1 * *")

    assert [day for day in MARCH if midnight.fires_on(day)] == [date(2026, 3, 1)]


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [("UTC", date(2026, 3, 1)), ("Australia/Sydney", date(2026, 3, 1)), ("America/Los_Angeles", date(2026, 3, 1))],
)
def test_the_day_is_read_in_the_schedules_timezone(timezone: str, expected: date) -> None:
    late = Schedule(cron="30 23 1 3 *", timezone=timezone)

    assert [day for day in MARCH if late.fires_on(day)] == [expected]


def test_a_day_lengthened_by_a_clock_change_still_has_its_run() -> None:
    # Sydney's clocks go back from 03:00 to 02:00 on 5 April 2026: 02:30 happens twice, and is one day.
    repeated = Schedule(cron="30 2 5 4 *", timezone="Australia/Sydney")

    assert repeated.fires_on(date(2026, 4, 5)) and not repeated.fires_on(date(2026, 4, 4))
