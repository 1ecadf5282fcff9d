"""A Salesforce stand-in on 127.0.0.1 for the outbound worker's tests: the OAuth 2.0 client-credentials
token endpoint, sObject Collections upserts by external id (records kept by external id, per-record
field errors), and reading a record back by its external id. Failures are planned per upsert call:
a 429 with ``Retry-After``, a 500, or a hang (before or after applying the batch) for killing the
worker in between."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.receivers import free_port

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SalesforceStandIn:
    def __init__(self, client_id: str, client_secret: str, external_id_field: str, api_version: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.field, self.api_version = external_id_field, api_version
        self.records: dict[str, dict[str, Any]] = {}
        self.applied: Counter[str] = Counter()
        """How often each request (external id and payload) was applied."""
        self.received: Counter[str] = Counter()
        """How often each request arrived in an upsert call, applied or not."""
        self.plan: dict[int, str] = {}
        """Upsert call number (from 1) -> '429', '500', '503-always', 'hang-after-apply' or 'hang-before-apply'."""
        self.upsert_calls = 0
        self.token_requests = 0
        self.reads = 0
        self.valid_tokens: set[str] = set()
        self.hung = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self) -> str:
        """The Airflow connection of the connected app, as JSON."""
        return json.dumps(
            {"conn_type": "http", "host": self.url, "login": self.client_id, "password": self.client_secret}
        )

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    @staticmethod
    def key(external_id: str, fields: dict[str, Any]) -> str:
        return f"{external_id}|{json.dumps(fields, sort_keys=True)}"

    def start(self) -> SalesforceStandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    # --- behaviour ------------------------------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        self.token_requests += 1
        given = (form.get("grant_type", [""])[0], form.get("client_id", [""])[0], form.get("client_secret", [""])[0])
        if given != ("client_credentials", self.client_id, self.client_secret):
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        token = f"00D-token-{self.token_requests}"
        self.valid_tokens.add(token)
        return 200, {"access_token": token, "instance_url": self.url, "token_type": "Bearer"}, {}

    def _errors(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        if not record.get("LastName"):
            errors.append(
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": "Required fields are missing: [LastName]",
                    "fields": ["LastName"],
                }
            )
        email = record.get("Email")
        if email is not None and not EMAIL.match(email):
            errors.append(
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": f"Email: invalid email address: {email}",
                    "fields": ["Email"],
                }
            )
        return errors

    def _apply(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = []
        with self._lock:
            for record in records:
                external_id = record[self.field]
                fields = {k: v for k, v in record.items() if k not in ("attributes", self.field)}
                self.received[self.key(external_id, fields)] += 1
                errors = self._errors(record)
                if errors:
                    results.append({"success": False, "errors": errors})
                    continue
                existing = self.records.get(external_id)
                created = existing is None
                stored = existing or {"Id": f"003{len(self.records) + 1:012d}", self.field: external_id}
                stored.update(fields)
                self.records[external_id] = stored
                self.applied[self.key(external_id, fields)] += 1
                results.append({"id": stored["Id"], "success": True, "errors": [], "created": created})
        return results

    def _upsert(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.upsert_calls += 1
            action = self.plan.get(self.upsert_calls, "")
        if action == "429":
            return 429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}], {"Retry-After": "1"}
        if action in ("500", "503-always"):
            if action == "503-always":
                self.plan[self.upsert_calls + 1] = "503-always"
                return 503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}], {}
            return 500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "try again"}], {}
        if action == "hang-before-apply":
            self.hung.set()
            self.release.wait(60)
            return 500, [], {}
        if body.get("allOrNone") is not False or not 1 <= len(body.get("records", [])) <= 200:
            return 400, [{"errorCode": "INVALID_FIELD", "message": "bad collection"}], {}
        results = self._apply(body["records"])
        if action == "hang-after-apply":
            self.hung.set()
            self.release.wait(60)
        return 200, results, {}

    def _read(self, external_id: str, fields: list[str]) -> tuple[int, Any, dict[str, str]]:
        self.reads += 1
        record = self.records.get(external_id)
        if record is None:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        return 200, {"attributes": {"type": "Contact"}, **{name: record.get(name) for name in fields}}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self
        prefix = f"/services/data/v{self.api_version}"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, answer: tuple[int, Any, dict[str, str]]) -> None:
                status, body, headers = answer
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the worker was killed while we hung

            def _authorised(self) -> bool:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token in standin.valid_tokens:
                    return True
                self._answer((401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}], {}))
                return False

            def do_POST(self) -> None:
                if self.path == "/services/oauth2/token":
                    self._answer(standin._token(parse_qs(self._body().decode())))
                else:
                    self._answer((404, [{"errorCode": "NOT_FOUND"}], {}))

            def do_PATCH(self) -> None:
                body = json.loads(self._body() or b"{}")
                if not self._authorised():
                    return
                if self.path == f"{prefix}/composite/sobjects/Contact/{standin.field}":
                    self._answer(standin._upsert(body))
                else:
                    self._answer((404, [{"errorCode": "NOT_FOUND"}], {}))

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                parts = urlsplit(self.path)
                head = f"{prefix}/sobjects/Contact/{standin.field}/"
                if parts.path.startswith(head):
                    fields = parse_qs(parts.query).get("fields", [""])[0].split(",")
                    self._answer(standin._read(parts.path.removeprefix(head), fields))
                else:
                    self._answer((404, [{"errorCode": "NOT_FOUND"}], {}))

        return Handler
