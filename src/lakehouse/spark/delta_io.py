"""Delta tables by location: a path locally (``/warehouse/...``, ``abfss://...``), a Unity Catalog
name on Databricks (``dev_ep_raw.jarvis.service_bronze``). Every read and write of a stage goes
through here, so the same stage code serves both.

Only the DataFrame API and SQL: no ``DeltaTable``, which needs the JVM of a classic session. So the
stages run unchanged over Spark Connect (a shared local server, Databricks serverless and
standard-access clusters), where Delta's Python API needs a server plugin Spark 4.2 lacks here."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from delta import exceptions
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, DataFrameWriter, SparkSession
from pyspark.sql import functions as F

from lakehouse.core.maintenance import Commit, files_added

_log = logging.getLogger(__name__)


def is_path(location: str) -> bool:
    return location.startswith("/") or "://" in location


def exists(spark: SparkSession, location: str) -> bool:
    if not is_path(location):
        return bool(spark.catalog.tableExists(location))
    try:
        spark.sql(f"DESCRIBE DETAIL {sql_name(location)}").collect()
    except AnalysisException as error:
        if error.getCondition() in ("DELTA_MISSING_DELTA_TABLE", "DELTA_PATH_DOES_NOT_EXIST"):
            return False
        raise
    return True


def read(spark: SparkSession, location: str) -> DataFrame:
    return spark.read.format("delta").load(location) if is_path(location) else spark.read.table(location)


def save(writer: DataFrameWriter, location: str) -> None:
    """Finish a ``frame.write.format("delta")...`` chain at ``location``."""
    if is_path(location):
        writer.save(location)
    else:
        writer.saveAsTable(location)


# delta-spark's Python classes do not share a base: name every conflict.
_CONFLICTS = tuple(getattr(exceptions, name) for name in exceptions.__all__)


def is_conflict(error: Exception) -> bool:
    """Whether ``error`` is a commit lost to a concurrent writer: one of delta-spark's classes in a
    classic session; over Spark Connect, which does not map Delta's errors, by the JVM class it names."""
    text = str(error)
    return isinstance(error, _CONFLICTS) or any(f"io.delta.exceptions.{name}" in text for name in exceptions.__all__)


def retry_conflicts(write: Callable[[], None], attempts: int = 4) -> None:
    """Run ``write``; when its commit lost to a concurrent writer's (Delta's optimistic concurrency),
    run it again against the table that writer left. Only for writes that are safe to repeat: an
    append with a transaction id, an overwrite of a slice."""
    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except Exception as error:
            if not is_conflict(error) or attempt == attempts:
                raise
            reason = str(error).splitlines()[0]
            # Expected where runs share a table (a date's ingest DAGs side by side), and handled.
            _log.info("commit lost to a concurrent writer (%s); attempt %d of %d", reason, attempt + 1, attempts)
            time.sleep(0.5 * attempt)


def merge(spark: SparkSession, source: DataFrame, location: str, condition: str, delete_unmatched: str = "") -> None:
    """``MERGE`` ``source`` (alias ``s``) into the table at ``location`` (alias ``t``) on ``condition``:
    matched rows updated, the rest inserted; with ``delete_unmatched``, target rows no source row
    matches that meet it are deleted."""
    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    deleted = f" WHEN NOT MATCHED BY SOURCE AND ({delete_unmatched}) THEN DELETE" if delete_unmatched else ""
    try:
        spark.sql(
            f"MERGE INTO {sql_name(location)} AS t USING {view} AS s ON {condition}"
            f" WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *{deleted}"
        )
    finally:
        spark.catalog.dropTempView(view)


def version(spark: SparkSession, location: str) -> int:
    """The table's latest commit version."""
    return int(spark.sql(f"DESCRIBE HISTORY {sql_name(location)} LIMIT 1").collect()[0]["version"])


_NO_DELTA_TABLE = ("DELTA_TABLE_ONLY_OPERATION", "EXPECT_TABLE_NOT_VIEW", "TABLE_OR_VIEW_NOT_FOUND")


def history(spark: SparkSession, location: str) -> list[Commit] | None:
    """The table's commits, newest first; ``None`` when no Delta table is there (nothing, plain
    files, or a view). Ages are taken on the server's clock, the one that stamped the commits."""
    age = F.unix_timestamp(F.current_timestamp()) - F.unix_timestamp("timestamp")
    try:
        history = spark.sql(f"DESCRIBE HISTORY {sql_name(location)}")
        rows = history.select("operation", age.alias("age"), "operationMetrics").collect()
    except AnalysisException as error:
        if (error.getCondition() or "").split(".")[0] in _NO_DELTA_TABLE:
            return None
        raise
    return [
        Commit(
            row["operation"],
            timedelta(seconds=row["age"]),
            files_added(row["operation"], row["operationMetrics"] or {}),
        )
        for row in rows
    ]


def sql_name(location: str) -> str:
    """How Spark SQL names the table."""
    return f"delta.`{location}`" if is_path(location) else location
