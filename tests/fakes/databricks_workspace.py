"""A small stand-in for a Databricks workspace on 127.0.0.1: the subset of the Jobs 2.2 and Files
REST APIs that the Airflow provider and databricks-sdk call for this project.

What it emulates: jobs list (with the name filter), get, create and reset; run-now and runs submit
with idempotency tokens; runs get, get-output and cancel; the files API's metadata and upload for the wheel. A run of
a job whose task is our ``python_wheel_task`` really executes: the task's named parameters, with
``{{job.parameters.NAME}}`` resolved against the job's parameters (their defaults, overridden by those
of run-now), go to the ``lakehouse-stage`` entry point's own parsing (``wheel_task``), which runs the
stage in this process, on the test's Spark session, with path-addressed Delta tables under a folder
of the test (the stage reads that folder, and the config, from ``os.environ``: the test sets what
``dev_workspace`` yields). A run moves through PENDING, RUNNING and TERMINATED with SUCCESS, FAILED or
CANCELED; its output is the line the entry point prints. A RUNNING run cannot be killed: cancelling it
marks it cancelled once its stage ends.

What it refuses as Databricks does, with 400 ``INVALID_PARAMETER_VALUE``: a job created or reset whose
task forwards a ``{{job.parameters.NAME}}`` the job does not declare, and a run-now with a job
parameter the job does not declare.

The SQL Statement Execution API (warehouses list; statements execute, get and cancel) runs each
statement in the Spark session the test hands over, with Unity Catalog names of the given catalogs
read as the folders the stage runs write (``catalog.schema.table`` under ``LAKEHOUSE_WAREHOUSE_ROOT``)
and views materialised as tables.
Statements are accepted with ``wait_timeout`` 0s only, as the provider sends them; results are not
returned, only states; a statement cancelled while it runs finishes its work first.
Governance statements (catalogs, schemas, volumes, functions, views, grants, column tags) go to a small
Unity Catalog (``UnityCatalog``) that keeps what they create and checks what they name exists: the
parent catalog or schema, a view's source table and functions, a grant's securable and group, a tagged
column in its table's Delta schema. They finish before the response, as quick DDL does.

What it does not: clusters (none are started; ``new_cluster`` is stored, not used), libraries (the
wheel is not installed; the checkout's code runs), dynamic value references other than job parameters,
Unity Catalog (tables are folders), permissions,
authentication (any token is accepted), pagination beyond one page, task values, repair, run
queues and concurrency limits.

Why one module: one server, whose Jobs, Files, SQL and Unity Catalog routes share the workspace's
state (the jobs, their runs, the uploaded files and what governance created).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml

from lakehouse.spark.main import wheel_task

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 1)
"""The business date of the extracts a dev workspace starts with."""


@dataclass
class Run:
    run_id: int
    job_id: int | None
    """None for a one-off run (runs/submit)."""
    name: str
    parameters: dict[str, str]
    """The job parameters of a job's run; the task's named parameters of a one-off run."""
    named: list[str]
    """What the ``python_wheel_task`` passes the entry point: ``--name=value``."""
    state: str = "PENDING"
    result: str | None = None
    message: str = ""
    output: str = ""
    error: str = ""
    thread: threading.Thread | None = None
    started: float = field(default_factory=time.time)


class InvalidRequest(ValueError):
    """What Databricks answers with 400 ``INVALID_PARAMETER_VALUE``."""


_JOB_PARAMETER = re.compile(r"\{\{\s*job\.parameters\.(\w+)\s*\}\}")


def check_job(settings: dict[str, Any]) -> None:
    """Refuse job settings whose tasks forward a job parameter the job does not declare."""
    declared = {parameter["name"] for parameter in settings.get("parameters", [])}
    for task in settings.get("tasks", []):
        named = task.get("python_wheel_task", {}).get("named_parameters", {})
        for name, value in named.items():
            for reference in _JOB_PARAMETER.findall(str(value)):
                if reference not in declared:
                    raise InvalidRequest(
                        f"Task {task.get('task_key')}: named parameter '{name}' references the job parameter "
                        f"'{reference}', which the job does not define"
                    )


@dataclass
class UnityCatalog:
    """Securables the governance statements create, and who was granted what on them."""

    groups: set[str] = field(default_factory=set)
    """Account groups a grant may name."""
    catalogs: set[str] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    functions: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    grants: set[tuple[str, str, str]] = field(default_factory=set)
    """(privilege, securable, group)"""
    tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    STATEMENTS = (
        ("catalog", r"CREATE CATALOG IF NOT EXISTS (\w+)(?: COMMENT '[^']*')?"),
        ("schema", r"CREATE SCHEMA IF NOT EXISTS (\w+\.\w+)"),
        ("volume", r"CREATE VOLUME IF NOT EXISTS (\w+\.\w+\.\w+)"),
        ("function", r"CREATE OR REPLACE FUNCTION (\w+\.\w+\.\w+)\(.*"),
        ("view", r"CREATE OR REPLACE VIEW (\w+\.\w+\.\w+)\s.*"),
        ("grant", r"GRANT ([A-Z ,]+) ON (CATALOG|SCHEMA|TABLE) ([\w.]+) TO `([^`]+)`"),
        ("tags", r"ALTER TABLE (\w+\.\w+\.\w+) ALTER COLUMN (\w+) SET TAGS \((.*)\)"),
    )

    def kind(self, text: str) -> tuple[str, re.Match[str]] | None:
        """The governance statement ``text`` is, if it is one. A view belongs here only in a schema
        these statements created: Gold's views run in Spark."""
        for kind, pattern in self.STATEMENTS:
            match = re.fullmatch(pattern, text, flags=re.DOTALL)
            if match and (kind != "view" or match.group(1).rsplit(".", 1)[0] in self.schemas):
                return kind, match
        return None

    def execute(self, kind: str, match: re.Match[str], table_columns: Any) -> None:
        """Apply one statement; ``table_columns(name)`` is a table's columns, or None if it does not exist."""

        def parent(name: str, existing: set[str], what: str) -> None:
            if name.rsplit(".", 1)[0] not in existing:
                raise LookupError(f"{what} {name.rsplit('.', 1)[0]} does not exist")

        name = match.group(1)
        if kind == "catalog":
            self.catalogs.add(name)
        elif kind == "schema":
            parent(name, self.catalogs, "catalog")
            self.schemas.add(name)
        elif kind == "volume":
            parent(name, self.schemas, "schema")
            self.volumes.add(name)
        elif kind == "function":
            parent(name, self.schemas, "schema")
            self.functions[name] = match.group(0)
        elif kind == "view":
            parent(name, self.schemas, "schema")
            for function in re.findall(r"(\w+\.\w+\.\w+)\(", match.group(0)):
                if function not in self.functions:
                    raise LookupError(f"function {function} does not exist")
            for source in re.findall(r"FROM (\w+\.\w+\.\w+)", match.group(0)):
                if table_columns(source) is None:
                    raise LookupError(f"table {source} does not exist")
            self.views[name] = match.group(0)
        elif kind == "grant":
            privileges, securable, target, group = match.groups()
            existing = {"CATALOG": self.catalogs, "SCHEMA": self.schemas, "TABLE": set(self.views)}[securable]
            if target not in existing and (securable != "TABLE" or table_columns(target) is None):
                raise LookupError(f"{securable.lower()} {target} does not exist")
            if group not in self.groups:
                raise LookupError(f"principal {group} does not exist")
            self.grants |= {(p.strip(), f"{securable} {target}", group) for p in privileges.split(",")}
        else:
            column = match.group(2)
            columns = table_columns(name)
            if columns is None:
                raise LookupError(f"table {name} does not exist")
            if column not in columns:
                raise LookupError(f"column {column} is not a column of {name}")
            pairs = re.findall(r"'([^']*)' = '([^']*)'", match.group(3))
            self.tags.setdefault((name, column), {}).update(pairs)

    def state(self) -> tuple[Any, ...]:
        return (
            sorted(self.catalogs),
            sorted(self.schemas),
            sorted(self.volumes),
            dict(self.functions),
            dict(self.views),
            sorted(self.grants),
            {key: dict(value) for key, value in self.tags.items()},
        )


