"""Alerts: task retries and failures, and missed deadlines, sent to the channels that config routes
each event's severity to (log, email, Microsoft Teams, PagerDuty).

The deadline callback runs in the triggerer, so this module imports nothing heavy at module level
and must stay importable there. A channel that fails is logged and never hides the task's own error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import import_module
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

EVENT_TITLES = {"retry": "task failed, will retry", "failure": "task failed", "deadline_miss": "deadline missed"}


@dataclass(frozen=True)
class Alert:
    event: str
    """``retry``, ``failure`` (retries exhausted) or ``deadline_miss``."""
    severity: str
    env: str
    dag_id: str
    system: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    try_number: int | None = None
    log_url: str | None = None
    error: str | None = None
    detail: str | None = None

    @property
    def subject(self) -> str:
        what = f"{self.dag_id}.{self.task_id}" if self.task_id else self.dag_id
        return f"[lakehouse {self.env}] {EVENT_TITLES.get(self.event, self.event)}: {what}"

    @property
    def dedup_key(self) -> str:
        """One incident per task (or per DAG's deadline) and environment, however often it fails."""
        return f"lakehouse/{self.env}/{self.dag_id}/{self.task_id or self.event}"

    def fields(self) -> dict[str, str]:
        named = {
            "severity": self.severity,
            "environment": self.env,
            "dag": self.dag_id,
            "system": self.system,
            "run": self.run_id,
            "task": self.task_id,
            "try": self.try_number,
            "log": self.log_url,
            "error": self.error,
            "detail": self.detail,
        }
        return {name: str(value) for name, value in named.items() if value is not None}

    def lines(self) -> list[str]:
        return [f"{name}: {value}" for name, value in self.fields().items()]


def alert_from_context(event: str, route: Route, context: Mapping[str, Any]) -> Alert:
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    run = context.get("dag_run")
    exception = context.get("exception")
    return Alert(
        event=event,
        severity=route.severity,
        env=route.env,
        system=route.system,
        dag_id=str(getattr(dag, "dag_id", None) or getattr(ti, "dag_id", "?")),
        run_id=getattr(run, "run_id", None) or getattr(ti, "run_id", None),
        task_id=getattr(ti, "task_id", None),
        try_number=getattr(ti, "try_number", None),
        log_url=getattr(ti, "log_url", None),
        error=_summary(exception) if exception is not None else None,
    )


def _summary(exception: BaseException | str) -> str:
    text = str(exception).strip().splitlines()
    head = text[0] if text else ""
    name = type(exception).__name__ if isinstance(exception, BaseException) else "Error"
    return f"{name}: {head}"[:500]


@dataclass(frozen=True)
class Route:
    """Where alerts of one event go in one environment; plain values, so a deadline callback's
    keyword arguments can carry it."""

    env: str
    severity: str
    channels: tuple[str, ...]
    system: str | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "lakehouse-alerts@localhost"
    smtp_conn_id: str = "smtp_default"
    teams_conn_id: str = "teams_default"
    pagerduty_conn_id: str = "pagerduty_default"

    def as_kwargs(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels), "email_to": list(self.email_to)}

    def send(self, alert: Alert, context: Mapping[str, Any]) -> None:
        for channel in self.channels:
            try:
                _sender(channel)(alert, self, context)
            except Exception:
                log.exception("alert channel '%s' failed for %s", channel, alert.subject)


def _send_log(alert: Alert, route: Route, context: Mapping[str, Any]) -> None:
    log.error("%s\n  %s", alert.subject, "\n  ".join(alert.lines()))


CHANNELS: dict[str, str] = {
    "email": f"{__name__}.email:send",
    "teams": f"{__name__}.teams:send",
    "pagerduty": f"{__name__}.pagerduty:send",
}
"""The module of each channel but the log, loaded when it first sends: the triggerer, which runs the
deadline callback, and the DAG parse never load a provider a route does not use."""


def _sender(channel: str) -> Callable[[Alert, Route, Mapping[str, Any]], None]:
    if channel == "log":
        return _send_log
    module, _, function = CHANNELS[channel].partition(":")
    sender: Callable[[Alert, Route, Mapping[str, Any]], None] = getattr(import_module(module), function)
    return sender


class TaskAlertNotifier(BaseNotifier):
    """``on_retry_callback`` (event ``retry``) or ``on_failure_callback`` (event ``failure``, which
    Airflow calls once a task's retries are exhausted) of every task."""

    def __init__(self, *, event: str, route: Route) -> None:
        super().__init__()
        self.event = event
        self.route = route

    def notify(self, context: Any) -> None:
        self.route.send(alert_from_context(self.event, self.route, context), context)


async def deadline_missed(
    *, dag_id: str, deadline: str, route: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> None:
    """``DeadlineAlert`` callback; Airflow awaits it in the triggerer."""
    where = Route(**{**route, "channels": tuple(route["channels"]), "email_to": tuple(route["email_to"])})
    run = (context or {}).get("dag_run") or {}
    run_id = run.get("run_id") if isinstance(run, Mapping) else getattr(run, "run_id", None)
    alert = Alert(
        event="deadline_miss",
        severity=where.severity,
        env=where.env,
        system=where.system,
        dag_id=dag_id,
        run_id=run_id,
        detail=f"the run did not finish within {deadline} of being queued",
    )
    # Senders block (SMTP, HTTP); keep the triggerer's event loop free.
    await asyncio.to_thread(where.send, alert, {})
