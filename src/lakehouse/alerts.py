"""Failure notifications and deadline-miss callbacks, routed to the channels config names.

The deadline callback runs in the triggerer, so this module imports nothing heavy at module level
and must stay importable there. A channel that fails is logged and never hides the task's own error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    event: str
    env: str
    dag_id: str
    run_id: str | None = None
    task_id: str | None = None
    try_number: int | None = None
    log_url: str | None = None
    error: str | None = None
    detail: str | None = None

    @property
    def subject(self) -> str:
        what = f"{self.dag_id}.{self.task_id}" if self.task_id else self.dag_id
        return f"[lakehouse {self.env}] {self.event}: {what}"

    def lines(self) -> list[str]:
        fields = {
            "event": self.event,
            "environment": self.env,
            "dag": self.dag_id,
            "run": self.run_id,
            "task": self.task_id,
            "try": self.try_number,
            "log": self.log_url,
            "error": self.error,
            "detail": self.detail,
        }
        return [f"{name}: {value}" for name, value in fields.items() if value is not None]


def alert_from_context(event: str, env: str, context: Mapping[str, Any]) -> Alert:
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    run = context.get("dag_run")
    exception = context.get("exception")
    return Alert(
        event=event,
        env=env,
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


def _send_log(alert: Alert, route: Route) -> None:
    log.error("%s\n  %s", alert.subject, "\n  ".join(alert.lines()))


def _send_email(alert: Alert, route: Route) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    body = "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in alert.lines())
    with SmtpHook(smtp_conn_id=route.smtp_conn_id) as hook:
        hook.send_email_smtp(
            to=list(route.email_to), from_email=route.email_from, subject=alert.subject, html_content=body
        )


_SENDERS = {"log": _send_log, "email": _send_email}


@dataclass(frozen=True)
class Route:
    channels: tuple[str, ...]
    email_to: tuple[str, ...] = ()
    email_from: str = "lakehouse-alerts@localhost"
    smtp_conn_id: str = "smtp_default"

    def send(self, alert: Alert) -> None:
        for channel in self.channels:
            try:
                _SENDERS[channel](alert, self)
            except Exception:
                log.exception("alert channel '%s' failed for %s", channel, alert.subject)


class FailureNotifier(BaseNotifier):
    """``on_failure_callback`` for every task: one alert per failed try that exhausted its retries."""

    def __init__(
        self,
        *,
        env: str,
        channels: Sequence[str],
        email_to: Sequence[str] = (),
        email_from: str = "lakehouse-alerts@localhost",
        smtp_conn_id: str = "smtp_default",
    ) -> None:
        super().__init__()
        self.env = env
        self.route = Route(tuple(channels), tuple(email_to), email_from, smtp_conn_id)

    def notify(self, context: Any) -> None:
        self.route.send(alert_from_context("task failed", self.env, context))


async def deadline_missed(
    *,
    env: str,
    dag_id: str,
    deadline: str,
    channels: Sequence[str],
    email_to: Sequence[str] = (),
    email_from: str = "lakehouse-alerts@localhost",
    smtp_conn_id: str = "smtp_default",
    context: Mapping[str, Any] | None = None,
) -> None:
    """``DeadlineAlert`` callback; Airflow awaits it in the triggerer."""
    run = (context or {}).get("dag_run") or {}
    run_id = run.get("run_id") if isinstance(run, Mapping) else getattr(run, "run_id", None)
    alert = Alert(
        event="deadline missed",
        env=env,
        dag_id=dag_id,
        run_id=run_id,
        detail=f"the run did not finish within {deadline} of being queued",
    )
    route = Route(tuple(channels), tuple(email_to), email_from, smtp_conn_id)
    # Senders block (SMTP); keep the triggerer's event loop free.
    await asyncio.to_thread(route.send, alert)
