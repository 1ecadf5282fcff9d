"""Lineage: the Airflow settings of the OpenLineage provider, derived from the environment's ``lineage``
section. Imports nothing of Airflow: Airflow reads these settings when it is imported."""

from __future__ import annotations

import json

from lakehouse.config.models import Lineage

DISABLED_VAR = "AIRFLOW__OPENLINEAGE__DISABLED"
TRANSPORT_VAR = "AIRFLOW__OPENLINEAGE__TRANSPORT"
NAMESPACE_VAR = "AIRFLOW__OPENLINEAGE__NAMESPACE"
EXTRACTORS_VAR = "AIRFLOW__OPENLINEAGE__EXTRACTORS"
PROVIDER_CONFIG_VARS = (TRANSPORT_VAR, "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "AIRFLOW__OPENLINEAGE__CONFIG_CONN_ID")
"""Settings with which the environment configures the provider itself, whatever the config says."""

EXTRACTORS = "lakehouse.airflow.lineage.extractor.StageExtractor;lakehouse.airflow.lineage.extractor.TableExtractor"


def job_namespace(env_name: str, lineage: Lineage) -> str:
    return lineage.namespace or f"lakehouse-{env_name}"


def lineage_environ(env_name: str, lineage: Lineage) -> dict[str, str]:
    """The ``AIRFLOW__OPENLINEAGE__*`` settings of an environment. Off, the provider is disabled outright,
    so that neither its listener nor a stray ``OPENLINEAGE_URL`` in the shell sends anything."""
    if not lineage.enabled:
        return {DISABLED_VAR: "True"}
    transport: dict[str, object] = {"type": "http", "url": lineage.url, "endpoint": lineage.endpoint}
    if lineage.api_key_connection:
        # The provider reads the key from the connection's password when it sends, never from here.
        transport["auth"] = {"type": "airflow_connection_api_key", "conn_id": lineage.api_key_connection}
    return {
        DISABLED_VAR: "False",
        TRANSPORT_VAR: json.dumps(transport),
        NAMESPACE_VAR: job_namespace(env_name, lineage),
        EXTRACTORS_VAR: EXTRACTORS,
    }
