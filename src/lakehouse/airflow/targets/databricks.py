"""The ``databricks`` target: a stage runs as its Databricks job (the registry's ``job``), found by
name, with the stage's parameters as job parameters; Gold tables optionally as SQL on a SQL warehouse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.providers.databricks.hooks.databricks import LIST_SQL_ENDPOINTS_ENDPOINT, DatabricksHook
from airflow.providers.databricks.operators.databricks import (
    DatabricksRunNowOperator,
    DatabricksSQLStatementsOperator,
    DatabricksSubmitRunOperator,
)
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from lakehouse.airflow.targets import LOGICAL_DATE, RUN_ID, StageTask
from lakehouse.airflow.targets.gate import pass_dq_gate
from lakehouse.config import LakehouseConfig
from lakehouse.config.models import DatabricksSettings, JobKey
from lakehouse.core import silver_versions, sql_files
from lakehouse.core.governance import SECTIONS, Plan, warehouse_name
from lakehouse.core.jobs import job_definitions, wheel_path
from lakehouse.core.stages import DqGateFailure


def idempotency_token(dag_id: str, task_id: str, run_id: str, try_number: int) -> str:
    """At most 64 characters, the same for the same try of the same task in the same DAG run.

    A try that submits twice (the provider retrying a run-now whose response was lost) gets the run
    it already started. A retry after a failure is a new try and starts a new Databricks run:
    re-using the token would hand back the failed run. A worker lost mid-task also means a new try
    in Airflow 3, so it starts a second run too; the stages are idempotent (MERGE, checkpoints), so
    the second run rewrites the same result."""
    digest = hashlib.sha256(f"{dag_id}\x1f{task_id}\x1f{run_id}".encode()).hexdigest()
    return f"{digest[:48]}-try{try_number}"[:64]


@contextmanager
def _data_failures_not_retried(not_retried: Sequence[str]) -> Iterator[None]:
    """A job run that failed on one of these errors (the stage's ``not_retried``, by class name,
    which the run's error names) fails the task for good: the same data fails the same way."""
    try:
        yield
    except AirflowException as exc:
        if not isinstance(exc, AirflowFailException) and any(f"{name}:" in str(exc) for name in not_retried):
            raise AirflowFailException(str(exc)) from exc
        raise


class _StageRun:
    """Sets the idempotency token for the try about to submit (see ``idempotency_token``), and fails
    without a retry on the stage's data failures, whether the run ends in ``execute`` or, deferred,
    in ``execute_complete``."""

    idempotency_token: str | None
    not_retried: Sequence[str] = ()

    def execute(self, context: Any) -> Any:
        ti = context["ti"]
        self.idempotency_token = idempotency_token(ti.dag_id, ti.task_id, ti.run_id, ti.try_number)
        with _data_failures_not_retried(self.not_retried):
            return super().execute(context)  # type: ignore[misc]

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        with _data_failures_not_retried(self.not_retried):
            return super().execute_complete(context, event)  # type: ignore[misc]


class LakehouseRunNowOperator(_StageRun, DatabricksRunNowOperator):
    """Runs the stage's deployed job."""


class LakehouseSubmitRunOperator(_StageRun, DatabricksSubmitRunOperator):
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


def governance_operators(config: LakehouseConfig, plan: Plan) -> list[BaseOperator]:
    """One task per section of the governance plan, in the plan's order."""
    environment = config.require_databricks("the Databricks target")
    settings = environment.databricks
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
    warehouses = hook._do_api_call(LIST_SQL_ENDPOINTS_ENDPOINT).get("warehouses") or []
    ids = [warehouse["id"] for warehouse in warehouses if warehouse.get("name") == name]
    if len(ids) != 1:
        known = ", ".join(sorted(w.get("name", "?") for w in warehouses)) or "none"
        found = "no SQL warehouse" if not ids else f"{len(ids)} SQL warehouses"
        raise LookupError(f"{found} named '{name}' ({setting}); the workspace has: {known}")
    return str(ids[0])


def stage_operator(config: LakehouseConfig, spec: StageTask, **task_kwargs: Any) -> BaseOperator:
    env_name, environment = config.env_name, config.require_databricks("the Databricks target")
    settings = environment.databricks
    declared = spec.declared
    if declared.local_only:
        raise ValueError(f"stage '{spec.stage}' runs on the local target only")
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
    job_key = declared.job
    assert job_key is not None, "the registry gives every stage but the gate and local ones a job"
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
    not_retried = [error.__name__ for error in declared.not_retried]
    if (wheel := settings.one_off_wheel) is not None:
        operator: _StageRun = LakehouseSubmitRunOperator(
            json=one_off_run(env_name, settings, wheel, job_key, parameters), **common
        )
    else:
        job_id = settings.job_ids.get(job_key)
        job = {"job_id": job_id} if job_id is not None else {"job_name": settings.jobs[job_key]}
        operator = LakehouseRunNowOperator(job_parameters=parameters, **job, **common)
    operator.not_retried = not_retried
    assert isinstance(operator, BaseOperator)
    return operator


def one_off_run(
    env_name: str, settings: DatabricksSettings, wheel: str, job_key: JobKey, parameters: dict[str, str]
) -> dict[str, Any]:
    """The ``runs/submit`` payload of a stage: the deployed job's task and cluster installing ``wheel``,
    with the stage's parameters given directly (a one-off run has no job parameters)."""
    job = job_definitions(env_name, settings, wheel_path(settings, wheel))[job_key].as_dict()
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
    run_id = ti.xcom_pull(task_ids=f"{arguments['entity']}.silver", key="run_id")
    if run_id is None:
        raise AirflowFailException(f"no Databricks run of {arguments['entity']}.silver for {logical_date}")
    hook = DatabricksHook(databricks_conn_id=conn_id)
    task_run = hook.get_run(run_id)["tasks"][0]["run_id"]
    lines = [line for line in (hook.get_run_output(task_run).get("logs") or "").splitlines() if line.startswith("{")]
    if not lines:
        raise AirflowFailException(f"run {run_id} of {arguments['entity']}.silver printed no counts")
    try:
        return pass_dq_gate(env, logical_date, arguments, json.loads(lines[-1]), outlets, outlet_events)
    except DqGateFailure as exc:
        raise AirflowFailException(str(exc)) from exc
