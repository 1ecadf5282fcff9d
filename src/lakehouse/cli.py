"""The ``lakehouse`` command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lakehouse.config import (
    ENV_VAR,
    LakehouseConfig,
    available_envs,
    default_config_dir,
    load_config,
    selected_env,
)


def _validate(args: argparse.Namespace) -> int:
    config_dir = Path(args.config_dir) if args.config_dir else default_config_dir()
    envs = available_envs(config_dir) if args.all_envs else [args.env or selected_env()]
    failed = False
    for env in envs:
        config = load_config(env, config_dir)
        if config.issues:
            failed = True
            print(f"{env}: {len(config.issues)} problem(s)", file=sys.stderr)
            for issue in config.issues:
                print(f"  - {issue}", file=sys.stderr)
            continue
        systems = ", ".join(config.systems)
        gold = len(config.pipelines.gold.tables) if config.pipelines else 0
        print(f"{env}: OK ({len(config.systems)} systems: {systems}; {gold} Gold tables)")
    return 1 if failed else 0


def _contracts(args: argparse.Namespace) -> int:
    from lakehouse.contract_checks import ContractCheckError, check_against, validate_samples

    config_dir = Path(args.config_dir) if args.config_dir else default_config_dir()
    if args.action == "check":
        try:
            count, problems = check_against(config_dir, args.base)
        except ContractCheckError as exc:
            print(f"contracts check: {exc}", file=sys.stderr)
            return 2
        done = f"{count} contract(s) compared with {args.base}"
    else:
        count, problems = validate_samples(config_dir)
        done = f"{count} sample payload(s) validated"
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"contracts {args.action}: {done}, {len(problems)} problem(s)", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


def _airflow(args: argparse.Namespace) -> int:
    from lakehouse.airflow_home import airflow_environ

    environ = airflow_environ()
    if args.env:
        environ[ENV_VAR] = args.env
    airflow = Path(sys.executable).with_name("airflow")
    command = list(args.airflow_args)
    if command[:1] == ["--"]:
        command = command[1:]
    _ensure_airflow_db(environ)
    os.execve(str(airflow), [str(airflow), *command], environ)
    return 0  # not reached


def _demo_data(args: argparse.Namespace) -> int:
    from lakehouse.demo_data import write_demo_data
    from lakehouse.locations import landing_root

    config = load_config(args.env)
    environment = config.require_environment()
    if config.system_issues:
        config.raise_for_issues()
    root = Path(args.landing_root) if args.landing_root else landing_root(environment)
    manifest = write_demo_data(dict(config.systems), root, args.rows, args.seed, args.start)
    lines = sum(f["lines"] for f in manifest["files"])
    planted = sum(sum(f["defects"].values()) for f in manifest["files"])
    print(
        f"wrote {len(manifest['files'])} files, {lines} lines, {planted} planted defects, for "
        f"{', '.join(manifest['dates'])} under {root}"
    )
    return 0


def _ensure_airflow_db(environ: dict[str, str]) -> None:
    home = Path(environ["AIRFLOW_HOME"])
    if environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite") and not (home / "airflow.db").exists():
        home.mkdir(parents=True, exist_ok=True)
        print(f"creating the Airflow metadata database in {home}", file=sys.stderr)
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], env=environ, check=True, stdout=subprocess.DEVNULL)


def _dates(args: argparse.Namespace, landing: Path) -> list[date]:
    if args.start:
        end = args.end or args.start
        if end < args.start:
            raise SystemExit(f"--end {end} is before --start {args.start}")
        return [args.start + timedelta(days=n) for n in range((end - args.start).days + 1)]
    manifest = landing / "manifest.json"
    if manifest.exists():
        return [date.fromisoformat(day) for day in json.loads(manifest.read_text())["dates"]]
    raise SystemExit(f"no --start given and no demo manifest at {manifest}: say which dates to run")


def _local_config(env_arg: str | None, what: str) -> tuple[str, LakehouseConfig]:
    """The chosen environment's valid config; exits with ``what`` if its target is not local."""
    env = env_arg or selected_env()
    config = load_config(env)
    config.raise_for_issues()
    target = config.require_environment().target
    if target != "local":
        raise SystemExit(f"{what}; '{env}' runs on {target}")
    return env, config


