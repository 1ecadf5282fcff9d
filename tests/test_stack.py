"""The local stack for real: PostgreSQL and the Airflow processes started directly (no Docker), a DAG
triggered and a three-day backfill created through the REST API and awaited, a task that fails and a
deadline that passes, their alerts arriving at a Teams receiver and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import date
from email.message import Message
from pathlib import Path
from typing import Any

import pendulum
import pytest

from lakehouse.config import load_config
from lakehouse.demo_data import write_demo_data
from lakehouse.stack import AirflowStack, running_stack
from tests.conftest import ConfigCopy
from tests.receivers import HttpReceiver, SmtpInbox

DAG_ID = "lakehouse_ingest_amdm"
SYDNEY = "Australia/Sydney"


def _local_config(config_copy: ConfigCopy) -> None:
    """No retries, small Spark, critical alerts to email and Teams, amdm's deadline 20 seconds."""

    def environment(data: dict[str, Any]) -> None:
        data["retries"]["retries"] = 0
        data["local"].update(spark_master="local[1]", driver_memory="1g")
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


def _wait_for_backfill(stack: AirflowStack, backfill_id: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.api("GET", f"/api/v2/backfills/{backfill_id}")["completed_at"]:
            return
        time.sleep(2)
    raise AssertionError(f"backfill {backfill_id} did not complete within {timeout:.0f} s")


def _subjects(inbox: SmtpInbox) -> list[str]:
    return [str(message["Subject"]) for _, message in inbox.messages]


def _body(message: Message) -> str:
    return message.get_payload()[0].get_payload(decode=True).decode()


@pytest.mark.slow
def test_the_stack_runs_triggered_backfilled_and_failing_runs_and_sends_their_alerts(
    searchable_folder: Path,
    tmp_path: Path,
    config_copy: ConfigCopy,
    monkeypatch: pytest.MonkeyPatch,
    smtp_inbox: SmtpInbox,
    teams_webhook: HttpReceiver,
) -> None:
    _local_config(config_copy)
    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", str(tmp_path / "landing"))
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    systems = dict(load_config("local").systems)
    for first in (date(2026, 3, 1), date(2026, 3, 3)):  # two days each: 1 to 4 March
        write_demo_data(systems, tmp_path / "landing", 500, 11, first)

    with running_stack(searchable_folder, {"LAKEHOUSE_ENV": "local"}) as stack:
        stack.wait_for_dag(DAG_ID)
        # Unpausing starts the run of the latest 04:00 in Sydney at once, whose extract never lands here.
        stack.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        today = pendulum.now(SYDNEY)
        latest = (today if today.hour >= 4 else today.subtract(days=1)).date()
        scheduled = _first_run(stack, "scheduled")
        triggered = stack.api(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"logical_date": "2026-03-01"}}
        )
        backfill = stack.api(
            "POST",
            "/api/v2/backfills",
            {
                "dag_id": DAG_ID,
                "from_date": "2026-03-02T00:00:00+11:00",
                "to_date": "2026-03-04T23:00:00+11:00",
                "max_active_runs": 1,
            },
        )
        assert stack.wait_for_run(DAG_ID, scheduled["dag_run_id"])[0] == "failed"
        state, seen = stack.wait_for_run(DAG_ID, triggered["dag_run_id"])
        assert state == "success", seen
        _wait_for_backfill(stack, backfill["id"])
        runs = stack.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?run_type=backfill&limit=10")["dag_runs"]
        teams_webhook.wait_for(3, timeout=60)  # the failure, and at least the triggered run's deadline

    days = sorted((pendulum.parse(r["logical_date"]).in_timezone(SYDNEY).date().isoformat(), r["state"]) for r in runs)
    assert days == [
        ("2026-03-02", "success"),
        ("2026-03-03", "success"),
        ("2026-03-04", "success"),
    ]
    # Each run processed its own day's slice: the stages' run log names the business dates.
    log = [json.loads(line) for line in (tmp_path / "warehouse" / "_runs" / "stages.jsonl").read_text().splitlines()]
    assert sorted({(r["stage"], r["logical_date"]) for r in log if r["stage"] == "silver"}) == [
        ("silver", f"2026-03-0{day}") for day in (1, 2, 3, 4)
    ]

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
