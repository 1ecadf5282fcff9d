"""Airflow as a deployment runs it, on one machine without Docker: PostgreSQL as the metadata
database (``lakehouse.ops.postgres``), then the api-server, scheduler, dag-processor and triggerer
as separate processes."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from lakehouse.config import ENV_VAR
from lakehouse.config.models import Environment, LocalEnvironment, LocalSettings
from lakehouse.core.locations import SPARK_REMOTE_VAR
from lakehouse.ops import airflow_objects
from lakehouse.ops.airflow_api import AirflowApi
from lakehouse.ops.airflow_home import airflow_environ
from lakehouse.ops.environment import valid_config
from lakehouse.ops.postgres import Postgres
from lakehouse.ops.spark_connect import free_port, running_server
from lakehouse.resources import base_dir

AIRFLOW_PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
SCHEDULER_MODULE = "lakehouse.ops.scheduler"
"""The scheduler's command, whose tasks start with their imports done. Named, not imported: importing
it imports Airflow, which must not happen before the environment it reads is set."""
ADMIN = "admin"


class StackError(RuntimeError):
    """A part of the stack is missing or did not come up; the message says which and where its log is."""


@dataclass
class AirflowStack:
    """The four Airflow processes against a metadata database, each logging to ``home/logs``."""

    home: Path
    database_url: str
    environ: Mapping[str, str] = field(default_factory=dict)
    """Extra environment of every process (the lakehouse environment, connections...)."""
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    preload: bool = True
    """The scheduler starts with its tasks' imports done (``SCHEDULER_MODULE``); ``False``: as
    ``airflow scheduler``, whose tasks import the package's code afresh."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process_environ(self) -> dict[str, str]:
        passwords = self.home / "passwords.json"
        return airflow_environ(
            {
                **os.environ,
                **self.environ,
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                # Shared by the api-server that checks task tokens and the scheduler that issues them.
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt_secret"),
                "AIRFLOW__API__SECRET_KEY": self._secret("secret_key"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            }
        )

    def _secret(self, name: str) -> str:
        path = self.home / f".{name}"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text()

    def start(self, timeout: float = 180.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN: self.password}))
        environ = self.process_environ()
        airflow = str(Path(sys.executable).with_name("airflow"))
        migrate = subprocess.run([airflow, "db", "migrate"], env=environ, capture_output=True, text=True)
        if migrate.returncode != 0:
            raise StackError(f"airflow db migrate failed:\n{migrate.stdout[-2000:]}{migrate.stderr[-4000:]}")
        for name in AIRFLOW_PROCESSES:
            command = [airflow, name]
            if name == "api-server":
                command += ["--host", "127.0.0.1", "--port", str(self.port)]
            elif name == "scheduler" and self.preload:
                command = [sys.executable, "-m", SCHEDULER_MODULE]
            log = (self.home / "logs" / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                command, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_healthy(timeout)
        # The DAGs' tasks wait for their pools in any Airflow (``lakehouse env apply`` writes them there).
        airflow_objects.apply(airflow_objects.pool_changes(self.api), self.api, report=lambda line: None)

    @cached_property
    def api(self) -> AirflowApi:
        """The REST API as the admin user, e.g. ``stack.api("GET", "/api/v2/dags")``."""
        return AirflowApi(self.url, ADMIN, self.password)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has parsed ``dag_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(dag["dag_id"] == dag_id for dag in self.api("GET", "/api/v2/dags?limit=1000")["dags"]):
                return
            time.sleep(1)
        raise StackError(f"{dag_id} was not parsed within {timeout:.0f} s:\n{self.log('dag-processor')[-3000:]}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> tuple[str, dict[str, set[str]]]:
        """The run's final state and every state each task was seen in, polling twice a second."""
        seen: dict[str, set[str]] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ti in self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]:
                seen.setdefault(ti["task_id"], set()).add(ti["state"])
            state = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state, seen
            time.sleep(0.5)
        raise StackError(f"{dag_id} {run_id} did not finish within {timeout:.0f} s; tasks seen: {seen}")

    def log(self, name: str) -> str:
        return (self.home / "logs" / f"{name}.log").read_text(errors="replace")

    def wait_healthy(self, timeout: float) -> None:
        """Until the api-server answers and reports the scheduler, dag-processor and triggerer healthy."""
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise StackError(f"airflow {name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as response:
                    health = json.load(response)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
                continue
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if all((health.get(part) or {}).get("status") == "healthy" for part in parts):
                return
            time.sleep(1)
        raise StackError(f"the Airflow stack was not healthy after {timeout:.0f} s: {health}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def stack_folder() -> Path:
    """``.stack/`` in the checkout; under root a folder of ``/var/tmp``, which the postgres user can reach."""
    root = base_dir()
    if os.geteuid() != 0:
        return root / ".stack"
    return Path("/var/tmp") / f"lakehouse-stack-{hashlib.sha256(str(root).encode()).hexdigest()[:8]}"


@contextmanager
def running_stack(
    folder: Path,
    environ: Mapping[str, str] | None = None,
    port: int | None = None,
    spark: LocalSettings | None = None,
    preload: bool = True,
) -> Iterator[AirflowStack]:
    """PostgreSQL and Airflow under ``folder`` (``postgres/``, ``airflow/``), stopped on exit. With
    ``spark``, a Spark Connect server too, which the tasks' stages use (``$LAKEHOUSE_SPARK_REMOTE``).
    ``preload``: see ``AirflowStack.preload``."""
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as services:
        environ = dict(environ or {})
        if spark is not None:
            server = services.enter_context(running_server(folder / "spark-connect.log", spark))
            environ[SPARK_REMOTE_VAR] = server.url
        postgres = Postgres(folder / "postgres")
        postgres.start()
        services.callback(postgres.stop)
        stack = AirflowStack(folder / "airflow", postgres.url, environ, port or free_port(), preload=preload)
        services.callback(stack.stop)
        stack.start()
        yield stack


def own_server(environment: Environment) -> LocalSettings | None:
    """The settings of a Spark Connect server of the stack's own for the tasks' stages, unless the
    environment names one or ``$LAKEHOUSE_SPARK_REMOTE`` is set (``none``: each task its own Spark)."""
    if not isinstance(environment, LocalEnvironment) or os.environ.get(SPARK_REMOTE_VAR):
        return None
    return environment.local if environment.local.spark_remote is None else None


def stack_command(env: str | None, port: int, folder: Path | None) -> int:
    """``lakehouse stack``: the stack in the foreground, with the environment applied, until Ctrl-C."""
    config = valid_config(env)
    folder = folder or stack_folder()
    spark = own_server(config.require_environment())
    services = "Spark Connect, PostgreSQL and Airflow" if spark else "PostgreSQL and Airflow"
    print(f"starting {services} under {folder} (environment '{config.env_name}')", flush=True)
    with running_stack(folder, {ENV_VAR: config.env_name}, port=port, spark=spark) as stack:
        airflow_objects.apply(
            airflow_objects.plan(config, stack.api), stack.api, report=lambda line: print(f"  {line}")
        )
        print(f"Airflow is up at {stack.url}: user admin, password {stack.password} (in {stack.home}/passwords.json)")
        print("Ctrl-C stops it; the database and logs stay for the next start.", flush=True)
        try:
            while all(process.poll() is None for process in stack.processes.values()):
                time.sleep(2)
        except KeyboardInterrupt:
            print("stopping", flush=True)
            return 0
    print("an Airflow process exited; its log is under " + str(folder / "airflow" / "logs"), file=sys.stderr)
    return 1
