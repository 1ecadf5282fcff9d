"""The ``lakehouse`` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from lakehouse.config import ENV_VAR, available_envs, default_config_dir, load_config, selected_env


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


def _airflow(args: argparse.Namespace) -> int:
    from lakehouse.airflow_home import airflow_environ

    environ = airflow_environ()
    if args.env:
        environ[ENV_VAR] = args.env
    airflow = Path(sys.executable).with_name("airflow")
    command = list(args.airflow_args)
    if command[:1] == ["--"]:
        command = command[1:]
    home = Path(environ["AIRFLOW_HOME"])
    if environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite") and not (home / "airflow.db").exists():
        home.mkdir(parents=True, exist_ok=True)
        print(f"creating the Airflow metadata database in {home}", file=sys.stderr)
        subprocess.run([str(airflow), "db", "migrate"], env=environ, check=True, stdout=subprocess.DEVNULL)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description="Config-driven Airflow lakehouse on Delta Lake.")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check config/ and print every problem")
    validate.add_argument("--env", help=f"environment to check (default: ${ENV_VAR} or 'local')")
    validate.add_argument("--all-envs", action="store_true", help="check every environment under config/variables/")
    validate.add_argument("--config-dir", help="config folder (default: the checkout's config/)")
    validate.set_defaults(handler=_validate)

    demo = commands.add_parser("demo-data", help="write two days of demo landing files for every system")
    demo.add_argument("--rows", type=int, default=1000, help="customers on the first day (default: 1000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed; the same seed writes the same files")
    demo.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 1), help="first business date")
    demo.add_argument("--env", help="environment whose landing root to use (default: $LAKEHOUSE_ENV or local)")
    demo.add_argument("--landing-root", help="write here instead (default: $LAKEHOUSE_LANDING_ROOT or config)")
    demo.set_defaults(handler=_demo_data)

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
