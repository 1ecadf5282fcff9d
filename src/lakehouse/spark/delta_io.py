"""Delta tables by location: a path locally (``/warehouse/...``, ``abfss://...``), a Unity Catalog
name on Databricks (``dev_ep_raw.jarvis.service_bronze``). Every read and write of a stage goes
through here, so the same stage code serves both."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from delta import exceptions
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, DataFrameWriter, SparkSession

_log = logging.getLogger(__name__)


def is_path(location: str) -> bool:
    return location.startswith("/") or "://" in location


def exists(spark: SparkSession, location: str) -> bool:
    if is_path(location):
        return bool(DeltaTable.isDeltaTable(spark, location))
    return bool(spark.catalog.tableExists(location))


def read(spark: SparkSession, location: str) -> DataFrame:
    return spark.read.format("delta").load(location) if is_path(location) else spark.read.table(location)


def save(writer: DataFrameWriter, location: str) -> None:
    """Finish a ``frame.write.format("delta")...`` chain at ``location``."""
    if is_path(location):
        writer.save(location)
    else:
        writer.saveAsTable(location)


def retry_conflicts(write: Callable[[], None], attempts: int = 4) -> None:
    """Run ``write``; when its commit lost to a concurrent writer's (Delta's optimistic concurrency),
    run it again against the table that writer left. Only for writes that are safe to repeat: an
    append with a transaction id, an overwrite of a slice."""
    # delta-spark's Python classes do not share a base: name every conflict.
    conflicts = tuple(getattr(exceptions, name) for name in exceptions.__all__)
    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except conflicts as error:
            if attempt == attempts:
                raise
            reason = str(error).splitlines()[0]
            _log.warning("commit lost to a concurrent writer (%s); attempt %d of %d", reason, attempt + 1, attempts)
            time.sleep(0.5 * attempt)


def table(spark: SparkSession, location: str) -> DeltaTable:
    return DeltaTable.forPath(spark, location) if is_path(location) else DeltaTable.forName(spark, location)


def version(spark: SparkSession, location: str) -> int:
    """The table's latest commit version."""
    return int(table(spark, location).history(1).collect()[0]["version"])


def sql_name(location: str) -> str:
    """How Spark SQL names the table."""
    return f"delta.`{location}`" if is_path(location) else location
