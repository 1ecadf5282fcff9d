"""Typed, validated config: ``load_config()`` is the one way in."""

from lakehouse.config.issues import ConfigError, ConfigIssue
from lakehouse.config.loader import (
    CONFIG_DIR_VAR,
    ENV_VAR,
    LakehouseConfig,
    available_envs,
    default_config_dir,
    load_config,
    selected_env,
)

__all__ = [
    "CONFIG_DIR_VAR",
    "ENV_VAR",
    "ConfigError",
    "ConfigIssue",
    "LakehouseConfig",
    "available_envs",
    "default_config_dir",
    "load_config",
    "selected_env",
]
