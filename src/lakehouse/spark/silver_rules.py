"""What each Silver rule and each DQ check of config does to a DataFrame.

One function per kind of rule, each a column expression: the ``match`` over the union of the config
models ends in ``assert_never``, so mypy fails the build when a kind of rule is added to
``lakehouse.config.models`` without its expression here (the guide: docs/guides/add-a-silver-rule-type.md).
"""

from __future__ import annotations

from datetime import date
from typing import assert_never

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.config.models import (
    ConcatColumns,
    DqRule,
    HashColumns,
    InSetCheck,
    NormaliseEmail,
    NormaliseEnum,
    NormalisePhone,
    NotAfterLogicalDateCheck,
    NotNullCheck,
    PadDigits,
    RegexCheck,
    SilverRule,
    TrimUpper,
)


def normalise_phone_au(column: Column) -> Column:
    """Australian numbers to E.164 (``0412 345 678`` → ``+61412345678``); others trimmed, as given."""
    digits = F.regexp_replace(column, r"[\s().-]", "")
    return (
        F.when(digits.rlike(r"^\+61[2-478]\d{8}$"), digits)
        .when(digits.rlike(r"^61[2-478]\d{8}$"), F.concat(F.lit("+"), digits))
        .when(digits.rlike(r"^0[2-478]\d{8}$"), F.concat(F.lit("+61"), F.substring(digits, 2, 9)))
        .otherwise(F.trim(column))
    )


def rule_column(rule: SilverRule) -> tuple[str, Column]:
    """The column ``rule`` writes, and the expression it writes there."""
    match rule:
        case TrimUpper():
            return rule.column, F.upper(F.trim(rule.column))
        case PadDigits():
            value = F.trim(rule.column)
            fits = value.rlike(rf"^\d{{1,{rule.width}}}$")
            return rule.target or rule.column, F.when(fits, F.lpad(value, rule.width, "0")).otherwise(value)
        case NormaliseEmail():
            return rule.column, F.lower(F.trim(rule.column))
        case NormalisePhone():
            return rule.column, normalise_phone_au(F.col(rule.column))
        case NormaliseEnum():
            code = F.upper(F.trim(rule.column))
            return rule.column, F.regexp_replace(code, r"[\s-]+", "_") if rule.separators_to_underscore else code
        case ConcatColumns():
            parts = [F.when(F.trim(column) != "", F.trim(column)) for column in rule.columns]
            return rule.target, F.concat_ws(rule.separator, *parts)
        case HashColumns():
            values = [F.coalesce(F.col(column), F.lit("")) for column in rule.columns]
            return rule.target, F.sha2(F.concat_ws("|", *values), 256)
        case _:
            assert_never(rule)


def apply_rule(frame: DataFrame, rule: SilverRule) -> DataFrame:
    name, expression = rule_column(rule)
    return frame.withColumn(name, expression)


def passes(rule: DqRule, logical_date: date) -> Column:
    """True where the row passes ``rule``; a null passes every check but ``not_null``."""
    value = F.col(rule.column)
    match rule:
        case NotNullCheck():
            return value.isNotNull()
        case RegexCheck():
            return value.isNull() | value.rlike(rule.pattern)
        case InSetCheck():
            return value.isNull() | value.isin(*rule.values)
        case NotAfterLogicalDateCheck():
            return value.isNull() | (value.cast("date") <= F.lit(logical_date))
        case _:
            assert_never(rule)


def rule_name(rule: DqRule) -> str:
    return rule.name or f"{rule.column}_{rule.check}"
