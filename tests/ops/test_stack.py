"""The local stack for real: a Spark Connect server, PostgreSQL and the Airflow processes started
directly (no Docker), the tasks' stages running on that server, a DAG
triggered through the REST API, a two-day backfill of every ingest DAG created through it, Gold run
by the scheduler once per business date and equal to Gold built day by day, a task that fails and a
deadline that passes, their alerts arriving at a Teams receiver and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from email.message import Message
from itertools import pairwise
from pathlib import Path
from typing import Any

import pendulum
import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.config.models import LocalEnvironment
from lakehouse.core.naming import GOLD_DAG_ID, SILVER_GATE_POOL, ingest_dag_id
from lakehouse.ops.stack import AirflowStack, running_stack
from lakehouse.spark.stages import run_gold
from tests.conftest import ConfigCopy
from tests.day_by_day import DAYS, build_gold, closed_versions, drop_gold, gold_rows, ingest, land_days, stage_context
from tests.fakes.receivers import HttpReceiver, SmtpInbox

DAG_ID = "lakehouse_ingest_amdm"
SYDNEY = "Australia/Sydney"


def _local_config(config_copy: ConfigCopy) -> None:
    """No retries, a two-core Spark, critical alerts to email and Teams, amdm's deadline 20 seconds."""

    def environment(data: dict[str, Any]) -> None:
        data["retries"]["retries"] = 0
        data["local"].update(spark_master="local[2]", driver_memory="2g")
        data["alerts"]["routes"]["critical"] = ["log", "email", "teams"]

    config_copy.edit("variables/local.yaml", environment)
    config_copy.edit("systems.yaml", lambda d: d["systems"]["amdm"].update(freshness_deadline="PT20S"))


def _cards(teams: HttpReceiver) -> dict[str, dict[str, str]]:
    """Each card's title and facts."""
    cards = {}
    for request in teams.requests:
        title, facts = request.body["attachments"][0]["content"]["body"]
        cards[title["text"]] = {fact["title"]: fact["value"] for fact in facts["facts"]}
    return cards


def _wait_for_backfill(stack: AirflowStack, backfill_id: int, timeout: float = 2400) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.api("GET", f"/api/v2/backfills/{backfill_id}")["completed_at"]:
            return
        time.sleep(2)
    raise AssertionError(f"backfill {backfill_id} did not complete within {timeout:.0f} s")


def _wait_for_gold(stack: AirflowStack, partitions: int, timeout: float = 1800) -> list[dict[str, Any]]:
    """Gold's runs once ``partitions`` of them have finished."""
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = stack.api("GET", f"/api/v2/dags/{GOLD_DAG_ID}/dagRuns?limit=50")["dag_runs"]
        if sum(run["state"] in ("success", "failed") for run in runs) >= partitions:
            return runs
        time.sleep(2)
    raise AssertionError(f"{GOLD_DAG_ID}: {partitions} runs did not finish within {timeout:.0f} s: {runs}")


def _failures(stack: AirflowStack, dag_id: str, run_id: str) -> str:
    """The end of each failed task's log: what an assertion about the run should show."""
    parts = []
    run = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
    for ti in stack.api("GET", run)["task_instances"]:
        if ti["state"] == "failed":
            log = stack.api("GET", f"{run}/{ti['task_id']}/logs/{ti['try_number']}?full_content=true")["content"]
            lines = [str(entry.get("event", entry)) if isinstance(entry, dict) else str(entry) for entry in log]
            parts.append(f"{dag_id} {run_id} {ti['task_id']}:\n" + "\n".join(lines[-40:]))
    return "\n".join(parts)


def _gate_overlaps(stack: AirflowStack) -> list[tuple[str, str]]:
    """Pairs of DQ gates that ran at the same time, over every run: Silver events that commit together
    can leave Gold of their date waiting for ever (apache/airflow#71070)."""
    gates = stack.api("GET", f"/api/v2/dags/~/dagRuns/~/taskInstances?pool={SILVER_GATE_POOL}&limit=1000")
    finished = sorted(
        (ti["start_date"], ti["end_date"], f"{ti['dag_id']} {ti['dag_run_id']} {ti['task_id']}")
        for ti in gates["task_instances"]
        if ti["start_date"] and ti["end_date"]
    )
    assert len(finished) >= len(DAYS) * sum(len(s.entities) for s in load_config("local").systems.values())
    return [(a[2], b[2]) for a, b in pairwise(finished) if b[0] < a[1]]


def _subjects(inbox: SmtpInbox) -> list[str]:
    return [str(message["Subject"]) for _, message in inbox.messages]


def _body(message: Message) -> str:
    return message.get_payload()[0].get_payload(decode=True).decode()


