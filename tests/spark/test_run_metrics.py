"""One observability row per stage run, built from the counts the stage returned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.spark import run_metrics

DAY = date(2026, 3, 1)
STARTED = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
SILVER = {
    "bronze_rows": 100,
    "silver_rows": 96,
    "quarantined": 4,
    "quarantine_reasons": {"dq: postcode_regex": 3, "superseded by a later record for the same key": 1},
    "dq": {
        "rows": 99,
        "passed": 96,
        "pass_rate": 96 / 99,
        "rules": {"postcode_regex": {"action": "quarantine", "check": "regex", "column": "postcode", "failed": 3}},
    },
}


def test_a_silver_run_becomes_one_row_with_its_rules_and_reasons() -> None:
    row = run_metrics.row("silver", {"system": "amdm", "entity": "address"}, DAY, "manual__1", STARTED, 12.5, SILVER)
    assert row["layer"] == "silver" and (row["system"], row["entity"]) == ("amdm", "address")
    assert (row["rows_in"], row["rows_out"], row["rows_quarantined"]) == (100, 96, 4)
    assert row["quarantine_reasons"]["dq: postcode_regex"] == 3
    assert row["dq_rules"] == [
        {"rule": "postcode_regex", "check": "regex", "column": "postcode", "action": "quarantine", "failed": 3}
    ]
    assert row["dq_pass_rate"] == 96 / 99 and row["duration_seconds"] == 12.5


def test_freshness_is_the_start_minus_the_newest_source_timestamp() -> None:
    newest = (STARTED - timedelta(hours=3)).isoformat()
    result = {"lines": 10, "bronze_rows": 9, "quarantined": 1, "newest_source_ts": newest}
    row = run_metrics.row("bronze", {"system": "cmdm", "entity": "customer"}, DAY, None, STARTED, 3.0, result)
    assert (row["rows_in"], row["rows_out"]) == (10, 9)
    assert row["freshness_seconds"] == 3 * 3600
    gold = run_metrics.row("gold", {"table": "customer_360"}, DAY, "r", STARTED, 1.0, {"table": "t", "rows": 5})
    assert (gold["layer"], gold["target"], gold["rows_out"], gold["freshness_seconds"]) == ("gold", "t", 5, None)


def test_rows_are_appended_to_the_table(spark: SparkSession, tmp_path: Path) -> None:
    location = str(tmp_path / "run_metrics")
    silver = run_metrics.row("silver", {"system": "amdm", "entity": "address"}, DAY, "r1", STARTED, 1.0, SILVER)
    run_metrics.append(spark, location, [silver])
    run_metrics.append(spark, location, [silver | {"run_id": "r2"}])
    table = spark.read.format("delta").load(location)
    assert sorted(r["run_id"] for r in table.collect()) == ["r1", "r2"]
    (first,) = table.where("run_id = 'r1'").collect()
    assert first["quarantine_reasons"]["dq: postcode_regex"] == 3 and first["dq_rules"][0]["failed"] == 3
