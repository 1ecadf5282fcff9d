"""The ``local`` target: each stage runs its Spark entry point inside the Airflow task, in Spark local
mode (or against the master that config names) with Delta Lake."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk.exceptions import AirflowFailException

from lakehouse.targets import LOGICAL_DATE, RUN_ID, StageTask
from lakehouse.targets.gate import DqGateFailure, pass_dq_gate


def run_stage(stage: str, env: str, logical_date: str, arguments: Mapping[str, str]) -> dict[str, Any]:
    """Run one stage; its counts become the task's XCom. No ``**kwargs``: PythonOperator would pass
    the whole task context into them."""
    from spark_jobs.main import run, session_for
    from spark_jobs.silver import DqFailure
    from spark_jobs.stages import SmokeCheckFailure

    try:
        return run(session_for(env), stage, env, date.fromisoformat(logical_date), dict(arguments))
    except (DqFailure, SmokeCheckFailure) as exc:
        # The data decides these: the same input fails the same way, so fail without retrying.
        raise AirflowFailException(str(exc)) from exc


def check_dq_gate(
    env: str, logical_date: str, arguments: Mapping[str, str], ti: Any, outlets: Any, outlet_events: Any
) -> dict[str, Any]:
    """Pass the entity's Silver run only if its DQ pass rate meets the system's threshold."""
    metrics = ti.xcom_pull(task_ids=f"{arguments['entity']}.silver")
    if not metrics:
        raise DqGateFailure(f"no DQ results from {arguments['entity']}.silver for {logical_date}")
    return pass_dq_gate(env, logical_date, arguments, metrics, outlets, outlet_events)


def governance_operator(env_name: str, **task_kwargs: Any) -> PythonOperator:
    """The governance plan's local part, through Spark (``lakehouse.governance.apply``)."""
    from lakehouse.governance.apply import apply_local_env

    return PythonOperator(
        task_id="apply_locally", python_callable=apply_local_env, op_kwargs={"env": env_name}, **task_kwargs
    )


def local_operator(env_name: str, spec: StageTask, **task_kwargs: Any) -> PythonOperator:
    op_kwargs = {"env": env_name, "logical_date": LOGICAL_DATE, "arguments": dict(spec.arguments)}
    if spec.stage == "dq_gate":
        return PythonOperator(task_id=spec.task_id, python_callable=check_dq_gate, op_kwargs=op_kwargs, **task_kwargs)
    op_kwargs["arguments"] = {**spec.arguments, "run_id": RUN_ID}
    return PythonOperator(
        task_id=spec.task_id, python_callable=run_stage, op_kwargs={"stage": spec.stage, **op_kwargs}, **task_kwargs
    )
