"""Real receivers on 127.0.0.1 for notification tests: an SMTP server and an HTTP server that keeps
every request (Teams webhooks, the PagerDuty Events API, OpenLineage...)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpInbox:
    """An SMTP server keeping each message with its recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def connection(self) -> str:
        """An Airflow SMTP connection to this server, as JSON."""
        extra = {"disable_tls": True, "disable_ssl": True, "timeout": 5, "retry_limit": 1}
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port, "extra": extra})

    def start(self) -> SmtpInbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class HttpReceiver:
    """Keeps every request; answers with what ``answer(request)`` returns (status, JSON body)."""

    def __init__(self, answer: Callable[[Request], tuple[int, Any]] | None = None) -> None:
        self.requests: list[Request] = []
        self.answer = answer or (lambda request: (200, {}))
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                request = Request("POST", self.path, dict(self.headers), body)
                with receiver.arrived:
                    receiver.requests.append(request)
                    receiver.arrived.notify_all()
                status, answer = receiver.answer(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float) -> list[Request]:
        """Until ``count`` requests arrived (or the timeout passed); the requests so far."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def pagerduty_answer(request: Request) -> tuple[int, Any]:
    """What the PagerDuty Events API v2 answers an accepted event."""
    if request.path != "/v2/enqueue":
        return 404, {"status": "invalid path"}
    return 202, {"status": "success", "message": "Event processed", "dedup_key": request.body.get("dedup_key")}
