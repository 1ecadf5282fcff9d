"""Which maintenance a Delta table needs, decided from its history alone.

OPTIMIZE is due when the commits since the last OPTIMIZE added at least ``optimize_min_files`` more
data files than they removed (config ``maintenance.optimize_min_files``; by default 50, the
threshold of Delta's auto compaction): a table of a few small files costs less to read than to
rewrite, and a MERGE that rewrites the files it touches adds none. A commit whose file counts Delta
did not record counts as reaching the threshold.

VACUUM deletes the files a commit removed once they are older than the retention; the last VACUUM
already deleted those that were old enough then. So VACUUM is due only when a commit is old enough
now and was not yet old enough at the last VACUUM. (Files a failed write left behind are as old as
the retried write's commit, so they come due with it.)

An untouched table, or one of few files whose every commit is younger than the retention, costs one
history read instead of two Spark jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

OPTIMIZE = "OPTIMIZE"
VACUUM_COMMITS = frozenset({"VACUUM START", "VACUUM END"})
"""Delta logs a VACUUM as these two commits; they remove no data file, so they are nothing to clean."""
METADATA_ONLY = frozenset(
    {"CREATE TABLE", "REPLACE TABLE", "SET TBLPROPERTIES", "UNSET TBLPROPERTIES", "ADD COLUMNS", "CHANGE COLUMN"}
    | {"ADD CONSTRAINT", "DROP CONSTRAINT", "UPGRADE PROTOCOL", *VACUUM_COMMITS}
)
"""Operations that write no data file, and so record no file counts."""
_ADDED = ("numFiles", "numTargetFilesAdded", "numAddedFiles")
_REMOVED = ("numRemovedFiles", "numTargetFilesRemoved")


def files_added(operation: str, metrics: Mapping[str, str]) -> int | None:
    """Data files a commit added less those it removed, from ``DESCRIBE HISTORY``'s
    ``operationMetrics`` (whose names differ by operation); None when a data-writing commit has
    none (``spark.databricks.delta.history.metricsEnabled`` off)."""
    if not metrics:
        return 0 if operation in METADATA_ONLY else None

    def first(names: tuple[str, ...]) -> int:
        return next((int(metrics[name]) for name in names if name in metrics), 0)

    return first(_ADDED) - first(_REMOVED)


@dataclass(frozen=True)
class Commit:
    operation: str
    """As ``DESCRIBE HISTORY`` names it: ``WRITE``, ``MERGE``, ``OPTIMIZE``, ``VACUUM END``, ..."""
    age: timedelta
    """How long ago it was committed."""
    files_added: int | None
    """Data files it added less those it removed, from its operation metrics; None when Delta did
    not record them."""


@dataclass(frozen=True)
class Upkeep:
    optimize: bool
    vacuum: bool

    def describe(self) -> str:
        if self.optimize or self.vacuum:
            return ", ".join(step for step, due in (("optimize", self.optimize), ("vacuum", self.vacuum)) if due)
        return "nothing due"


def upkeep(history: Sequence[Commit], retention: timedelta, optimize_min_files: int) -> Upkeep:
    """What a table with ``history`` (newest first) needs, under a VACUUM retention of ``retention``."""
    added = 0
    for commit in history:
        if commit.operation == OPTIMIZE:
            break
        added += optimize_min_files if commit.files_added is None else commit.files_added
    last_vacuum = next((c.age for c in history if c.operation == "VACUUM END"), None)
    # VACUUM deletes what was removed more than a retention before it ran.
    vacuum = any(
        commit.operation not in VACUUM_COMMITS
        and commit.age > retention
        and (last_vacuum is None or commit.age <= last_vacuum + retention)
        for commit in history
    )
    return Upkeep(added >= optimize_min_files, vacuum)
