"""The ``databricks`` target: stages run as Databricks jobs, found by name."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from airflow.providers.databricks.operators.databricks import (
    DatabricksRunNowOperator,
    DatabricksSQLStatementsOperator,
    DatabricksSubmitRunOperator,
)
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import BaseOperator

from lakehouse import silver_versions, sql_files
from lakehouse.config import LakehouseConfig
from lakehouse.config.models import DatabricksSettings
from lakehouse.targets import LOGICAL_DATE, RUN_ID, StageTask
from lakehouse.targets.gate import DqGateFailure, pass_dq_gate

# Which deployed job runs which stage; the job's own task dispatches on the "stage" parameter.
JOB_OF_STAGE = {
    "bronze": "bronze_ingest",
    "silver": "silver",
    "dq_gate": "silver",
    "gold": "gold",
    "smoke_checks": "gold",
    "sfdc_requests": "gold",
    "sfdc_outbound": "gold",
    "rag_index": "rag",
    "rag_snapshot": "rag",
    "maintenance": "maintenance",
}


def idempotency_token(dag_id: str, task_id: str, run_id: str, try_number: int) -> str:
    """At most 64 characters, the same for the same try of the same task in the same DAG run.

    A try that submits twice (the provider retrying a run-now whose response was lost) gets the run
    it already started. A retry after a failure is a new try and starts a new Databricks run:
    re-using the token would hand back the failed run. A worker lost mid-task also means a new try
    in Airflow 3, so it starts a second run too; the stages are idempotent (MERGE, checkpoints), so
    the second run rewrites the same result."""
    digest = hashlib.sha256(f"{dag_id}\x1f{task_id}\x1f{run_id}".encode()).hexdigest()
    return f"{digest[:48]}-try{try_number}"[:64]


class _TokenPerTry:
    """Sets the operator's idempotency token for the try about to submit (see ``idempotency_token``)."""

    idempotency_token: str | None

    def execute(self, context: Any) -> Any:
        ti = context["ti"]
        self.idempotency_token = idempotency_token(ti.dag_id, ti.task_id, ti.run_id, ti.try_number)
        return super().execute(context)  # type: ignore[misc]


class LakehouseRunNowOperator(_TokenPerTry, DatabricksRunNowOperator):
    """Runs the stage's deployed job."""


class LakehouseSubmitRunOperator(_TokenPerTry, DatabricksSubmitRunOperator):
    """Submits the stage as a one-off run, built from the same job definition."""


class LakehouseSqlStatementsOperator(DatabricksSQLStatementsOperator):
    """Runs a Gold table's SQL on the SQL warehouse of that name. The statement is a template, so
    a ``{{ logical_date }}`` placeholder becomes the run's business date.

    The Statement Execution API has no idempotency token: a retry runs the statement again, which
    the Gold MERGEs make harmless. Killing the task cancels the statement (the provider's on_kill)."""

    template_fields = (*DatabricksSQLStatementsOperator.template_fields, "statement")

    def __init__(self, *, warehouse_name: str, **kwargs: Any) -> None:
        super().__init__(warehouse_id="", **kwargs)
        self.warehouse_name = warehouse_name

    def execute(self, context: Any) -> Any:
        self.warehouse_id = warehouse_id(self._hook, self.warehouse_name)
        return super().execute(context)


class LakehouseStatementListOperator(LakehouseSqlStatementsOperator):
    """Runs statements one after another on the SQL warehouse of that name, each once the one before
    succeeded: governance statements (catalogs, grants, tags) that a SQL script cannot hold. Not
    deferrable: they take seconds. A retry runs them all again, which their idempotence allows."""

    def __init__(self, *, statements: list[str], **kwargs: Any) -> None:
        super().__init__(statement="", deferrable=False, **kwargs)
        self.statements = statements

    def execute(self, context: Any) -> Any:
        self.warehouse_id = warehouse_id(self._hook, self.warehouse_name, "databricks.governance_warehouse")
        for statement in self.statements:
            self.statement = statement
            DatabricksSQLStatementsOperator.execute(self, context)


def governance_operators(config: LakehouseConfig, plan: Any) -> list[BaseOperator]:
    """One task per section of the governance plan, in the plan's order."""
    from lakehouse.governance.apply import warehouse_name
    from lakehouse.governance.plan import SECTIONS

    environment = config.require_environment()
    settings = environment.databricks
    assert settings is not None, "validated: target databricks has a databricks section"
    return [
        LakehouseStatementListOperator(
            task_id=section,
            statements=[statement.sql for statement in plan.section(section)],
            warehouse_name=warehouse_name(settings),
            databricks_conn_id=environment.connections.databricks,
            polling_period_seconds=settings.poll_seconds,
        )
        for section in SECTIONS
        if plan.section(section)
    ]


