"""The ``lakehouse`` command: argument parsing only. Each subcommand names the function that does
its work (``module:function`` under ``lakehouse``), which is imported when that subcommand runs, so
that ``lakehouse validate`` does not pay for Airflow's or Spark's import."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any

from lakehouse.config import ENV_VAR, available_envs, default_config_dir, selected_env

ENV_HELP = f"environment (default: ${ENV_VAR} or 'local')"


def _call(target: str, **arguments: Any) -> Callable[[argparse.Namespace], int]:
    """A handler that calls ``lakehouse.<target>`` with ``arguments``, each a function of the parsed
    arguments."""

    def handler(args: argparse.Namespace) -> int:
        module, _, function = target.partition(":")
        values = {name: value(args) for name, value in arguments.items()}
        return int(getattr(import_module(f"lakehouse.{module}"), function)(**values))

    return handler


def _arg(name: str) -> Callable[[argparse.Namespace], Any]:
    return lambda args: getattr(args, name)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _path(name: str) -> Callable[[argparse.Namespace], Path | None]:
    return lambda args: Path(getattr(args, name)) if getattr(args, name) else None


def _config_dir(args: argparse.Namespace) -> Path:
    return Path(args.config_dir) if args.config_dir else default_config_dir()


def _envs(args: argparse.Namespace) -> list[str]:
    return available_envs(_config_dir(args)) if args.all_envs else [args.env or selected_env()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description="Config-driven Airflow lakehouse on Delta Lake.")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check config/ and print every problem")
    validate.add_argument("--env", help=f"environment to check (default: ${ENV_VAR} or 'local')")
    validate.add_argument("--all-envs", action="store_true", help="check every environment under config/variables/")
    validate.add_argument("--config-dir", help="config folder (default: the checkout's config/)")
    validate.set_defaults(handler=_call("ops.validate:validate", envs=_envs, config_dir=_config_dir))

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
    contracts.set_defaults(
        handler=_call(
            "ops.contract_checks:contracts_command", action=_arg("action"), config_dir=_config_dir, base=_arg("base")
        )
    )

    demo = commands.add_parser("demo-data", help="write two days of demo landing files for every system")
    demo.add_argument("--rows", type=int, default=1000, help="customers on the first day (default: 1000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed; the same seed writes the same files")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 1), help="first business date")
    demo.add_argument("--env", help="environment whose landing root to use (default: $LAKEHOUSE_ENV or local)")
    demo.add_argument("--landing-root", help="write here instead (default: $LAKEHOUSE_LANDING_ROOT or config)")
    demo.set_defaults(
        handler=_call(
            "ops.demo_data:demo_data_command",
            env=_arg("env"),
            rows=_arg("rows"),
            seed=_arg("seed"),
            start=_arg("start"),
            landing=_path("landing_root"),
        )
    )

    run = commands.add_parser("run", help="run every DAG of a local environment through Airflow, date by date")
    run.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local); its target must be local")
    run.add_argument("--start", type=date.fromisoformat, help="first logical date (default: the demo data's dates)")
    run.add_argument("--end", type=date.fromisoformat, help="last logical date (default: --start)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's task logs and Spark's warnings")
    run.add_argument(
        "--maintenance",
        action="store_true",
        help="run maintenance after the last date too (default: only on dates its weekly schedule falls on)",
    )
    run.add_argument(
        "--parallel",
        type=_at_least_one,
        default=2,
        metavar="N",
        help="DAG runs at once: a date's ingest DAGs side by side in N processes that share one Spark Connect "
        "server (local.spark_remote's, else one started for the run); 1 runs everything in this process "
        "with a Spark of its own (default: 2)",
    )
    run.set_defaults(
        handler=_call(
            "ops.run:run_command",
            env=_arg("env"),
            start=_arg("start"),
            end=_arg("end"),
            verbose=_arg("verbose"),
            maintenance=_arg("maintenance"),
            parallel=_arg("parallel"),
        )
    )

    report = commands.add_parser(
        "report", help="write the Lakehouse health page (freshness, counts, DQ, quarantine) and print its URL"
    )
    report.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV or local); its target must be local")
    report.add_argument("--out", help="write the page here (default: <warehouse>/_reports/health.html)")
    report.set_defaults(handler=_call("ops.report.page:report_command", env=_arg("env"), out=_path("out")))

    ask = commands.add_parser("ask", help="ask the knowledge base; answers cite their documents")
    ask.add_argument("question")
    ask.add_argument("--domain", help="search only this system's documents (default: routed from the question)")
    ask.add_argument("--k", type=int, help="passages to return (default and cap: pipelines.yaml rag.top_k/max_top_k)")
    ask.add_argument("--env", help=ENV_HELP)
    ask.add_argument("--json", action="store_true", help="print the answer, passages and flags as JSON")
    ask.set_defaults(
        handler=_call(
            "ops.ask:ask_command",
            env=_arg("env"),
            question=_arg("question"),
            domain=_arg("domain"),
            k=_arg("k"),
            as_json=_arg("json"),
        )
    )

    jobs = commands.add_parser("jobs", help="Databricks jobs: deploy an environment's by name, or render them")
    jobs_actions = jobs.add_subparsers(dest="action", required=True)
    deploy = jobs_actions.add_parser("deploy", help="create or update the environment's jobs, uploading the wheel")
    deploy.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV); its target must be databricks")
    deploy.add_argument("--wheel", required=True, help="the built wheel (dist/*.whl); uploaded to databricks.artifacts")
    deploy.add_argument("--dry-run", action="store_true", help="print what would change and change nothing")
    deploy.set_defaults(
        handler=_call("ops.jobs:deploy_command", env=_arg("env"), wheel=_path("wheel"), dry_run=_arg("dry_run"))
    )
    render = jobs_actions.add_parser(
        "render", help="print an environment's jobs as Jobs API JSON, or --write the bundle files"
    )
    render.add_argument("--env", help="environment (default: $LAKEHOUSE_ENV); its target must be databricks")
    render.add_argument("--wheel", help="the wheel file the jobs install (default: a placeholder)")
    render.add_argument(
        "--write",
        action="store_true",
        help="write airflow/include/jobs/*.yml and infra/databricks.yml from the stage registry and config",
    )
    render.set_defaults(
        handler=_call("ops.jobs:render_command", env=_arg("env"), wheel=_arg("wheel"), write=_arg("write"))
    )

    env = commands.add_parser(
        "env",
        help="an environment's Airflow Variables, connection shells and pools: apply them, or show what tasks see",
    )
    env_actions = env.add_subparsers(dest="action", required=True)
    apply = env_actions.add_parser("apply", help="write them into a running Airflow")
    apply.add_argument("--env", help=ENV_HELP)
    apply.add_argument("--dry-run", action="store_true", help="print what would change and change nothing")
    apply.add_argument(
        "--airflow-url",
        help="the Airflow API server (default: $AIRFLOW_API_URL or http://127.0.0.1:8080); credentials from "
        "$AIRFLOW_API_TOKEN, or $AIRFLOW_API_USERNAME with $AIRFLOW_API_PASSWORD or $AIRFLOW_API_PASSWORD_FILE",
    )
    apply.set_defaults(
        handler=_call(
            "ops.airflow_objects:apply_command",
            env=_arg("env"),
            airflow_url=_arg("airflow_url"),
            dry_run=_arg("dry_run"),
        )
    )
    show = env_actions.add_parser("show", help="print what the tasks see, secrets masked")
    show.add_argument("--env", help=ENV_HELP)
    show.set_defaults(handler=_call("ops.airflow_objects:show_command", env=_arg("env")))

    governance = commands.add_parser(
        "governance", help="Unity Catalog catalogs, schemas, grants, masks and PII tags: print or apply the plan"
    )
    governance.add_argument(
        "action",
        choices=["plan", "apply"],
        help="plan: print every statement; apply: run them (locally: what Spark can)",
    )
    governance.add_argument("--env", help=ENV_HELP)
    governance.set_defaults(handler=lambda args: _call(f"ops.governance:{args.action}_command", env=_arg("env"))(args))

    stack = commands.add_parser(
        "stack",
        help="run Airflow as a deployment does, without Docker: PostgreSQL, api-server, scheduler, "
        "dag-processor and triggerer, with the environment applied; Ctrl-C stops it",
    )
    stack.add_argument("--env", help="environment the DAGs are built for (default: $LAKEHOUSE_ENV or local)")
    stack.add_argument("--port", type=int, default=8080, help="API server and UI port (default: 8080)")
    stack.add_argument("--folder", help="where the database, logs and Airflow home live (default: .stack/)")
    stack.set_defaults(
        handler=_call("ops.stack:stack_command", env=_arg("env"), port=_arg("port"), folder=_path("folder"))
    )

    connect = commands.add_parser(
        "spark-connect",
        help="run a Spark Connect server with Delta in the foreground, for the local stages to share "
        "(set local.spark_remote or $LAKEHOUSE_SPARK_REMOTE to its sc:// URL)",
    )
    connect.add_argument("--env", help=ENV_HELP)
    connect.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    connect.add_argument("--port", type=int, default=15002, help="port to listen on (default: 15002)")
    connect.set_defaults(
        handler=_call("ops.spark_connect:serve_command", env=_arg("env"), host=_arg("host"), port=_arg("port"))
    )

    docs = commands.add_parser("docs", help="write the generated documentation (the config reference)")
    docs.add_argument("--check", action="store_true", help="only report whether it is up to date (exit 1 if not)")
    docs.set_defaults(handler=_call("ops.config_reference:docs_command", check=_arg("check")))

    airflow = commands.add_parser(
        "airflow",
        help="run an airflow command against this checkout's DAGs (e.g. 'lakehouse airflow dags list')",
        description="Runs airflow with AIRFLOW_HOME, the DAG and plugin folders set for this checkout, "
        "unless the environment already sets them; creates the SQLite metadata database on first use.",
    )
    airflow.add_argument("--env", help="lakehouse environment the DAGs are built for")
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER, help="arguments for airflow")
    airflow.set_defaults(
        handler=_call("ops.airflow_home:exec_airflow", env=_arg("env"), arguments=lambda a: list(a.airflow_args))
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
