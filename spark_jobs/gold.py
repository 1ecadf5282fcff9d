"""Gold: the SQL files of ``airflow/include/sql`` rendered for the target and run in order."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.locations import bundled

SQL_DIR_NAME = "airflow/include/sql"
_PLACEHOLDER = re.compile(r"{{\s*([a-z0-9_.]+)\s*}}")


def sql_dir() -> Path:
    return bundled(SQL_DIR_NAME)


def render(text: str, resolve: Callable[[str], str]) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown name is an error, not an empty string."""
    return _PLACEHOLDER.sub(lambda match: resolve(match.group(1)), text)


def statements(text: str) -> list[str]:
    """Split on ``;`` at the end of a line; comments and blank statements dropped."""
    parts = re.split(r";\s*$", text, flags=re.MULTILINE)
    cleaned = [
        "\n".join(line for line in part.splitlines() if not line.strip().startswith("--")).strip() for part in parts
    ]
    return [part for part in cleaned if part]


def run_sql_file(spark: SparkSession, path: Path, resolve: Callable[[str], str]) -> list[Any]:
    """Run every statement of the file; returns the rows of the last one."""
    rows: list[Any] = []
    for statement in statements(render(path.read_text(encoding="utf-8"), resolve)):
        rows = spark.sql(statement).collect()
    return rows


def view_statement(select: str, name: str, materialise: bool) -> str:
    if materialise:
        return f"CREATE OR REPLACE TABLE {name} USING DELTA AS\n{select}"
    return f"CREATE OR REPLACE VIEW {name} AS\n{select}"


def sql_date(day: date) -> str:
    return f"DATE'{day.isoformat()}'"
