"""Salesforce outbound with real Spark and Delta against the Salesforce stand-in: requests built from
the current customer dimension, idempotent per date; the worker's successes, field errors, retries,
and a worker killed half-way that never applies a request twice."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.naming import outbound_tables, silver_table
from lakehouse.resources import sql_dir
from lakehouse.spark.gold import run_sql_file
from lakehouse.spark.sfdc_outbound import OutboundIncomplete
from lakehouse.spark.stages import (
    StageContext,
    run_gold,
    run_maintenance,
    run_sfdc_outbound,
    run_sfdc_requests,
    sql_resolver,
)
from lakehouse.spark.tables import Tables
from tests.conftest import ROOT, ConfigCopy
from tests.fakes.salesforce import SalesforceStandIn

DAY_1, DAY_2, DAY_3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
CLIENT_ID, CLIENT_SECRET = "3MVG9-client-id", "s3cr3t-client-credential-9f2"
FIELD = "Mandos_Id__c"
CUSTOMER = "prty_id STRING, first_name STRING, last_name STRING, email STRING, phone STRING, updated_ts TIMESTAMP"
LINK = "prty_id STRING, amdm_addr_id STRING, valid_from DATE, valid_to DATE"
ADDRESS = (
    "amdm_addr_id STRING, addr_line_1_txt STRING, addr_line_2_txt STRING, sbrb_nm STRING, state STRING, "
    "postcode STRING, full_address STRING, gcc_cd STRING, gcc_nm STRING, mb_cd STRING, address_hash STRING, "
    "logical_date DATE"
)


@pytest.fixture
def salesforce(config_copy: ConfigCopy, monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceStandIn]:
    standin = SalesforceStandIn(CLIENT_ID, CLIENT_SECRET, FIELD, "62.0").start()
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_TEST", standin.connection())
    config_copy.edit(
        "variables/local.yaml",
        lambda env: env.update(
            sfdc_outbound={
                "connection": "salesforce_test",
                "external_id_field": FIELD,
                "batch_size": 2,
                "max_retries": 3,
                "backoff_seconds": 0.05,
                "timeout_seconds": 20,
            }
        ),
    )
    yield standin
    standin.stop()


@pytest.fixture
def ctx(salesforce: SalesforceStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StageContext:
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    config = load_config("local")
    return StageContext(config, config.require_environment(), Tables(tmp_path / "warehouse"), tmp_path / "landing")


def _customer(prty_id: str, last_name: str | None, email: str | None, day: int = 1) -> tuple[Any, ...]:
    from datetime import datetime

    return (prty_id, f"First{prty_id}", last_name, email, "+61412345678", datetime(2026, 3, day, 9))


def _load(
    spark: SparkSession, ctx: StageContext, customers: list[tuple[Any, ...]], day: date, addresses: bool = True
) -> None:
    """Silver customers (and one address, of P1) and the Gold tables the requests read."""
    cmdm = ctx.config.systems["cmdm"]
    amdm = ctx.config.systems["amdm"]

    def save(system: str, entity: str, rows: list[tuple[Any, ...]], schema: str) -> None:
        system_model = cmdm if system == "cmdm" else amdm
        location = ctx.tables.location(silver_table(ctx.environment, system, system_model, entity))
        writer = spark.createDataFrame(rows, schema).write.format("delta").mode("overwrite")
        writer.option("overwriteSchema", "true").save(location)

    save("cmdm", "customer", customers, CUSTOMER)
    run_gold(spark, ctx, day, table="dim_customer_scd2")
    if addresses:
        save("cmdm", "party_address", [("P1", "A1", date(2026, 1, 1), None)], LINK)
        address = ("A1", "1 George St", None, "SYDNEY", "NSW", "2000", "", "1GSYD", "Greater Sydney", "1", "h1", day)
        save("amdm", "address", [address], ADDRESS)
        run_gold(spark, ctx, day, table="dim_address")
        run_gold(spark, ctx, day, table="bridge_customer_address")


def _input(spark: SparkSession, ctx: StageContext) -> list[dict[str, Any]]:
    frame = ctx.tables.read(spark, outbound_tables(ctx.environment).input)
    rows = frame.selectExpr("request_id", "external_id", "to_json(payload) AS payload", "logical_date").collect()
    return sorted((row.asDict() for row in rows), key=lambda row: (row["external_id"], row["logical_date"]))


def _output(spark: SparkSession, ctx: StageContext) -> dict[str, dict[str, Any]]:
    frame = ctx.tables.read(spark, outbound_tables(ctx.environment).output)
    return {row["request_id"]: row.asDict() for row in frame.collect()}


def _history(spark: SparkSession, ctx: StageContext) -> dict[str, list[tuple[str, str, int]]]:
    frame = ctx.tables.read(spark, outbound_tables(ctx.environment).history)
    history: dict[str, list[tuple[str, str, int]]] = {}
    for row in frame.orderBy("processed_ts").collect():
        history.setdefault(row["request_id"], []).append((row["status"], row["via"], row["attempt"]))
    return history


def test_requests_from_current_rows_once_per_date_and_again_only_on_change(
    spark: SparkSession, ctx: StageContext
) -> None:
    _load(spark, ctx, [_customer("P1", "Lee", "p1@example.com"), _customer("P2", "Ray", None)], DAY_1)
    assert run_sfdc_requests(spark, ctx, DAY_1)["requests_added"] == 2
    first = _input(spark, ctx)
    assert [json.loads(row["payload"]) for row in first] == [
        {
            "FirstName": "FirstP1", "LastName": "Lee", "Email": "p1@example.com", "Phone": "+61412345678",
            "MailingStreet": "1 George St", "MailingCity": "SYDNEY", "MailingState": "NSW",
            "MailingPostalCode": "2000", "MailingAddressId__c": "A1",
        },
        {
            # Nulls are sent, so that Salesforce clears what the customer master no longer has.
            "FirstName": "FirstP2", "LastName": "Ray", "Email": None, "Phone": "+61412345678",
            "MailingStreet": None, "MailingCity": None, "MailingState": None,
            "MailingPostalCode": None, "MailingAddressId__c": None,
        },
    ]  # fmt: skip
    # The same date again adds nothing; so does the next date while nothing changed.
    assert run_sfdc_requests(spark, ctx, DAY_1)["requests_added"] == 0
    assert run_sfdc_requests(spark, ctx, DAY_2)["requests_added"] == 0
    assert _input(spark, ctx) == first
    # P2 changes email: one new request, for P2 only, with a different id.
    changed = [_customer("P1", "Lee", "p1@example.com"), _customer("P2", "Ray", "p2@example.com", 2)]
    _load(spark, ctx, changed, DAY_2, addresses=False)
    assert run_sfdc_requests(spark, ctx, DAY_2)["requests_added"] == 1
    rows = _input(spark, ctx)
    assert [(row["external_id"], row["logical_date"]) for row in rows] == [("P1", DAY_1), ("P2", DAY_1), ("P2", DAY_2)]
    assert json.loads(rows[2]["payload"])["Email"] == "p2@example.com"
    assert len({row["request_id"] for row in rows}) == 3
    # P2 goes back to its first data: that differs from its latest request, so it is requested again.
    _load(spark, ctx, [_customer("P1", "Lee", "p1@example.com"), _customer("P2", "Ray", None, 3)], DAY_3, False)
    assert run_sfdc_requests(spark, ctx, DAY_3)["requests_added"] == 1
    latest = _input(spark, ctx)[-1]
    assert (latest["external_id"], latest["payload"]) == ("P2", first[1]["payload"])


def _seed(spark: SparkSession, ctx: StageContext, customers: list[tuple[Any, ...]]) -> dict[str, str]:
    """Requests for ``customers``, written straight into the input table (the build is tested
    above); returns request id by external id."""
    run_sql_file(spark, sql_dir() / "sfdc" / "tables.sql", sql_resolver(ctx, DAY_1))
    rows = [
        (f"R-{prty_id}", prty_id, json.dumps({"FirstName": first, "LastName": last, "Email": email, "Phone": phone}))
        for prty_id, first, last, email, phone, _ in customers
    ]
    frame = spark.createDataFrame(rows, "request_id STRING, external_id STRING, payload STRING").selectExpr(
        "'Contact:2026-03-01' AS batch_id", "request_id", "'Contact' AS entity", "'UPSERT' AS action", "external_id",
        "parse_json(payload) AS payload", "sha2(payload, 256) AS payload_hash", "DATE'2026-03-01' AS logical_date",
        "'tests' AS requested_by", "current_timestamp() AS requested_ts", "'local' AS target_env",
    )  # fmt: skip
    frame.write.format("delta").mode("append").save(ctx.tables.location(outbound_tables(ctx.environment).input))
    return {row[1]: row[0] for row in rows}


def test_successes_field_errors_and_retries_land_in_output_and_history(
    spark: SparkSession, ctx: StageContext, salesforce: SalesforceStandIn
) -> None:
    ids = _seed(
        spark,
        ctx,
        [
            _customer("P1", "Lee", "p1@example.com"),
            _customer("P2", "Ray", "not-an-email"),
            _customer("P3", None, "p3@example.com"),
            _customer("P4", "Day", "p4@example.com"),
            _customer("P5", "Fox", "p5@example.com"),
        ],
    )
    salesforce.records["P4"] = {"Id": "003000000000099", FIELD: "P4", "LastName": "Old"}
    # Batches of two: the first call is throttled, the second fails once on the server.
    salesforce.plan = {1: "429", 3: "500"}
    counts = run_sfdc_outbound(spark, ctx, DAY_1)
    assert counts == {
        "table": "ep_marts.sfdc.outbound_output",
        "read_back_applied": 0, "read_back_not_applied": 0, "superseded": 0, "batches": 3, "succeeded": 3, "failed": 2,
    }  # fmt: skip
    assert salesforce.upsert_calls == 5  # three batches, two of them retried once
    output = _output(spark, ctx)
    assert {external: output[rid]["status"] for external, rid in ids.items()} == {
        "P1": "SUCCESS", "P2": "FAILED", "P3": "FAILED", "P4": "SUCCESS", "P5": "SUCCESS",
    }  # fmt: skip
    p2, p3, p4 = output[ids["P2"]], output[ids["P3"]], output[ids["P4"]]
    assert (p2["error_code"], p2["error_fields"]) == ("INVALID_EMAIL_ADDRESS", '["Email"]')
    assert p2["error_msg"] == "Email: invalid email address: not-an-email"
    assert (p3["error_code"], p3["error_fields"]) == ("REQUIRED_FIELD_MISSING", '["LastName"]')
    assert (p4["sfdc_id"], p4["created"]) == ("003000000000099", False)
    assert output[ids["P1"]]["created"] is True
    assert output[ids["P1"]]["sfdc_id"] == salesforce.records["P1"]["Id"]
    assert salesforce.records["P4"]["LastName"] == "Day"
    history = _history(spark, ctx)
    assert history[ids["P1"]] == [("SENDING", "claim", 1), ("SUCCESS", "upsert", 1)]
    assert history[ids["P2"]] == [("SENDING", "claim", 1), ("FAILED", "upsert", 1)]

    # A new token after a 401, and a second run finds nothing to send.
    salesforce.revoke_tokens()
    assert run_sfdc_outbound(spark, ctx, DAY_1) == {
        "table": "ep_marts.sfdc.outbound_output", "read_back_applied": 0, "read_back_not_applied": 0, "superseded": 0,
    }  # fmt: skip
    assert salesforce.upsert_calls == 5
    assert set(salesforce.applied.values()) == {1}
    # Weekly maintenance keeps the outbound tables with Gold's. Written minutes ago, in a few files:
    # nothing due; with a threshold of one new file, compacted, and then nothing is due.
    tables = outbound_tables(ctx.environment)
    pipelines = ctx.config.require_pipelines()
    eager = pipelines.model_copy(
        update={"maintenance": pipelines.maintenance.model_copy(update={"optimize_min_files": 1})}
    )
    eager_ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, pipelines=eager))
    for context, expected in ((ctx, "nothing due"), (eager_ctx, "optimize"), (eager_ctx, "nothing due")):
        maintained = run_maintenance(spark, context, DAY_1, scope="gold", retention_days=7)["tables"]
        assert {maintained[str(t)] for t in (tables.input, tables.output, tables.history)} == {expected}


def test_transport_failure_leaves_requests_retryable_and_the_next_run_reads_back_first(
    spark: SparkSession, ctx: StageContext, salesforce: SalesforceStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _seed(spark, ctx, [_customer("P1", "Lee", "p1@example.com"), _customer("P2", "Ray", "p2@example.com")])
    salesforce.plan = {1: "503-always"}
    with pytest.raises(OutboundIncomplete, match="2 request"):
        run_sfdc_outbound(spark, ctx, DAY_1)
    assert salesforce.upsert_calls == 4  # the first try and three retries
    output = _output(spark, ctx)
    assert {output[rid]["status"] for rid in ids.values()} == {"RETRY"}
    assert "503" in output[ids["P1"]]["error_msg"]
    salesforce.plan = {}
    counts = run_sfdc_outbound(spark, ctx, DAY_1)
    assert counts["read_back_not_applied"] == 2 and counts["succeeded"] == 2
    assert salesforce.reads == 2
    assert _history(spark, ctx)[ids["P1"]] == [
        ("SENDING", "claim", 1), ("RETRY", "transport", 1), ("RETRY", "read_back", 1),
        ("SENDING", "claim", 2), ("SUCCESS", "upsert", 2),
    ]  # fmt: skip
    assert CLIENT_SECRET not in caplog.text


def _kill_worker_when_hung(salesforce: SalesforceStandIn) -> None:
    """Run the worker stage in its own process and SIGKILL it while the stand-in holds its call."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "lakehouse.spark.main", "--stage", "sfdc_outbound", "--env", "local", "--logical-date",
         DAY_1.isoformat()],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        if not salesforce.hung.wait(180):
            raise AssertionError(f"the worker never reached the planned call: {worker.stderr.read()[-2000:]!r}")
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(30) == -signal.SIGKILL
        assert CLIENT_SECRET.encode() not in worker.stderr.read()  # the worker's whole log
    finally:
        salesforce.release.set()
        if worker.poll() is None:
            worker.kill()
        worker.stderr.close()


