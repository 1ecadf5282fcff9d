"""The ``local`` target: each stage runs its Spark entry point inside the Airflow task, in Spark local
mode (or against the master that config names) with Delta Lake."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk.exceptions import AirflowFailException

from lakehouse.config import load_config
from lakehouse.config.models import Environment
from lakehouse.targets import LOGICAL_DATE, StageTask


class DqGateFailure(AirflowFailException):
    """A table's DQ pass rate is under the threshold its system sets; retrying cannot help."""


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


def check_dq_gate(env: str, logical_date: str, arguments: Mapping[str, str], ti: Any) -> dict[str, Any]:
    """Pass the entity's Silver run only if its DQ pass rate meets the system's threshold."""
    system = load_config(env).systems[arguments["system"]]
    metrics = ti.xcom_pull(task_ids=f"{arguments['entity']}.silver")
    if not metrics:
        raise DqGateFailure(f"no DQ results from {arguments['entity']}.silver for {logical_date}")
    dq = metrics["dq"]
    required = system.dq.min_pass_rate
    failing = {name: rule for name, rule in dq["rules"].items() if rule["failed"]}
    summary = {"pass_rate": dq["pass_rate"], "required": required, "rows": dq["rows"], "failing_rules": failing}
    if dq["pass_rate"] < required:
        details = "; ".join(f"{name} ({rule['action']}): {rule['failed']} row(s)" for name, rule in failing.items())
        raise DqGateFailure(
            f"{arguments['system']}.{arguments['entity']} {logical_date}: DQ pass rate {dq['pass_rate']:.2%} is under "
            f"{required:.2%} over {dq['rows']} rows; failing rules: {details}"
        )
    return summary


def local_operator(env_name: str, environment: Environment, spec: StageTask, **task_kwargs: Any) -> PythonOperator:
    op_kwargs = {"env": env_name, "logical_date": LOGICAL_DATE, "arguments": dict(spec.arguments)}
    if spec.stage == "dq_gate":
        return PythonOperator(task_id=spec.task_id, python_callable=check_dq_gate, op_kwargs=op_kwargs, **task_kwargs)
    return PythonOperator(
        task_id=spec.task_id, python_callable=run_stage, op_kwargs={"stage": spec.stage, **op_kwargs}, **task_kwargs
    )
