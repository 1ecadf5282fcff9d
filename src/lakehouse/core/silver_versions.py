"""Which Silver a Gold run reads.

A DQ gate that passes announces its Silver table with the business date as the asset event's
partition key, and the Delta versions its Silver run wrote in the event's extra. Gold is scheduled
once per business date (a partitioned asset schedule), and reads each input at the version that
date's Silver run wrote. So Gold built while Silver has moved on (a backfill, or systems finishing
hours apart) equals Gold built day by day: SCD2 history, status changes and daily metrics included.
A Gold run started by hand has no triggering events and reads Silver as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

SILVER_VERSIONS = "{{ silver_versions(triggering_asset_events) }}"
"""Template of a Gold task's ``silver_versions`` argument: JSON ``{table: version}``."""


def announce(outlets: Iterable[Any], outlet_events: Any, business_date: str, versions: Mapping[str, int]) -> None:
    """Tag the gate's Silver asset event with its business date and the versions Silver wrote."""
    for asset in outlets:
        event = outlet_events[asset]
        event.add_partitions(business_date)
        event.extra.update({"business_date": business_date, "versions": dict(versions)})


def versions_of(triggering_asset_events: Mapping[Any, Iterable[Any]]) -> dict[str, int]:
    """The newest version per table over the run's events (a date re-run before Gold ran sends two)."""
    versions: dict[str, int] = {}
    for events in triggering_asset_events.values():
        for event in events:
            for table, version in (event.extra or {}).get("versions", {}).items():
                versions[table] = max(int(version), versions.get(table, -1))
    return versions


def silver_versions(triggering_asset_events: Mapping[Any, Iterable[Any]]) -> str:
    return json.dumps(versions_of(triggering_asset_events), sort_keys=True)


def as_of(version: int | None) -> str:
    """Delta time travel after a table name; nothing when the version is not known."""
    return "" if version is None else f" VERSION AS OF {int(version)}"


def silver_as_of(triggering_asset_events: Mapping[Any, Iterable[Any]], table: str) -> str:
    return as_of(versions_of(triggering_asset_events).get(table))


def silver_as_of_template(table: str) -> str:
    """What follows a Silver table's name in a statement Airflow renders when the task runs."""
    return f"{{{{ silver_as_of(triggering_asset_events, {json.dumps(table)}) }}}}"


MACROS = {"silver_versions": silver_versions, "silver_as_of": silver_as_of}
"""The Gold DAG's ``user_defined_macros``."""
