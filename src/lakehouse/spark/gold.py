"""Gold: the SQL files of ``airflow/include/sql`` rendered for the target and run in order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.core.sql_files import render, statements


def run_sql_file(spark: SparkSession, path: Path, resolve: Callable[[str], str]) -> list[Any]:
    """Run every statement of the file; returns the rows of the last one."""
    return run_statements(spark, statements(render(path.read_text(encoding="utf-8"), resolve)))


def run_statements(spark: SparkSession, parts: list[str]) -> list[Any]:
    rows: list[Any] = []
    for statement in parts:
        rows = spark.sql(statement).collect()
    return rows
