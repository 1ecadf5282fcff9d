"""Where the connected app's credentials come from: an Airflow connection, or its Key Vault secret."""

from __future__ import annotations

import pytest

from lakehouse.core.sfdc.credentials import from_airflow, key_vault_secret_name, parse_connection


def test_connection_as_json_or_uri_and_its_key_vault_name() -> None:
    from_json = parse_connection(
        "sf", '{"conn_type": "http", "host": "login.example.com", "login": "id", "password": "p%40"}'
    )
    assert (from_json.login_url, from_json.client_id, from_json.client_secret) == (
        "https://login.example.com",
        "id",
        "p%40",
    )
    from_uri = parse_connection("sf", "http://id:p%40ss@login.example.com")
    assert (from_uri.login_url, from_uri.client_secret) == ("https://login.example.com", "p@ss")
    with pytest.raises(ValueError, match="no password"):
        parse_connection("sf", '{"host": "h", "login": "id"}')
    assert key_vault_secret_name("salesforce_prod") == "airflow-connections-salesforce-prod"


def test_from_the_airflow_secrets_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = '{"conn_type": "http", "host": "https://login.example.com", "login": "id", "password": "s3cr3t-9f2x"}'
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_TEST", connection)
    credentials = from_airflow("salesforce_test")
    assert (credentials.login_url, credentials.client_id, credentials.client_secret) == (
        "https://login.example.com", "id", "s3cr3t-9f2x",
    )  # fmt: skip
    assert "s3cr3t" not in repr(credentials)
