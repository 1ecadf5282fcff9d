"""Alerts by email, through the SMTP provider's notifier and the environment's SMTP connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from lakehouse.airflow.alerts import Alert, Route


def send(alert: Alert, route: Route, context: Mapping[str, Any]) -> None:
    body = "<br>".join(line.replace("&", "&amp;").replace("<", "&lt;") for line in alert.lines())
    SmtpNotifier(
        to=list(route.email_to),
        from_email=route.email_from,
        subject=alert.subject,
        html_content=body,
        smtp_conn_id=route.smtp_conn_id,
    ).notify(context)  # type: ignore[arg-type]
