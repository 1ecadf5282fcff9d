"""The Lakehouse health report's model: per source system, how fresh its data is against its
deadline, its row counts and DQ pass rate per logical date, what it quarantined and why, and the
rules that failed last with sample keys.

Everything here is pure: rows of the observability table (``lakehouse.spark.run_metrics``) in, the model
out. ``lakehouse.spark.health`` reads the tables; ``lakehouse.ops.report.health_page`` renders the model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from lakehouse.config.models import System

Status = Literal["ok", "late", "unknown"]
INGEST_STAGES = ("bronze", "silver")
SAMPLE_KEYS = 5
"""Sample keys shown per failing rule: enough to look a few rows up, few enough to read."""


@dataclass(frozen=True)
class EntityDay:
    """One entity's counts for one logical date, as the tables hold them after that date's runs."""

    entity: str
    logical_date: date
    lines: int | None
    """Landing lines Bronze read."""
    bronze_rows: int | None
    silver_rows: int | None
    """Rows the date's Silver run kept (MERGEd into Silver)."""
    quarantined: int
    """Rows Bronze and Silver quarantined for the date."""
    dq_pass_rate: float | None


@dataclass(frozen=True)
class QuarantineReason:
    entity: str
    layer: str
    logical_date: date
    reason: str
    rows: int


@dataclass(frozen=True)
class RuleFailure:
    """A DQ rule that failed rows in an entity's latest Silver run of a date."""

    system: str
    entity: str
    logical_date: date
    rule: str
    check: str
    column: str
    action: str
    failed: int
    run_failed: bool
    """The run stopped (a ``fail`` rule): nothing of its batch was written."""


@dataclass(frozen=True)
class FailingRule:
    failure: RuleFailure
    sample_keys: tuple[str, ...]


@dataclass(frozen=True)
class SystemHealth:
    name: str
    domain: str
    owner: str
    deadline: timedelta
    min_pass_rate: float
    """The system's ``dq.min_pass_rate``."""
    entity_pass_rates: Mapping[str, float]
    """Per entity, the pass rate its Silver table must reach (its own where it sets one)."""
    natural_keys: Mapping[str, tuple[str, ...]]
    """Per entity, the columns its sample keys are made of."""
    freshness_seconds: float | None
    """Age of the newest source data when Bronze last read some; the worst of the system's entities."""
    last_run_at: datetime | None
    days: tuple[EntityDay, ...]
    quarantine: tuple[QuarantineReason, ...]
    failing_rules: tuple[FailingRule, ...]
    failed_runs: int

    @property
    def freshness_status(self) -> Status:
        if self.freshness_seconds is None:
            return "unknown"
        return "ok" if self.freshness_seconds <= self.deadline.total_seconds() else "late"

    @property
    def dates(self) -> list[date]:
        return sorted({day.logical_date for day in self.days})

    @property
    def entities(self) -> list[str]:
        return sorted({day.entity for day in self.days})

    def on(self, logical_date: date) -> list[EntityDay]:
        return [day for day in self.days if day.logical_date == logical_date]

    def pass_rate_ok(self, day: EntityDay) -> bool | None:
        threshold = self.entity_pass_rates.get(day.entity, self.min_pass_rate)
        return None if day.dq_pass_rate is None else day.dq_pass_rate >= threshold


@dataclass(frozen=True)
class HealthReport:
    environment: str
    generated_at: datetime
    source: str
    """The observability table the report was read from."""
    systems: tuple[SystemHealth, ...]


def _key(row: Mapping[str, Any]) -> tuple[str, str, date]:
    return row["system"], row["entity"], row["logical_date"]


def _ok(row: Mapping[str, Any]) -> bool:
    # Rows written before the table had a status column are successful runs: failures raised before.
    return row.get("status") in (None, "success")


def _utc(value: datetime) -> datetime:
    # Spark hands timestamps back naive, in the local time zone; rows built in Python are aware.
    return value.astimezone(UTC)


def ingest_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of Bronze and Silver runs, the only stages a source system's health is made of."""
    return [r for r in rows if r.get("stage") in INGEST_STAGES and r.get("system") and r.get("entity")]


def latest_silver_runs(
    rows: Iterable[Mapping[str, Any]], successful: bool
) -> dict[tuple[str, str, date], Mapping[str, Any]]:
    """Per system, entity and date, its last Silver run (the last successful one with
    ``successful``). A Silver run replaces what an earlier run of its date wrote."""
    latest: dict[tuple[str, str, date], Mapping[str, Any]] = {}
    for row in rows:
        if row["stage"] != "silver" or (successful and not _ok(row)):
            continue
        key = _key(row)
        if key not in latest or _utc(row["started_at"]) >= _utc(latest[key]["started_at"]):
            latest[key] = row
    return latest


