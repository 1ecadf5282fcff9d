"""Tables the governance statements need, written as the pipelines would, without running them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import TableName

CUSTOMERS = [
    ("P00000001", "John", "Smith", "john.smith@example.com", "+61412345678", datetime(2026, 3, 1, 8, 0)),
    ("P00000002", "Alice", None, "alice@mail.example.org", None, datetime(2026, 3, 1, 9, 30)),
    ("P00000003", "Bo", "Li", "b@example.com", "+61298765432", None),
    ("P00000004", None, "Nguyen", "not-an-email", "0412 000 000", None),
    ("P00000005", None, None, None, None, None),
]
"""CMDM customers: ordinary, short and malformed emails, missing values."""


def write_table(
    spark: Any, config: LakehouseConfig, warehouse: Path, table: TableName, rows: list[tuple[Any, ...]]
) -> None:
    """A Delta table at ``table``'s folder under ``warehouse``, with its entity's contract columns."""
    from lakehouse.spark.contracts import contract_schema
    from lakehouse.spark.tables import Tables

    system, entity = table.schema, table.table.rsplit("_", 1)[0]
    schema = contract_schema(config.systems[system].entities[entity])
    location = Tables(warehouse).location(table)
    spark.createDataFrame(rows, schema).write.format("delta").mode("overwrite").save(location)
