"""The health report's model from observability rows: which runs count, freshness, failing rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lakehouse.config import load_config
from lakehouse.core.health import HealthReport, RuleFailure, build_report, rule_failures
from lakehouse.spark import run_metrics
from tests.conftest import PROJECT_DIR

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
CUSTOMER = {"system": "crm", "entity": "customer"}


def bronze(day: date, lines: int, rows: int, reasons: Mapping[str, int], at: datetime, age: float | None) -> dict:
    result = {
        "lines": lines,
        "bronze_rows": rows,
        "quarantined": sum(reasons.values()),
        "quarantine_reasons": dict(reasons),
        "newest_source_ts": (at - timedelta(seconds=age)).isoformat() if age is not None else None,
    }
    return run_metrics.row("bronze", CUSTOMER, day, "run", at, 2.0, result)


def silver(day: date, rows_in: int, failed: Mapping[str, tuple[str, int]], at: datetime) -> dict:
    """A Silver run where ``failed`` maps rule -> (action, rows); quarantined rules move their rows."""
    quarantined = {f"dq: {rule}": n for rule, (action, n) in failed.items() if action == "quarantine" and n}
    kept = rows_in - sum(quarantined.values())
    result = {
        "bronze_rows": rows_in,
        "silver_rows": kept,
        "quarantined": sum(quarantined.values()),
        "quarantine_reasons": quarantined,
        "dq": {
            "rows": rows_in,
            "passed": rows_in - sum(n for _, n in failed.values()),
            "pass_rate": (rows_in - sum(n for _, n in failed.values())) / rows_in,
            "rules": {
                rule: {"action": action, "check": "regex", "column": "country", "failed": n}
                for rule, (action, n) in failed.items()
            },
        },
    }
    return run_metrics.row("silver", CUSTOMER, day, "run", at, 5.0, result)


@pytest.fixture(scope="module")
def systems() -> Any:
    """The systems of the test project (read in place: nothing here changes it)."""
    return load_config("local", PROJECT_DIR / "config").systems


def report(
    systems: Any, rows: list[dict], samples: Mapping[RuleFailure, tuple[str, ...]] | None = None
) -> HealthReport:
    return build_report("local", "gold.ops.run_metrics", systems, rows, samples or {}, T0)


def test_every_configured_system_has_a_section_even_without_runs(systems: Any) -> None:
    result = report(systems, [bronze(DAY1, 10, 9, {"bad": 1}, T0, 60)])
    assert [s.name for s in result.systems] == list(systems)
    others = [s for s in result.systems if s.name != "crm"]
    assert all(not s.days and s.freshness_status == "unknown" for s in others)


def test_bronze_runs_add_up_and_the_last_silver_run_of_a_date_counts(systems: Any) -> None:
    rows = [
        bronze(DAY1, 100, 97, {"wrong number of columns": 3}, T0, 600),
        bronze(DAY1, 0, 0, {}, T0 + timedelta(hours=1), None),  # a re-run reads nothing new
        silver(DAY1, 97, {"country_in_set": ("quarantine", 5)}, T0),
        silver(DAY1, 97, {"country_in_set": ("quarantine", 4)}, T0 + timedelta(hours=1)),
    ]
    (day,) = next(s for s in report(systems, rows).systems if s.name == "crm").days
    assert (day.lines, day.bronze_rows, day.silver_rows, day.quarantined) == (100, 97, 93, 3 + 4)
    assert day.dq_pass_rate == pytest.approx(93 / 97)


def test_a_failed_silver_run_shows_its_rule_but_the_counts_stay_those_of_the_tables(systems: Any) -> None:
    good = silver(DAY2, 50, {"country_in_set": ("quarantine", 2)}, T0)
    stopped = silver(DAY2, 50, {"customer_id_not_null": ("fail", 1)}, T0 + timedelta(hours=1))
    stopped |= {"status": "failed", "error": "rules with action 'fail' broken", "rows_out": None}
    crm = next(s for s in report(systems, [good, stopped]).systems if s.name == "crm")
    (day,) = crm.days
    assert day.silver_rows == 48 and crm.failed_runs == 1
    (failing,) = crm.failing_rules
    assert (failing.failure.rule, failing.failure.action, failing.failure.run_failed) == (
        "customer_id_not_null",
        "fail",
        True,
    )


def test_the_last_date_a_rule_failed_is_kept_with_its_samples(systems: Any) -> None:
    rows = [
        silver(DAY1, 10, {"country_in_set": ("quarantine", 2), "email_regex": ("warn", 1)}, T0),
        silver(DAY2, 10, {"country_in_set": ("quarantine", 1), "email_regex": ("warn", 0)}, T0),
    ]
    failures = rule_failures(rows)
    assert [(f.rule, f.logical_date, f.failed) for f in failures] == [
        ("country_in_set", DAY2, 1),
        ("email_regex", DAY1, 1),
    ]
    crm = next(s for s in report(systems, rows, {failures[0]: ("C-1",)}).systems if s.name == "crm")
    assert [(f.failure.rule, f.sample_keys) for f in crm.failing_rules] == [
        ("country_in_set", ("C-1",)),
        ("email_regex", ()),
    ]


def test_freshness_is_the_worst_entity_of_the_latest_read_against_the_deadline(systems: Any) -> None:
    deadline = systems["crm"].freshness_deadline.total_seconds()
    on_time = [bronze(DAY1, 1, 1, {}, T0, deadline * 3), bronze(DAY2, 1, 1, {}, T0 + timedelta(days=1), 60)]
    crm = next(s for s in report(systems, on_time).systems if s.name == "crm")
    assert (crm.freshness_seconds, crm.freshness_status) == (60, "ok")
    late = next(s for s in report(systems, [bronze(DAY2, 1, 1, {}, T0, deadline + 1)]).systems if s.name == "crm")
    assert late.freshness_status == "late"


def test_rows_of_other_stages_and_systems_are_left_out(systems: Any) -> None:
    gold = run_metrics.row("gold", {"table": "customer_revenue"}, DAY1, "r", T0, 1.0, {"table": "t", "rows": 5})
    unknown = run_metrics.row("bronze", {"system": "retired", "entity": "x"}, DAY1, "r", T0, 1.0, {"lines": 1})
    result = report(systems, [gold, unknown])
    assert all(not s.days for s in result.systems)
