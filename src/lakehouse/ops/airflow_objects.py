"""The Airflow Variables, connection shells and pools of an environment: what ``lakehouse env apply``
writes into a running Airflow (never a secret), and what ``lakehouse env show`` says a task sees.

The lakehouse DAGs read config files, not Variables, so parsing never touches the database; the
Variables are for operators and for teams' own DAGs that need the same names (catalogs, environment).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lakehouse.config import ENV_VAR, LakehouseConfig
from lakehouse.config.models import looks_secret
from lakehouse.core.naming import SILVER_GATE_POOL
from lakehouse.ops.airflow_api import AirflowApi, AirflowApiError
from lakehouse.ops.airflow_home import airflow_environ
from lakehouse.ops.environment import valid_config

SHELL_FIELDS = ("conn_type", "description", "host", "port", "schema", "login", "extra")
MASK = "***"


def variables(config: LakehouseConfig) -> dict[str, str]:
    """Every Variable of the environment, as Airflow stores them (strings; JSON for structures)."""
    environment = config.require_environment()
    wanted: dict[str, Any] = {
        "lakehouse_env": config.env_name,
        "lakehouse_target": environment.target,
        "lakehouse_catalogs": environment.catalogs.model_dump(),
        **environment.airflow.variables,
    }
    return {key: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for key, v in wanted.items()}


def connections(config: LakehouseConfig) -> dict[str, dict[str, Any]]:
    """Every connection shell, in the REST API's fields (``extra`` as a JSON string)."""
    shells = {}
    for conn_id, shell in config.require_environment().airflow.connections.items():
        fields = shell.model_dump(by_alias=True)
        fields["extra"] = json.dumps(fields["extra"], sort_keys=True) if fields["extra"] else None
        shells[conn_id] = {name: fields[name] or None for name in SHELL_FIELDS}
    return shells


def pools() -> dict[str, dict[str, Any]]:
    """The pools the lakehouse DAGs' tasks run in, in the REST API's fields."""
    description = "DQ gates, one at a time: concurrent Silver events can leave Gold of their date waiting"
    return {SILVER_GATE_POOL: {"slots": 1, "description": description, "include_deferred": False}}


@dataclass(frozen=True)
class Change:
    kind: str
    """``variable``, ``connection`` or ``pool``."""
    key: str
    action: str
    """``create``, ``update`` or ``unchanged``."""
    differences: tuple[tuple[str, Any, Any], ...] = ()
    """(field, in Airflow now, wanted) for an update."""
    wanted: Any = None

    def describe(self) -> str:
        sign = {"create": "+", "update": "~", "unchanged": "="}[self.action]
        line = f"{sign} {self.kind} {self.key}"
        if self.action == "create":
            return f"{line}: {_shown(self.kind, self.key, self.wanted)}"
        changes = "; ".join(f"{name}: {old!r} -> {new!r}" for name, old, new in self.differences)
        return f"{line}: {changes}" if changes else line


def _shown(kind: str, key: str, value: Any) -> str:
    if kind == "variable":
        return MASK if looks_secret(key) else repr(value)
    return ", ".join(f"{name}={item!r}" for name, item in value.items() if item is not None)


def _get(api: AirflowApi, path: str) -> Any | None:
    try:
        return api("GET", path)
    except AirflowApiError as error:
        if error.status == 404:
            return None
        raise


def plan(config: LakehouseConfig, api: AirflowApi) -> list[Change]:
    """What applying would change, variable by variable and connection by connection."""
    changes = []
    for key, value in variables(config).items():
        current = _get(api, f"/api/v2/variables/{key}")
        if current is None:
            changes.append(Change("variable", key, "create", wanted=value))
        elif current["value"] != value:
            changes.append(Change("variable", key, "update", (("value", current["value"], value),), value))
        else:
            changes.append(Change("variable", key, "unchanged", wanted=value))
    for conn_id, wanted in connections(config).items():
        changes.append(_fields_change("connection", conn_id, _get(api, f"/api/v2/connections/{conn_id}"), wanted))
    return changes + pool_changes(api)


def pool_changes(api: AirflowApi) -> list[Change]:
    """The pools' part of ``plan``: pools are the same in every environment."""
    return [
        _fields_change("pool", name, _get(api, f"/api/v2/pools/{name}"), wanted) for name, wanted in pools().items()
    ]


