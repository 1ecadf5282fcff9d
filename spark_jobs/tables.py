"""Where tables live. Locally each Delta table is a folder under the warehouse root, addressed by
path, so parallel tasks share no metastore lock; on Databricks tables are Unity Catalog names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from lakehouse.naming import TableName


@dataclass(frozen=True)
class Tables:
    warehouse: Path | None
    """The local warehouse root; ``None`` on Databricks."""

    def location(self, table: TableName) -> str:
        if self.warehouse is None:
            return str(table)
        return str(self.warehouse / table.catalog / table.schema / table.table)

    def sql(self, table: TableName) -> str:
        """How SQL names the table."""
        return f"delta.`{self.location(table)}`" if self.warehouse is not None else str(table)

    def checkpoint(self, *parts: str) -> str:
        if self.warehouse is None:
            raise ValueError("checkpoints on Databricks live in a volume named by the job")
        return str(self.warehouse.joinpath("_checkpoints", *parts))

    def snapshot(self, table: TableName, label: str) -> str:
        """Where a dated copy of ``table`` goes: under the warehouse locally, a volume on Databricks."""
        if self.warehouse is None:
            return f"/Volumes/{table.catalog}/{table.schema}/snapshots/{table.table}/{label}"
        return str(self.warehouse.joinpath("_snapshots", table.catalog, table.schema, table.table, label))

    def run_log(self) -> Path:
        """Counts and durations of every stage run, one JSON object a line (local target)."""
        if self.warehouse is None:
            raise ValueError("the run log is local; on Databricks job runs keep their own output")
        return self.warehouse / "_runs" / "stages.jsonl"

    def exists(self, spark: SparkSession, table: TableName) -> bool:
        if self.warehouse is not None:
            return (Path(self.location(table)) / "_delta_log").is_dir()
        return bool(spark.catalog.tableExists(str(table)))

    def read(self, spark: SparkSession, table: TableName) -> DataFrame:
        if self.warehouse is not None:
            return spark.read.format("delta").load(self.location(table))
        return spark.read.table(str(table))
