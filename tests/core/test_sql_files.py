"""SQL rendering: placeholders, statements, and the smoke checks' row counts from pipelines.yaml."""

from __future__ import annotations

import pytest

from lakehouse.config import load_config
from lakehouse.core import sql_files
from tests.conftest import ConfigCopy


def test_an_unknown_placeholder_is_an_error_not_an_empty_string(project: ConfigCopy) -> None:
    resolve = sql_files.resolver(load_config("local"), str, "DATE'2026-03-01'")
    assert sql_files.render("SELECT * FROM {{ silver.crm.customer }}", resolve) == (
        "SELECT * FROM t_curated.crm.customer_silver"
    )
    with pytest.raises(KeyError, match=r"unknown SQL placeholder '\{\{ silver.crm.nothing \}\}'"):
        sql_files.render("SELECT * FROM {{ silver.crm.nothing }}", resolve)


def test_the_row_counts_cover_every_gold_table_of_pipelines_yaml(project: ConfigCopy) -> None:
    project.edit(
        "pipelines.yaml",
        lambda data: data["gold"]["tables"].append(
            {"name": "dim_country", "schema": "customer", "inputs": ["crm.customer"], "current_flag": "is_current"}
        ),
    )
    (project.dir.parent / "sql" / "gold" / "dim_country.sql").write_text("SELECT 1;\n")
    statement = sql_files.row_count_statement(load_config("dev"), str, "DATE'2026-03-01'")
    selects = statement.split("\nUNION ALL\n")
    assert selects == [
        "SELECT 'dim_customer' AS table_name, count(*) AS row_count FROM dev_marts.customer.dim_customer",
        "SELECT 'fact_invoice' AS table_name, count(*) AS row_count FROM dev_marts.finance.fact_invoice",
        "SELECT 'customer_revenue' AS table_name, count(*) AS row_count FROM dev_marts.finance.customer_revenue",
        "SELECT 'dim_country' AS table_name, count(*) AS row_count FROM dev_marts.customer.dim_country "
        "WHERE is_current",
    ]


def test_a_project_sql_file_wins_over_the_packages(project: ConfigCopy) -> None:
    """The test project has its own Gold SQL; the governance SQL stays the package's."""
    parts = sql_files.gold_statements(
        load_config("dev"), "dim_customer", str, "DATE'2026-03-01'", materialise_views=False
    )
    assert parts[0].startswith("CREATE TABLE IF NOT EXISTS dev_marts.customer.dim_customer (")
    view = sql_files.gold_statements(
        load_config("dev"), "customer_revenue", str, "DATE'2026-03-01'", materialise_views=False
    )
    assert view[0].startswith("CREATE OR REPLACE VIEW dev_marts.finance.customer_revenue AS\nSELECT")