def _fields_change(kind: str, key: str, current: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> Change:
    if current is None:
        return Change(kind, key, "create", wanted=wanted)
    now = {name: _unset(current.get(name)) for name in wanted}
    differences = tuple((name, now[name], value) for name, value in wanted.items() if now[name] != _unset(value))
    return Change(kind, key, "update" if differences else "unchanged", differences, wanted)


def _unset(value: Any) -> Any:
    # The API returns an unset field as "" or null; False and 0 are values.
    return None if value == "" else value


def apply(changes: list[Change], api: AirflowApi, report: Callable[[str], None] = print) -> None:
    """Create or update what ``plan`` found; a connection's password is never sent, so an update
    keeps the one Airflow has (``update_mask`` names the fields it changes)."""
    for change in changes:
        report(change.describe())
        if change.action == "unchanged":
            continue
        if change.kind == "variable":
            body = {"key": change.key, "value": change.wanted}
            if change.action == "create":
                api("POST", "/api/v2/variables", body)
            else:
                api("PATCH", f"/api/v2/variables/{change.key}?update_mask=value", body)
            continue
        collection, id_field = {"connection": ("connections", "connection_id"), "pool": ("pools", "name")}[change.kind]
        body = {id_field: change.key, **change.wanted}
        if change.action == "create":
            api("POST", f"/api/v2/{collection}", body)
        else:
            mask = "&".join(f"update_mask={name}" for name, _, _ in change.differences)
            api("PATCH", f"/api/v2/{collection}/{change.key}?{mask}", body)


def seen_by_tasks(config: LakehouseConfig, lookup: Callable[[str, str], Any]) -> list[str]:
    """What a task of this environment resolves, secrets masked: each Variable, and each connection
    the config names (``lookup(kind, key)`` asks Airflow: secrets backend, environment, database)."""
    lines = [f"environment {config.env_name} ({config.require_environment().target})"]
    for key in variables(config):
        value = lookup("variable", key)
        shown = "(not set)" if value is None else MASK if looks_secret(key) else repr(value)
        lines.append(f"variable {key} = {shown}")
    for role, conn_id in config.require_environment().connections.model_dump().items():
        connection = lookup("connection", conn_id)
        if connection is None:
            lines.append(f"connection {conn_id} ({role}): not defined")
            continue
        lines.append(f"connection {conn_id} ({role}): {_masked_connection(connection)}")
    return lines


def _masked_connection(connection: Any) -> str:
    extra = _masked_extra(connection.extra_dejson) if connection.extra else {}
    fields = {
        "conn_type": connection.conn_type,
        "host": connection.host,
        "port": connection.port,
        "schema": connection.schema,
        "login": connection.login,
        "password": MASK if connection.password else None,
        "extra": extra or None,
    }
    return ", ".join(f"{name}={value!r}" for name, value in fields.items() if value)


def _masked_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {key: MASK if looks_secret(key) else value for key, value in extra.items()}


def apply_command(env: str | None, airflow_url: str | None, dry_run: bool) -> int:
    """``lakehouse env apply``: the environment's Variables, connection shells and pools into a running Airflow."""
    config = valid_config(env)
    api = AirflowApi.from_environment(airflow_url)
    changes = plan(config, api)
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "update", "unchanged")}
    summary = ", ".join(f"{n} to {a}" for a, n in counts.items())
    print(f"environment {config.env_name} in the Airflow at {api.url}: {summary}")
    if dry_run:
        for change in changes:
            print(f"  {change.describe()}")
        return 0
    apply(changes, api, report=lambda line: print(f"  {line}"))
    return 0


def show_command(env: str | None) -> int:
    """``lakehouse env show``: what the environment's tasks see of its Variables and connections,
    secrets masked, through Airflow's own lookups (the secrets backend included)."""
    config = valid_config(env)
    os.environ.update(airflow_environ({**os.environ, ENV_VAR: config.env_name}))
    # Airflow reads its settings when first imported: only now that they are set.
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection
    from airflow.models.variable import Variable

    def lookup(kind: str, key: str) -> Any:
        if kind == "variable":
            return Variable.get(key, default_var=None)
        try:
            return Connection.get_connection_from_secrets(key)
        except AirflowNotFoundException:
            return None

    for line in seen_by_tasks(config, lookup):
        print(line)
    return 0
