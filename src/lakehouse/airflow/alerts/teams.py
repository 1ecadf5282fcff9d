"""A Microsoft Teams notifier: an Adaptive Card posted to an incoming webhook (no provider ships one).

The webhook's URL carries its own credential, so it is the password of an Airflow connection (from
the secrets backend), which Airflow also masks in every log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from airflow.sdk import BaseHook, BaseNotifier
from airflow.sdk.log import mask_secret

from lakehouse.airflow.alerts import Alert, Route

CARD = "application/vnd.microsoft.card.adaptive"


def card(title: str, facts: Mapping[str, str], url: str | None = None, style: str = "attention") -> dict[str, Any]:
    """The webhook message: a title, one fact per field, and a button to ``url`` (the task log)."""
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True, "color": style},
            {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in facts.items()]},
        ],
    }
    if url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open the log", "url": url}]
    return {"type": "message", "attachments": [{"contentType": CARD, "content": content}]}


class TeamsNotifier(BaseNotifier):
    """Posts a card to the Teams incoming webhook of connection ``teams_conn_id``."""

    template_fields = ("title", "facts", "url")

    def __init__(
        self,
        *,
        title: str,
        facts: Mapping[str, str],
        url: str | None = None,
        teams_conn_id: str = "teams_default",
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.title = title
        self.facts = dict(facts)
        self.url = url
        self.teams_conn_id = teams_conn_id
        self.timeout = timeout

    def notify(self, context: Any) -> None:
        webhook = BaseHook.get_connection(self.teams_conn_id).password
        if not webhook:
            raise ValueError(f"connection '{self.teams_conn_id}' has no webhook URL in its password")
        # HTTP clients log the request path alone (urllib3 at debug level); it carries the signature.
        address = urlsplit(webhook)
        mask_secret(f"{address.path}?{address.query}" if address.query else address.path)
        response = requests.post(webhook, json=card(self.title, self.facts, self.url), timeout=self.timeout)
        response.raise_for_status()


def send(alert: Alert, route: Route, context: Mapping[str, Any]) -> None:
    TeamsNotifier(
        title=alert.subject, facts=alert.fields(), url=alert.log_url, teams_conn_id=route.teams_conn_id
    ).notify(dict(context))
