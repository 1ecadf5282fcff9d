"""Where tables live. Locally each Delta table is a folder under the warehouse root, addressed by
path, so parallel tasks share no metastore lock; on Databricks tables are Unity Catalog names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from lakehouse.core.locations import table_folder
from lakehouse.core.naming import TableName
from lakehouse.spark import delta_io


@dataclass(frozen=True)
class Tables:
    warehouse: Path | None
    """The local warehouse root; ``None`` on Databricks."""
    volume: str | None = None
    """On Databricks: the volume folder for stream checkpoints (``databricks.checkpoints``)."""

    def location(self, table: TableName) -> str:
        if self.warehouse is None:
            return str(table)
        return str(table_folder(self.warehouse, table))

    def sql(self, table: TableName) -> str:
        """How SQL names the table."""
        return delta_io.sql_name(self.location(table))

    def checkpoint(self, *parts: str) -> str:
        if self.warehouse is None:
            if self.volume is None:
                raise ValueError("no checkpoint volume: set databricks.checkpoints")
            return "/".join([self.volume.rstrip("/"), *parts])
        return str(self.warehouse.joinpath("_checkpoints", *parts))

    def snapshot(self, table: TableName, label: str) -> str:
        """Where a dated copy of ``table`` goes: under the warehouse locally, a volume on Databricks."""
        if self.warehouse is None:
            return f"/Volumes/{table.catalog}/{table.schema}/snapshots/{table.table}/{label}"
        return str(self.warehouse.joinpath("_snapshots", table.catalog, table.schema, table.table, label))

    def run_log(self) -> Path | None:
        """Counts and durations of every stage run, one JSON object a line; ``None`` on Databricks,
        where each job run keeps its output (the JSON line the stage prints)."""
        return None if self.warehouse is None else self.warehouse / "_runs" / "stages.jsonl"

    def exists(self, spark: SparkSession, table: TableName) -> bool:
        return delta_io.exists(spark, self.location(table))

    def read(self, spark: SparkSession, table: TableName) -> DataFrame:
        return delta_io.read(spark, self.location(table))

    def version(self, spark: SparkSession, table: TableName) -> int:
        return delta_io.version(spark, self.location(table))
