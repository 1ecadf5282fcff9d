"""Where a stage runs: the target of the environment turns a stage into an Airflow operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow.sdk import BaseOperator

from lakehouse.config import LakehouseConfig

Stage = Literal[
    "bronze",
    "silver",
    "dq_gate",
    "gold",
    "smoke_checks",
    "sfdc_requests",
    "sfdc_outbound",
    "rag_index",
    "rag_snapshot",
    "maintenance",
]

LOGICAL_DATE = (
    "{{ params.logical_date or partition_key or logical_date.in_timezone(dag.timezone).strftime('%Y-%m-%d') }}"
)
"""The business date a task works on: the trigger's ``logical_date`` param, else the run's partition
key (a Gold run started by its Silver assets has a partition and no logical date), else the run's
logical date in the DAG's timezone (``ds`` is the UTC date: for a 04:00 Sydney run, the day before)."""

RUN_ID = "{{ run_id }}"
"""The Airflow run a stage's row in the observability table belongs to."""


@dataclass(frozen=True)
class StageTask:
    task_id: str
    stage: Stage
    arguments: Mapping[str, str] = field(default_factory=dict)
    """Stage arguments besides environment and logical date (system, entity, table...)."""


def build_operator(config: LakehouseConfig, spec: StageTask, **task_kwargs: Any) -> BaseOperator:
    if config.require_environment().target == "databricks":
        from lakehouse.targets.databricks import databricks_operator

        return databricks_operator(config, spec, **task_kwargs)
    from lakehouse.targets.local import local_operator

    return local_operator(config.env_name, spec, **task_kwargs)
