"""Each Silver rule and each DQ check on a tiny DataFrame: what it writes, what passes, what a null does."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter
from pyspark.sql import SparkSession

from lakehouse.config.models import DqRule, SilverRule
from lakehouse.spark.silver_rules import apply_rule, passes, rule_column, rule_name

DAY = date(2026, 3, 1)


def _rule(**fields: Any) -> SilverRule:
    rule: SilverRule = TypeAdapter(SilverRule).validate_python(fields)
    return rule


def _check(**fields: Any) -> DqRule:
    check: DqRule = TypeAdapter(DqRule).validate_python({"action": "warn", **fields})
    return check


def _apply(spark: SparkSession, rule: SilverRule, rows: list[tuple[Any, ...]], schema: str) -> list[Any]:
    """The column the rule writes, row by row."""
    name, _ = rule_column(rule)
    return [row[name] for row in apply_rule(spark.createDataFrame(rows, schema), rule).collect()]


def test_trim_upper(spark: SparkSession) -> None:
    rule = _rule(rule="trim_upper", column="state")
    assert _apply(spark, rule, [(" nsw ",), ("Vic",), (None,)], "state STRING") == ["NSW", "VIC", None]


def test_pad_digits_pads_short_runs_of_digits_only(spark: SparkSession) -> None:
    in_place = _rule(rule="pad_digits", column="post_cd", width=4)
    values = [("800",), (" 2000 ",), ("12345",), ("AB1",), ("",), (None,)]
    assert _apply(spark, in_place, values, "post_cd STRING") == ["0800", "2000", "12345", "AB1", "", None]
    to_target = _rule(rule="pad_digits", column="post_cd", width=4, target="postcode")
    assert rule_column(to_target)[0] == "postcode"
    frame = apply_rule(spark.createDataFrame([("800",)], "post_cd STRING"), to_target)
    assert [tuple(row) for row in frame.collect()] == [("800", "0800")]


def test_normalise_email(spark: SparkSession) -> None:
    rule = _rule(rule="normalise_email", column="email")
    rows = [(" John.Smith@Example.COM ",), ("x@y.z",), (None,)]
    assert _apply(spark, rule, rows, "email STRING") == ["john.smith@example.com", "x@y.z", None]


def test_normalise_phone(spark: SparkSession) -> None:
    rule = _rule(rule="normalise_phone", column="phone")
    rows = [("0412 345 678",), ("+61 412 345 678",), ("(02) 9876 5432",), ("61412345678",), (" 12345 ",), (None,)]
    assert _apply(spark, rule, rows, "phone STRING") == [
        "+61412345678",
        "+61412345678",
        "+61298765432",
        "+61412345678",
        "12345",
        None,
    ]


def test_normalise_enum(spark: SparkSession) -> None:
    plain = _rule(rule="normalise_enum", column="status")
    rows = [(" in progress ",), ("on-hold",), (None,)]
    assert _apply(spark, plain, rows, "status STRING") == ["IN PROGRESS", "ON-HOLD", None]
    underscored = _rule(rule="normalise_enum", column="status", separators_to_underscore=True)
    assert _apply(spark, underscored, rows, "status STRING") == ["IN_PROGRESS", "ON_HOLD", None]


def test_concat_skips_blank_and_null_parts(spark: SparkSession) -> None:
    rule = _rule(rule="concat", columns=["line_1", "line_2", "suburb"], target="full", separator=", ")
    rows = [("1 Main St", "", "Darwin"), (" 2 High St ", None, " Perth "), (None, None, None)]
    assert _apply(spark, rule, rows, "line_1 STRING, line_2 STRING, suburb STRING") == [
        "1 Main St, Darwin",
        "2 High St, Perth",
        "",
    ]


def test_sha256_hashes_the_joined_values_with_null_as_empty(spark: SparkSession) -> None:
    rule = _rule(rule="sha256", columns=["a", "b"], target="key")
    got = _apply(spark, rule, [("x", "y"), ("x", None)], "a STRING, b STRING")
    assert got == [hashlib.sha256(b"x|y").hexdigest(), hashlib.sha256(b"x|").hexdigest()]


def test_every_kind_of_silver_rule_has_an_expression() -> None:
    """The ``match`` is exhaustive for mypy; this is the same promise at run time."""
    samples: dict[str, dict[str, Any]] = {
        "trim_upper": {"column": "c"},
        "pad_digits": {"column": "c", "width": 2},
        "normalise_email": {"column": "c"},
        "normalise_phone": {"column": "c"},
        "normalise_enum": {"column": "c"},
        "concat": {"columns": ["c", "d"], "target": "t"},
        "sha256": {"columns": ["c"], "target": "t"},
    }
    (union, _) = get_args(SilverRule)
    kinds = {get_args(model.model_fields["rule"].annotation)[0] for model in get_args(union)}
    assert kinds == set(samples)
    for kind, fields in samples.items():
        rule = _rule(rule=kind, **fields)
        assert rule_column(rule)[0] == (rule.output or fields["column"])


def _passing(spark: SparkSession, check: DqRule, values: list[Any], kind: str = "STRING") -> list[bool]:
    frame = spark.createDataFrame([(value,) for value in values], f"v {kind}")
    return [row["ok"] for row in frame.select(passes(check, DAY).alias("ok")).collect()]


def test_not_null(spark: SparkSession) -> None:
    assert _passing(spark, _check(check="not_null", column="v"), ["a", "", None]) == [True, True, False]


def test_regex_lets_nulls_pass(spark: SparkSession) -> None:
    check = _check(check="regex", column="v", pattern=r"^\d{4}$")
    assert _passing(spark, check, ["2000", "200", "20000", None]) == [True, False, False, True]


def test_in_set_lets_nulls_pass(spark: SparkSession) -> None:
    check = _check(check="in_set", column="v", values=["OPEN", "CLOSED"])
    assert _passing(spark, check, ["OPEN", "open", None]) == [True, False, True]


def test_not_after_logical_date(spark: SparkSession) -> None:
    check = _check(check="not_after_logical_date", column="v")
    values = [date(2026, 2, 28), DAY, date(2026, 3, 2), None]
    assert _passing(spark, check, values, "DATE") == [True, True, False, True]


def test_a_rule_is_named_by_config_or_by_its_column_and_check() -> None:
    assert rule_name(_check(check="not_null", column="v")) == "v_not_null"
    assert rule_name(_check(check="not_null", column="v", name="id_present")) == "id_present"


@pytest.mark.parametrize("kind", ["unknown_rule"])
def test_an_unknown_kind_of_rule_is_refused_by_config(kind: str) -> None:
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        _rule(rule=kind, column="c")
