"""What a CD stage needs from an environment's config, and the steps around the bundle deploy.

    release_env.py workspace --env ENV          print the workspace URL (the env's Databricks connection)
    release_env.py upload --env ENV WHEEL       put the wheel in databricks.artifacts; print its path there
    release_env.py verify --env ENV WHEEL       smoke check: each of the env's jobs exists once, by name,
                                                and installs this wheel from the artifacts volume

Runs with the released wheel installed (config comes bundled in it); Databricks credentials come from the
environment (DATABRICKS_HOST with DATABRICKS_AUTH_TYPE=azure-cli in the pipeline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lakehouse.config import load_config
from lakehouse.config.models import DatabricksSettings
from lakehouse.core import jobs
from lakehouse.ops.jobs import upload_wheel


def _workspace(env: str) -> str:
    environment = load_config(env).require_environment()
    connection_id = environment.connections.databricks
    connection = environment.airflow.connections.get(connection_id)
    if connection is None or not connection.host:
        raise SystemExit(
            f"config/variables/{env}.yaml: airflow.connections.{connection_id}.host is not set: "
            "it names the workspace the environment deploys to"
        )
    return connection.host.rstrip("/")


def _settings(env: str) -> DatabricksSettings:
    config = load_config(env)
    config.raise_for_issues()
    return config.require_databricks("release_env.py").databricks


def _remote(env: str, wheel: Path) -> str:
    return jobs.wheel_path(_settings(env), wheel.name)


def _upload(env: str, wheel: Path) -> str:
    from databricks.sdk import WorkspaceClient

    remote = _remote(env, wheel)
    outcome = upload_wheel(WorkspaceClient(), wheel, remote)
    print(f"{remote}: {outcome}", file=sys.stderr)
    return remote


def _verify(env: str, wheel: Path) -> list[str]:
    from databricks.sdk import WorkspaceClient

    client = WorkspaceClient()
    remote = _remote(env, wheel)
    problems = []
    for name in _settings(env).jobs.values():
        found = list(client.jobs.list(name=name, expand_tasks=True))
        if len(found) != 1:
            problems.append(f"job '{name}': {len(found)} job(s) of that name, expected 1")
            continue
        settings = found[0].settings
        tasks = (settings.tasks if settings else None) or []
        wheels = {library.whl for task in tasks for library in task.libraries or [] if library.whl}
        if wheels != {remote}:
            problems.append(f"job '{name}' (job {found[0].job_id}) installs {sorted(wheels)}, expected {remote}")
        else:
            print(f"  {name}: job {found[0].job_id}, {remote}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release_env.py", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["workspace", "upload", "verify"])
    parser.add_argument("--env", required=True)
    parser.add_argument("wheel", nargs="?", type=Path, help="upload, verify: the released wheel")
    args = parser.parse_intermixed_args(argv)
    if args.action == "workspace":
        print(_workspace(args.env))
        return 0
    if args.wheel is None:
        parser.error(f"{args.action} needs the wheel")
    if args.action == "upload":
        print(_upload(args.env, args.wheel))
        return 0
    problems = _verify(args.env, args.wheel)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"{args.env}: {'smoke check failed' if problems else 'jobs deployed with the released wheel'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
