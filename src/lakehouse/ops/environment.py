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
    try:
        return config, config.require_local(command)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def databricks_config(env: str | None, command: str) -> tuple[LakehouseConfig, DatabricksEnvironment]:
    config = valid_config(env)
    try:
        return config, config.require_databricks(command)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
