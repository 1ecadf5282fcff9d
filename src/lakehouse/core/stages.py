"""The stage registry: every unit of work the DAGs run, declared once.

A stage has a name, the Databricks job that runs it, the parameters a task passes it, the function
that runs it (by import path, ``module:function``), the errors that must not be retried, and the
tables it reads and writes. Everything else derives from here:

- the factory's tasks pass exactly a stage's parameters (``task_arguments`` refuses any other);
- the local target runs ``ENTRY_POINT`` in the Airflow task, the Databricks target runs the stage's
  job, and both fail a try without retrying on the stage's ``not_retried`` errors;
- the entry point dispatches on the name and parses the parameters (``lakehouse.spark.main``);
- the Databricks job definitions declare and forward exactly their stages' parameters
  (``lakehouse.core.jobs``);
- the workspace double of the tests refuses a parameter a job does not declare.

The runners are named, not imported: this module sits below the Spark code, and the orchestration
side never loads Spark, as on Databricks, where Airflow knows a stage only by its job.

Why one module: it is a declaration, one entry per stage with the functions that name its tables;
adding a stage means adding its entry here and its runner in ``lakehouse.spark.stages``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import JobKey
from lakehouse.core.naming import (
    TableName,
    bronze_table,
    gold_table,
    knowledge_index,
    outbound_tables,
    quarantine_table,
    silver_table,
    xref_table,
)

ENTRY_POINT = "lakehouse.spark.main:run_stage"
"""What a local task calls in-process: the same dispatch as the ``lakehouse-stage`` console script
of a Databricks ``python_wheel_task``."""


class DataFailure(RuntimeError):
    """The data decided this failure: the same input fails the same way, so a retry cannot help.
    ``counts`` holds what the stage had counted, which the observability table records."""

    def __init__(self, message: str, counts: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.counts = dict(counts or {})


class DqFailure(DataFailure):
    """A Silver DQ rule with action ``fail`` was broken: nothing of the batch is written."""


class DqGateFailure(DataFailure):
    """A Silver table's DQ pass rate is under its threshold."""


class SmokeCheckFailure(DataFailure):
    """A published Gold table is empty, or referential integrity is broken beyond the configured limit."""


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    parse: Callable[[str], Any] = str
    """From the string a task passes to the value the runner takes."""
    required: bool = True
    """An optional parameter left empty is not passed to the runner, which has a default."""


COMMON_PARAMETERS = ("stage", "env", "logical_date", "run_id")
"""What every task passes besides its stage's own parameters: which stage, for which environment
and business date, and the orchestrator's run the stage's metrics row belongs to."""

Tables = Callable[[LakehouseConfig, Mapping[str, str]], list[TableName]]


