"""Which environment a command works on, loaded and checked: its problems, or a target the command
cannot serve, end the command with a message instead of a traceback."""

from __future__ import annotations

from lakehouse.config import LakehouseConfig, load_config, selected_env
from lakehouse.config.models import DatabricksEnvironment, LocalEnvironment


def valid_config(env: str | None) -> LakehouseConfig:
    """The environment's config (``$LAKEHOUSE_ENV`` or local when ``env`` is None), free of problems."""
    config = load_config(env or selected_env())
    config.raise_for_issues()
    return config


def local_config(env: str | None, command: str) -> tuple[LakehouseConfig, LocalEnvironment]:
    config = valid_config(env)
    environment = config.require_environment()
    if not isinstance(environment, LocalEnvironment):
        raise SystemExit(f"{command} works on a local environment; '{config.env_name}' runs on {environment.target}")
    return config, environment


def databricks_config(env: str | None, command: str) -> tuple[LakehouseConfig, DatabricksEnvironment]:
    config = valid_config(env)
    environment = config.require_environment()
    if not isinstance(environment, DatabricksEnvironment):
        raise SystemExit(
            f"{command} works on a Databricks environment; '{config.env_name}' runs on {environment.target}"
        )
    return config, environment
