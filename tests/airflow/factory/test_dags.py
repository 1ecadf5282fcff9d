"""What the factory emits for each environment of the test project: ids, graphs, schedules, deadlines,
callbacks, retries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator
from airflow.sdk import AssetAll, CronTriggerTimetable, DeadlineReference, IdentityMapper, PartitionedAssetTimetable
from airflow.sdk.definitions.deadline import DagRunQueuedAtDeadline
from airflow.sdk.exceptions import ParamValidationError

from lakehouse.airflow.alerts import TaskAlertNotifier
from lakehouse.airflow.factory import gold_dag, ingest_dags, maintenance_dag, rag_dag
from lakehouse.airflow.targets import LOGICAL_DATE, RUN_ID
from lakehouse.airflow.targets.local import LocalStageOperator
from lakehouse.config import load_config
from lakehouse.core.naming import SILVER_GATE_POOL
from lakehouse.core.stages import ENTRY_POINT
from lakehouse.ops import airflow_objects
from tests.conftest import PROJECT_DIR, ConfigCopy

ENVS = ("local", "dev")
"""The test project's environments: one of each target."""


def _all_dags(env: str) -> dict:
    config = load_config(env)
    dags = ingest_dags(config)
    for dag in (gold_dag(config), rag_dag(config), maintenance_dag(config)):
        dags[dag.dag_id] = dag
    return dags