def _none(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    return []


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    job: JobKey | None
    """The Databricks job that runs it; ``None``: it runs in the Airflow task on either target."""
    runner: str | None
    """``module:function`` called as ``runner(spark, ctx, logical_date, **parameters)``."""
    parameters: tuple[Parameter, ...] = ()
    not_retried: tuple[type[DataFailure], ...] = ()
    reads: Tables = _none
    writes: Tables = _none
    local_only: bool = False
    """Runs only on the local target (on Databricks, other operators do its work)."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(parameter.name for parameter in self.parameters)

    def parse(self, arguments: Mapping[str, str]) -> dict[str, Any]:
        """The runner's keyword arguments: every required parameter present, nothing undeclared."""
        unknown = set(arguments) - set(self.parameter_names)
        if unknown:
            raise ValueError(f"stage '{self.name}' takes no parameter {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for parameter in self.parameters:
            raw = arguments.get(parameter.name, "")
            if raw == "" and parameter.required:
                raise ValueError(
                    f"stage '{self.name}' needs the parameter '{parameter.name}' ({parameter.description})"
                )
            if raw != "":
                values[parameter.name] = parameter.parse(raw)
        return values


@dataclass(frozen=True)
class Job:
    key: JobKey
    description: str
    system_tag: str
    """The job's ``SYSTEM`` tag."""
    domain_tag: str
    """The job's ``DATA_DOMAIN`` tag."""

    @property
    def stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in STAGES.values() if stage.job == self.key)

    @property
    def parameters(self) -> tuple[str, ...]:
        """What the job declares and forwards to the entry point: the common parameters, then each
        of its stages' own, in registry order."""
        names = list(COMMON_PARAMETERS)
        for stage in self.stages:
            names += [name for name in stage.parameter_names if name not in names]
        return tuple(names)


# --- the tables each stage touches ---------------------------------------------------------------


def _system_entity(arguments: Mapping[str, str]) -> tuple[str, str]:
    return arguments["system"], arguments["entity"]


def _bronze_writes(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    system, entity = _system_entity(arguments)
    environment = config.require_environment()
    return [bronze_table(environment, system, entity), quarantine_table(environment, system)]


def _silver_reads(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    system, entity = _system_entity(arguments)
    return [bronze_table(config.require_environment(), system, entity)]


def _silver_table(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    system, entity = _system_entity(arguments)
    return [silver_table(config.require_environment(), system, config.systems[system], entity)]


def _silver_writes(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    system, entity = _system_entity(arguments)
    environment = config.require_environment()
    xrefs = [xref_table(environment, xref) for xref in config.systems[system].entities[entity].silver.xrefs]
    return [*_silver_table(config, arguments), quarantine_table(environment, system), *xrefs]


def _gold_table(config: LakehouseConfig, name: str) -> TableName:
    (table,) = [table for table in config.require_pipelines().gold.tables if table.name == name]
    return gold_table(config.require_environment(), table)


def _gold_reads(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    (table,) = [table for table in config.require_pipelines().gold.tables if table.name == arguments["table"]]
    environment = config.require_environment()
    silver = []
    for ref in table.inputs:
        system, _, entity = ref.partition(".")
        if system in config.systems:
            silver.append(silver_table(environment, system, config.systems[system], entity))
    return silver + [_gold_table(config, name) for name in table.depends_on]


def _gold_writes(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    return [_gold_table(config, arguments["table"])]


def _all_gold(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    environment = config.require_environment()
    return [gold_table(environment, table) for table in config.require_pipelines().gold.tables]


def _outbound_input(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    return [outbound_tables(config.require_environment()).input]


def _outbound_results(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    tables = outbound_tables(config.require_environment())
    return [tables.output, tables.history]


def _index(config: LakehouseConfig, arguments: Mapping[str, str]) -> list[TableName]:
    return [knowledge_index(config.require_environment())]


# --- the registry -------------------------------------------------------------------------------

_SYSTEM = Parameter("system", "source system, a key of systems.yaml")
_ENTITY = Parameter("entity", "entity of the system")
_RUNNERS = "lakehouse.spark.stages"

STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage(
            "bronze",
            "landing files of one entity and date → Bronze, rejects to quarantine",
            job="bronze_ingest",
            runner=f"{_RUNNERS}:run_bronze",
            parameters=(_SYSTEM, _ENTITY),
            writes=_bronze_writes,
        ),
        Stage(
            "silver",
            "Bronze rows of one entity and date → Silver rules, DQ, MERGE on the natural key",
            job="silver",
            runner=f"{_RUNNERS}:run_silver",
            parameters=(_SYSTEM, _ENTITY),
            not_retried=(DqFailure,),
            reads=_silver_reads,
            writes=_silver_writes,
        ),
        Stage(
            "dq_gate",
            "passes the Silver run on when its DQ pass rate meets the threshold; announces the Silver asset",
            job=None,
            runner=None,
            parameters=(_SYSTEM, _ENTITY),
            not_retried=(DqGateFailure,),
            reads=_silver_table,
        ),
        Stage(
            "gold",
            "one Gold table for one business date, from Silver at that date's versions",
            job="gold",
            runner=f"{_RUNNERS}:run_gold",
            parameters=(
                Parameter("table", "Gold table, a name in pipelines.yaml"),
                Parameter(
                    "silver_versions",
                    "JSON {table: Delta version} of the Silver runs that triggered Gold; empty: Silver as it is",
                    parse=json.loads,
                    required=False,
                ),
            ),
            reads=_gold_reads,
            writes=_gold_writes,
        ),
        Stage(
            "smoke_checks",
            "row counts and orphan ratios of the published Gold tables",
            job="gold",
            runner=f"{_RUNNERS}:run_smoke_checks",
            not_retried=(SmokeCheckFailure,),
            reads=_all_gold,
        ),
        Stage(
            "sfdc_requests",
            "Salesforce Contact upsert requests from the current customer dimension",
            job="gold",
            runner=f"{_RUNNERS}:run_sfdc_requests",
            reads=_all_gold,
            writes=_outbound_input,
        ),
        Stage(
            "sfdc_outbound",
            "sends the pending Contact upserts to Salesforce and records each result",
            job="gold",
            runner=f"{_RUNNERS}:run_sfdc_outbound",
            reads=_outbound_input,
            writes=_outbound_results,
        ),
        Stage(
            "rag_index",
            "knowledge documents → redacted chunks → embeddings → index",
            job="rag",
            runner="lakehouse.spark.rag.stage:run_rag_index",
            parameters=(Parameter("domains", "comma-separated domains to index", parse=lambda raw: raw.split(",")),),
            writes=_index,
        ),
        Stage(
            "rag_snapshot",
            "a dated copy of the knowledge index that can be restored on its own",
            job="rag",
            runner=f"{_RUNNERS}:run_rag_snapshot",
            reads=_index,
        ),
        Stage(
            "maintenance",
            "OPTIMIZE (Z-ordered by the natural key for Silver) and VACUUM of a system's tables or Gold's",
            job="maintenance",
            runner=f"{_RUNNERS}:run_maintenance",
            parameters=(
                Parameter("scope", "a system's name, or 'gold'"),
                Parameter("retention_days", "VACUUM retention in days", parse=int),
            ),
        ),
        Stage(
            "governance",
            "the governance plan's local part through Spark: databases, masking functions, secure views",
            job=None,
            runner="lakehouse.spark.governance:run_governance",
            local_only=True,
        ),
    )
}

JOBS: dict[JobKey, Job] = {
    job.key: job
    for job in (
        Job("bronze_ingest", "Bronze ingest of one system entity for one logical date.", "all-systems", "sources"),
        Job(
            "silver", "Silver rules, DQ and MERGE of one system entity for one logical date.", "all-systems", "sources"
        ),
        Job(
            "gold",
            "One Gold table, the smoke checks or a Salesforce outbound stage for one logical date.",
            "gold",
            "marts",
        ),
        Job("rag", "The RAG knowledge index build, or its snapshot.", "rag", "ai"),
        Job("maintenance", "OPTIMIZE, ZORDER and VACUUM of one system's tables or of Gold.", "maintenance", "platform"),
    )
}


def stage(name: str) -> Stage:
    try:
        return STAGES[name]
    except KeyError:
        raise ValueError(f"unknown stage '{name}'; stages: {', '.join(STAGES)}") from None


def task_arguments(name: str, arguments: Mapping[str, str]) -> dict[str, str]:
    """The arguments a task passes to stage ``name``, checked against its declaration when the DAG
    is built: a parameter the stage does not take fails the parse, not a run on a cluster."""
    declared = stage(name)
    unknown = set(arguments) - set(declared.parameter_names)
    if unknown:
        raise ValueError(f"stage '{name}' takes no parameter {', '.join(sorted(unknown))}")
    missing = [p.name for p in declared.parameters if p.required and p.name not in arguments]
    if missing:
        raise ValueError(f"stage '{name}' needs {', '.join(missing)}")
    return dict(arguments)
