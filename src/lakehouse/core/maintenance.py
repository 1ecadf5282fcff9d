"""Which maintenance a Delta table needs, decided from its history alone.

OPTIMIZE compacts the files written since the last OPTIMIZE, so it is due only when a write came
after the last maintenance run: its OPTIMIZE, or its VACUUM where OPTIMIZE had nothing to compact
and so committed nothing (a maintenance run does both, OPTIMIZE first).

VACUUM deletes the files a commit removed once they are older than the retention; the last VACUUM
already deleted those that were old enough then. So VACUUM is due only when a commit is old enough
now and was not yet old enough at the last VACUUM. (Files a failed write left behind are as old as
the retried write's commit, so they come due with it.)

A week of daily writes under a weekly schedule still gets both; an untouched table, or one whose
every commit is younger than the retention, costs one history read instead of two Spark jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

OPTIMIZE = "OPTIMIZE"
VACUUM_COMMITS = frozenset({"VACUUM START", "VACUUM END"})
"""Delta logs a VACUUM as these two commits; they remove no data file, so they are nothing to clean."""


@dataclass(frozen=True)
class Commit:
    operation: str
    """As ``DESCRIBE HISTORY`` names it: ``WRITE``, ``MERGE``, ``OPTIMIZE``, ``VACUUM END``, ..."""
    age: timedelta
    """How long ago it was committed."""


@dataclass(frozen=True)
class Upkeep:
    optimize: bool
    vacuum: bool

    def describe(self) -> str:
        if self.optimize or self.vacuum:
            return ", ".join(step for step, due in (("optimize", self.optimize), ("vacuum", self.vacuum)) if due)
        return "nothing due"


def upkeep(history: Sequence[Commit], retention: timedelta) -> Upkeep:
    """What a table with ``history`` (newest first) needs, under a VACUUM retention of ``retention``."""
    optimize = False
    for commit in history:
        if commit.operation in (OPTIMIZE, "VACUUM END"):
            break
        optimize = optimize or commit.operation != "VACUUM START"
    last_vacuum = next((c.age for c in history if c.operation == "VACUUM END"), None)
    # VACUUM deletes what was removed more than a retention before it ran.
    vacuum = any(
        commit.operation not in VACUUM_COMMITS
        and commit.age > retention
        and (last_vacuum is None or commit.age <= last_vacuum + retention)
        for commit in history
    )
    return Upkeep(optimize, vacuum)