@dataclass
class Statement:
    statement_id: str
    text: str
    warehouse_id: str
    state: str = "PENDING"
    error: dict[str, str] = field(default_factory=dict)


class Workspace:
    """The emulator's state, and the server that serves it."""

    def __init__(self, run_delay: float = 0.0) -> None:
        self.run_delay = run_delay
        """Seconds a run stays PENDING: room for a test to defer or kill the task first."""
        self.jobs: dict[int, dict[str, Any]] = {}
        self.runs: dict[int, Run] = {}
        self.tokens: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        self.root: Path | None = None
        """The test's folder of landing files and tables, when it has one."""
        self.calls: list[tuple[str, str]] = []
        self.warehouses: dict[str, str] = {}
        """SQL warehouses, id to name."""
        self.statements: dict[str, Statement] = {}
        self.spark: Any = None
        """The Spark session job runs and SQL statements run in; the test sets it."""
        self.catalogs: set[str] = set()
        """Catalogs whose three-part names statements read as folders under the warehouse root."""
        self.unity_catalog = UnityCatalog()
        self._ids = iter(range(1001, 10**9))
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Workspace:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stops serving, cancels the runs still pending and waits for those running: a stage that
        outlived the test would read and write what the next test set up."""
        self.server.shutdown()
        for run_id in list(self.runs):
            self.cancel(run_id)
        for run in list(self.runs.values()):
            if run.thread is not None and run.state == "TERMINATING":
                run.thread.join()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    # --- SQL statements ---------------------------------------------------------------------------

    def execute_statement(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("wait_timeout") != "0s":
            raise ValueError("only asynchronous statements (wait_timeout 0s) are emulated")
        statement = Statement(f"stmt-{self.next_id()}", body["statement"], body["warehouse_id"])
        self.statements[statement.statement_id] = statement
        governance = self.unity_catalog.kind(statement.text)
        if governance is not None:
            try:
                self.unity_catalog.execute(*governance, self._table_columns)
            except LookupError as error:
                statement.state, statement.error = "FAILED", {"error_code": "NOT_FOUND", "message": str(error)}
            else:
                statement.state = "SUCCEEDED"
            return self.statement_json(statement)
        threading.Thread(target=self._execute_statement, args=(statement,), daemon=True).start()
        return self.statement_json(statement)

    def _execute_statement(self, statement: Statement) -> None:
        time.sleep(self.run_delay)
        if statement.state != "PENDING":
            return  # cancelled while pending
        statement.state = "RUNNING"
        root = self.warehouse()

        def folder(match: re.Match[str]) -> str:
            catalog, schema, table = match.groups()
            return f"delta.`{root}/{catalog}/{schema}/{table}`" if catalog in self.catalogs else match.group(0)

        # Spark without a metastore keeps no views between sessions: a view is materialised instead.
        text = re.sub(r"CREATE OR REPLACE VIEW (\S+) AS", r"CREATE OR REPLACE TABLE \1 USING DELTA AS", statement.text)
        try:
            self.spark.sql(re.sub(r"\b(\w+)\.(\w+)\.(\w+)\b", folder, text)).collect()
        except Exception as error:
            statement.state = "FAILED"
            statement.error = {"error_code": "BAD_REQUEST", "message": str(error).splitlines()[0]}
        else:
            if statement.state != "CANCELED":
                statement.state = "SUCCEEDED"

    def _table_columns(self, name: str) -> list[str] | None:
        catalog, schema, table = name.split(".")
        folder = self.warehouse() / catalog / schema / table
        if not (folder / "_delta_log").is_dir():
            return None
        return list(self.spark.read.format("delta").load(str(folder)).columns)

    def warehouse(self) -> Path:
        """The folder of the tables, as ``LAKEHOUSE_WAREHOUSE_ROOT`` points the stages at it."""
        assert self.root is not None, "statements and runs need the test's folder"
        return self.root / "warehouse"

    def statement_json(self, statement: Statement) -> dict[str, Any]:
        status: dict[str, Any] = {"state": statement.state}
        if statement.error:
            status["error"] = statement.error
        return {"statement_id": statement.statement_id, "status": status}

    # --- runs ---------------------------------------------------------------------------------

    def create_job(self, settings: dict[str, Any]) -> int:
        check_job(settings)
        job_id = self.next_id()
        self.jobs[job_id] = settings
        return job_id

    def reset_job(self, job_id: int, settings: dict[str, Any]) -> None:
        check_job(settings)
        self.jobs[job_id] = settings

    def run_now(self, body: dict[str, Any]) -> dict[str, Any]:
        job_id = int(body["job_id"])
        settings = self.jobs[job_id]
        defaults = {p["name"]: str(p.get("default", "")) for p in settings.get("parameters", [])}
        given = {name: str(value) for name, value in body.get("job_parameters", {}).items()}
        undeclared = sorted(set(given) - set(defaults))
        if undeclared:
            raise InvalidRequest(
                f"Job {job_id} ({settings.get('name')}) does not define the job parameter(s) {', '.join(undeclared)}"
            )
        token = body.get("idempotency_token")
        if token and token in self.tokens:
            return {"run_id": self.tokens[token]}
        parameters = {**defaults, **given}
        (task,) = settings["tasks"]
        named = [
            f"--{name}={_JOB_PARAMETER.sub(lambda match: parameters[match.group(1)], str(value))}"
            for name, value in task["python_wheel_task"]["named_parameters"].items()
        ]
        return self._start(Run(self.next_id(), job_id, settings.get("name", ""), parameters, named), token)

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """A one-off run: the stage's parameters are the wheel task's named parameters."""
        token = body.get("idempotency_token")
        if token and token in self.tokens:
            return {"run_id": self.tokens[token]}
        (task,) = body["tasks"]
        parameters = {k: str(v) for k, v in task["python_wheel_task"]["named_parameters"].items()}
        named = [f"--{name}={value}" for name, value in parameters.items()]
        return self._start(Run(self.next_id(), None, body.get("run_name", ""), parameters, named), token)

    def _start(self, run: Run, token: str | None) -> dict[str, Any]:
        self.runs[run.run_id] = run
        if token:
            self.tokens[token] = run.run_id
        run.thread = threading.Thread(target=self._execute, args=(run,), daemon=True)
        run.thread.start()
        return {"run_id": run.run_id, "number_in_job": run.run_id}

    def _execute(self, run: Run) -> None:
        time.sleep(self.run_delay)
        with self._lock:
            if run.state != "PENDING":
                return  # cancelled while pending
            run.state = "RUNNING"
        # What the job's python_wheel_task does: the lakehouse-stage entry point with the named parameters.
        try:
            result = wheel_task(run.named, self.spark)
        except (Exception, SystemExit) as error:  # SystemExit: the entry point refused its arguments
            outcome, output = "FAILED", ""
            message = f"Task stage failed: {traceback.format_exception_only(error)[0].strip()}"
            trace = "".join(traceback.format_exception(error))
        else:
            outcome, output, message, trace = "SUCCESS", json.dumps(result, default=str) + "\n", "", ""
        with self._lock:
            if run.state == "TERMINATING":
                outcome, message = "CANCELED", "Run cancelled by the user."
            run.output, run.error = output, trace
            run.state, run.result, run.message = "TERMINATED", outcome, message

    def run_json(self, run: Run) -> dict[str, Any]:
        # Under the lock: a run read between its TERMINATED and its result would read as failed.
        with self._lock:
            life_cycle_state, result, message = run.state, run.result, run.message
        life_cycle = {"PENDING": "PENDING", "RUNNING": "RUNNING", "TERMINATING": "TERMINATING"}
        state: dict[str, Any] = {"life_cycle_state": life_cycle.get(life_cycle_state, "TERMINATED")}
        if result:
            state["result_state"] = result
        state["state_message"] = message
        status: dict[str, Any] = {"state": "TERMINATED" if life_cycle_state == "TERMINATED" else life_cycle_state}
        if result:
            status["termination_details"] = {"code": result}
        page = f"#job/{run.job_id}/run/{run.run_id}" if run.job_id else f"#run/{run.run_id}"
        return {
            "job_id": run.job_id,
            "run_id": run.run_id,
            "run_name": run.name,
            "run_page_url": f"{self.url}/{page}",
            "state": state,
            "status": status,
            "tasks": [{"run_id": run.run_id, "task_key": "stage", "state": state}],
            "job_parameters": [{"name": k, "value": v} for k, v in run.parameters.items()],
            "start_time": int(run.started * 1000),
        }

    def cancel(self, run_id: int) -> None:
        """A pending run ends at once; a running one when its stage does (see the module's docstring)."""
        with self._lock:
            run = self.runs[run_id]
            if run.state == "PENDING":
                run.state, run.result, run.message = "TERMINATED", "CANCELED", "Run cancelled by the user."
            elif run.state == "RUNNING":
                run.state = "TERMINATING"


def _handler(workspace: Workspace) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _missing(self, what: str) -> None:
            self._reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"{what} does not exist."})

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_HEAD(self) -> None:
            path = unquote(urlparse(self.path).path)
            workspace.calls.append(("HEAD", path))
            name = path.removeprefix("/api/2.0/fs/files")
            self.send_response(200 if name in workspace.files else 404)
            self.send_header("Content-Length", str(len(workspace.files.get(name, b""))))
            self.end_headers()

        def do_PUT(self) -> None:
            path = unquote(urlparse(self.path).path)
            workspace.calls.append(("PUT", path))
            name = path.removeprefix("/api/2.0/fs/files")
            length = int(self.headers.get("Content-Length") or 0)
            workspace.files[name] = self.rfile.read(length)
            self._reply(204)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            # The provider's async hook (the trigger's) sends GET parameters as a JSON body, as Databricks allows.
            query = {**self._body(), **{key: values[0] for key, values in parse_qs(url.query).items()}}
            workspace.calls.append(("GET", url.path))
            if url.path == "/api/2.2/jobs/list":
                name = query.get("name")
                jobs = [
                    {"job_id": job_id, "settings": settings}
                    for job_id, settings in workspace.jobs.items()
                    if name is None or settings.get("name") == name
                ]
                self._reply(200, {"jobs": jobs, "has_more": False})
            elif url.path == "/api/2.2/jobs/get":
                job_id = int(query["job_id"])
                if job_id not in workspace.jobs:
                    return self._missing(f"Job {job_id}")
                self._reply(200, {"job_id": job_id, "settings": workspace.jobs[job_id]})
            elif url.path == "/api/2.0/sql/warehouses":
                warehouses = workspace.warehouses.items()
                self._reply(200, {"warehouses": [{"id": id_, "name": name} for id_, name in warehouses]})
            elif url.path.startswith("/api/2.0/sql/statements/"):
                statement = workspace.statements.get(url.path.rsplit("/", 1)[1])
                if statement is None:
                    return self._missing(f"Statement {url.path}")
                self._reply(200, workspace.statement_json(statement))
            elif url.path in ("/api/2.2/jobs/runs/get", "/api/2.2/jobs/runs/get-output"):
                run = workspace.runs.get(int(query["run_id"]))
                if run is None:
                    return self._missing(f"Run {query['run_id']}")
                body = workspace.run_json(run)
                if url.path.endswith("get-output"):
                    body = {"metadata": body, "logs": run.output[-5000:]}
                    if run.result == "FAILED":
                        body["error"] = run.message
                        body["error_trace"] = run.error[-5000:]
                self._reply(200, body)
            else:
                self._missing(url.path)

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            body = self._body()
            workspace.calls.append(("POST", path))
            try:
                self._post(path, body)
            except InvalidRequest as error:
                self._reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": str(error)})

        def _post(self, path: str, body: dict[str, Any]) -> None:
            if path == "/api/2.2/jobs/create":
                self._reply(200, {"job_id": workspace.create_job(body)})
            elif path == "/api/2.2/jobs/reset":
                job_id = int(body["job_id"])
                if job_id not in workspace.jobs:
                    return self._missing(f"Job {job_id}")
                workspace.reset_job(job_id, body["new_settings"])
                self._reply(200)
            elif path == "/api/2.2/jobs/run-now":
                if int(body.get("job_id", 0)) not in workspace.jobs:
                    return self._missing(f"Job {body.get('job_id')}")
                self._reply(200, workspace.run_now(body))
            elif path == "/api/2.0/sql/statements":
                if body.get("warehouse_id") not in workspace.warehouses:
                    return self._missing(f"Warehouse {body.get('warehouse_id')}")
                self._reply(200, workspace.execute_statement(body))
            elif path.startswith("/api/2.0/sql/statements/") and path.endswith("/cancel"):
                statement = workspace.statements.get(path.split("/")[-2])
                if statement is None:
                    return self._missing(f"Statement {path}")
                if statement.state in ("PENDING", "RUNNING"):
                    statement.state = "CANCELED"
                self._reply(200)
            elif path == "/api/2.2/jobs/runs/submit":
                self._reply(200, workspace.submit(body))
            elif path == "/api/2.2/jobs/runs/cancel":
                if int(body["run_id"]) not in workspace.runs:
                    return self._missing(f"Run {body['run_id']}")
                workspace.cancel(int(body["run_id"]))
                self._reply(200)
            else:
                self._missing(path)

    return Handler


