"""What an environment talks to besides its engine: alert channels, the lineage server, Salesforce,
retries, and the Airflow Variables and connection shells it writes. No secret is ever part of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator, model_validator

from lakehouse.config.models.base import Duration, StrictModel

AlertChannel = Literal["log", "email", "teams", "pagerduty"]
Severity = Literal["critical", "error", "warning", "info"]
"""PagerDuty's severities; a route is chosen by severity, and a page carries it."""
AlertEvent = Literal["retry", "failure", "deadline_miss"]


class AlertSeverities(StrictModel):
    """How severe each event is in this environment."""

    retry: Severity = "warning"
    """A try failed and another will follow."""
    failure: Severity = "critical"
    """A task failed with its retries exhausted."""
    deadline_miss: Severity = "critical"
    """A DAG run did not finish within its deadline of being queued."""


class Alerts(StrictModel):
    email_to: tuple[str, ...] = ()
    """Recipients of the ``email`` channel; required when a route uses it."""
    email_from: str = "lakehouse-alerts@localhost"
    """Sender of the ``email`` channel's messages."""
    severity: AlertSeverities = AlertSeverities()
    routes: dict[Severity, tuple[AlertChannel, ...]] = Field(default_factory=dict)
    """The channels of each severity; a severity with no route goes to the log only."""

    def channels(self, event: AlertEvent) -> tuple[AlertChannel, ...]:
        return self.routes.get(getattr(self.severity, event), ("log",))

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> Alerts:
        if any("email" in channels for channels in self.routes.values()) and not self.email_to:
            raise ValueError("a route sends email but 'email_to' is empty")
        return self


UrlPath = Annotated[str, StringConstraints(pattern=r"^/?[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*/?$")]
LineageNamespace = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", max_length=128)]


class Lineage(StrictModel):
    """OpenLineage events of every task and DAG run, sent by Airflow's OpenLineage provider to an HTTP
    endpoint (Marquez, a data catalog...). Off while ``url`` is unset: the provider is then disabled."""

    url: str | None = None
    """The lineage server, scheme, host and port only, e.g. ``http://marquez:5000``; events go to
    ``url`` + ``endpoint``."""
    endpoint: UrlPath = "api/v1/lineage"
    """Path of the lineage API under ``url``."""
    namespace: LineageNamespace | None = None
    """Namespace of the jobs (DAGs and tasks); unset means ``lakehouse-<env>``."""
    api_key_connection: str | None = Field(default=None, min_length=1)
    """Airflow connection whose password is the API key sent as a bearer token (from the secrets
    backend); unset means no authentication."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host; expected e.g. 'http://marquez:5000'")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials; put the API key in the connection 'api_key_connection' names")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("must be scheme, host and port only; the API path goes in 'endpoint'")
        try:
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value

    @property
    def enabled(self) -> bool:
        return self.url is not None


SalesforceObject = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]
"""An sObject or field API name such as ``Contact`` or ``Mandos_Id__c``."""


class SfdcOutbound(StrictModel):
    """Contact upserts to Salesforce (docs/outbound.md), built in the Gold DAG and sent by the outbound
    worker. Off while ``connection`` is unset: the Gold DAG then has no outbound tasks."""

    connection: str | None = Field(default=None, min_length=1)
    """Airflow connection of the connected app: ``host`` is the login URL (e.g.
    ``https://login.salesforce.com`` or the org's My Domain), ``login`` the client id and
    ``password`` the client secret, from the secrets backend."""
    secret_scope: str | None = Field(default=None, min_length=1)
    """Databricks only: the Key Vault-backed secret scope the worker job reads the same connection
    from (key ``airflow-connections-<connection, '_' as '-'>``, the name Airflow's Key Vault
    backend gives it)."""
    api_version: Annotated[str, StringConstraints(pattern=r"^\d{2,3}\.0$")] = "62.0"
    """Salesforce REST API version of the calls, such as ``62.0``."""
    external_id_field: SalesforceObject = "Mandos_Id__c"
    """The Contact's external id field the upsert matches on; holds the CMDM ``prty_id``."""
    batch_size: int = Field(default=200, ge=1, le=200)
    """Records per sObject Collections call; the API takes at most 200."""
    max_retries: int = Field(default=5, ge=0, le=10)
    """Tries after the first on 429, 5xx and connection errors, waiting ``backoff_seconds`` times
    2^n (or the server's ``Retry-After``) in between, at most ``max_backoff_seconds``."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    """The first wait between tries (see ``max_retries``)."""
    max_backoff_seconds: float = Field(default=120.0, gt=0, le=600)
    """The longest wait between tries."""
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    """Of one HTTP call."""

    @property
    def enabled(self) -> bool:
        return self.connection is not None


class Retries(StrictModel):
    """Of every task; a stage's data failures (a broken ``fail`` rule, a DQ gate) are never retried."""

    retries: int = Field(default=2, ge=0, le=10)
    """Tries after the first."""
    retry_delay: Duration = timedelta(minutes=5)
    """The wait before the first retry."""
    exponential_backoff: float = Field(default=2.0, ge=0, le=10)
    """Multiplier of the delay after each failed try; 0 keeps the delay constant."""
    max_retry_delay: Duration = timedelta(hours=1)
    """The longest wait between tries."""


SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "passphrase", "credential")
"""Names a value must not have in config: secrets live in the secrets backend only."""


def looks_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def _no_secret_names(values: Mapping[str, Any], where: str) -> None:
    for name in values:
        if looks_secret(name):
            raise ValueError(f"{where} '{name}' looks like a secret; secrets come from the secrets backend only")


class ConnectionShell(StrictModel):
    """An Airflow connection without its secret: what ``lakehouse env apply`` writes into Airflow.
    The password (token, key, webhook URL) comes from the secrets backend."""

    conn_type: str = Field(min_length=1)
    """Airflow's connection type, such as ``databricks``, ``smtp`` or ``http``."""
    description: str = ""
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    schema_: str | None = Field(default=None, alias="schema")
    login: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """The connection's extra fields; no key may name a secret."""

    @model_validator(mode="after")
    def _no_secrets(self) -> ConnectionShell:
        _no_secret_names(self.extra, "extra key")
        return self


class AirflowObjects(StrictModel):
    """Non-secret Airflow Variables and connection shells of the environment."""

    variables: dict[str, Any] = Field(default_factory=dict)
    """Airflow Variables by key; no key may name a secret."""
    connections: dict[str, ConnectionShell] = Field(default_factory=dict)
    """Connection shells by connection id."""

    @model_validator(mode="after")
    def _no_secrets(self) -> AirflowObjects:
        _no_secret_names(self.variables, "variable")
        return self
