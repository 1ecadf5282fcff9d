"""PagerDuty Events v2 through the provider's notifier, sent to the Events API address that the
connection's host names when it has one (EU accounts: ``https://events.eu.pagerduty.com``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from airflow.providers.pagerduty.hooks.pagerduty_events import PagerdutyEventsAsyncHook
from airflow.providers.pagerduty.notifications.pagerduty import PagerdutyNotifier
from airflow.sdk import BaseHook

from lakehouse.airflow.alerts import Alert, Route


class RegionalPagerdutyNotifier(PagerdutyNotifier):
    """``PagerdutyNotifier`` that honours the connection's host as the Events API base URL. It sends
    through the provider's async hook, because the sync client takes no address but PagerDuty's US one."""

    @cached_property
    def hook_async(self) -> PagerdutyEventsAsyncHook:
        conn = BaseHook.get_connection(self.pagerduty_events_conn_id) if self.pagerduty_events_conn_id else None
        hook = PagerdutyEventsAsyncHook(integration_key=self.integration_key or (conn.password if conn else None))
        if conn is not None and conn.host:
            hook.base_url = conn.host.rstrip("/")
        return hook

    def notify(self, context: Any) -> None:
        self.hook_async  # noqa: B018 - the connection is read here, outside the event loop
        asyncio.run(self.async_notify(context))


def send(alert: Alert, route: Route, context: Mapping[str, Any]) -> None:
    RegionalPagerdutyNotifier(
        summary=alert.subject,
        severity=alert.severity,
        source=f"lakehouse-{alert.env}",
        component=alert.system or alert.dag_id,
        group=alert.dag_id,
        class_type=alert.event,
        dedup_key=alert.dedup_key,
        custom_details=alert.fields(),
        links=[{"href": alert.log_url, "text": "Task log"}] if alert.log_url else None,
        pagerduty_events_conn_id=route.pagerduty_conn_id,
    ).notify(dict(context))
