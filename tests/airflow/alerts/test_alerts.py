"""Alerts at real receivers on 127.0.0.1 (SMTP, a Teams webhook, the PagerDuty Events API), checked
field by field; a channel whose target is down is logged and changes nothing else."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.log import redact
from airflow.sdk.module_loading import import_string

from lakehouse.airflow.alerts import Route, TaskAlertNotifier, deadline_missed
from lakehouse.airflow.factory import ingest_dags
from lakehouse.config import load_config
from tests.conftest import DAGS_FOLDER, PAGERDUTY_ROUTING_KEY, TEAMS_WEBHOOK_SECRET, ConfigCopy
from tests.fakes.receivers import HttpReceiver, SmtpInbox, free_port


def _context() -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="lakehouse_ingest_crm",
        task_id="customer.silver",
        run_id="scheduled__2026-03-02",
        try_number=3,
        log_url="http://127.0.0.1:8080/log",
    )
    return {"ti": ti, "exception": ValueError("bad row\nsecond line")}


def _route(*channels: str, severity: str = "critical") -> Route:
    return Route(env="prod", severity=severity, channels=channels, system="crm", email_to=("oncall@example.com",))


def test_failure_email_carries_dag_task_try_log_and_error(smtp_inbox: SmtpInbox) -> None:
    TaskAlertNotifier(event="failure", route=_route("email")).notify(_context())
    ((recipients, message),) = smtp_inbox.messages
    assert recipients == ["oncall@example.com"]
    assert message["Subject"] == "[lakehouse prod] task failed: lakehouse_ingest_crm.customer.silver"
    body = message.get_payload()[0].get_payload(decode=True).decode()
    for expected in ("environment: prod", "system: crm", "try: 3", "log: http://127.0.0.1:8080/log"):
        assert expected in body
    assert "error: ValueError: bad row" in body and "second line" not in body


def test_teams_card_names_dag_task_environment_system_try_log_and_error(teams_webhook: HttpReceiver) -> None:
    TaskAlertNotifier(event="retry", route=_route("teams", severity="warning")).notify(_context())
    (request,) = teams_webhook.requests
    assert request.path == f"/webhookb2/{TEAMS_WEBHOOK_SECRET}"
    assert request.body["type"] == "message"
    (attachment,) = request.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, facts = card["body"]
    assert title["text"] == "[lakehouse prod] task failed, will retry: lakehouse_ingest_crm.customer.silver"
    assert {fact["title"]: fact["value"] for fact in facts["facts"]} == {
        "severity": "warning",
        "environment": "prod",
        "dag": "lakehouse_ingest_crm",
        "system": "crm",
        "run": "scheduled__2026-03-02",
        "task": "customer.silver",
        "try": "3",
        "log": "http://127.0.0.1:8080/log",
        "error": "ValueError: bad row",
    }
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the log", "url": "http://127.0.0.1:8080/log"}]
    # HTTP clients log the path alone at debug level; Airflow's masker hides it from then on.
    assert TEAMS_WEBHOOK_SECRET not in redact(f'"POST /webhookb2/{TEAMS_WEBHOOK_SECRET} HTTP/1.1" 200')


def test_pagerduty_event_pages_once_per_task_however_often_it_fails(pagerduty_api: HttpReceiver) -> None:
    notifier = TaskAlertNotifier(event="failure", route=_route("pagerduty"))
    notifier.notify(_context())
    notifier.notify({**_context(), "exception": RuntimeError("again")})
    first, second = pagerduty_api.requests
    assert first.path == "/v2/enqueue"
    event = first.body
    assert (event["routing_key"], event["event_action"]) == (PAGERDUTY_ROUTING_KEY, "trigger")
    assert event["dedup_key"] == "lakehouse/prod/lakehouse_ingest_crm/customer.silver" == second.body["dedup_key"]
    payload = event["payload"]
    assert payload["summary"] == "[lakehouse prod] task failed: lakehouse_ingest_crm.customer.silver"
    assert (payload["severity"], payload["source"]) == ("critical", "lakehouse-prod")
    assert (payload["component"], payload["group"], payload["class"]) == ("crm", "lakehouse_ingest_crm", "failure")
    assert payload["custom_details"]["try"] == "3" and payload["custom_details"]["error"] == "ValueError: bad row"
    assert event["links"] == [{"href": "http://127.0.0.1:8080/log", "text": "Task log"}]
    assert second.body["payload"]["custom_details"]["error"] == "RuntimeError: again"


def test_a_channel_whose_target_is_down_is_logged_and_the_others_still_send(
    monkeypatch: pytest.MonkeyPatch, teams_webhook: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_DEFAULT", f'{{"conn_type": "pagerduty_events", "host": "{down}"}}')
    with caplog.at_level(logging.ERROR, logger="lakehouse.airflow.alerts"):
        TaskAlertNotifier(event="failure", route=_route("pagerduty", "email", "teams", "log")).notify(_context())
    assert "alert channel 'pagerduty' failed for [lakehouse prod] task failed" in caplog.text
    assert "alert channel 'email' failed" in caplog.text  # no SMTP connection at all
    assert len(teams_webhook.requests) == 1 and "task: customer.silver" in caplog.text


def _failing_rag_run(project: ConfigCopy, folder: Path, monkeypatch: pytest.MonkeyPatch, *channels: str) -> Any:
    """The local RAG DAG of the test project, its one task failing on a document without front
    matter, alerts routed to ``channels``, no retries."""

    def route(data: dict[str, Any]) -> None:
        data["retries"]["retries"] = 0
        data["alerts"]["routes"]["critical"] = list(channels)

    project.edit("variables/local.yaml", route)
    (folder / "crm").mkdir()
    (folder / "crm" / "customer-runbook.md").write_text("no front matter here")
    monkeypatch.setenv("LAKEHOUSE_KNOWLEDGE_ROOT", str(folder))
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(folder / "warehouse"))
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("lakehouse_rag")
    return dag.test(logical_date=None, run_conf={"logical_date": "2026-03-02"})


@pytest.mark.slow
def test_a_notifier_whose_target_is_down_keeps_the_task_error_and_outcome(
    airflow_db: Path,
    project: ConfigCopy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = json.dumps({"conn_type": "http", "password": f"http://127.0.0.1:{free_port()}/webhook"})
    monkeypatch.setenv("AIRFLOW_CONN_TEAMS_DEFAULT", down)
    with caplog.at_level(logging.ERROR):
        run = _failing_rag_run(project, tmp_path, monkeypatch, "teams", "log")
    assert run.state == "failed"
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"build_index": "failed"}
    output = "".join(capfd.readouterr()) + caplog.text
    assert "crm/customer-runbook.md: no front matter" in output
    assert "alert channel 'teams' failed for [lakehouse local] task failed: lakehouse_rag.build_index" in output


@pytest.mark.slow
def test_no_secret_shows_in_logs_docs_rendered_templates_or_xcom(
    airflow_db: Path,
    project: ConfigCopy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    teams_webhook: HttpReceiver,
    pagerduty_api: HttpReceiver,
) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with caplog.at_level(logging.INFO):
        run = _failing_rag_run(project, tmp_path, monkeypatch, "teams", "pagerduty", "log")
    assert run.state == "failed"
    assert len(teams_webhook.requests) == 1 and len(pagerduty_api.requests) == 1  # the secrets were used
    with create_session() as session:
        rendered = session.scalars(select(RenderedTaskInstanceFields.rendered_fields)).all()
        xcoms = session.scalars(select(XComModel.value)).all()
    docs = [dag.doc_md or "" for dag in DagBag(dag_folder=str(DAGS_FOLDER)).dags.values()]
    places = {
        "logs": "".join(capfd.readouterr()) + caplog.text,
        "doc_md": "\n".join(docs),
        "rendered templates": json.dumps(rendered, default=str),
        "xcom": json.dumps(xcoms, default=str),
        # what the alerts say (the routing key authenticates the page; it is not its content)
        "alerts": json.dumps(
            [*(r.body for r in teams_webhook.requests), *(r.body["payload"] for r in pagerduty_api.requests)]
        ),
    }
    for secret in (TEAMS_WEBHOOK_SECRET, PAGERDUTY_ROUTING_KEY):
        assert [place for place, text in places.items() if secret in text] == [], secret
    assert rendered, "the run rendered templates, so the search above looked at something"


def test_deadline_callback_is_importable_by_path_and_sends_to_its_routes(
    project: ConfigCopy, smtp_inbox: SmtpInbox, teams_webhook: HttpReceiver, pagerduty_api: HttpReceiver
) -> None:
    (deadline,) = ingest_dags(load_config("dev"))["lakehouse_ingest_billing"].deadline
    callback = import_string(deadline.callback.path)
    assert inspect.iscoroutinefunction(callback)
    asyncio.run(callback(**deadline.callback.kwargs, context={"dag_run": {"run_id": "scheduled__2026-03-02"}}))
    ((recipients, message),) = smtp_inbox.messages
    assert recipients == ["oncall@example.com"]
    assert message["Subject"] == "[lakehouse dev] deadline missed: lakehouse_ingest_billing"
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "run: scheduled__2026-03-02" in body and "did not finish within 2:00:00 of being queued" in body
    (card,) = teams_webhook.requests
    facts = {f["title"]: f["value"] for f in card.body["attachments"][0]["content"]["body"][1]["facts"]}
    assert (facts["system"], facts["severity"]) == ("billing", "critical")
    (page,) = pagerduty_api.requests
    assert page.body["dedup_key"] == "lakehouse/dev/lakehouse_ingest_billing/deadline_miss"


def test_deadline_callback_runs_without_context(caplog: pytest.LogCaptureFixture) -> None:
    route = Route(env="local", severity="critical", channels=("log",))
    with caplog.at_level(logging.ERROR, logger="lakehouse.airflow.alerts"):
        asyncio.run(deadline_missed(dag_id="lakehouse_rag", deadline="1:00:00", route=route.as_kwargs()))
    assert "[lakehouse local] deadline missed: lakehouse_rag" in caplog.text