@contextmanager
def dev_workspace(root: Path, spark: Any) -> Iterator[tuple[Workspace, dict[str, str]]]:
    """A workspace for the dev environment in ``root``: a copy of the config that polls every second
    instead of every minute and retries once at once, 500 customers' extracts for ``DAY``, the jobs
    deployed and a SQL warehouse for Gold; its runs run on ``spark``. Yields it with the variables the
    test sets while it lives (undone after it closes, which waits for its runs): they point Airflow at
    it, and the stages it runs at the config copy and the folders of ``root``."""
    from databricks.sdk import WorkspaceClient

    from lakehouse.config import load_config
    from lakehouse.core.jobs import job_definitions
    from lakehouse.ops import jobs
    from lakehouse.ops.demo_data import write_demo_data

    shutil.copytree(ROOT / "config", root / "config")
    dev = yaml.safe_load((root / "config" / "variables" / "dev.yaml").read_text())
    dev["databricks"]["poll_seconds"] = 1
    dev["retries"] = {"retries": 1, "retry_delay": "PT1S", "exponential_backoff": 0, "max_retry_delay": "PT1S"}
    (root / "config" / "variables" / "dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    config = load_config("dev", root / "config")
    write_demo_data(dict(config.systems), root / "landing", 500, 21, DAY)
    with Workspace() as emulator:
        host, port = emulator.url.removeprefix("http://").split(":")
        connection = {"conn_type": "databricks", "host": host, "port": int(port), "schema": "http"}
        client = WorkspaceClient(host=emulator.url, token="dapi-emulator", auth_type="pat")
        settings = config.require_databricks().databricks
        jobs.apply(client, jobs.plan(client, job_definitions("dev", settings, "/Volumes/w.whl")))
        emulator.root = root
        emulator.spark = spark
        emulator.catalogs = set(config.require_environment().catalogs.model_dump().values())
        emulator.warehouses = {"wh-gold": "lakehouse-dev-gold-sql"}
        environ = {
            "LAKEHOUSE_CONFIG_DIR": str(root / "config"),
            "LAKEHOUSE_ENV": "dev",
            "LAKEHOUSE_WAREHOUSE_ROOT": str(emulator.warehouse()),
            "LAKEHOUSE_LANDING_ROOT": str(root / "landing"),
            "AIRFLOW_CONN_DATABRICKS_DEFAULT": json.dumps({**connection, "password": "dapi-emulator"}),
        }
        yield emulator, environ
