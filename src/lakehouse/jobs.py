"""Databricks job definitions (``airflow/include/jobs/*.yml``, bundle format) resolved for an
environment, and their deployment by name: create what is missing, reset what differs, leave the rest."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.jobs import JobSettings

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import DatabricksSettings
from lakehouse.locations import project_root

JOBS_DIR = project_root() / "airflow" / "include" / "jobs"
VARIABLE = re.compile(r"\$\{var\.([a-z_]+)\}")


def settings_of(config: LakehouseConfig) -> DatabricksSettings:
    settings = config.require_environment().databricks
    if settings is None:
        raise ValueError(f"environment '{config.env_name}' has no 'databricks' section: its target is not databricks")
    return settings


def wheel_path(settings: DatabricksSettings, file_name: str) -> str:
    """Where a wheel file lives in the environment's artifacts volume."""
    return f"{settings.artifacts.rstrip('/')}/{file_name}"


def bundle_variables(env_name: str, settings: DatabricksSettings, wheel: str) -> dict[str, Any]:
    """The values of ``${var.*}`` for this environment; ``infra/databricks.yml`` sets the same per target."""
    jobs = {f"job_{key}": name for key, name in settings.jobs.model_dump().items()}
    return {
        "env": env_name,
        "cost_centre": settings.cost_centre,
        "spark_version": settings.cluster.spark_version,
        "node_type_id": settings.cluster.node_type_id,
        "num_workers": settings.cluster.num_workers,
        "wheel": wheel,
        **jobs,
    }


def _substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        resolved = {key: _substitute(item, variables) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not None}
    if isinstance(value, list):
        return [_substitute(item, variables) for item in value]
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole:
            return variables[whole.group(1)]  # keeps numbers numbers and unset values None
        return VARIABLE.sub(lambda m: str(variables[m.group(1)]), value)
    return value


@cache
def _job_resources(path: Path, mtime_ns: int) -> dict[str, Any]:
    """A definition file's jobs, parsed once per version of the file: one-off runs resolve them for
    every task while Airflow parses the DAGs."""
    return dict((yaml.safe_load(path.read_text()) or {}).get("resources", {}).get("jobs", {}))


def job_definitions(
    env_name: str, settings: DatabricksSettings, wheel: str, folder: Path = JOBS_DIR
) -> dict[str, JobSettings]:
    """Job key -> settings, from every definition file, with the environment's values filled in."""
    variables = bundle_variables(env_name, settings, wheel)
    jobs: dict[str, JobSettings] = {}
    for path in sorted(folder.glob("*.yml")):
        for key, definition in _job_resources(path, path.stat().st_mtime_ns).items():
            try:
                jobs[key] = JobSettings.from_dict(_substitute(definition, variables))
            except KeyError as exc:
                raise ValueError(f"{path.name}: jobs.{key}: unknown variable ${{var.{exc.args[0]}}}") from None
    missing = set(settings.jobs.model_dump()) - set(jobs)
    if missing:
        raise ValueError(f"no job definition in {folder} for: {', '.join(sorted(missing))}")
    return jobs


@dataclass
class JobChange:
    key: str
    name: str
    action: Literal["create", "update", "unchanged"]
    job_id: int | None
    settings: JobSettings
    differences: list[str] = field(default_factory=list)


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _field(key: str) -> str:
    """The top-level setting a flattened key belongs to: ``tasks`` for ``tasks[0].task_key``."""
    return re.split(r"[.\[]", key, maxsplit=1)[0]


def differences(current: JobSettings, wanted: JobSettings) -> list[str]:
    """``key: old -> new`` for every field the deployment would change. Fields the workspace adds
    on its own (such as defaults) and we do not set are not differences."""
    have, want = dict(_flatten(current.as_dict())), dict(_flatten(wanted.as_dict()))
    changed = [f"{key}: {have.get(key, '(unset)')!r} -> {want[key]!r}" for key in want if have.get(key) != want[key]]
    ours = {_field(key) for key in want}
    removed = [f"{key}: {have[key]!r} -> (unset)" for key in have if key not in want and _field(key) in ours]
    return changed + removed


def plan(client: WorkspaceClient, jobs: Mapping[str, JobSettings]) -> list[JobChange]:
    changes = []
    for key, wanted in jobs.items():
        name = wanted.name or key
        found = [job for job in client.jobs.list(name=name) if job.settings and job.settings.name == name]
        if len(found) > 1:
            ids = ", ".join(str(job.job_id) for job in found)
            raise ValueError(f"{len(found)} jobs are named '{name}' ({ids}); names must be unique to be found")
        if not found:
            changes.append(JobChange(key, name, "create", None, wanted))
            continue
        job_id = found[0].job_id
        assert job_id is not None
        current = client.jobs.get(job_id).settings or JobSettings()
        diff = differences(current, wanted)
        changes.append(JobChange(key, name, "update" if diff else "unchanged", job_id, wanted, diff))
    return changes


def apply(client: WorkspaceClient, changes: list[JobChange]) -> None:
    for change in changes:
        if change.action == "create":
            change.job_id = client.jobs.create(**vars(change.settings)).job_id
        elif change.action == "update":
            assert change.job_id is not None
            client.jobs.reset(change.job_id, change.settings)


def upload_wheel(client: WorkspaceClient, local: Path, remote: str) -> str:
    """Put the wheel in the artifacts volume unless it is there: its name carries the version and
    the commit, so a file of that name is that build, and promotion re-uses it unchanged."""
    from databricks.sdk.errors import NotFound

    try:
        client.files.get_metadata(remote)
        return "already uploaded"
    except NotFound:
        pass
    if not local.is_file():
        raise FileNotFoundError(f"{local}: no such wheel to upload (build it with scripts/build_wheel.sh)")
    with local.open("rb") as handle:
        client.files.upload(remote, handle, overwrite=False)
    return "uploaded"
