"""Bronze parsing against the contract, and the checkpointed ingest of one logical date."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.spark.bronze import ingest, parse_lines, read_landing_stream, split

SYSTEMS = load_config("local").systems
CUSTOMER = SYSTEMS["cmdm"].entities["customer"]
CASE = SYSTEMS["pega"].entities["case"]
HEADER = "prty_id,first_name,last_name,email,phone,updated_ts"


def _lines(spark: SparkSession, *files: tuple[str, list[str]]):
    rows = [(line, name, index) for name, lines in files for index, line in enumerate(lines)]
    return spark.createDataFrame(rows, "value STRING, source_file STRING, source_row LONG")


def _reasons(parsed) -> dict[str, str | None]:
    return {row["_raw"]: row["_reason"] for row in parsed.collect()}


def test_csv_rows_are_typed_or_quarantined_with_the_reason(spark: SparkSession) -> None:
    good = "P1,Ann,Lee,ann@example.com,0412 345 678,2026-03-01T09:30:00+10:00"
    lines = [
        HEADER,
        good,
        good + ",unexpected",
        "P2,Bob,Ray,bob@example.com,0412 345 678",
        "P3,Cat,Day,cat@example.com,0412 345 678,31/02/2026",
        ",Dan,Fox,dan@example.com,0412 345 678,2026-03-01T09:30:00+10:00",
        'P4,"Smith, Jr",Lee,,,2026-03-01T09:30:00+10:00',
    ]
    parsed = parse_lines(_lines(spark, ("a.csv", lines)), CUSTOMER)
    assert _reasons(parsed) == {
        good: None,
        good + ",unexpected": "wrong column count: the contract has 6 columns",
        "P2,Bob,Ray,bob@example.com,0412 345 678": "wrong column count: the contract has 6 columns",
        "P3,Cat,Day,cat@example.com,0412 345 678,31/02/2026": (
            "value does not match the contract type: updated_ts (timestamp)"
        ),
        ",Dan,Fox,dan@example.com,0412 345 678,2026-03-01T09:30:00+10:00": "missing natural key: prty_id",
        'P4,"Smith, Jr",Lee,,,2026-03-01T09:30:00+10:00': None,
    }
    rows = {row["prty_id"]: row for row in split(parsed)[0].collect()}
    assert rows["P1"]["updated_ts"].isoformat() == "2026-02-28T23:30:00"  # UTC
    assert rows["P4"]["first_name"] == "Smith, Jr"
    assert rows["P4"]["email"] is None  # empty field = null


def test_a_file_whose_header_drifted_is_quarantined_whole(spark: SparkSession) -> None:
    drifted = [HEADER + ",loyalty_tier", "P9,Eve,Ng,eve@example.com,0412 345 678,2026-03-01T09:30:00+10:00,GOLD"]
    fine = [HEADER, "P8,Al,Wu,al@example.com,0412 345 678,2026-03-01T09:30:00+10:00"]
    parsed = parse_lines(_lines(spark, ("new.csv", drifted), ("old.csv", fine)), CUSTOMER)
    reasons = _reasons(parsed)
    assert reasons[drifted[1]] == (f"schema drift: header '{HEADER},loyalty_tier' is not the contract's '{HEADER}'")
    assert reasons[fine[1]] is None
    assert len(reasons) == 2  # headers are not rows


def test_jsonl_cases_with_nested_parties_and_every_kind_of_bad_line(spark: SparkSession) -> None:
    good = {
        "case_id": "K1",
        "case_type": "FAULT",
        "status": "OPEN",
        "created_ts": "2026-03-01T08:00:00+10:00",
        "reopen_count": 1,
        "party": {"prty_id": "P1"},
        "service": None,
    }
    lines = [
        json.dumps(good),
        json.dumps({"case_id": "K2", "status": "OPEN"}),
        '{"case_id": "K3", "status": "OPEN"',
        json.dumps({"case_id": "K4", "reopen_count": "twice"}),
        json.dumps({"case_id": "K5", "priority": "P1"}),
        json.dumps({"status": "OPEN"}),
    ]
    parsed = parse_lines(_lines(spark, ("c.jsonl", lines)), CASE)
    assert list(_reasons(parsed).values()) == [
        None,
        None,
        "not a valid JSON object",
        "value does not match the contract type: reopen_count (integer)",
        "schema drift: unexpected field(s) priority",
        "missing natural key: case_id",
    ]
    (k1,) = [row for row in split(parsed)[0].collect() if row["case_id"] == "K1"]
    assert k1["party"]["prty_id"] == "P1" and k1["service"] is None and k1["reopen_count"] == 1


def test_ingest_counts_match_the_landing_files_and_a_rerun_adds_nothing(spark: SparkSession, tmp_path: Path) -> None:
    manifest = write_demo_data(dict(SYSTEMS), tmp_path / "landing", 40, 5, date(2026, 3, 1))
    (entry,) = [f for f in manifest["files"] if f["path"].startswith("cmdm/customer/2026-03-01")]
    kwargs: dict[str, Any] = {
        "entity": CUSTOMER,
        "landing_folder": str(tmp_path / "landing" / "cmdm" / "customer" / "2026-03-01"),
        "bronze_location": str(tmp_path / "bronze"),
        "quarantine_location": str(tmp_path / "quarantine"),
        "checkpoint": str(tmp_path / "checkpoint"),
        "labels": {"system": "cmdm", "entity": "customer", "logical_date": "2026-03-01"},
    }
    first = ingest(spark, **kwargs)
    assert (first["lines"], first["bronze_rows"], first["quarantined"]) == (
        entry["lines"],
        entry["parsable_lines"],
        entry["malformed_lines"],
    )
    bronze = spark.read.format("delta").load(str(tmp_path / "bronze"))
    assert bronze.count() == entry["parsable_lines"]
    assert {row["logical_date"] for row in bronze.select("logical_date").distinct().collect()} == {date(2026, 3, 1)}
    quarantine = spark.read.format("delta").load(str(tmp_path / "quarantine"))
    assert sorted(row["reason"].split(":")[0] for row in quarantine.collect()) == sorted(
        ["wrong column count", "wrong column count", "value does not match the contract type", "missing natural key"]
    )
    assert first["quarantine_reasons"] == Counter(row["reason"] for row in quarantine.collect())
    # Freshness is measured from the landing files' modification time, which Bronze keeps per row.
    landed = max(path.stat().st_mtime for path in Path(kwargs["landing_folder"]).iterdir())
    assert abs(datetime.fromisoformat(first["newest_source_ts"]).timestamp() - landed) < 0.001
    assert bronze.where("source_modified_at IS NULL").count() == 0
    # A try killed after the batch's commits, before the checkpoint's: its retry replays the batch,
    # which Delta's transaction ids keep from writing twice, and reports what it had written.
    for done in ("0", ".0.crc"):
        (tmp_path / "checkpoint" / "commits" / done).unlink(missing_ok=True)
    assert ingest(spark, **kwargs) == first
    assert spark.read.format("delta").load(str(tmp_path / "bronze")).count() == entry["parsable_lines"]
    again = ingest(spark, **kwargs)
    assert again == {"lines": 0, "bronze_rows": 0, "quarantined": 0, "quarantine_reasons": {}, "newest_source_ts": None}
    assert spark.read.format("delta").load(str(tmp_path / "bronze")).count() == entry["parsable_lines"]


def test_on_databricks_the_landing_folder_is_read_by_auto_loader(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    assert read_landing_stream(spark, str(tmp_path)).isStreaming
    # Auto Loader exists only in the Databricks runtime: asking for it here proves which source is used.
    # (Spark Connect resolves a plan when asked for its schema, a classic session at once.)
    with pytest.raises(Exception, match="cloudFiles"):
        assert read_landing_stream(spark, str(tmp_path), auto_loader=True).schema is None
