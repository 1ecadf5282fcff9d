"""The maintenance a table needs, from its history: case by case, and as properties of generated
table lives against a model of the table's files (what each OPTIMIZE compacts, each VACUUM deletes)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from lakehouse.core.maintenance import Commit, Upkeep, upkeep

WEEK = timedelta(days=7)
DAY, RETENTION = 1440, 7 * 1440  # minutes


def _history(*commits: tuple[str, float]) -> list[Commit]:
    """Commits given oldest first as (operation, age in days); returned newest first."""
    return [Commit(operation, timedelta(days=age)) for operation, age in reversed(commits)]


@pytest.mark.parametrize(
    ("commits", "expected"),
    [
        pytest.param(
            [("WRITE", 0.1), ("MERGE", 0.05)], Upkeep(optimize=True, vacuum=False), id="all-younger-than-retention"
        ),
        pytest.param([("WRITE", 9), ("MERGE", 8)], Upkeep(optimize=True, vacuum=True), id="never-maintained"),
        pytest.param(
            [("WRITE", 20), ("OPTIMIZE", 14), ("VACUUM START", 14), ("VACUUM END", 14)],
            Upkeep(optimize=False, vacuum=True),
            id="optimize-tombstones-now-old-enough",
        ),
        pytest.param(
            [
                ("WRITE", 30),
                ("OPTIMIZE", 21.5),
                ("VACUUM START", 21),
                ("VACUUM END", 21),
                ("VACUUM START", 14),
                ("VACUUM END", 14),
            ],
            Upkeep(optimize=False, vacuum=False),
            id="untouched-since-its-last-vacuum-caught-up",
        ),
        pytest.param(
            [("WRITE", 20), ("OPTIMIZE", 7.5), ("VACUUM START", 7.5), ("VACUUM END", 7.5), ("MERGE", 6.9)],
            Upkeep(optimize=True, vacuum=True),
            id="weekly-the-weeks-write-to-compact-and-last-weeks-compaction-to-clean",
        ),
        pytest.param(
            [("WRITE", 20), ("OPTIMIZE", 1), ("VACUUM START", 1), ("VACUUM END", 1)],
            Upkeep(optimize=False, vacuum=False),
            id="maintained-yesterday",
        ),
        pytest.param(
            [("WRITE", 20), ("OPTIMIZE", 1)], Upkeep(optimize=False, vacuum=True), id="vacuum-failed-after-optimize"
        ),
        pytest.param(
            [("WRITE", 20), ("VACUUM START", 8), ("VACUUM END", 8)],
            Upkeep(optimize=False, vacuum=False),
            id="optimize-had-nothing-to-compact",
        ),
        pytest.param(
            [
                ("WRITE", 30),
                ("OPTIMIZE", 21),
                ("VACUUM START", 20),
                ("VACUUM END", 20),
                ("MERGE", 13),
                ("VACUUM START", 7),
                ("VACUUM END", 7),
            ],
            Upkeep(optimize=False, vacuum=True),
            id="a-rewrite-too-young-for-the-last-vacuum-is-cleaned-by-this-one",
        ),
        pytest.param([], Upkeep(optimize=False, vacuum=False), id="no-commits"),
    ],
)
def test_what_is_due(commits: list[tuple[str, float]], expected: Upkeep) -> None:
    assert upkeep(_history(*commits), WEEK) == expected


class _Table:
    """A model of a Delta table's files: commits add files and tombstone others; OPTIMIZE compacts
    the live files into one (and commits nothing when there is at most one); VACUUM, a minute after,
    deletes the files tombstoned more than a retention before. Time is in whole minutes."""

    def __init__(self) -> None:
        self.commits: list[tuple[str, int]] = []  # (operation, minute), oldest first
        self.live: set[int] = set()
        self.tombstoned: dict[int, int] = {}  # file -> minute it was removed
        self.next_file = 0

    def _add(self) -> int:
        self.next_file += 1
        self.live.add(self.next_file)
        return self.next_file

    def _remove(self, files: set[int], now: int) -> None:
        self.live -= files
        self.tombstoned |= dict.fromkeys(files, now)

    def write(self, rng: random.Random, now: int) -> None:
        # An append adds files; a MERGE or DELETE rewrites some (on a one-file table: that file).
        operation = rng.choice(["WRITE", "MERGE", "MERGE", "DELETE"])
        if operation == "WRITE" or not self.live:
            added = rng.randint(1, 3)
        else:
            self._remove(set(rng.sample(sorted(self.live), rng.randint(1, len(self.live)))), now)
            added = rng.randint(0, 1)
        for _ in range(added):
            self._add()
        self.commits.append((operation, now))

    def maintain(self, now: int) -> Upkeep:
        history = [Commit(operation, timedelta(minutes=now - at)) for operation, at in reversed(self.commits)]
        due = upkeep(history, WEEK)
        if due.optimize and len(self.live) > 1:
            self._remove(set(self.live), now)
            self._add()
            self.commits.append(("OPTIMIZE", now))
        if due.vacuum:
            for file in [f for f, removed in self.tombstoned.items() if now + 1 - removed > RETENTION]:
                del self.tombstoned[file]
            self.commits += [("VACUUM START", now + 1), ("VACUUM END", now + 1)]
        return due


@pytest.mark.parametrize("seed", range(300))
def test_maintenance_as_decided_leaves_no_file_past_its_retention_and_the_live_files_compacted(seed: int) -> None:
    rng = random.Random(seed)
    table, every = _Table(), rng.choice([1, 3, 7, 14])  # maintenance daily to fortnightly
    busy = rng.choice([0.1, 0.3, 0.7])  # the chance of a write on a given day
    for day in range(90):
        for _ in range(rng.choice([1, 2]) if rng.random() < busy and day % 30 < 20 else 0):  # ten quiet days a month
            table.write(rng, day * DAY + rng.randrange(DAY - 120))
        if day % every == 0:
            table.maintain(day * DAY + DAY - 60)
            vacuumed_at = day * DAY + DAY - 59
            assert all(vacuumed_at - removed <= RETENTION for removed in table.tombstoned.values()), table.commits
            assert len(table.live) <= 1


@pytest.mark.parametrize("seed", range(300))
def test_a_table_left_alone_is_cleaned_and_then_stops_costing_maintenance(seed: int) -> None:
    rng = random.Random(seed)
    table = _Table()
    for day in range(30):
        for _ in range(rng.choice([1, 2]) if rng.random() < 0.2 else 0):
            table.write(rng, day * DAY + rng.randrange(DAY - 120))
        if day % 7 == 0:
            table.maintain(day * DAY + DAY - 60)
    quiet = []
    for day in range(35, 120, 7):
        quiet.append(table.maintain(day * DAY + DAY - 60))
        vacuumed_at = day * DAY + DAY - 59
        assert all(vacuumed_at - removed <= RETENTION for removed in table.tombstoned.values()), table.commits

    # OPTIMIZE with one file to compact leaves no commit, so it may be tried twice more for nothing.
    assert not any(due.optimize for due in quiet[2:])
    assert quiet[3:] == [Upkeep(optimize=False, vacuum=False)] * len(quiet[3:])
