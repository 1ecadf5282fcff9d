"""The connected app's OAuth client credentials, from the secrets backend, never from config.

Inside Airflow (the local target) they are the Airflow connection config names, resolved through
Airflow's secrets backends (environment variables locally, Azure Key Vault in the cloud). A
Databricks job has no Airflow: it reads the same Key Vault secret through the Key Vault-backed secret
scope, under the name Airflow's Key Vault backend gives it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class ClientCredentials:
    login_url: str
    """Where tokens come from: ``<login_url>/services/oauth2/token``."""
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)


def key_vault_secret_name(conn_id: str, prefix: str = "airflow-connections") -> str:
    """Key Vault names allow letters, digits and dashes; Airflow's backend joins with '-'."""
    return f"{prefix}-{conn_id}".replace("_", "-")


def parse_connection(conn_id: str, value: str) -> ClientCredentials:
    """An Airflow connection as JSON (``{"host", "login", "password"}``) or as a URI
    (``<type>://<login>:<password>@<host>``, whose host becomes ``https://<host>``)."""
    if value.lstrip().startswith("{"):
        data = json.loads(value)
        host, login, password = data.get("host"), data.get("login"), data.get("password")
    else:
        parts = urlsplit(value)
        host = f"https://{parts.hostname}" + (f":{parts.port}" if parts.port else "") if parts.hostname else None
        login = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
    missing = [name for name, value in (("host", host), ("login", login), ("password", password)) if not value]
    if missing:
        # The value itself holds the secret: name only what is missing.
        raise ValueError(
            f"connection '{conn_id}' has no {', '.join(missing)} (host: login URL, login: client id, "
            "password: client secret)"
        )
    assert host and login and password
    if "://" not in host:
        host = f"https://{host}"
    return ClientCredentials(host.rstrip("/"), login, password)


def from_airflow(conn_id: str) -> ClientCredentials:
    """Through Airflow's secrets backends, in a task or not (``python -m lakehouse.spark.main`` reads the
    local backend's ``AIRFLOW_CONN_<ID>``). Airflow masks the secret in logs from here on."""
    from airflow.sdk import Connection  # a Databricks cluster has no Airflow: only where this runs

    connection = Connection.get(conn_id)
    return parse_connection(
        conn_id, json.dumps({"host": connection.host, "login": connection.login, "password": connection.password})
    )


def from_secret_scope(conn_id: str, scope: str) -> ClientCredentials:
    """On a Databricks cluster: the connection's Key Vault secret through the secret scope."""
    from databricks.sdk.runtime import dbutils  # only a Databricks runtime provides it

    return parse_connection(conn_id, dbutils.secrets.get(scope=scope, key=key_vault_secret_name(conn_id)))
