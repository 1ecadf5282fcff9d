"""Environment for running Airflow on this checkout: where its home, DAGs and plugins are, and the
OpenLineage provider's settings from the selected environment's config."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from lakehouse import resources
from lakehouse.airflow.lineage import DISABLED_VAR, PROVIDER_CONFIG_VARS, lineage_environ
from lakehouse.config import CONFIG_DIR_VAR, ENV_VAR, load_config
from lakehouse.resources import base_dir


def airflow_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (the process environment by default) with defaults for what it does not set."""
    environ = dict(os.environ if base is None else base)
    root = base_dir()
    home = Path(environ.get("AIRFLOW_HOME") or root / ".airflow")
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "airflow" / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "airflow" / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # The default forks 32 workers; more than two cores cannot use.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # The CLI warns on every call that the optional graph renderer is missing; nothing here uses it.
        "PYTHONWARNINGS": "ignore:Could not import graphviz:UserWarning",
        CONFIG_DIR_VAR: str(resources.config_dir()),
        ENV_VAR: "local",
    }
    for key, value in defaults.items():
        environ.setdefault(key, value)
    for key, value in _lineage_defaults(environ).items():
        environ.setdefault(key, value)
    return environ


def _lineage_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The OpenLineage settings of the selected environment. An environment whose config does not load
    sends nothing (whoever loads it reports why); one that configures the provider itself
    (``AIRFLOW__OPENLINEAGE__TRANSPORT``...) is not disabled by a config that has lineage off."""
    config = load_config(environ[ENV_VAR], Path(environ[CONFIG_DIR_VAR]))
    if config.environment is None:
        settings = {DISABLED_VAR: "True"}
    else:
        settings = lineage_environ(config.env_name, config.environment.lineage)
    if any(environ.get(key) for key in PROVIDER_CONFIG_VARS):
        settings.pop(DISABLED_VAR, None)
    return settings


def ensure_airflow_db(environ: Mapping[str, str]) -> None:
    """Create the SQLite metadata database on first use (a PostgreSQL one is the stack's)."""
    home = Path(environ["AIRFLOW_HOME"])
    if environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite") and not (home / "airflow.db").exists():
        home.mkdir(parents=True, exist_ok=True)
        print(f"creating the Airflow metadata database in {home}", file=sys.stderr)
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], env=dict(environ), check=True, stdout=subprocess.DEVNULL)


def exec_airflow(env: str | None, arguments: list[str]) -> int:
    """``lakehouse airflow ...``: replace this process with ``airflow ...`` run against this checkout."""
    environ = airflow_environ()
    if env:
        environ[ENV_VAR] = env
    airflow = Path(sys.executable).with_name("airflow")
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    ensure_airflow_db(environ)
    os.execve(str(airflow), [str(airflow), *arguments], environ)
    return 0  # not reached: execve replaced the process
