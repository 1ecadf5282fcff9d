"""A small client of Airflow's REST API (``/api/v2``), authenticated with a token from ``/auth/token``
(the simple auth manager's users) or given directly."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL_VAR, TOKEN_VAR, USERNAME_VAR, PASSWORD_VAR, PASSWORD_FILE_VAR = (
    "AIRFLOW_API_URL",
    "AIRFLOW_API_TOKEN",
    "AIRFLOW_API_USERNAME",
    "AIRFLOW_API_PASSWORD",
    "AIRFLOW_API_PASSWORD_FILE",
)


class AirflowApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: {status} {body[:500]}")
        self.status = status


@dataclass
class AirflowApi:
    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def from_environment(cls, url: str | None = None) -> AirflowApi:
        """``AIRFLOW_API_URL`` (default ``http://127.0.0.1:8080``), then ``AIRFLOW_API_TOKEN`` or
        ``AIRFLOW_API_USERNAME`` and ``AIRFLOW_API_PASSWORD``; or, for the simple auth manager's users,
        ``AIRFLOW_API_PASSWORD_FILE``: its passwords file (``{"user": "password"}``)."""
        username, password = os.environ.get(USERNAME_VAR), os.environ.get(PASSWORD_VAR)
        passwords = os.environ.get(PASSWORD_FILE_VAR)
        if password is None and passwords and username:
            password = json.loads(Path(passwords).read_text(encoding="utf-8")).get(username)
        url = (url or os.environ.get(URL_VAR) or "http://127.0.0.1:8080").rstrip("/")
        return cls(url, username, password, os.environ.get(TOKEN_VAR))

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer of one call, e.g. ``api("GET", "/api/v2/dags")``."""
        if self.token is None:
            if not (self.username and self.password):
                missing = f"set {TOKEN_VAR}, or {USERNAME_VAR} and {PASSWORD_VAR} (or {PASSWORD_FILE_VAR})"
                raise AirflowApiError("POST", "/auth/token", 401, missing)
            answer = self._send("POST", "/auth/token", {"username": self.username, "password": self.password}, {})
            self.token = str(answer["access_token"])
        return self._send(method, path, body, {"Authorization": f"Bearer {self.token}"})

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise AirflowApiError(method, path, error.code, error.read().decode(errors="replace")) from None
        return json.loads(answer) if answer else None
