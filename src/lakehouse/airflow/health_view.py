"""The "Lakehouse health" page in the Airflow UI: a nav entry that shows, framed in the UI, the page
``lakehouse report`` last wrote under the environment's local warehouse.

The API server only serves that file: reading the tables takes a Spark session, which has no place
in a web server's process. The page lists sample keys of failing rows, so it is served only to
users signed in to Airflow (the UI's session cookie), like the UI's own pages. Airflow loads it from
``airflow/plugins/lakehouse_health.py``."""

from __future__ import annotations

from pathlib import Path

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from lakehouse.config import load_config, selected_env
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import locations

URL_PREFIX = "/lakehouse-health"
signed_in = requires_access_view(AccessView.WEBSITE)
"""The dependency guarding the page (tests override it)."""


def report_file() -> Path | None:
    """The page of the environment Airflow runs for; ``None`` where it has no local warehouse."""
    environment = load_config(selected_env()).environment
    if not isinstance(environment, LocalEnvironment):
        return None
    return locations.health_page(environment)


def _not_written(path: Path | None) -> str:
    where = f"<code>{path}</code>" if path else "a local warehouse (this environment's target is not local)"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lakehouse health</title></head>'
        '<body style="font: 14px system-ui, sans-serif; margin: 24px"><h1>Lakehouse health</h1>'
        f"<p>No health page yet: run <code>lakehouse report</code>, which writes it to {where}.</p></body></html>"
    )


app = FastAPI(title="Lakehouse health", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/", dependencies=[Depends(signed_in)], response_model=None)
def health_page() -> Response:
    path = report_file()
    if path is None or not path.is_file():
        return HTMLResponse(_not_written(path), status_code=404)
    # Re-read on every visit: the report is rewritten in place after each run.
    return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-store"})


class LakehouseHealthPlugin(AirflowPlugin):
    name = "lakehouse_health"
    # AirflowPlugin declares these as plain class attributes, which ClassVar may not override.
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Lakehouse health"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Lakehouse health",
            # Relative, so that it resolves against the UI's base URL behind a proxy's sub-path too.
            "href": URL_PREFIX.lstrip("/") + "/",
            "url_route": "lakehouse-health",
            "destination": "nav",
        }
    ]