def warehouse_id(hook: Any, name: str, setting: str = "databricks.gold_warehouse") -> str:
    from airflow.providers.databricks.hooks.databricks import LIST_SQL_ENDPOINTS_ENDPOINT

    warehouses = hook._do_api_call(LIST_SQL_ENDPOINTS_ENDPOINT).get("warehouses") or []
    ids = [warehouse["id"] for warehouse in warehouses if warehouse.get("name") == name]
    if len(ids) != 1:
        known = ", ".join(sorted(w.get("name", "?") for w in warehouses)) or "none"
        found = "no SQL warehouse" if not ids else f"{len(ids)} SQL warehouses"
        raise LookupError(f"{found} named '{name}' ({setting}); the workspace has: {known}")
    return str(ids[0])


def databricks_operator(config: LakehouseConfig, spec: StageTask, **task_kwargs: Any) -> BaseOperator:
    env_name, environment = config.env_name, config.require_environment()
    settings = environment.databricks
    assert settings is not None, "validated: target databricks has a databricks section"
    if spec.stage == "dq_gate":
        return PythonOperator(
            task_id=spec.task_id,
            python_callable=check_dq_gate_of_job,
            op_kwargs={
                "env": env_name,
                "logical_date": LOGICAL_DATE,
                "arguments": dict(spec.arguments),
                "conn_id": environment.connections.databricks,
            },
            **task_kwargs,
        )
    if spec.stage == "gold" and settings.gold_warehouse:
        parts = sql_files.gold_statements(
            config,
            spec.arguments["table"],
            str,
            f"DATE'{LOGICAL_DATE}'",
            materialise_views=False,
            as_of=lambda silver: silver_versions.silver_as_of_template(str(silver)),
        )
        return LakehouseSqlStatementsOperator(
            task_id=spec.task_id,
            statement=sql_files.script(parts),
            warehouse_name=settings.gold_warehouse,
            databricks_conn_id=environment.connections.databricks,
            deferrable=True,
            polling_period_seconds=settings.poll_seconds,
            **task_kwargs,
        )
    job_key = JOB_OF_STAGE[spec.stage]
    parameters = {
        "stage": spec.stage,
        "env": env_name,
        "logical_date": LOGICAL_DATE,
        "run_id": RUN_ID,
        **spec.arguments,
    }
    common: dict[str, Any] = {
        "task_id": spec.task_id,
        "databricks_conn_id": environment.connections.databricks,
        "deferrable": True,
        "polling_period_seconds": settings.poll_seconds,
        **task_kwargs,
    }
    if settings.submit_runs:
        return LakehouseSubmitRunOperator(json=one_off_run(env_name, settings, job_key, parameters), **common)
    job_id = settings.job_ids.get(job_key)  # type: ignore[call-overload]
    job = {"job_id": job_id} if job_id is not None else {"job_name": getattr(settings.jobs, job_key)}
    return LakehouseRunNowOperator(job_parameters=parameters, **job, **common)


def one_off_run(
    env_name: str, settings: DatabricksSettings, job_key: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """The ``runs/submit`` payload of a stage: the deployed job's task and cluster, with the stage's
    parameters given directly (a one-off run has no job parameters)."""
    from lakehouse.jobs import job_definitions, wheel_path

    assert settings.wheel is not None, "validated: submit_runs needs a wheel"
    job = job_definitions(env_name, settings, wheel_path(settings, settings.wheel))[job_key].as_dict()
    (task,) = job["tasks"]
    (cluster,) = job["job_clusters"]
    return {
        "run_name": f"{job['name']} {parameters['stage']}",
        "tasks": [
            {
                "task_key": task["task_key"],
                "new_cluster": cluster["new_cluster"],
                "python_wheel_task": {**task["python_wheel_task"], "named_parameters": parameters},
                "libraries": task["libraries"],
            }
        ],
    }


def check_dq_gate_of_job(
    env: str, logical_date: str, arguments: Mapping[str, str], conn_id: str, ti: Any, outlets: Any, outlet_events: Any
) -> dict[str, Any]:
    """The DQ gate of a Silver job run: its counts are the last line the stage printed, which the
    Jobs API returns as the task run's output."""
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

    run_id = ti.xcom_pull(task_ids=f"{arguments['entity']}.silver", key="run_id")
    if run_id is None:
        raise DqGateFailure(f"no Databricks run of {arguments['entity']}.silver for {logical_date}")
    hook = DatabricksHook(databricks_conn_id=conn_id)
    task_run = hook.get_run(run_id)["tasks"][0]["run_id"]
    lines = [line for line in (hook.get_run_output(task_run).get("logs") or "").splitlines() if line.startswith("{")]
    if not lines:
        raise DqGateFailure(f"run {run_id} of {arguments['entity']}.silver printed no counts")
    return pass_dq_gate(env, logical_date, arguments, json.loads(lines[-1]), outlets, outlet_events)