def _run(args: argparse.Namespace) -> int:
    from lakehouse.airflow_home import airflow_environ
    from lakehouse.locations import landing_root, warehouse_root

    env, config = _local_config(args.env, "lakehouse run drives the local target")
    environment = config.require_environment()
    dates = _dates(args, landing_root(environment))
    environ = airflow_environ({**os.environ, ENV_VAR: env})
    if not args.verbose:
        environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.update(environ)
    _ensure_airflow_db(environ)

    from lakehouse.run import run_all
    from lakehouse.summary import read_run_log, render, table_inventory
    from spark_jobs.health import MetricsNotFound
    from spark_jobs.main import session_for
    from spark_jobs.tables import Tables

    tables = Tables(warehouse_root(environment))
    log = tables.run_log()
    assert log is not None, "a local warehouse has a run log"
    offset = log.stat().st_size if log.exists() else 0
    print(
        f"running {len(config.systems)} ingest DAGs, Gold, the RAG index and maintenance for "
        f"{', '.join(map(str, dates))} (environment '{env}', landing {landing_root(environment)})",
        flush=True,
    )
    started = time.monotonic()
    results = run_all(config, dates, progress=lambda line: print(line, flush=True))
    spark = session_for(env)
    counts = {
        str(name): (tables.read(spark, name).count() if tables.exists(spark, name) else None)
        for _, name in table_inventory(config)
    }
    try:
        health: Path | None = _write_health_page(spark, config, tables)
    except MetricsNotFound:
        health = None
    print()
    records = read_run_log(log, offset)
    print(render(config, results, records, counts, tables.warehouse or Path(), time.monotonic() - started, health))
    return 0 if all(result.state == "success" for result in results) else 1


def _write_health_page(spark: Any, config: LakehouseConfig, tables: Any, out: Path | None = None) -> Path:
    """Writes the health page; raises ``MetricsNotFound`` when no stage has recorded metrics yet."""
    from lakehouse.health_page import report_path, write
    from spark_jobs.health import collect

    return write(collect(spark, config, tables), out or report_path(tables.warehouse))


def _report(args: argparse.Namespace) -> int:
    from lakehouse.locations import warehouse_root
    from spark_jobs.health import MetricsNotFound
    from spark_jobs.main import session_for
    from spark_jobs.tables import Tables

    env, config = _local_config(args.env, "lakehouse report reads the local warehouse")
    spark = session_for(env)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        path = _write_health_page(
            spark, config, Tables(warehouse_root(config.require_environment())), Path(args.out) if args.out else None
        )
    except MetricsNotFound as exc:
        print(f"lakehouse report: {exc}", file=sys.stderr)
        return 2
    print(path.resolve().as_uri())
    return 0


def _ask(args: argparse.Namespace) -> int:
    from lakehouse.locations import warehouse_root
    from lakehouse.rag.service import IndexNotBuilt, KnowledgeBase
    from spark_jobs.main import session_for
    from spark_jobs.tables import Tables

    env, config = _local_config(args.env, "lakehouse ask reads the local index")
    environment = config.require_environment()
    spark = session_for(env)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        knowledge = KnowledgeBase(config, spark, Tables(warehouse_root(environment)))
        answer = knowledge.ask(args.question, domain=args.domain, k=args.k)
    except (IndexNotBuilt, ValueError) as exc:
        print(f"lakehouse ask: {exc}", file=sys.stderr)
        return 2
    retrieval = answer.retrieval
    if args.json:
        passages = [
            {
                "citation": p.citation,
                "doc_id": p.chunk.doc_id,
                "domain": p.chunk.domain,
                "score": p.score,
                "text": p.text,
            }
            for p in retrieval.passages
        ]
        document = {
            "answer": answer.text,
            "composed_by": answer.composed_by,
            "domain": retrieval.domain,
            "routed": retrieval.routed,
            "passages": passages,
            "safety_flags": retrieval.safety_flags,
            "latency_ms": retrieval.latency_ms,
        }
        print(json.dumps(document, indent=2))
        return 0
    how = f"routed to {retrieval.domain}" if retrieval.routed else (retrieval.domain or "all domains")
    print(answer.text)
    print(f"\nSources ({how}; {retrieval.latency_ms:.0f} ms):")
    for number, passage in enumerate(retrieval.passages, start=1):
        print(f"  [{number}] {passage.citation}  ({passage.chunk.classification}, {passage.chunk.source_uri})")
    if retrieval.safety_flags:
        print(f"Safety flags: {', '.join(retrieval.safety_flags)}")
    return 0


