"""Alerts reach a real SMTP server on 127.0.0.1; a channel that fails is logged, never raised."""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from airflow.sdk.module_loading import import_string

from lakehouse.alerts import FailureNotifier, deadline_missed
from lakehouse.config import load_config
from lakehouse.factory import ingest_dags


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST",
        f'{{"conn_type": "smtp", "host": "127.0.0.1", "port": {port}, '
        '"extra": {"disable_tls": true, "disable_ssl": true, "timeout": 5, "retry_limit": 1}}',
    )
    try:
        yield inbox
    finally:
        controller.stop()


def _context() -> dict:
    ti = SimpleNamespace(
        dag_id="lakehouse_ingest_pega",
        task_id="case.silver",
        run_id="scheduled__2026-03-02",
        try_number=3,
        log_url="http://127.0.0.1:8080/log",
    )
    return {"ti": ti, "exception": ValueError("bad row\nsecond line")}


def test_failure_email_carries_dag_task_try_log_and_error(smtp_server: _Inbox) -> None:
    notifier = FailureNotifier(env="dev", channels=["email"], email_to=["oncall@example.com"], smtp_conn_id="smtp_test")
    notifier.notify(_context())
    ((recipients, message),) = smtp_server.messages
    assert recipients == ["oncall@example.com"]
    assert message["Subject"] == "[lakehouse dev] task failed: lakehouse_ingest_pega.case.silver"
    body = message.get_payload()[0].get_payload(decode=True).decode()
    for expected in ("environment: dev", "try: 3", "log: http://127.0.0.1:8080/log", "error: ValueError: bad row"):
        assert expected in body
    assert "second line" not in body


def test_unreachable_channel_is_logged_and_the_other_channels_still_send(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DOWN",
        f'{{"conn_type": "smtp", "host": "127.0.0.1", "port": {_free_port()}, '
        '"extra": {"disable_tls": true, "disable_ssl": true, "timeout": 2, "retry_limit": 1}}',
    )
    notifier = FailureNotifier(
        env="dev", channels=["email", "log"], email_to=["oncall@example.com"], smtp_conn_id="smtp_down"
    )
    with caplog.at_level(logging.ERROR, logger="lakehouse.alerts"):
        notifier.notify(_context())  # must not raise
    assert "alert channel 'email' failed for [lakehouse dev] task failed" in caplog.text
    assert "event: task failed" in caplog.text


def test_deadline_callback_is_importable_by_path_and_awaitable(
    smtp_server: _Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    (deadline,) = ingest_dags(load_config("prod"))["lakehouse_ingest_cmdm"].deadline
    callback = import_string(deadline.callback.path)
    assert inspect.iscoroutinefunction(callback)
    kwargs = {**deadline.callback.kwargs, "smtp_conn_id": "smtp_test"}
    with caplog.at_level(logging.ERROR, logger="lakehouse.alerts"):
        asyncio.run(callback(**kwargs, context={"dag_run": {"run_id": "scheduled__2026-03-02"}}))
    assert "[lakehouse prod] deadline missed: lakehouse_ingest_cmdm" in caplog.text
    ((recipients, message),) = smtp_server.messages
    assert recipients == ["dpm_udp_devops@example.com"]
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "run: scheduled__2026-03-02" in body
    assert "did not finish within 2:00:00 of being queued" in body


def test_deadline_callback_runs_without_context() -> None:
    asyncio.run(deadline_missed(env="local", dag_id="lakehouse_rag", deadline="1:00:00", channels=["log"]))
