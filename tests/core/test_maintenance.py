"""The maintenance a table needs, from its history: case by case, and as properties of generated
table lives against a model of the table's files (what each OPTIMIZE compacts, each VACUUM deletes)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from lakehouse.core.maintenance import Commit, Upkeep, files_added, upkeep

WEEK = timedelta(days=7)
DAY, RETENTION = 1440, 7 * 1440  # minutes


def _history(*commits: tuple[str, float] | tuple[str, float, int | None]) -> list[Commit]:
    """Commits given oldest first as (operation, age in days[, files added less removed: by
    default one for a write, none for maintenance]); returned newest first."""

    def files(commit: tuple[str, float] | tuple[str, float, int | None]) -> int | None:
        if len(commit) == 3:
            return commit[2]
        return 0 if commit[0] in ("OPTIMIZE", "VACUUM START", "VACUUM END") else 1

    return [Commit(commit[0], timedelta(days=commit[1]), files(commit)) for commit in reversed(commits)]


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
            Upkeep(optimize=True, vacuum=False),
            id="a-vacuum-compacts-nothing",
        ),
        pytest.param(
            [
                ("WRITE", 30),
                ("OPTIMIZE", 21),
                ("VACUUM START", 20),
                ("VACUUM END", 20),
                ("MERGE", 13, 0),
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
    assert upkeep(_history(*commits), WEEK, optimize_min_files=1) == expected


@pytest.mark.parametrize(
    ("commits", "optimize"),
    [
        pytest.param([("CREATE TABLE", 3, 0), ("WRITE", 2, 4), ("MERGE", 1, 4)], False, id="a-few-small-files"),
        pytest.param([("WRITE", 3, 30), ("MERGE", 1, 20)], True, id="enough-files"),
        pytest.param([("WRITE", 30, 60), ("OPTIMIZE", 9, -59), ("MERGE", 1, 4)], False, id="few-since-compaction"),
        pytest.param([("WRITE", 30, 60), ("VACUUM START", 9), ("VACUUM END", 9)], True, id="not-compacted-by-vacuum"),
        pytest.param([("MERGE", 3, 0)] * 80, False, id="merges-rewriting-the-files-they-touch"),
        pytest.param([("WRITE", 1, None)], True, id="file-counts-not-recorded"),
    ],
)
def test_optimize_waits_for_enough_new_files(commits: list[tuple[str, float, int | None]], optimize: bool) -> None:
    assert upkeep(_history(*commits), WEEK, optimize_min_files=50).optimize is optimize


@pytest.mark.parametrize(
    ("operation", "metrics", "expected"),
    [
        ("WRITE", {"numFiles": "2"}, 2),
        ("CREATE OR REPLACE TABLE AS SELECT", {"numFiles": "1", "numRemovedFiles": "4"}, -3),
        ("MERGE", {"numTargetFilesAdded": "4", "numTargetFilesRemoved": "1", "numTargetChangeFilesAdded": "0"}, 3),
        ("DELETE", {"numAddedFiles": "1", "numRemovedFiles": "2"}, -1),
        ("VACUUM END", {"numDeletedFiles": "9", "numVacuumedDirectories": "1"}, 0),
        ("CREATE TABLE", {}, 0),
        ("WRITE", {}, None),
    ],
)
def test_files_added_from_operation_metrics(operation: str, metrics: dict[str, str], expected: int | None) -> None:
    assert files_added(operation, metrics) == expected


class _Table:
    """A model of a Delta table's files: commits add files and tombstone others; OPTIMIZE compacts
    the live files into one (and commits nothing when there is at most one); VACUUM, a minute after,
    deletes the files tombstoned more than a retention before. Time is in whole minutes."""

    def __init__(self) -> None:
        self.commits: list[tuple[str, int, int]] = []  # (operation, minute, files added less removed)
        self.live: set[int] = set()
        self.tombstoned: dict[int, int] = {}  # file -> minute it was removed
        self.next_file = 0

    def _add(self) -> int:
        self.next_file += 1
        self.live.add(self.next_file)
        return self.next_file

    def _remove(self, files: set[int], now: int) -> None:
        assert files <= self.live
        self.live -= files
        self.tombstoned |= dict.fromkeys(files, now)

    def write(self, rng: random.Random, now: int) -> None:
        # An append adds files; a MERGE or DELETE rewrites some (on a one-file table: that file).
        operation = rng.choice(["WRITE", "MERGE", "MERGE", "DELETE"])
        before = len(self.live)
        if operation == "WRITE" or not self.live:
            added = rng.randint(1, 3)
        else:
            self._remove(set(rng.sample(sorted(self.live), rng.randint(1, len(self.live)))), now)
            added = rng.randint(0, 2)
        for _ in range(added):
            self._add()
        self.commits.append((operation, now, len(self.live) - before))

    def maintain(self, now: int, min_files: int) -> Upkeep:
        history = [Commit(op, timedelta(minutes=now - at), files) for op, at, files in reversed(self.commits)]
        due = upkeep(history, WEEK, min_files)
        if due.optimize and len(self.live) > 1:
            before = len(self.live)
            self._remove(set(self.live), now)
            self._add()
            self.commits.append(("OPTIMIZE", now, 1 - before))
        if due.vacuum:
            for file in [f for f, removed in self.tombstoned.items() if now + 1 - removed > RETENTION]:
                del self.tombstoned[file]
            self.commits += [("VACUUM START", now + 1, 0), ("VACUUM END", now + 1, 0)]
        return due


@pytest.mark.parametrize("seed", range(300))
def test_maintenance_as_decided_leaves_no_file_past_its_retention_and_fewer_small_files_than_its_threshold(
    seed: int,
) -> None:
    rng = random.Random(seed)
    table, every = _Table(), rng.choice([1, 3, 7, 14])  # maintenance daily to fortnightly
    min_files = rng.choice([1, 2, 5, 20])
    busy = rng.choice([0.1, 0.3, 0.7])  # the chance of a write on a given day
    for day in range(90):
        for _ in range(rng.choice([1, 2]) if rng.random() < busy and day % 30 < 20 else 0):  # ten quiet days a month
            table.write(rng, day * DAY + rng.randrange(DAY - 120))
        if day % every == 0:
            table.maintain(day * DAY + DAY - 60, min_files)
            vacuumed_at = day * DAY + DAY - 59
            assert all(vacuumed_at - removed <= RETENTION for removed in table.tombstoned.values()), table.commits
            assert len(table.live) <= min_files, table.commits


@pytest.mark.parametrize("seed", range(300))
def test_a_table_left_alone_is_cleaned_and_then_stops_costing_maintenance(seed: int) -> None:
    rng = random.Random(seed)
    table, min_files = _Table(), rng.choice([2, 5])
    for day in range(30):
        for _ in range(rng.choice([1, 2]) if rng.random() < 0.2 else 0):
            table.write(rng, day * DAY + rng.randrange(DAY - 120))
        if day % 7 == 0:
            table.maintain(day * DAY + DAY - 60, min_files)
    quiet = []
    for day in range(35, 120, 7):
        quiet.append(table.maintain(day * DAY + DAY - 60, min_files))
        vacuumed_at = day * DAY + DAY - 59
        assert all(vacuumed_at - removed <= RETENTION for removed in table.tombstoned.values()), table.commits

    # Once compacted, an unwritten table is never due again; VACUUM catches up within a retention.
    assert not any(due.optimize for due in quiet[1:])
    assert quiet[3:] == [Upkeep(optimize=False, vacuum=False)] * len(quiet[3:])
