"""The Databricks jobs, derived from the stage registry.

Each job of ``lakehouse.core.stages.JOBS`` runs the wheel's ``lakehouse-stage`` entry point as a
``python_wheel_task`` on a job cluster, and declares exactly the parameters its stages take, each
forwarded to the entry point: a parameter a DAG passes cannot go missing on the way. One definition
serves every use:

- ``resource(job)`` is the Databricks Asset Bundle resource, with ``${var.*}`` for what differs per
  environment; ``bundle_files`` writes them to ``airflow/include/jobs/`` and the bundle itself to
  ``infra/databricks.yml``, with a target per Databricks environment whose values come from
  ``config/variables/`` (``lakehouse jobs render --write``; a test fails when they are stale);
- ``job_definitions`` fills in one environment's values for ``lakehouse jobs deploy`` and for the
  one-off runs of ``databricks.submit_runs``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from databricks.sdk.service.jobs import JobSettings

from lakehouse.config.models import DatabricksEnvironment, DatabricksSettings, JobKey
from lakehouse.core.stages import JOBS, Job

PACKAGE = "lakehouse_orchestrator"
CONSOLE_SCRIPT = "lakehouse-stage"
"""The wheel's console script of ``lakehouse.spark.main:wheel_main`` (``pyproject.toml``)."""
TASK_KEY = "stage"
CLUSTER_KEY = "etl"
MAX_CONCURRENT_RUNS = 20
BUNDLE_NAME = "lakehouse-orchestrator"
JOBS_FOLDER = "airflow/include/jobs"
BUNDLE_FILE = "infra/databricks.yml"
_VARIABLE = re.compile(r"\$\{var\.([a-z_]+)\}")

VARIABLES = {
    "env": "environment name (ENVM tag, job parameter env)",
    "cost_centre": "COST_CENTER / UDP_BU_DB_COST tag",
    "spark_version": "Databricks runtime of the job clusters",
    "node_type_id": "VM size of the job clusters",
    "num_workers": "workers per job cluster (the etl_restricted policy allows 2 to 16)",
    "wheel": "the project's wheel in the environment's artifacts volume",
    **{f"job_{key}": f"name of the {key} job" for key in JOBS},
}
"""The bundle's variables: what differs per environment (``wheel`` per deployment)."""


def resource(job: Job) -> dict[str, Any]:
    """The bundle resource of ``job``."""
    stage, *_ = job.stages
    defaults = {"stage": stage.name, "env": "${var.env}"}
    return {
        "name": f"${{var.job_{job.key}}}",
        "description": job.description,
        "max_concurrent_runs": MAX_CONCURRENT_RUNS,
        "tags": {
            "ENVM": "${var.env}",
            "COST_CENTER": "${var.cost_centre}",
            "SYSTEM": job.system_tag,
            "DATA_DOMAIN": job.domain_tag,
        },
        "parameters": [{"name": name, "default": defaults.get(name, "")} for name in job.parameters],
        "job_clusters": [
            {
                "job_cluster_key": CLUSTER_KEY,
                "new_cluster": {
                    "spark_version": "${var.spark_version}",
                    "node_type_id": "${var.node_type_id}",
                    "num_workers": "${var.num_workers}",
                    "data_security_mode": "SINGLE_USER",
                    "custom_tags": {"ENVM": "${var.env}", "UDP_BU_DB_COST": "${var.cost_centre}"},
                },
            }
        ],
        "tasks": [
            {
                "task_key": TASK_KEY,
                "job_cluster_key": CLUSTER_KEY,
                "python_wheel_task": {
                    "package_name": PACKAGE,
                    "entry_point": CONSOLE_SCRIPT,
                    "named_parameters": {name: f"{{{{job.parameters.{name}}}}}" for name in job.parameters},
                },
                "libraries": [{"whl": "${var.wheel}"}],
            }
        ],
    }


def wheel_path(settings: DatabricksSettings, file_name: str) -> str:
    """Where a wheel file lives in the environment's artifacts volume."""
    return f"{settings.artifacts.rstrip('/')}/{file_name}"


def variables(env_name: str, settings: DatabricksSettings) -> dict[str, Any]:
    """The values of the bundle's variables for one environment, but the wheel."""
    return {
        "env": env_name,
        "cost_centre": settings.cost_centre,
        "spark_version": settings.cluster.spark_version,
        "node_type_id": settings.cluster.node_type_id,
        "num_workers": settings.cluster.num_workers,
        **{f"job_{key}": name for key, name in settings.jobs.items()},
    }


def _substitute(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    if isinstance(value, str):
        whole = _VARIABLE.fullmatch(value)
        if whole:
            return values[whole.group(1)]  # keeps numbers numbers
        return _VARIABLE.sub(lambda match: str(values[match.group(1)]), value)
    return value


def job_definitions(env_name: str, settings: DatabricksSettings, wheel: str) -> dict[JobKey, JobSettings]:
    """Every job with the environment's values filled in; ``wheel`` is its path in the volume."""
    values = {**variables(env_name, settings), "wheel": wheel}
    return {key: JobSettings.from_dict(_substitute(resource(job), values)) for key, job in JOBS.items()}


# --- the bundle ------------------------------------------------------------------------------------


def _dump(header: str, document: Mapping[str, Any]) -> str:
    body = yaml.safe_dump(dict(document), sort_keys=False, width=120, default_flow_style=False)
    return f"{header}\n{body}"


def bundle(environments: Iterable[tuple[str, DatabricksEnvironment]]) -> dict[str, Any]:
    """``infra/databricks.yml``: the jobs' files, the variables, and a target per environment."""
    targets: dict[str, Any] = {}
    for env_name, environment in environments:
        settings = environment.databricks
        mode = {"mode": settings.bundle_mode} if settings.bundle_mode else {}
        targets[env_name] = {**mode, "variables": variables(env_name, settings)}
    default = next((name for name, target in targets.items() if "mode" not in target), None)
    if default is not None:
        targets[default] = {"default": True, **targets[default]}
    return {
        "bundle": {"name": BUNDLE_NAME},
        "include": [f"../{JOBS_FOLDER}/*.yml"],
        "variables": {name: {"description": text} for name, text in VARIABLES.items()},
        "targets": targets,
    }


GENERATED = "# Generated by `lakehouse jobs render --write` from {source}: edit that, not this file."


def bundle_files(environments: Iterable[tuple[str, DatabricksEnvironment]]) -> dict[str, str]:
    """Path in the repository -> text of every generated bundle file."""
    files = {
        f"{JOBS_FOLDER}/{key}.yml": _dump(
            GENERATED.format(source="the stage registry (lakehouse.core.stages)"),
            {"resources": {"jobs": {key: resource(job)}}},
        )
        for key, job in JOBS.items()
    }
    deploy = "# Deploy with: databricks bundle deploy -t <env> --var wheel=<the wheel in databricks.artifacts>"
    files[BUNDLE_FILE] = _dump(
        GENERATED.format(source="config/variables/ and the stage registry") + "\n" + deploy,
        bundle(environments),
    )
    return files