@pytest.fixture(scope="module")
def selected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test project, selected for the whole module (as the ``project`` fixture does for one test)."""
    folder = tmp_path_factory.mktemp("factory") / "project"
    shutil.copytree(PROJECT_DIR, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_CONFIG_DIR", str(folder / "config"))
        patch.setenv("LAKEHOUSE_SQL_DIR", str(folder / "sql"))
        patch.setenv("LAKEHOUSE_KNOWLEDGE_ROOT", str(folder / "knowledge"))
        yield folder


@pytest.fixture(scope="module", params=ENVS)
def env(request: pytest.FixtureRequest, selected: Path) -> str:
    return request.param


@pytest.fixture(scope="module")
def dags(env: str) -> dict:
    return _all_dags(env)


def _curated(env: str) -> str:
    return "t_curated" if env == "local" else f"{env}_curated"


def test_dag_ids(dags: dict) -> None:
    assert sorted(dags) == sorted(
        ["lakehouse_ingest_crm", "lakehouse_ingest_billing", "lakehouse_gold", "lakehouse_rag", "lakehouse_maintenance"]
    )


def test_ingest_graph_is_bronze_then_silver_then_gate_per_entity(dags: dict) -> None:
    billing = dags["lakehouse_ingest_billing"]
    for entity in ("invoice", "payment"):
        bronze, silver, gate = (billing.get_task(f"{entity}.{stage}") for stage in ("bronze", "silver", "dq_gate"))
        assert bronze.upstream_task_ids == set()
        assert silver.upstream_task_ids == {f"{entity}.bronze"}
        assert gate.upstream_task_ids == {f"{entity}.silver"}
        assert gate.downstream_task_ids == set()
    assert len(billing.tasks) == 6
    assert [t.task_id for t in dags["lakehouse_ingest_crm"].tasks] == [
        "customer.bronze",
        "customer.silver",
        "customer.dq_gate",
    ]


def test_silver_assets_are_announced_by_the_dq_gate_only(env: str, dags: dict) -> None:
    curated = _curated(env)
    gate = dags["lakehouse_ingest_billing"].get_task("payment.dq_gate")
    # The entity's own Silver schema, not the system's.
    assert [asset.name for asset in gate.outlets] == [f"{curated}.finance.payment_silver"]
    assert gate.outlets[0].uri == f"x-lakehouse://{curated}/finance/payment_silver"
    assert dags["lakehouse_ingest_billing"].get_task("payment.silver").outlets == []


def test_gold_runs_once_per_business_date_of_every_silver_asset_it_reads(env: str, dags: dict) -> None:
    curated = _curated(env)
    gold = dags["lakehouse_gold"]
    assert isinstance(gold.schedule, PartitionedAssetTimetable)
    assert isinstance(gold.schedule.default_partition_mapper, IdentityMapper)
    assert gold.schedule.partition_mapper_config == {}
    condition = gold.schedule.asset_condition
    assert isinstance(condition, AssetAll)
    awaited = {asset.name for asset in condition.objects}
    assert awaited == {f"{curated}.crm.customer_silver", f"{curated}.finance.invoice_silver"}
    published = {
        gate.outlets[0].name for dag in dags.values() for gate in dag.tasks if gate.task_id.endswith("dq_gate")
    }
    # Gold waits for the Silver tables its tables read, as the DQ gates announce them; payments feed none.
    assert awaited == published - {f"{curated}.finance.payment_silver"}
    # Gold MERGEs history in date order, whatever the environment allows other DAGs.
    assert gold.max_active_runs == 1


def test_every_dq_gate_and_only_a_gate_runs_in_the_one_slot_pool(dags: dict) -> None:
    pooled = {
        (dag.dag_id, task.task_id) for dag in dags.values() for task in dag.tasks if task.pool == SILVER_GATE_POOL
    }
    gates = {
        (dag.dag_id, task.task_id) for dag in dags.values() for task in dag.tasks if task.task_id.endswith("dq_gate")
    }
    assert pooled == gates and len(gates) == 3
    assert airflow_objects.pools()[SILVER_GATE_POOL]["slots"] == 1


def test_gold_graph_follows_depends_on_and_ends_with_smoke_checks(dags: dict) -> None:
    gold = dags["lakehouse_gold"]
    assert gold.get_task("dim_customer").upstream_task_ids == set()
    assert gold.get_task("customer_revenue").upstream_task_ids == {"dim_customer", "fact_invoice"}
    smoke = gold.get_task("smoke_checks")
    assert smoke.upstream_task_ids == {"customer_revenue"}
    assert smoke.downstream_task_ids == set()
    assert all(task.outlets for task in gold.tasks if task.task_id != "smoke_checks")


def test_clock_schedules(dags: dict) -> None:
    expected = {
        "lakehouse_ingest_crm": ("0 4 * * *", "Australia/Sydney"),  # the defaults
        "lakehouse_ingest_billing": ("30 5 * * *", "UTC"),  # its own
        "lakehouse_rag": ("0 6 * * *", "UTC"),
        "lakehouse_maintenance": ("0 3 * * 0", "UTC"),
    }
    for dag_id, (cron, timezone) in expected.items():
        timetable = dags[dag_id].timetable
        assert isinstance(timetable, CronTriggerTimetable)
        assert timetable.expression == cron
        assert str(timetable.timezone) == timezone


def test_every_dag_is_catchup_free_and_runs_one_at_a_time(dags: dict) -> None:
    for dag in dags.values():
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        assert dag.start_date == pendulum.datetime(2026, 1, 1, tz=dag.timezone)


@pytest.mark.parametrize(
    ("dag_id", "interval"),
    [
        ("lakehouse_ingest_crm", timedelta(hours=2)),
        ("lakehouse_gold", timedelta(hours=2)),
        ("lakehouse_rag", timedelta(hours=1)),
        ("lakehouse_maintenance", timedelta(hours=3)),
    ],
)
def test_deadline_from_config_calls_the_routed_callback(env: str, dags: dict, dag_id: str, interval: timedelta) -> None:
    (deadline,) = dags[dag_id].deadline
    assert deadline.interval == interval
    assert isinstance(deadline.reference, DagRunQueuedAtDeadline)
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.callback.path == "lakehouse.airflow.alerts.deadline_missed"
    kwargs = deadline.callback.kwargs
    route = kwargs["route"]
    assert kwargs["dag_id"] == dag_id and route["env"] == env and route["severity"] == "critical"
    assert route["channels"] == {"local": ["log", "email"], "dev": ["log", "email", "teams", "pagerduty"]}[env]
    assert route["system"] == ("crm" if dag_id == "lakehouse_ingest_crm" else None)


def test_retries_with_exponential_backoff_and_alert_notifiers_on_every_task(env: str, dags: dict) -> None:
    retries = {"local": 1, "dev": 2}[env]
    delay = timedelta(seconds=30) if env == "local" else timedelta(minutes=5)
    for dag in dags.values():
        for task in dag.tasks:
            assert task.retries == retries
            assert task.retry_delay == delay
            assert task.retry_exponential_backoff == 2.0
            assert task.max_retry_delay == (timedelta(minutes=5) if env == "local" else timedelta(hours=1))
            (failure,) = task.on_failure_callback
            (retry,) = task.on_retry_callback
            assert isinstance(failure, TaskAlertNotifier) and isinstance(retry, TaskAlertNotifier)
            assert (failure.event, failure.route.env, failure.route.severity) == ("failure", env, "critical")
            assert (retry.event, retry.route.severity) == ("retry", "warning")
            assert retry.route.channels == (("log", "teams") if env == "dev" else ("log",))


def test_owner_and_tags(env: str, dags: dict) -> None:
    crm = dags["lakehouse_ingest_crm"]
    assert {task.owner for task in crm.tasks} == {"team-crm"}
    assert {
        f"env:{env}",
        "system:crm",
        "domain:customer",
        "cost_centre:CC-TEST",
        "layer:ingest",
        "customer",
        "pii",
    } <= set(crm.tags)
    assert {task.owner for task in dags["lakehouse_gold"].tasks} == {"team-marts"}
    assert {f"env:{env}", "cost_centre:CC-TEST", "layer:gold"} <= set(dags["lakehouse_gold"].tags)
    for dag in dags.values():
        assert f"env:{env}" in dag.tags


def test_params_let_a_trigger_set_the_system_and_the_business_date(dags: dict) -> None:
    params = dags["lakehouse_ingest_billing"].params
    assert params["system"] == "billing"
    assert params["logical_date"] is None
    params.validate()
    assert params.get_param("logical_date").resolve("2026-03-01") == "2026-03-01"
    with pytest.raises(ParamValidationError, match="'crm' is not one of \\['billing'\\]"):
        params.get_param("system").resolve("crm")
    with pytest.raises(ParamValidationError, match="is not a 'date'"):
        params.get_param("logical_date").resolve("1st of March")
    for dag in dags.values():
        assert "logical_date" in dag.params


def test_target_decides_the_operator(env: str, dags: dict) -> None:
    task = dags["lakehouse_ingest_crm"].get_task("customer.bronze")
    if env == "local":
        assert isinstance(task, LocalStageOperator)
        assert (task.stage, task.env, task.logical_date) == ("bronze", "local", LOGICAL_DATE)
        assert task.arguments == {"system": "crm", "entity": "customer"}
        assert task.entry_point == ENTRY_POINT
    else:
        assert isinstance(task, DatabricksRunNowOperator)
        assert task.job_name == "test-dev-bronze"
        assert task.job_parameters == {
            "stage": "bronze",
            "env": env,
            "logical_date": LOGICAL_DATE,
            "run_id": RUN_ID,
            "system": "crm",
            "entity": "customer",
        }
        assert task.databricks_conn_id == "databricks_default"


def test_doc_md_describes_the_dag_without_connections_or_addresses(env: str, dags: dict) -> None:
    environment = load_config(env).require_environment()
    assert "`email` (string, PII)" in dags["lakehouse_ingest_crm"].doc_md
    doc = dags["lakehouse_ingest_billing"].doc_md
    assert f"#### `payment` (jsonl) → `{_curated(env)}.finance.payment_silver`" in doc
    assert "| payment | `invoice_id` | not_null | warn |" in doc
    assert "Natural key: `payment_id`" in doc
    assert "`payer` {customer_id, method} (struct)" in doc
    assert "Canonical keys: `customer_sk` = sha256(`payer.customer_id`)" in doc
    assert environment.alerts.email_to
    for dag in dags.values():
        for secret_ish in [
            *environment.alerts.email_to,
            environment.connections.databricks,
            environment.connections.smtp,
        ]:
            assert secret_ish not in dag.doc_md


@pytest.mark.parametrize("env", ENVS)
def test_sfdc_outbound_runs_after_the_smoke_checks_when_configured(env: str, project: ConfigCopy) -> None:
    assert "sfdc_requests" not in gold_dag(load_config(env)).task_ids  # off while no connection is named
    outbound = {"connection": "salesforce_default", **({"secret_scope": "kv-lakehouse"} if env == "dev" else {})}
    project.edit(f"variables/{env}.yaml", lambda data: data.update(sfdc_outbound=outbound))
    gold = gold_dag(load_config(env))
    requests, send = gold.get_task("sfdc_requests"), gold.get_task("sfdc_outbound")
    assert requests.upstream_task_ids == {"smoke_checks"} and send.upstream_task_ids == {"sfdc_requests"}
    assert [outlet.name for outlet in send.outlets] == [f"{'dev' if env == 'dev' else 't'}_marts.sfdc.outbound_output"]
    if env == "dev":
        assert isinstance(send, DatabricksRunNowOperator)
        assert send.job_name == "test-dev-gold"
        assert send.job_parameters["stage"] == "sfdc_outbound"
    else:
        assert isinstance(send, LocalStageOperator) and send.stage == "sfdc_outbound"


def test_sfdc_outbound_on_databricks_needs_the_secret_scope(project: ConfigCopy) -> None:
    project.edit("variables/dev.yaml", lambda data: data.update(sfdc_outbound={"connection": "salesforce"}))
    (issue,) = load_config("dev").environment_issues
    assert "secret_scope" in str(issue)


def test_the_governance_dag_is_unscheduled_and_follows_the_plan(env: str) -> None:
    from itertools import pairwise

    from lakehouse.airflow.factory import governance_dag
    from lakehouse.airflow.targets.databricks import LakehouseStatementListOperator
    from lakehouse.core.governance import SECTIONS, build_plan

    config = load_config(env)
    dag = governance_dag(config)
    assert dag.dag_id == "lakehouse_governance" and dag.schedule is None and dag.max_active_runs == 1
    assert {f"env:{env}", "layer:governance", "cost_centre:CC-TEST"} <= set(dag.tags)
    if env == "local":
        (task,) = dag.tasks
        assert isinstance(task, LocalStageOperator) and (task.stage, task.env) == ("governance", "local")
        return
    plan = build_plan(config)
    assert all(plan.section(section) for section in SECTIONS)  # the project's plan has every section
    tasks = [dag.get_task(section) for section in SECTIONS]
    assert len(tasks) == len(dag.tasks)
    for before, after in pairwise(tasks):
        assert after.upstream_task_ids == {before.task_id}
    assert all(isinstance(task, LakehouseStatementListOperator) for task in tasks)
    assert [sql for task in tasks for sql in task.statements] == [s.sql for s in plan.statements]
    assert {task.warehouse_name for task in tasks} == {"test-dev-sql"}  # Gold's, as governance names none