def bronze_totals(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, date], dict[str, Any]]:
    """Per system, entity and date, what its Bronze runs added. Unlike Silver, Bronze runs add up:
    each reads only the landing files no earlier run of its date read."""
    totals: dict[tuple[str, str, date], dict[str, Any]] = {}
    for row in rows:
        if row["stage"] != "bronze" or not _ok(row):
            continue
        total = totals.setdefault(_key(row), {"lines": 0, "rows": 0, "quarantined": 0, "reasons": {}})
        total["lines"] += row["rows_in"] or 0
        total["rows"] += row["rows_out"] or 0
        total["quarantined"] += row["rows_quarantined"] or 0
        for reason, count in (row["quarantine_reasons"] or {}).items():
            total["reasons"][reason] = total["reasons"].get(reason, 0) + count
    return totals


def rule_failures(rows: Iterable[Mapping[str, Any]]) -> list[RuleFailure]:
    """Per entity and rule, the latest date whose last Silver run found rows breaking it."""
    last: dict[tuple[str, str, str], RuleFailure] = {}
    for (system, entity, day), run in sorted(latest_silver_runs(ingest_rows(rows), successful=False).items()):
        for rule in run["dq_rules"] or ():
            if rule["failed"]:
                last[(system, entity, rule["rule"])] = RuleFailure(
                    system,
                    entity,
                    day,
                    rule["rule"],
                    rule["check"],
                    rule["column"],
                    rule["action"],
                    int(rule["failed"]),
                    run_failed=not _ok(run),
                )
    return sorted(last.values(), key=lambda f: (f.system, -f.logical_date.toordinal(), f.entity, f.rule))


def _system_health(
    name: str,
    system: System,
    rows: Sequence[Mapping[str, Any]],
    samples: Mapping[RuleFailure, Sequence[str]],
) -> SystemHealth:
    bronze = bronze_totals(rows)
    silver = latest_silver_runs(rows, successful=True)
    days, reasons = [], []
    for key in sorted(bronze.keys() | silver.keys()):
        _, entity, day = key
        added, kept = bronze.get(key), silver.get(key)
        layers = [("bronze", added["reasons"] if added else {}), ("silver", (kept or {}).get("quarantine_reasons"))]
        for layer, counts in layers:
            reasons += [QuarantineReason(entity, layer, day, r, int(n)) for r, n in sorted((counts or {}).items()) if n]
        days.append(
            EntityDay(
                entity,
                day,
                lines=added["lines"] if added else None,
                bronze_rows=added["rows"] if added else None,
                silver_rows=kept["rows_out"] if kept else None,
                quarantined=(added["quarantined"] if added else 0) + ((kept or {}).get("rows_quarantined") or 0),
                dq_pass_rate=kept["dq_pass_rate"] if kept else None,
            )
        )
    # Freshness is measured when Bronze reads new files; a re-run that reads nothing has none.
    fresh: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        if row["stage"] == "bronze" and row.get("freshness_seconds") is not None:
            current = fresh.get(row["entity"])
            if current is None or (row["logical_date"], _utc(row["started_at"])) >= (
                current["logical_date"],
                _utc(current["started_at"]),
            ):
                fresh[row["entity"]] = row
    failing = [FailingRule(f, tuple(samples.get(f, ()))) for f in rule_failures(rows)]
    return SystemHealth(
        name=name,
        domain=system.domain,
        owner=system.owner,
        deadline=system.freshness_deadline,
        min_pass_rate=system.dq.min_pass_rate,
        entity_pass_rates={name: system.min_pass_rate_for(name) for name in system.entities},
        natural_keys={entity_name: entity.natural_key for entity_name, entity in system.entities.items()},
        freshness_seconds=max((r["freshness_seconds"] for r in fresh.values()), default=None),
        last_run_at=max((_utc(r["started_at"]) for r in rows), default=None),
        days=tuple(days),
        quarantine=tuple(reasons),
        failing_rules=tuple(failing),
        failed_runs=sum(not _ok(r) for r in rows),
    )


def build_report(
    environment: str,
    source: str,
    systems: Mapping[str, System],
    rows: Iterable[Mapping[str, Any]],
    samples: Mapping[RuleFailure, Sequence[str]],
    generated_at: datetime,
) -> HealthReport:
    """Every configured system, in config order, those without runs yet included."""
    ingest = ingest_rows(rows)
    return HealthReport(
        environment,
        generated_at,
        source,
        tuple(
            _system_health(name, system, [r for r in ingest if r["system"] == name], samples)
            for name, system in systems.items()
        ),
    )
