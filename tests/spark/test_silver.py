"""Silver per system on demo data: rules, survivorship, DQ actions, and nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.config import load_config
from lakehouse.core.naming import quarantine_table, silver_table
from lakehouse.core.stages import DqFailure
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.spark.silver_rules import normalise_phone_au
from lakehouse.spark.stages import StageContext, run_bronze, run_silver
from lakehouse.spark.tables import Tables

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StageContext, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("lake")
    config = load_config("local")
    manifest = write_demo_data(dict(config.systems), root / "landing", 200, 9, DAY1)
    yield StageContext(config, config.require_environment(), Tables(root / "warehouse"), root / "landing"), manifest


def _defects(manifest: dict[str, Any], system: str, entity: str, day: date) -> dict[str, int]:
    (entry,) = [
        f for f in manifest["files"] if (f["system"], f["entity"], f["date"]) == (system, entity, day.isoformat())
    ]
    return dict(entry["defects"])


def _silver(spark: SparkSession, ctx: StageContext, system: str, entity: str):
    name = silver_table(ctx.environment, system, ctx.config.systems[system], entity)
    return ctx.tables.read(spark, name)


def _quarantine(spark: SparkSession, ctx: StageContext, system: str):
    return ctx.tables.read(spark, quarantine_table(ctx.environment, system))


def _load(spark: SparkSession, ctx: StageContext, system: str, entity: str, day: date) -> tuple[dict, dict]:
    return run_bronze(spark, ctx, day, system=system, entity=entity), run_silver(
        spark, ctx, day, system=system, entity=entity
    )


def test_phone_numbers_become_e164(spark: SparkSession) -> None:
    cases = {
        "0412 345 678": "+61412345678",
        "+61 412 345 678": "+61412345678",
        "(02) 9876 5432": "+61298765432",
        "61412345678": "+61412345678",
        " 12345 ": "12345",
    }
    frame = spark.createDataFrame([(k,) for k in cases], "phone STRING")
    result = {
        r["phone"]: r["e164"] for r in frame.select("phone", normalise_phone_au(F.col("phone")).alias("e164")).collect()
    }
    assert result == cases


def test_amdm_addresses_are_standardised_and_bad_ones_quarantined(spark: SparkSession, lake: tuple) -> None:
    ctx, manifest = lake
    ingested, built = _load(spark, ctx, "amdm", "address", DAY1)
    defects = _defects(manifest, "amdm", "address", DAY1)
    assert built["bronze_rows"] == ingested["bronze_rows"] == built["silver_rows"] + built["quarantined"]
    assert built["quarantine_reasons"] == {
        "dq: postcode_regex": defects["bad_postcode"],
        "dq: state_in_set": defects["unknown_state"],
    }
    rows = _silver(spark, ctx, "amdm", "address").collect()
    assert {r["state"] for r in rows} <= {"NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"}
    darwin = [r for r in rows if r["sbrb_nm"] == "Darwin"]
    assert darwin and all(r["postcode"] == "0800" and r["post_cd"] == "800" for r in darwin)
    sample = rows[0]
    assert sample["full_address"].endswith(f"{sample['sbrb_nm']} {sample['state']} {sample['postcode']}")
    assert len(sample["address_hash"]) == 64
    assert built["dq"]["rules"]["postcode_regex"]["failed"] == defects["bad_postcode"]


def test_cmdm_survivorship_keeps_the_latest_record_and_ties_go_to_the_later_line(
    spark: SparkSession, lake: tuple
) -> None:
    ctx, manifest = lake
    _, built = _load(spark, ctx, "cmdm", "customer", DAY1)
    defects = _defects(manifest, "cmdm", "customer", DAY1)
    superseded = defects["duplicate_older"] + defects["duplicate_tie_later_line_wins"]
    assert built["quarantine_reasons"] == {"superseded by a later record for the same key": superseded}
    rows = _silver(spark, ctx, "cmdm", "customer").collect()
    assert len(rows) == len({r["prty_id"] for r in rows}) == 200
    assert sum(r["first_name"].endswith("-Tie") for r in rows) == defects["duplicate_tie_later_line_wins"]
    assert all(r["phone"].startswith("+61") and " " not in r["phone"] for r in rows)
    assert all(r["email"] == r["email"].strip().lower() for r in rows)
    warned = [r for r in rows if r["dq_warnings"]]
    assert len(warned) == defects["bad_email"]
    assert all(r["dq_warnings"] == ["email_regex"] for r in warned)
    assert built["dq"]["pass_rate"] == pytest.approx(1 - defects["bad_email"] / 200)


def test_a_late_older_record_does_not_overwrite_a_newer_one(spark: SparkSession, lake: tuple) -> None:
    ctx, manifest = lake
    before = {r["prty_id"]: r for r in _silver(spark, ctx, "cmdm", "customer").collect()}
    _, built = _load(spark, ctx, "cmdm", "customer", DAY2)
    after = {r["prty_id"]: r for r in _silver(spark, ctx, "cmdm", "customer").collect()}
    assert set(after) == set(before) | set(manifest["new_customers_day2"])
    for prty_id in manifest["changed_customers_day2"]:
        assert after[prty_id]["updated_ts"] > before[prty_id]["updated_ts"]
    assert built["bronze_rows"] == built["silver_rows"] + built["quarantined"]


def test_jarvis_quarantines_unknown_statuses_and_future_start_dates(spark: SparkSession, lake: tuple) -> None:
    ctx, manifest = lake
    _, built = _load(spark, ctx, "jarvis", "service", DAY1)
    defects = _defects(manifest, "jarvis", "service", DAY1)
    assert built["quarantine_reasons"] == {
        "dq: status_in_set": defects["unknown_status"],
        "dq: start_dt_not_after_logical_date": defects["future_start_dt"],
    }
    rows = _silver(spark, ctx, "jarvis", "service").collect()
    assert {r["status"] for r in rows} <= {"ACTIVE", "SUSPENDED", "DISCONNECTED", "PENDING"}
    assert all(r["start_dt"] <= DAY1 for r in rows)


def test_pega_statuses_and_types_are_normalised_and_parties_flattened(spark: SparkSession, lake: tuple) -> None:
    ctx, manifest = lake
    ingested, built = _load(spark, ctx, "pega", "case", DAY1)
    defects = _defects(manifest, "pega", "case", DAY1)
    assert ingested["quarantined"] == defects["malformed_json"] + defects["bad_type"]
    assert built["quarantine_reasons"] == {
        "dq: status_in_set": defects["unknown_status"],
        "dq: case_type_in_set": defects["unknown_case_type"],
    }
    frame = _silver(spark, ctx, "pega", "case")
    assert {"prty_id", "serv_id", "acct_id"} <= set(frame.columns) and "party" not in frame.columns
    rows = frame.collect()
    assert {r["status"] for r in rows} <= {"OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"}
    assert "IN_PROGRESS" in {r["status"] for r in rows}
    assert {r["case_type"] for r in rows} <= {"COMPLAINT", "FAULT", "BILLING", "ENQUIRY", "MOVE"}
    assert any(r["prty_id"] is None for r in rows)  # cases without a party survive


def test_rerunning_a_date_leaves_silver_and_quarantine_identical(spark: SparkSession, lake: tuple) -> None:
    ctx, _ = lake
    _load(spark, ctx, "sfdc", "contact", DAY1)
    silver_before = sorted(map(tuple, _silver(spark, ctx, "sfdc", "contact").collect()))
    quarantine_before = _quarantine(spark, ctx, "sfdc").drop("ingest_ts").count()
    again = _load(spark, ctx, "sfdc", "contact", DAY1)
    assert again[0]["lines"] == 0
    assert sorted(map(tuple, _silver(spark, ctx, "sfdc", "contact").collect())) == silver_before
    assert _quarantine(spark, ctx, "sfdc").count() == quarantine_before


def test_a_broken_fail_rule_stops_the_batch_before_anything_is_written(spark: SparkSession, tmp_path: Path) -> None:
    config = load_config("local")
    landing = tmp_path / "landing" / "amdm" / "address" / "2026-03-01"
    landing.mkdir(parents=True)
    header = "amdm_addr_id,addr_line_1_txt,addr_line_2_txt,sbrb_nm,state,post_cd,gcc_cd,gcc_nm,mb_cd"
    (landing / "a.csv").write_text(f"{header}\nA1,1 Main St,,Perth,WA,6000,,,\n")
    ctx = StageContext(config, config.require_environment(), Tables(tmp_path / "warehouse"), tmp_path / "landing")
    from dataclasses import replace

    rule = config.systems["amdm"].dq_rules[2].model_copy(update={"action": "fail", "values": ("NSW",)})
    systems = dict(config.systems)
    systems["amdm"] = systems["amdm"].model_copy(update={"dq_rules": (rule,)})
    ctx = replace(ctx, config=replace(config, systems=systems))
    run_bronze(spark, ctx, DAY1, system="amdm", entity="address")
    with pytest.raises(
        DqFailure, match=r"amdm.address 2026-03-01: rules with action 'fail' broken \(state_in_set: 1 row"
    ) as caught:
        run_silver(spark, ctx, DAY1, system="amdm", entity="address")
    # What the observability table records for the failed run.
    assert caught.value.counts["dq"]["rules"]["state_in_set"] == {
        "action": "fail",
        "check": "in_set",
        "column": "state",
        "failed": 1,
    }
    assert not (tmp_path / "warehouse" / "ep_curated" / "amdm" / "address_silver").exists()
