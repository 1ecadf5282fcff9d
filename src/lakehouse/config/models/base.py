"""What every config model shares: strict validation, names, durations, schedules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""Lower-case snake case: safe as a DAG id part, a task id, a table or a column name."""

DottedName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")]
Duration = Annotated[timedelta, Field(gt=timedelta(0))]
"""ISO 8601 duration such as ``PT2H`` (or a number of seconds)."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ownership(StrictModel):
    """Who answers for a pipeline and who pays for it: every DAG of it carries both."""

    owner: str = Field(min_length=1)
    """The team answering for it: the owner of its DAGs."""
    cost_centre: str = Field(min_length=1)
    """Tagged ``cost_centre:<value>`` on its DAGs."""
    tags: tuple[str, ...] = ()
    """More tags for its DAGs."""


class Schedule(StrictModel):
    cron: str
    """Five-field cron expression of the run times, such as ``0 4 * * *``."""
    timezone: str = "UTC"
    """IANA time zone the cron expression is read in, such as ``Australia/Sydney``."""

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError("not a valid cron expression; expected five fields such as '0 4 * * *'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA timezone; expected a name such as 'Australia/Sydney'") from None
        return value

    def fires_on(self, day: date) -> bool:
        """Whether a run time falls on ``day``, a calendar day in the schedule's timezone."""
        midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(self.timezone))
        # croniter's start is exclusive: from a microsecond before midnight, midnight itself counts.
        first = croniter(self.cron, midnight - timedelta(microseconds=1)).get_next(datetime)
        return bool(first.date() == day)
