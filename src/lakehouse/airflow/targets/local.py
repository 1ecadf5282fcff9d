"""The ``local`` target: a stage runs inside its Airflow task, through the registry's entry point,
on Spark in local mode (or against the master config names) with Delta Lake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from lakehouse.airflow.targets import LOGICAL_DATE, StageTask
from lakehouse.airflow.targets.gate import pass_dq_gate
from lakehouse.config import LakehouseConfig
from lakehouse.core import stages
from lakehouse.core.governance import Plan
from lakehouse.core.stages import DqGateFailure


class LocalStageOperator(BaseOperator):
    """Calls ``entry_point`` (``module:function``, the registry's ``ENTRY_POINT``) with the stage, the
    environment, the business date and the stage's arguments; the stage's counts become the XCom.

    The entry point is loaded when the task runs, not when the DAG is parsed: the DAG processor
    never starts Spark. A failure the stage's data decides fails the task without a retry."""

    template_fields: Sequence[str] = ("logical_date", "arguments")
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        stage: str,
        env: str,
        arguments: Mapping[str, str],
        logical_date: str = LOGICAL_DATE,
        entry_point: str = stages.ENTRY_POINT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stage = stage
        self.env = env
        self.arguments = dict(arguments)
        self.logical_date = logical_date
        self.entry_point = entry_point

    def execute(self, context: Any) -> Any:
        module, _, function = self.entry_point.partition(":")
        run = getattr(import_module(module), function)
        arguments = {**self.arguments, "run_id": context["run_id"]}
        try:
            return run(self.stage, self.env, self.logical_date, arguments)
        except stages.stage(self.stage).not_retried as exc:
            raise AirflowFailException(str(exc)) from exc


def check_dq_gate(
    env: str, logical_date: str, arguments: Mapping[str, str], ti: Any, outlets: Any, outlet_events: Any
) -> dict[str, Any]:
    """Pass the entity's Silver run only if its DQ pass rate meets the system's threshold."""
    metrics = ti.xcom_pull(task_ids=f"{arguments['entity']}.silver")
    if not metrics:
        raise AirflowFailException(f"no DQ results from {arguments['entity']}.silver for {logical_date}")
    try:
        return pass_dq_gate(env, logical_date, arguments, metrics, outlets, outlet_events)
    except DqGateFailure as exc:
        raise AirflowFailException(str(exc)) from exc


def stage_operator(config: LakehouseConfig, spec: StageTask, **task_kwargs: Any) -> BaseOperator:
    if spec.stage == "dq_gate":
        op_kwargs = {"env": config.env_name, "logical_date": LOGICAL_DATE, "arguments": dict(spec.arguments)}
        return PythonOperator(task_id=spec.task_id, python_callable=check_dq_gate, op_kwargs=op_kwargs, **task_kwargs)
    return LocalStageOperator(
        task_id=spec.task_id, stage=spec.stage, env=config.env_name, arguments=spec.arguments, **task_kwargs
    )


def governance_operators(config: LakehouseConfig, plan: Plan) -> list[BaseOperator]:
    """The plan's local part, through Spark, as one task (the ``governance`` stage). Its runs have
    no logical date (the DAG is triggered after a deploy): the metrics row takes the run's date."""
    return [
        LocalStageOperator(
            task_id="apply_locally",
            stage="governance",
            env=config.env_name,
            arguments={},
            logical_date="{{ dag_run.run_after | ds }}",
        )
    ]
