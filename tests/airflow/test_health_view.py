"""The Airflow plugin serving the health page: its nav entry, its mount, and who may see the page."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from lakehouse.airflow import health_view
from lakehouse.core.locations import WAREHOUSE_ROOT_VAR

PLUGIN = Path(__file__).resolve().parents[2] / "airflow" / "plugins" / "lakehouse_health.py"


@pytest.fixture(scope="module")
def plugin() -> ModuleType:
    """The plugin file as Airflow's plugin manager loads it: the view of ``lakehouse.airflow.health_view``."""
    spec = importlib.util.spec_from_file_location("lakehouse_health_plugin", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LakehouseHealthPlugin is health_view.LakehouseHealthPlugin
    return health_view


@pytest.fixture
def signed_in_client(plugin: ModuleType) -> Iterator[TestClient]:
    plugin.app.dependency_overrides[plugin.signed_in] = lambda: None
    yield TestClient(plugin.app)
    plugin.app.dependency_overrides.clear()


def test_airflow_loads_the_nav_entry_and_mounts_the_app(plugin: ModuleType) -> None:
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse

    (view,) = plugin.LakehouseHealthPlugin.external_views
    entry = ExternalViewResponse.model_validate(view)
    assert (entry.name, entry.destination, entry.url_route) == ("Lakehouse health", "nav", "lakehouse-health")
    (mounted,) = plugin.LakehouseHealthPlugin.fastapi_apps
    assert "/" + entry.href.rstrip("/") == mounted["url_prefix"]
    assert not any(mounted["url_prefix"].startswith(prefix) for prefix in RESERVED_URL_PREFIXES)


def test_the_page_needs_an_airflow_session(plugin: ModuleType) -> None:
    response = TestClient(plugin.app).get("/")
    assert response.status_code == 401


@pytest.mark.slow
def test_the_api_server_lists_the_view_and_serves_the_page_to_a_signed_in_user(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.api_fastapi.app import create_app, get_auth_manager, purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "health-page-test-" * 4)
    monkeypatch.setenv(WAREHOUSE_ROOT_VAR, str(tmp_path))
    page = tmp_path / "_reports" / "health.html"
    page.parent.mkdir()
    page.write_text("<!doctype html><title>Lakehouse health · local</title>")
    purge_cached_app()
    client = TestClient(create_app("all"))
    try:
        assert client.get("/lakehouse-health/").status_code == 401
        # The UI's session: the JWT in the cookie the UI's login sets, which the framed page's request carries.
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
        client.cookies.set("_token", token)
        served = client.get("/lakehouse-health/")
        assert served.status_code == 200 and served.text == page.read_text()
        plugins = client.get("/api/v2/plugins").json()["plugins"]
        (views,) = [p["external_views"] for p in plugins if p["name"] == "lakehouse_health"]
        assert [(v["name"], v["href"], v["url_route"]) for v in views] == [
            ("Lakehouse health", "lakehouse-health/", "lakehouse-health")
        ]
    finally:
        purge_cached_app()


def test_the_last_written_page_is_served_as_it_is(
    signed_in_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WAREHOUSE_ROOT_VAR, str(tmp_path))
    missing = signed_in_client.get("/")
    assert missing.status_code == 404 and "run <code>lakehouse report</code>" in missing.text
    page = tmp_path / "_reports" / "health.html"
    page.parent.mkdir()
    page.write_text("<!doctype html><title>Lakehouse health · local</title>")
    served = signed_in_client.get("/")
    assert served.status_code == 200 and served.text == page.read_text()
    assert served.headers["content-type"].startswith("text/html") and served.headers["cache-control"] == "no-store"