def _jobs(args: argparse.Namespace) -> int:
    from lakehouse import jobs

    config = load_config(args.env or selected_env())
    config.raise_for_issues()
    settings = jobs.settings_of(config)
    local_wheel = Path(args.wheel)
    wheel = jobs.wheel_path(settings, local_wheel.name)
    definitions = jobs.job_definitions(config.env_name, settings, wheel)
    if args.action == "render":
        print(json.dumps({key: job.as_dict() for key, job in definitions.items()}, indent=2))
        return 0
    from databricks.sdk import WorkspaceClient

    client = WorkspaceClient()  # DATABRICKS_HOST with a token or OAuth credentials, or a profile
    changes = jobs.plan(client, definitions)
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "unchanged")}
    print(
        f"{config.env_name}: {len(changes)} job(s): {counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged" + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    for change in changes:
        print(f"  {change.action:<9} {change.name}" + (f" (job {change.job_id})" if change.job_id else ""))
        for line in change.differences:
            print(f"              {line}")
    if args.dry_run:
        return 0
    if counts["create"] or counts["update"]:
        print(f"  wheel {wheel}: " + jobs.upload_wheel(client, local_wheel, wheel))
    jobs.apply(client, changes)
    for change in changes:
        if change.action != "unchanged":
            print(f"  {change.action}d {change.name}: job {change.job_id}")
    return 0


def _env(args: argparse.Namespace) -> int:
    from lakehouse import airflow_objects

    env = args.env or selected_env()
    config = load_config(env)
    config.raise_for_issues()
    if args.action == "show":
        return _env_show(env, config)
    from lakehouse.airflow_api import AirflowApi

    api = AirflowApi.from_environment(args.airflow_url)
    changes = airflow_objects.plan(config, api)
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "unchanged")}
    print(f"environment {env} in the Airflow at {api.url}: " + ", ".join(f"{n} to {a}" for a, n in counts.items()))
    if args.dry_run:
        for change in changes:
            print(f"  {change.describe()}")
        return 0
    airflow_objects.apply(changes, api, report=lambda line: print(f"  {line}"))
    return 0


def _governance(args: argparse.Namespace) -> int:
    from lakehouse.governance.plan import build_plan, describe

    config = load_config(args.env or selected_env())
    config.raise_for_issues()
    plan = build_plan(config)
    if args.action == "plan":
        print("\n".join(describe(plan)))
        return 0
    environment = config.require_environment()
    if environment.target == "local":
        from lakehouse.governance.apply import apply_locally
        from spark_jobs.main import session_for

        spark = session_for(config.env_name)
        spark.sparkContext.setLogLevel("ERROR")
        result = apply_locally(spark, config, plan)
        print(f"{config.env_name}: {len(result.applied)} statement(s) applied through Spark")
        for statement in result.waiting:
            print(f"  waiting for {statement.needs}: {statement.sql.splitlines()[0]}")
        print(f"  {len(result.not_local)} need Unity Catalog and are not applied locally:")
        for statement in result.not_local:
            print(f"    {statement.sql.splitlines()[0]}")
        return 0
    from databricks.sdk import WorkspaceClient

    from lakehouse.governance.apply import apply_on_warehouse, warehouse_name

    assert environment.databricks is not None, "validated: target databricks has a databricks section"
    warehouse = warehouse_name(environment.databricks)
    print(f"{config.env_name}: applying {len(plan.statements)} statement(s) on the SQL warehouse '{warehouse}'")
    apply_on_warehouse(WorkspaceClient(), warehouse, plan, report=print)
    return 0


def _env_show(env: str, config: LakehouseConfig) -> int:
    from lakehouse.airflow_home import airflow_environ

    os.environ.update(airflow_environ({**os.environ, ENV_VAR: env}))
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection
    from airflow.models.variable import Variable

    from lakehouse import airflow_objects

    def lookup(kind: str, key: str) -> Any:
        if kind == "variable":
            return Variable.get(key, default_var=None)
        try:
            return Connection.get_connection_from_secrets(key)
        except AirflowNotFoundException:
            return None

    for line in airflow_objects.seen_by_tasks(config, lookup):
        print(line)
    return 0


