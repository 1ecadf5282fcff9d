"""The local part of the governance plan, applied through Spark to the test project against a real Silver table,
directly and by the ``lakehouse_governance`` DAG."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.governance import build_plan
from lakehouse.core.naming import silver_table
from lakehouse.spark.governance import apply_locally
from tests.conftest import DAGS_FOLDER, select_project
from tests.fakes.governed_tables import write_table

# The test project's secure view v_customer masks name and email of CRM customers.
CUSTOMERS = [
    ("C1", "John Smith", "john.smith@example.com", "AU", datetime(2026, 3, 1, 8, 0)),
    ("C2", None, "alice@mail.example.org", "NZ", datetime(2026, 3, 1, 9, 30)),
    ("C3", "Bo Li", "b@example.com", "AU", None),
    ("C4", "Nguyen", "not-an-email", None, None),
    ("C5", None, None, None, None),
]
VIEW = "t_curated__crm.v_customer"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("governed")
    with pytest.MonkeyPatch.context() as patch:
        select_project(root / "project", patch)
        patch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(root / "warehouse"))
        yield root
    for database in [row.namespace for row in spark.sql("SHOW DATABASES").collect()]:
        if "__" in database:
            spark.sql(f"DROP DATABASE {database} CASCADE")


def _catalog_objects(spark: SparkSession) -> dict[str, Any]:
    databases = sorted(row.namespace for row in spark.sql("SHOW DATABASES").collect() if "__" in row.namespace)
    return {
        "databases": databases,
        "functions": sorted(
            row.function
            for row in spark.sql("SHOW USER FUNCTIONS IN t_curated__crm").collect()
            if row.function.startswith("spark_catalog.t_curated__crm.")  # Delta registers its own
        ),
        "views": sorted(row.viewName for row in spark.sql("SHOW VIEWS IN t_curated__crm").collect()),
    }


def test_local_apply_creates_databases_functions_and_the_secure_view_and_again_changes_nothing(
    lake: Path, spark: SparkSession
) -> None:
    config = load_config("local")
    plan = build_plan(config)
    warehouse = lake / "warehouse"
    customer = silver_table(config.require_environment(), "crm", config.systems["crm"], "customer")

    # Before any ingest: the schemas are databases at their folders; the view waits for its table.
    first = apply_locally(spark, config, plan)
    assert [s.section for s in first.waiting] == ["views"]
    assert len(first.applied) == len(plan.section("schemas")) + len(plan.section("functions"))
    assert {s.section for s in first.not_local} == {"catalogs", "grants", "views", "tags"}
    assert all(s.sql.startswith("GRANT ") for s in first.not_local if s.section == "views")
    assert {"t_raw__crm", "t_raw__billing", f"t_curated__{customer.schema}", "t_curated__crm"} <= set(
        _catalog_objects(spark)["databases"]
    )
    location = spark.sql("DESCRIBE SCHEMA t_curated__crm").collect()
    assert {row.info_value for row in location if row.info_name == "Location"} == {
        (warehouse / "t_curated" / "crm").as_uri().replace("file:///", "file:/")
    }
    assert (warehouse / "t_raw" / "billing").is_dir()

    write_table(spark, config, warehouse, customer, CUSTOMERS)

    second = apply_locally(spark, config, plan)
    assert second.waiting == [] and len(second.applied) == len(first.applied) + 1
    objects = _catalog_objects(spark)
    assert objects["functions"] == ["spark_catalog.t_curated__crm.mask_email", "spark_catalog.t_curated__crm.mask_text"]
    assert objects["views"] == ["v_customer"]

    secure = spark.table(VIEW)
    assert sorted(secure.columns) == sorted(config.systems["crm"].entities["customer"].column_paths())
    masked = {row.customer_id: (row.name, row.email, row.country) for row in secure.collect()}
    assert masked == {
        "C1": ("***", "jo***@example.com", "AU"),
        "C2": (None, "al***@mail.example.org", "NZ"),
        "C3": ("***", "***", "AU"),  # no local part of two characters: masked whole
        "C4": ("***", "***", None),  # not an email: masked whole, never in clear
        "C5": (None, None, None),
    }
    assert {row.customer_id: row.updated_ts for row in secure.collect()}["C2"] == datetime(2026, 3, 1, 9, 30)

    third = apply_locally(spark, config, plan)
    assert third.counts() == second.counts()
    assert _catalog_objects(spark) == objects
    assert sorted(map(tuple, spark.table(VIEW).collect())) == sorted(map(tuple, secure.collect()))


def test_the_local_governance_dag_applies_the_local_part(lake: Path, airflow_db: Path, spark: SparkSession) -> None:
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("lakehouse_governance")
    assert [task.task_id for task in dag.tasks] == ["apply_locally"]
    dag.deadline = None  # see lakehouse.ops.run: dag.test() of 3.3.2 cannot finish a run with a DeadlineAlert
    run = dag.test(logical_date=None)
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    plan = build_plan(load_config("local"))
    counts = ti.xcom_pull(task_ids="apply_locally")
    assert counts["not_local"] == sum(statement.local is None for statement in plan.statements)
    assert counts["applied"] + counts["waiting"] == sum(statement.local is not None for statement in plan.statements)
