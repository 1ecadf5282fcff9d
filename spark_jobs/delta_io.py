"""Delta tables by location: a path locally (``/warehouse/...``, ``abfss://...``), a Unity Catalog
name on Databricks (``dev_ep_raw.jarvis.service_bronze``). Every read and write of a stage goes
through here, so the same stage code serves both."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, DataFrameWriter, SparkSession

if TYPE_CHECKING:
    from delta.tables import DeltaTable


def is_path(location: str) -> bool:
    return location.startswith("/") or "://" in location


def exists(spark: SparkSession, location: str) -> bool:
    from delta.tables import DeltaTable

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


def table(spark: SparkSession, location: str) -> DeltaTable:
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, location) if is_path(location) else DeltaTable.forName(spark, location)


def version(spark: SparkSession, location: str) -> int:
    """The table's latest commit version."""
    return int(table(spark, location).history(1).first()["version"])


def sql_name(location: str) -> str:
    """How Spark SQL names the table."""
    return f"delta.`{location}`" if is_path(location) else location
