"""Silver: Bronze rows of one logical date → cleaned, de-duplicated, DQ-checked rows MERGEd on the
natural key. Every Bronze row ends up in Silver or in quarantine with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.config.models import (
    ConcatColumns,
    DqRule,
    Entity,
    HashColumns,
    InSetCheck,
    LatestPerKey,
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
from lakehouse.core.stages import DqFailure
from lakehouse.spark import delta_io, quarantine, run_metrics

LINEAGE = ("source_file", "source_row")


def normalise_phone_au(column: Column) -> Column:
    """Australian numbers to E.164 (``0412 345 678`` → ``+61412345678``); others trimmed, as given."""
    digits = F.regexp_replace(column, r"[\s().-]", "")
    return (
        F.when(digits.rlike(r"^\+61[2-478]\d{8}$"), digits)
        .when(digits.rlike(r"^61[2-478]\d{8}$"), F.concat(F.lit("+"), digits))
        .when(digits.rlike(r"^0[2-478]\d{8}$"), F.concat(F.lit("+61"), F.substring(digits, 2, 9)))
        .otherwise(F.trim(column))
    )


def _apply_rule(frame: DataFrame, rule: SilverRule) -> DataFrame:
    if isinstance(rule, TrimUpper):
        return frame.withColumn(rule.column, F.upper(F.trim(rule.column)))
    if isinstance(rule, PadDigits):
        value = F.trim(rule.column)
        # Only short runs of digits are padded; anything else stays as it came so a DQ rule can reject it.
        fits = value.rlike(rf"^\d{{1,{rule.width}}}$")
        return frame.withColumn(
            rule.target or rule.column, F.when(fits, F.lpad(value, rule.width, "0")).otherwise(value)
        )
    if isinstance(rule, NormaliseEmail):
        return frame.withColumn(rule.column, F.lower(F.trim(rule.column)))
    if isinstance(rule, NormalisePhone):
        return frame.withColumn(rule.column, normalise_phone_au(F.col(rule.column)))
    if isinstance(rule, NormaliseEnum):
        value = F.upper(F.trim(rule.column))
        if rule.separators_to_underscore:
            value = F.regexp_replace(value, r"[\s-]+", "_")
        return frame.withColumn(rule.column, value)
    if isinstance(rule, ConcatColumns):
        parts = [F.when(F.trim(c) != "", F.trim(c)) for c in rule.columns]
        return frame.withColumn(rule.target, F.concat_ws(rule.separator, *parts))
    if isinstance(rule, HashColumns):
        return frame.withColumn(
            rule.target, F.sha2(F.concat_ws("|", *[F.coalesce(F.col(c), F.lit("")) for c in rule.columns]), 256)
        )
    if isinstance(rule, LatestPerKey):
        return frame  # survivorship is applied by ``deduplicate``
    raise TypeError(f"unknown Silver rule {rule!r}")


def flatten(frame: DataFrame, entity: Entity) -> DataFrame:
    """Nested objects become columns named after their fields (``party.prty_id`` → ``prty_id``)."""
    columns: list[Column] = []
    for column in entity.columns:
        if column.type == "struct":
            columns += [F.col(f"{column.name}.{child.name}").alias(child.name) for child in column.fields]
        else:
            columns.append(F.col(column.name))
    others = [F.col(name) for name in frame.columns if name not in {c.name for c in entity.columns}]
    return frame.select(*columns, *others)


def clean(frame: DataFrame, entity: Entity) -> DataFrame:
    for rule in entity.silver_rules:
        frame = _apply_rule(frame, rule)
    return flatten(frame, entity)


def deduplicate(frame: DataFrame, entity: Entity) -> tuple[DataFrame, DataFrame]:
    """One row per natural key: the latest by the survivorship column if config names one, then the
    later file, then the later line. Returns the winners and the superseded rows."""
    order: list[Column] = []
    for rule in entity.silver_rules:
        if isinstance(rule, LatestPerKey):
            order.append(F.col(rule.order_by).desc_nulls_last())
    order += [F.col("source_file").desc(), F.col("source_row").desc()]
    ranked = frame.withColumn("_rank", F.row_number().over(Window.partitionBy(*entity.natural_key).orderBy(*order)))
    winners = ranked.where("_rank = 1").drop("_rank")
    superseded = ranked.where("_rank > 1").drop("_rank")
    return winners, superseded


def _check(rule: DqRule, logical_date: date) -> Column:
    """True when the row passes; null values pass every check but ``not_null``."""
    value = F.col(rule.column)
    if isinstance(rule, NotNullCheck):
        return value.isNotNull()
    if isinstance(rule, RegexCheck):
        return value.isNull() | value.rlike(rule.pattern)
    if isinstance(rule, InSetCheck):
        return value.isNull() | value.isin(*rule.values)
    if isinstance(rule, NotAfterLogicalDateCheck):
        return value.isNull() | (value.cast("date") <= F.lit(logical_date))
    raise TypeError(f"unknown DQ rule {rule!r}")


def rule_name(rule: DqRule) -> str:
    return rule.name or f"{rule.column}_{rule.check}"


def evaluate_dq(frame: DataFrame, rules: Sequence[DqRule], logical_date: date) -> DataFrame:
    """Adds ``_dq_failed``: the rules the row breaks, as ``name:action`` strings."""
    failed = [F.when(~_check(rule, logical_date), F.lit(f"{rule_name(rule)}:{rule.action}")) for rule in rules]
    return frame.withColumn("_dq_failed", F.filter(F.array(*failed), lambda x: x.isNotNull()) if failed else F.array())


def dq_summary(evaluated: DataFrame, rules: Sequence[DqRule]) -> dict[str, Any]:
    """Row count, failures per rule and rows failing each action, in one aggregation."""
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.size("_dq_failed") == 0, 1).otherwise(0)).alias("passed"),
    ]
    for rule in rules:
        tag = f"{rule_name(rule)}:{rule.action}"
        aggregates.append(F.sum(F.when(F.array_contains("_dq_failed", tag), 1).otherwise(0)).alias(tag))
    row = evaluated.agg(*aggregates).collect()[0]
    total = int(row["rows"])
    return {
        "rows": total,
        "passed": int(row["passed"] or 0),
        "pass_rate": (int(row["passed"] or 0) / total) if total else 1.0,
        "rules": {
            rule_name(rule): {
                "action": rule.action,
                "check": rule.check,
                "column": rule.column,
                "failed": int(row[f"{rule_name(rule)}:{rule.action}"] or 0),
            }
            for rule in rules
        },
    }


def _stale(winners: DataFrame, current: DataFrame, entity: Entity) -> tuple[DataFrame, DataFrame]:
    """Rows older than the Silver row they would replace (a late re-send) lose survivorship too."""
    order_by = next((r.order_by for r in entity.silver_rules if isinstance(r, LatestPerKey)), None)
    if order_by is None:
        return winners, winners.limit(0)
    existing = current.select(*entity.natural_key, F.col(order_by).alias("_current"))
    joined = winners.join(existing, list(entity.natural_key), "left")
    newer = F.col("_current").isNull() | (F.col(order_by) >= F.col("_current"))
    return joined.where(newer).drop("_current"), joined.where(~newer).drop("_current")


def build(
    spark: SparkSession,
    bronze: DataFrame,
    entity: Entity,
    rules: Sequence[DqRule],
    logical_date: date,
    silver_location: str,
    quarantine_location: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    """Clean, de-duplicate, check and MERGE one logical date's Bronze rows; returns the run's counts."""
    cleaned = clean(bronze.drop("ingest_ts", "logical_date", run_metrics.SOURCE_MODIFIED), entity)
    winners, superseded = deduplicate(cleaned, entity)
    exists = delta_io.exists(spark, silver_location)
    if exists:
        winners, stale = _stale(winners, delta_io.read(spark, silver_location), entity)
    else:
        stale = winners.limit(0)
    evaluated = evaluate_dq(winners, rules, logical_date).persist()
    try:
        summary = dq_summary(evaluated, rules)
        broken = {name: r["failed"] for name, r in summary["rules"].items() if r["action"] == "fail" and r["failed"]}
        if broken:
            details = ", ".join(f"{name}: {count} row(s)" for name, count in broken.items())
            raise DqFailure(
                f"{labels['system']}.{labels['entity']} {logical_date}: rules with action 'fail' broken ({details})",
                {"dq": summary},
            )

        to_quarantine = F.exists("_dq_failed", lambda tag: tag.endswith(":quarantine"))
        kept = (
            evaluated.where(~to_quarantine)
            .withColumn("dq_warnings", F.transform("_dq_failed", lambda tag: F.substring_index(tag, ":", 1)))
            .drop("_dq_failed")
            .withColumn("logical_date", F.lit(logical_date))
        )
        rejected = evaluated.where(to_quarantine).withColumn(
            "reason",
            F.concat(
                F.lit("dq: "),
                F.concat_ws(
                    ", ",
                    F.transform(
                        F.filter("_dq_failed", lambda tag: tag.endswith(":quarantine")),
                        lambda tag: F.substring_index(tag, ":", 1),
                    ),
                ),
            ),
        )
        quarantined = (
            _as_quarantine(rejected)
            .unionByName(
                _as_quarantine(superseded.withColumn("reason", F.lit("superseded by a later record for the same key")))
            )
            .unionByName(
                _as_quarantine(stale.withColumn("reason", F.lit("older than the record Silver already holds")))
            )
        )
        for name, value in labels.items():
            quarantined = quarantined.withColumn(name, F.lit(value))
        quarantined = quarantined.withColumn("ingest_ts", F.current_timestamp())
        reasons = {row["reason"]: int(row["count"]) for row in quarantined.groupBy("reason").count().collect()}
        silver_rows = kept.count()
        quarantine.replace_slice(quarantined, quarantine_location, "silver", labels["entity"], logical_date)
        _merge(spark, kept, silver_location, entity, exists)
    finally:
        evaluated.unpersist()
    # Bronze written before it kept each file's modification time has no source timestamp.
    newest = run_metrics.newest_source() if run_metrics.SOURCE_MODIFIED in bronze.columns else F.lit(None)
    bronze_rows, micros = bronze.agg(F.count(F.lit(1)), newest).first() or (0, None)
    return {
        "bronze_rows": bronze_rows,
        "newest_source_ts": run_metrics.source_timestamp(micros),
        "silver_rows": silver_rows,
        "quarantined": sum(reasons.values()),
        "quarantine_reasons": reasons,
        "dq": summary,
    }


def _as_quarantine(frame: DataFrame) -> DataFrame:
    payload = F.to_json(F.struct(*[F.col(c) for c in frame.columns if c not in (*LINEAGE, "reason", "_dq_failed")]))
    return frame.select("source_file", "source_row", payload.alias("raw_line"), "reason")


def _merge(spark: SparkSession, rows: DataFrame, location: str, entity: Entity, exists: bool) -> None:
    if not exists:
        delta_io.save(rows.write.format("delta").mode("overwrite"), location)
        return
    condition = " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in entity.natural_key)
    (
        delta_io.table(spark, location)
        .alias("t")
        .merge(rows.alias("s"), condition)
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
