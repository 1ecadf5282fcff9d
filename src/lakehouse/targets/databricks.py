"""The ``databricks`` target: stages run as Databricks jobs, found by name."""

from __future__ import annotations

from typing import Any

from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator

from lakehouse.config.models import Environment
from lakehouse.targets import LOGICAL_DATE, StageTask

# Which deployed job runs which stage; the job's own task dispatches on the "stage" parameter.
JOB_OF_STAGE = {
    "bronze": "bronze_ingest",
    "silver": "silver",
    "dq_gate": "silver",
    "gold": "gold",
    "smoke_checks": "gold",
    "rag_index": "rag",
    "rag_snapshot": "rag",
    "maintenance": "maintenance",
}


def databricks_operator(
    env_name: str, environment: Environment, spec: StageTask, **task_kwargs: Any
) -> DatabricksRunNowOperator:
    settings = environment.databricks
    assert settings is not None, "validated: target databricks has a databricks section"
    job_key = JOB_OF_STAGE[spec.stage]
    job_id = settings.job_ids.get(job_key)  # type: ignore[call-overload]
    job = {"job_id": job_id} if job_id is not None else {"job_name": getattr(settings.jobs, job_key)}
    return DatabricksRunNowOperator(
        task_id=spec.task_id,
        databricks_conn_id=environment.connections.databricks,
        job_parameters={"stage": spec.stage, "env": env_name, "logical_date": LOGICAL_DATE, **spec.arguments},
        **job,
        **task_kwargs,
    )