@pytest.mark.slow
@pytest.mark.timeout(3600)  # every ingest DAG over two days, then Gold
def test_the_stack_runs_triggered_backfilled_and_failing_runs_and_sends_their_alerts(
    searchable_folder: Path,
    tmp_path: Path,
    config_copy: ConfigCopy,
    monkeypatch: pytest.MonkeyPatch,
    smtp_inbox: SmtpInbox,
    teams_webhook: HttpReceiver,
    spark: SparkSession,
) -> None:
    _local_config(config_copy)
    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", str(tmp_path / "landing"))
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    land_days(tmp_path / "landing", 500)  # enough rows for every table's DQ pass rate
    ingest_dags = [ingest_dag_id(name) for name in load_config("local").systems]

    environment = load_config("local").require_environment()
    assert isinstance(environment, LocalEnvironment)
    with running_stack(searchable_folder, {"LAKEHOUSE_ENV": "local"}, spark=environment.local) as stack:
        for dag_id in (GOLD_DAG_ID, *ingest_dags):
            stack.wait_for_dag(dag_id)
            # Unpausing an ingest DAG starts the run of the latest 04:00 in Sydney at once, whose
            # extract never lands here.
            stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        today = pendulum.now(SYDNEY)
        latest = (today if today.hour >= 4 else today.subtract(days=1)).date()
        scheduled = _first_run(stack, "scheduled")
        triggered = stack.api(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"logical_date": "2026-03-01"}}
        )
        state, seen = stack.wait_for_run(DAG_ID, triggered["dag_run_id"])
        assert state == "success", (seen, _failures(stack, DAG_ID, triggered["dag_run_id"]))
        # The backfill goes over the triggered day again: a re-run of a date changes nothing.
        backfills = [
            stack.api(
                "POST",
                "/api/v2/backfills",
                {
                    "dag_id": dag_id,
                    "from_date": f"{DAYS[0]}T00:00:00+11:00",
                    "to_date": f"{DAYS[-1]}T23:00:00+11:00",
                    "max_active_runs": 1,
                },
            )
            for dag_id in ingest_dags
        ]
        assert stack.wait_for_run(DAG_ID, scheduled["dag_run_id"])[0] == "failed"
        for backfill in backfills:
            _wait_for_backfill(stack, backfill["id"])
        backfilled = {
            dag_id: stack.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?run_type=backfill&limit=10")["dag_runs"]
            for dag_id in ingest_dags
        }
        gold_runs = _wait_for_gold(stack, len(DAYS))
        overlaps = _gate_overlaps(stack)
        finished = [run for runs in backfilled.values() for run in runs] + gold_runs
        failures = "\n".join(
            _failures(stack, run["dag_id"], run["dag_run_id"]) for run in finished if run["state"] == "failed"
        )
        teams_webhook.wait_for(3, timeout=60)  # the failure, and at least the triggered run's deadline

    assert overlaps == []
    for dag_id, runs in backfilled.items():
        days = sorted((pendulum.parse(r["logical_date"]).in_timezone(SYDNEY).date(), r["state"]) for r in runs)
        assert days == [(day, "success") for day in DAYS], (dag_id, failures)
    # Each run processed its own day's slice: the stages' run log names the business dates.
    log = [json.loads(line) for line in (tmp_path / "warehouse" / "_runs" / "stages.jsonl").read_text().splitlines()]
    assert sorted({(r["arguments"]["entity"], r["logical_date"]) for r in log if r["stage"] == "silver"}) == sorted(
        (entity, day.isoformat())
        for system in load_config("local").systems.values()
        for entity in system.entities
        for day in DAYS
    )

    # The scheduler ran Gold once per business date, from the DQ gates' partitioned Silver events ...
    assert sorted((run["partition_key"], run["run_type"], run["state"]) for run in gold_runs) == [
        (day.isoformat(), "asset_triggered", "success") for day in DAYS
    ], failures
    # ... and its tables equal those of single days of runs: each day's Silver, then its Gold
    # reading Silver as it is.
    backfill = stage_context(tmp_path / "landing", tmp_path / "warehouse")
    single = stage_context(tmp_path / "landing", tmp_path / "single")
    for day in DAYS:
        ingest(spark, single, day)
        build_gold(spark, single, day, None)
    expected = gold_rows(spark, single)
    assert gold_rows(spark, backfill) == expected
    # That needed each date's Silver versions: a later date closed customer versions, which Gold of
    # the backfill reading Silver as it is would have missed.
    assert closed_versions(expected["dim_customer_scd2"])
    drop_gold(single)
    for day in DAYS:
        run_gold(spark, single, day, table="dim_customer_scd2")
    assert closed_versions(gold_rows(spark, single, "dim_customer_scd2")["dim_customer_scd2"]) == []

    cards = _cards(teams_webhook)
    failure = cards["[lakehouse local] task failed: lakehouse_ingest_amdm.address.bronze"]
    assert (failure["environment"], failure["system"], failure["severity"], failure["try"]) == (
        "local",
        "amdm",
        "critical",
        "1",
    )
    assert failure["error"].startswith(f"FileNotFoundError: no amdm.address extract landed for {latest}")
    assert failure["run"] == scheduled["dag_run_id"] and "/dags/lakehouse_ingest_amdm/runs/" in failure["log"]
    missed = cards["[lakehouse local] deadline missed: lakehouse_ingest_amdm"]
    assert missed["detail"] == "the run did not finish within 0:00:20 of being queued"
    assert "[lakehouse local] task failed: lakehouse_ingest_amdm.address.bronze" in _subjects(smtp_inbox)
    assert "[lakehouse local] deadline missed: lakehouse_ingest_amdm" in _subjects(smtp_inbox)


def _first_run(stack: AirflowStack, run_type: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = stack.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?run_type={run_type}")["dag_runs"]
        if runs:
            return dict(runs[0])
        time.sleep(1)
    raise AssertionError(f"no {run_type} run of {DAG_ID} within {timeout:.0f} s")
