"""The observability table: one row per stage run, appended by the stage itself
(docs/data-quality.md): what it read and wrote, what it quarantined and why, its DQ results, how fresh its
source was and how long it took. The health report reads it.

``row`` is pure (a stage's result in, a row out); ``append`` writes it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from lakehouse.spark import delta_io

SOURCE_MODIFIED = "source_modified_at"
"""Bronze's column holding when its landing file was last modified: the source timestamp freshness
is measured from."""

SCHEMA = (
    "run_id STRING, logical_date DATE, system STRING, entity STRING, layer STRING, stage STRING, "
    "target STRING, rows_in BIGINT, rows_out BIGINT, rows_quarantined BIGINT, "
    "quarantine_reasons MAP<STRING, BIGINT>, "
    "dq_rules ARRAY<STRUCT<rule: STRING, check: STRING, column: STRING, action: STRING, failed: BIGINT>>, "
    "dq_pass_rate DOUBLE, newest_source_ts TIMESTAMP, freshness_seconds DOUBLE, "
    "started_at TIMESTAMP, duration_seconds DOUBLE, status STRING, error STRING"
)

LAYERS = {
    "bronze": "bronze",
    "silver": "silver",
    "gold": "gold",
    "smoke_checks": "gold",
    "sfdc_requests": "outbound",
    "sfdc_outbound": "outbound",
    "rag_index": "ai",
    "rag_snapshot": "ai",
    "maintenance": "maintenance",
}


def newest_source() -> Column:
    """An aggregate: the newest source timestamp, in epoch microseconds (``source_timestamp`` reads it)."""
    return F.unix_micros(F.max(SOURCE_MODIFIED))


def source_timestamp(micros: int | None) -> str | None:
    """``newest_source``'s value as it goes into a stage's counts: UTC ISO 8601, fit for JSON and XCom
    (Python's own conversion of a Spark timestamp would use the machine's time zone)."""
    return None if micros is None else datetime.fromtimestamp(micros / 1e6, UTC).isoformat()


def row(
    stage: str,
    arguments: Mapping[str, str],
    logical_date: date,
    run_id: str | None,
    started_at: datetime,
    seconds: float,
    result: Mapping[str, Any],
    error: str | None = None,
) -> dict[str, Any]:
    """The table's row for one stage run, from the counts the stage returned (or, for a stage that
    failed with ``error``, what it had counted by then)."""
    dq = result.get("dq") or {}
    newest = datetime.fromisoformat(result["newest_source_ts"]) if result.get("newest_source_ts") else None
    if stage == "bronze":
        rows_in, rows_out = result.get("lines"), result.get("bronze_rows")
    elif stage == "silver":
        rows_in, rows_out = result.get("bronze_rows"), result.get("silver_rows")
    else:
        rows_in, rows_out = None, result.get("rows", result.get("chunks"))
    return {
        "run_id": run_id,
        "logical_date": logical_date,
        "system": arguments.get("system"),
        "entity": arguments.get("entity"),
        "layer": LAYERS.get(stage, stage),
        "stage": stage,
        "target": result.get("table") or arguments.get("table") or arguments.get("scope"),
        "rows_in": rows_in,
        "rows_out": rows_out,
        "rows_quarantined": result.get("quarantined"),
        "quarantine_reasons": dict(result.get("quarantine_reasons") or {}),
        "dq_rules": [
            {"rule": name, "check": r["check"], "column": r["column"], "action": r["action"], "failed": r["failed"]}
            for name, r in (dq.get("rules") or {}).items()
        ],
        "dq_pass_rate": dq.get("pass_rate"),
        "newest_source_ts": newest,
        "freshness_seconds": (started_at - newest).total_seconds() if newest is not None else None,
        "started_at": started_at,
        "duration_seconds": seconds,
        "status": "failed" if error is not None else "success",
        "error": error,
    }


def append(spark: SparkSession, location: str, rows: list[dict[str, Any]]) -> None:
    """Stages of every system append side by side: blind appends, and a lost race to create the
    table runs again (``delta_io.retry_conflicts``)."""
    writer = spark.createDataFrame(rows, SCHEMA).write.format("delta").mode("append")
    delta_io.retry_conflicts(lambda: delta_io.save(writer, location))