CRASH_CUSTOMERS = [_customer(f"P{n}", f"Last{n}", f"p{n}@example.com") for n in range(1, 6)]


@pytest.mark.slow  # its own worker process starts its own Spark driver
def test_killed_after_salesforce_applied_a_batch_the_next_run_reads_it_back_instead_of_resending(
    spark: SparkSession, ctx: StageContext, salesforce: SalesforceStandIn
) -> None:
    ids = _seed(spark, ctx, CRASH_CUSTOMERS)
    salesforce.plan = {2: "hang-after-apply"}  # the second batch is applied, its answer never arrives
    _kill_worker_when_hung(salesforce)
    assert {_output(spark, ctx)[ids[p]]["status"] for p in ("P3", "P4")} == {"SENDING"}

    counts = run_sfdc_outbound(spark, ctx, DAY_1)
    assert (counts["read_back_applied"], counts["read_back_not_applied"], counts["succeeded"]) == (2, 0, 1)
    assert len(salesforce.received) == 5 and set(salesforce.received.values()) == {1}
    assert set(salesforce.applied.values()) == {1}
    output = _output(spark, ctx)
    assert {rid: row["status"] for rid, row in output.items()} == dict.fromkeys(ids.values(), "SUCCESS")
    assert output[ids["P3"]]["sfdc_id"] == salesforce.records["P3"]["Id"]
    history = _history(spark, ctx)
    assert history[ids["P3"]] == [("SENDING", "claim", 1), ("SUCCESS", "read_back", 1)]
    assert history[ids["P5"]] == [("SENDING", "claim", 1), ("SUCCESS", "upsert", 1)]


@pytest.mark.slow  # its own worker process starts its own Spark driver
def test_killed_after_the_claim_before_salesforce_applied_it_sends_once(
    spark: SparkSession, ctx: StageContext, salesforce: SalesforceStandIn
) -> None:
    ids = _seed(spark, ctx, CRASH_CUSTOMERS[:2])
    salesforce.plan = {1: "hang-before-apply"}
    _kill_worker_when_hung(salesforce)
    assert salesforce.records == {}

    counts = run_sfdc_outbound(spark, ctx, DAY_1)
    assert (counts["read_back_applied"], counts["read_back_not_applied"], counts["succeeded"]) == (0, 2, 2)
    assert len(salesforce.applied) == 2 and set(salesforce.applied.values()) == {1}
    assert set(salesforce.received.values()) == {1}
    assert _history(spark, ctx)[ids["P1"]] == [
        ("SENDING", "claim", 1), ("RETRY", "read_back", 1), ("SENDING", "claim", 2), ("SUCCESS", "upsert", 2),
    ]  # fmt: skip
