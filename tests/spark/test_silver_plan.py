"""The Silver plan on a tiny entity: survivorship, late re-sends, DQ actions, and every row accounted for.
Nothing is written: the plan is a function of the Bronze rows and the Silver rows already held."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter
from pyspark.sql import DataFrame, SparkSession

from lakehouse.config.models import DqRule, Entity
from lakehouse.core.stages import DqFailure
from lakehouse.spark.silver import STALE, SUPERSEDED, plan

DAY = date(2026, 3, 1)
LABELS = {"system": "crm", "entity": "person", "logical_date": DAY.isoformat()}
BRONZE = "id STRING, email STRING, updated_ts TIMESTAMP, source_file STRING, source_row BIGINT"


def _entity(survivorship: bool = True) -> Entity:
    return Entity.model_validate(
        {
            "format": "csv",
            "contract_version": "1.0.0",
            "columns": [
                {"name": "id", "type": "string", "nullable": False},
                {"name": "email", "type": "string"},
                {"name": "updated_ts", "type": "timestamp"},
            ],
            "natural_key": ["id"],
            "silver": {"table": "person_silver"},
            "silver_rules": [{"rule": "normalise_email", "column": "email"}],
            **({"survivorship": {"order_by": "updated_ts"}} if survivorship else {}),
        }
    )


def _rules(*rules: dict[str, Any]) -> list[DqRule]:
    adapter: TypeAdapter[DqRule] = TypeAdapter(DqRule)
    return [adapter.validate_python(rule) for rule in rules]


def _bronze(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, BRONZE)


def _t(hour: int) -> datetime:
    return datetime(2026, 3, 1, hour)


def _by_id(frame: DataFrame) -> dict[str, Any]:
    return {row["id"]: row for row in frame.collect()}


def test_the_latest_record_of_a_key_wins_and_the_others_are_quarantined_as_superseded(spark: SparkSession) -> None:
    bronze = _bronze(
        spark,
        [
            ("P1", "OLD@X.COM", _t(8), "a.csv", 1),
            ("P1", "new@x.com", _t(9), "a.csv", 2),
            ("P2", "first@x.com", _t(8), "a.csv", 3),
            ("P2", "tie@x.com", _t(8), "a.csv", 4),  # same time: the later line wins
        ],
    )
    decided = plan(bronze, None, _entity(), [], DAY, LABELS)
    try:
        kept = _by_id(decided.kept)
        assert {key: row["email"] for key, row in kept.items()} == {"P1": "new@x.com", "P2": "tie@x.com"}
        assert decided.kept_rows == 2 and decided.reasons == {SUPERSEDED: 2}
        quarantined = decided.quarantined.collect()
        assert sorted(row["source_row"] for row in quarantined) == [1, 3]
        assert {(row["system"], row["entity"], row["logical_date"]) for row in quarantined} == {
            ("crm", "person", DAY.isoformat())
        }
        assert all(row["logical_date"] == DAY for row in decided.kept.collect())
    finally:
        decided.release()


def test_without_survivorship_the_later_file_then_line_wins(spark: SparkSession) -> None:
    bronze = _bronze(spark, [("P1", "b@x.com", _t(9), "b.csv", 1), ("P1", "a@x.com", _t(10), "a.csv", 7)])
    decided = plan(bronze, None, _entity(survivorship=False), [], DAY, LABELS)
    try:
        assert _by_id(decided.kept)["P1"]["email"] == "b@x.com"
    finally:
        decided.release()


# Survivorship ranks a missing value last, so against a held row that has one it is older too.
@pytest.mark.parametrize("late", [_t(9), None], ids=["older", "without a value"])
def test_a_late_re_send_older_than_silver_is_quarantined_not_merged(spark: SparkSession, late: datetime | None) -> None:
    current = spark.createDataFrame([("P1", "held@x.com", _t(12))], "id STRING, email STRING, updated_ts TIMESTAMP")
    bronze = _bronze(spark, [("P1", "late@x.com", late, "a.csv", 1), ("P2", "new@x.com", late, "a.csv", 2)])
    decided = plan(bronze, current, _entity(), [], DAY, LABELS)
    try:
        assert set(_by_id(decided.kept)) == {"P2"}
        assert decided.reasons == {STALE: 1}
    finally:
        decided.release()


def test_warn_tags_quarantine_moves_and_every_row_is_accounted_for(spark: SparkSession) -> None:
    rules = _rules(
        {"check": "regex", "column": "email", "pattern": r"^[^@]+@[^@]+$", "action": "warn", "name": "email_shape"},
        {"check": "not_null", "column": "updated_ts", "action": "quarantine"},
        {"check": "in_set", "column": "email", "values": ["a@x.com", "b@x.com"], "action": "quarantine"},
    )
    bronze = _bronze(
        spark,
        [
            ("P1", "a@x.com", _t(8), "a.csv", 1),  # passes all
            ("P2", "b@x.com", None, "a.csv", 2),  # quarantined: no timestamp
            ("P3", "nope", _t(8), "a.csv", 3),  # warned for its shape, quarantined for the set
            ("P4", "c@x.com", _t(8), "a.csv", 4),  # quarantined: not in the set
        ],
    )
    decided = plan(bronze, None, _entity(), rules, DAY, LABELS)
    try:
        assert _by_id(decided.kept)["P1"]["dq_warnings"] == []
        assert decided.reasons == {"dq: updated_ts_not_null": 1, "dq: email_in_set": 2}
        assert decided.kept_rows + sum(decided.reasons.values()) == bronze.count()
        assert decided.dq["rows"] == 4 and decided.dq["passed"] == 1
        assert {name: rule["failed"] for name, rule in decided.dq["rules"].items()} == {
            "email_shape": 1,
            "updated_ts_not_null": 1,
            "email_in_set": 2,
        }
        raw = {row["source_row"]: row["raw_line"] for row in decided.quarantined.collect()}
        assert '"id":"P3"' in raw[3] and "_dq_failed" not in raw[3]
    finally:
        decided.release()


def test_a_warned_row_is_kept_with_the_names_of_the_rules_it_broke(spark: SparkSession) -> None:
    rules = _rules({"check": "regex", "column": "email", "pattern": r"^[^@]+@[^@]+$", "action": "warn"})
    decided = plan(_bronze(spark, [("P1", "nope", _t(8), "a.csv", 1)]), None, _entity(), rules, DAY, LABELS)
    try:
        assert _by_id(decided.kept)["P1"]["dq_warnings"] == ["email_regex"]
        assert decided.reasons == {} and decided.dq["pass_rate"] == 0.0
    finally:
        decided.release()


def test_a_broken_fail_rule_stops_the_run_with_its_counts(spark: SparkSession) -> None:
    rules = _rules({"check": "not_null", "column": "email", "action": "fail"})
    bronze = _bronze(spark, [("P1", None, _t(8), "a.csv", 1), ("P2", "b@x.com", _t(8), "a.csv", 2)])
    with pytest.raises(
        DqFailure, match=r"crm.person 2026-03-01: rules with action 'fail' broken \(email_not_null: 1"
    ) as caught:
        plan(bronze, None, _entity(), rules, DAY, LABELS)
    assert caught.value.counts["dq"]["rules"]["email_not_null"]["failed"] == 1
