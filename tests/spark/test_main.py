"""A stage run through ``lakehouse.spark.main.run`` leaves its row in the observability table, whether it
succeeded or failed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.naming import bronze_table, run_metrics_table
from lakehouse.spark.main import run
from lakehouse.spark.tables import Tables

DAY = date(2026, 3, 1)
HEADER = "amdm_addr_id,addr_line_1_txt,addr_line_2_txt,sbrb_nm,state,post_cd,gcc_cd,gcc_nm,mb_cd"


@pytest.fixture
def tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tables:
    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", str(tmp_path / "landing"))
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    return Tables(tmp_path / "warehouse")


def _metrics(spark: SparkSession, tables: Tables) -> list[dict]:
    environment = load_config("local").require_environment()
    return [row.asDict(recursive=True) for row in tables.read(spark, run_metrics_table(environment)).collect()]


def test_a_stage_appends_its_counts_run_id_and_freshness(spark: SparkSession, tables: Tables, tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "amdm" / "address" / DAY.isoformat()
    landing.mkdir(parents=True)
    extract = landing / "a.csv"
    extract.write_text(f"{HEADER}\nA1,1 Main St,,Perth,WA,6000,,,\nA2,2 Main St,,Perth,WA,6000,,,\nA3,broken\n")
    before = datetime.now(UTC)
    run(spark, "bronze", "local", DAY, {"system": "amdm", "entity": "address", "run_id": "scheduled__2026-03-01"})

    (row,) = _metrics(spark, tables)
    bronze = tables.read(spark, bronze_table(load_config("local").require_environment(), "amdm", "address"))
    assert (row["run_id"], row["logical_date"], row["system"], row["entity"]) == (
        "scheduled__2026-03-01",
        DAY,
        "amdm",
        "address",
    )
    assert (row["layer"], row["status"], row["error"]) == ("bronze", "success", None)
    assert (row["rows_in"], row["rows_out"], row["rows_quarantined"]) == (3, bronze.count(), 1) == (3, 2, 1)
    assert row["quarantine_reasons"] == {"wrong column count: the contract has 9 columns": 1}
    # Spark hands timestamps back in the machine's zone, without one.
    started = row["started_at"].astimezone(UTC)
    assert before.replace(microsecond=0) <= started.replace(microsecond=0)
    assert row["freshness_seconds"] == pytest.approx(started.timestamp() - extract.stat().st_mtime, abs=0.01)


def test_a_failed_stage_is_recorded_with_its_error(spark: SparkSession, tables: Tables) -> None:
    with pytest.raises(FileNotFoundError, match="run the bronze stage"):
        run(spark, "silver", "local", DAY, {"system": "amdm", "entity": "address", "run_id": "manual__1"})
    (row,) = _metrics(spark, tables)
    assert (row["run_id"], row["stage"], row["status"]) == ("manual__1", "silver", "failed")
    assert "run the bronze stage for 2026-03-01 first" in row["error"]
    assert row["rows_out"] is None and row["dq_rules"] == []
