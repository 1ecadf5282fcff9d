"""Where a stage runs: the environment's ``target`` turns a stage of the registry into an Airflow
operator.

Each target is a module of this package named by ``TARGETS`` and loaded when a DAG of an environment
with that target is built, so that parsing a local environment's DAGs never imports the Databricks
provider. A target module has ``stage_operator(config, spec, **task_kwargs)`` and
``governance_operators(config, plan)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from airflow.sdk import BaseOperator

from lakehouse.config import LakehouseConfig
from lakehouse.core import stages
from lakehouse.core.governance import Plan

TARGETS = {"local": f"{__name__}.local", "databricks": f"{__name__}.databricks"}

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
    stage: str
    """A name of the stage registry (``lakehouse.core.stages``)."""
    arguments: Mapping[str, str] = field(default_factory=dict)
    """The stage's own parameters (system, entity, table...), checked against its declaration."""

    def __post_init__(self) -> None:
        stages.task_arguments(self.stage, self.arguments)

    @property
    def declared(self) -> stages.Stage:
        return stages.stage(self.stage)


def _target(config: LakehouseConfig) -> Any:
    return import_module(TARGETS[config.require_environment().target])


def build_operator(config: LakehouseConfig, spec: StageTask, **task_kwargs: Any) -> BaseOperator:
    operator: BaseOperator = _target(config).stage_operator(config, spec, **task_kwargs)
    return operator


def governance_operators(config: LakehouseConfig, plan: Plan) -> list[BaseOperator]:
    """The governance DAG's tasks, in the order they run."""
    operators: list[BaseOperator] = _target(config).governance_operators(config, plan)
    return operators
