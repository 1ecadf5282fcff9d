"""The agent's SQL tool: one SELECT over allow-listed Gold tables, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.spark.rag.tools import SqlTool, ToolError
from lakehouse.spark.tables import Tables


@pytest.fixture
def tool(spark: SparkSession, tmp_path: Path) -> SqlTool:
    return SqlTool(load_config("local"), spark, Tables(tmp_path), row_limit=5)


def test_allowed_tables_are_resolved_to_their_delta_locations(tool: SqlTool, tmp_path: Path) -> None:
    sql = tool.rewrite("SELECT c.customer_id FROM customer_360 AS c JOIN ep_marts.operations.case_metrics m ON 1 = 1")
    assert f"delta.`{tmp_path}/ep_marts/customer/customer_360` AS c" in sql
    assert f"delta.`{tmp_path}/ep_marts/operations/case_metrics` AS m" in sql
    assert sql.endswith("LIMIT 5")
    with_cte = tool.rewrite("WITH open AS (SELECT * FROM fact_case) SELECT count(*) FROM open")
    assert "FROM open" in with_cte and "fact_case`" in with_cte


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM customer_360", "only SELECT queries are allowed, not DELETE"),
        ("INSERT INTO customer_360 SELECT * FROM customer_360", "only SELECT queries are allowed, not INSERT"),
        ("SELECT 1; DROP TABLE customer_360", "expected one statement, got 2"),
        ("SELECT * FROM bridge_account", "table 'bridge_account' is not allowed"),
        ("SELECT * FROM ep_curated.cmdm.customer_silver", "is not allowed"),
        ("SELECT * FROM other.customer_360 AS c", "table 'other.customer_360' is not allowed"),
        ("SELECT * FROM csv.`/etc/passwd`", "is not allowed"),
        ("SELECT FROM WHERE", "not valid Spark SQL"),
    ],
)
def test_anything_else_is_refused_with_a_reason(tool: SqlTool, sql: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        tool.rewrite(sql)


def test_specs_describe_the_tools_for_a_function_calling_model(tool: SqlTool) -> None:
    assert tool.spec["name"] == "sql_tool"
    assert tool.spec["parameters"]["required"] == ["sql"]
    assert "customer_360" in tool.spec["description"] and "bridge_account" not in tool.spec["description"]
