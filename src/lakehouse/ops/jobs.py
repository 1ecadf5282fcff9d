"""Deploying the Databricks jobs by name through the Jobs API: create what is missing, reset what
differs, leave the rest, and put the wheel in the artifacts volume. What the jobs are is
``lakehouse.core.jobs``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.jobs import JobSettings

from lakehouse import resources
from lakehouse.config import available_envs, load_config
from lakehouse.config.models import DatabricksEnvironment, JobKey
from lakehouse.core.jobs import bundle_files, job_definitions, wheel_path
from lakehouse.ops.environment import databricks_config


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


def plan(client: WorkspaceClient, jobs: Mapping[JobKey, JobSettings]) -> list[JobChange]:
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


def write_bundle_files(root: Path, environments: Iterable[tuple[str, DatabricksEnvironment]]) -> list[str]:
    """Write the bundle files (``lakehouse.core.jobs.bundle_files``) under ``root``; returns those
    whose text changed."""
    changed = []
    for relative, text in bundle_files(environments).items():
        path = root / relative
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(relative)
    return changed


def databricks_environments(config_dir: Path | None = None) -> list[tuple[str, DatabricksEnvironment]]:
    """Every valid Databricks environment under ``config/variables/``, by name."""
    found = []
    for env in available_envs(config_dir):
        config = load_config(env, config_dir)
        config.raise_for_issues()
        environment = config.require_environment()
        if isinstance(environment, DatabricksEnvironment):
            found.append((env, environment))
    return found


def render_command(env: str | None, wheel: str | None, write: bool) -> int:
    """``lakehouse jobs render``: with ``--write``, the bundle files from the registry and every
    environment's config; else one environment's jobs as the Jobs API JSON."""
    if write:
        root = resources.checkout_root()
        if root is None:
            raise SystemExit("lakehouse jobs render --write writes into a checkout; none is here")
        changed = write_bundle_files(root, databricks_environments())
        print("\n".join(f"wrote {path}" for path in changed) or "the bundle files are up to date")
        return 0
    config, environment = databricks_config(env, "lakehouse jobs render")
    settings = environment.databricks
    path = wheel_path(settings, Path(wheel).name if wheel else "<wheel>")
    definitions = job_definitions(config.env_name, settings, path)
    print(json.dumps({key: job.as_dict() for key, job in definitions.items()}, indent=2))
    return 0


def deploy_command(env: str | None, wheel: Path, dry_run: bool) -> int:
    """``lakehouse jobs deploy``: create or reset the environment's jobs by name, uploading the wheel."""
    config, environment = databricks_config(env, "lakehouse jobs deploy")
    settings = environment.databricks
    remote = wheel_path(settings, wheel.name)
    client = WorkspaceClient()  # DATABRICKS_HOST with a token or OAuth credentials, or a profile
    changes = plan(client, job_definitions(config.env_name, settings, remote))
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "unchanged")}
    print(
        f"{config.env_name}: {len(changes)} job(s): {counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged" + (" (dry run: nothing changed)" if dry_run else "")
    )
    for change in changes:
        print(f"  {change.action:<9} {change.name}" + (f" (job {change.job_id})" if change.job_id else ""))
        for line in change.differences:
            print(f"              {line}")
    if dry_run:
        return 0
    if counts["create"] or counts["update"]:
        print(f"  wheel {remote}: " + upload_wheel(client, wheel, remote))
    apply(client, changes)
    for change in changes:
        if change.action != "unchanged":
            print(f"  {change.action}d {change.name}: job {change.job_id}")
    return 0