def _stack(args: argparse.Namespace) -> int:
    from lakehouse import airflow_objects
    from lakehouse.stack import running_stack, stack_folder

    env = args.env or selected_env()
    config = load_config(env)
    config.raise_for_issues()
    folder = Path(args.folder) if args.folder else stack_folder()
    print(f"starting PostgreSQL and Airflow under {folder} (environment '{env}')", flush=True)
    with running_stack(folder, {ENV_VAR: env}, port=args.port) as stack:
        changes = airflow_objects.plan(config, stack.api)
        airflow_objects.apply(changes, stack.api, report=lambda line: print(f"  {line}"))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description="Config-driven Airflow lakehouse on Delta Lake.")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check config/ and print every problem")
    validate.add_argument("--env", help=f"environment to check (default: ${ENV_VAR} or 'local')")
    validate.add_argument("--all-envs", action="store_true", help="check every environment under config/variables/")
    validate.add_argument("--config-dir", help="config folder (default: the checkout's config/)")
    validate.set_defaults(handler=_validate)

    contracts = commands.add_parser(
        "contracts", help="check the data contracts: breaking changes against git, and their sample payloads"
    )
    contracts.add_argument(
        "action",
        choices=["check", "validate"],
        help="check: a change that breaks consumers needs a new major version; validate: samples/<entity>.json",
    )
    contracts.add_argument("--base", default="main", help="check: git revision to compare with (default: main)")
    contracts.add_argument("--config-dir", help="config folder (default: the checkout's config/)")
    contracts.set_defaults(handler=_contracts)

    demo = commands.add_parser("demo-data", help="write two days of demo landing files for every system")
    demo.add_argument("--rows", type=int, default=1000, help="customers on the first day (default: 1000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed; the same seed writes the same files")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 1), help="first business date")
    demo.add_argument("--env", help="environment whose landing root to use (default: $LAKEHOUSE_ENV or local)")
    demo.add_argument("--landing-root", help="write here instead (default: $LAKEHOUSE_LANDING_ROOT or config)")
    demo.set_defaults(handler=_demo_data)

    run = commands.add_parser("run", help="run every DAG of a local environment through Airflow, date by date")
    run.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local); its target must be local")
    run.add_argument("--start", type=date.fromisoformat, help="first logical date (default: the demo data's dates)")
    run.add_argument("--end", type=date.fromisoformat, help="last logical date (default: --start)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's task logs")
    run.set_defaults(handler=_run)

    report = commands.add_parser(
        "report", help="write the Lakehouse health page (freshness, counts, DQ, quarantine) and print its URL"
    )
    report.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local); its target must be local")
    report.add_argument("--out", help="write the page here (default: <warehouse>/_reports/health.html)")
    report.set_defaults(handler=_report)

    ask = commands.add_parser("ask", help="ask the knowledge base; answers cite their documents")
    ask.add_argument("question")
    ask.add_argument("--domain", help="search only this system's documents (default: routed from the question)")
    ask.add_argument("--k", type=int, help="passages to return (default and cap: pipelines.yaml rag.top_k/max_top_k)")
    ask.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local)")
    ask.add_argument("--json", action="store_true", help="print the answer, passages and flags as JSON")
    ask.set_defaults(handler=_ask)

    jobs = commands.add_parser("jobs", help="Databricks jobs of an environment: render or deploy them by name")
    jobs.add_argument("action", choices=["deploy", "render"], help="deploy: create or update; render: print JSON")
    jobs.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV); its target must be databricks")
    jobs.add_argument("--wheel", required=True, help="the built wheel (dist/*.whl); uploaded to databricks.artifacts")
    jobs.add_argument("--dry-run", action="store_true", help="print what would change and change nothing")
    jobs.set_defaults(handler=_jobs)

    env = commands.add_parser(
        "env", help="an environment's Airflow Variables and connection shells: apply them, or show what tasks see"
    )
    env.add_argument("action", choices=["apply", "show"], help="apply: write into a running Airflow; show: print")
    env.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local)")
    env.add_argument("--dry-run", action="store_true", help="apply: print what would change and change nothing")
    env.add_argument(
        "--airflow-url",
        help="apply: the Airflow API server (default: $AIRFLOW_API_URL or http://127.0.0.1:8080); credentials "
        "from $AIRFLOW_API_TOKEN, or $AIRFLOW_API_USERNAME with $AIRFLOW_API_PASSWORD or $AIRFLOW_API_PASSWORD_FILE",
    )
    env.set_defaults(handler=_env)

    governance = commands.add_parser(
        "governance", help="Unity Catalog catalogs, schemas, grants, masks and PII tags: print or apply the plan"
    )
    governance.add_argument(
        "action",
        choices=["plan", "apply"],
        help="plan: print every statement; apply: run them (locally: what Spark can)",
    )
    governance.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local)")
    governance.set_defaults(handler=_governance)

    stack = commands.add_parser(
        "stack",
        help="run Airflow as a deployment does, without Docker: PostgreSQL, api-server, scheduler, "
        "dag-processor and triggerer, with the environment applied; Ctrl-C stops it",
    )
    stack.add_argument("--env", help="environment the DAGs are built for (default: $LAKEHOUSE_ENV or local)")
    stack.add_argument("--port", type=int, default=8080, help="API server and UI port (default: 8080)")
    stack.add_argument("--folder", help="where the database, logs and Airflow home live (default: .stack/)")
    stack.set_defaults(handler=_stack)

    airflow = commands.add_parser(
        "airflow",
        help="run an airflow command against this checkout's DAGs (e.g. 'lakehouse airflow dags list')",
        description="Runs airflow with AIRFLOW_HOME, the DAG and plugin folders set for this checkout, "
        "unless the environment already sets them; creates the SQLite metadata database on first use.",
    )
    airflow.add_argument("--env", help="lakehouse environment the DAGs are built for")
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER, help="arguments for airflow")
    airflow.set_defaults(handler=_airflow)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
