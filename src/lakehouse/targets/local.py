"""The ``local`` target: stages run as Spark jobs in local mode with Delta Lake."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator

from lakehouse.config.models import Environment
from lakehouse.targets import LOGICAL_DATE, StageTask


def run_stage(stage: str, env: str, logical_date: str, arguments: Mapping[str, str]) -> None:
    """Entry point of a local task. Spark execution is not built yet, so refuse rather than pretend.

    No ``**kwargs``: PythonOperator would pass the whole task context into them.
    """
    described = ", ".join(f"{name}={value}" for name, value in sorted(arguments.items()))
    raise NotImplementedError(
        f"local execution of stage '{stage}' ({described}, env={env}, logical_date={logical_date}) "
        "is not implemented yet; no data was read or written"
    )


def local_operator(env_name: str, environment: Environment, spec: StageTask, **task_kwargs: Any) -> PythonOperator:
    return PythonOperator(
        task_id=spec.task_id,
        python_callable=run_stage,
        op_kwargs={
            "stage": spec.stage,
            "env": env_name,
            "logical_date": LOGICAL_DATE,
            "arguments": dict(spec.arguments),
        },
        **task_kwargs,
    )
