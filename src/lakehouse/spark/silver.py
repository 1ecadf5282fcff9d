"""Silver: Bronze rows of one logical date → cleaned, de-duplicated, DQ-checked rows MERGEd on the
natural key. Every Bronze row ends up in Silver or in quarantine with a reason.

``plan`` is the whole decision, pure: Bronze rows and the Silver rows already held in, the rows to
keep, the rows to quarantine and the DQ summary out; nothing is written. ``build`` reads and writes
around it: the quarantine slice of the date, then the MERGE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.config.models import DqRule, Entity
from lakehouse.core.stages import DqFailure
from lakehouse.spark import delta_io, quarantine, run_metrics
from lakehouse.spark.silver_rules import apply_rule, passes, rule_name

LINEAGE = ("source_file", "source_row")
SUPERSEDED = "superseded by a later record for the same key"
STALE = "older than the record Silver already holds"


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
        frame = apply_rule(frame, rule)
    return flatten(frame, entity)


def deduplicate(frame: DataFrame, entity: Entity) -> tuple[DataFrame, DataFrame]:
    """One row per natural key: the latest by the entity's survivorship column if it has one, then
    the later file, then the later line. Returns the winners and the superseded rows."""
    order: list[Column] = []
    if entity.survivorship is not None:
        order.append(F.col(entity.survivorship.order_by).desc_nulls_last())
    order += [F.col("source_file").desc(), F.col("source_row").desc()]
    ranked = frame.withColumn("_rank", F.row_number().over(Window.partitionBy(*entity.natural_key).orderBy(*order)))
    winners = ranked.where("_rank = 1").drop("_rank")
    superseded = ranked.where("_rank > 1").drop("_rank")
    return winners, superseded


def evaluate_dq(frame: DataFrame, rules: Sequence[DqRule], logical_date: date) -> DataFrame:
    """Adds ``_dq_failed``: the rules the row breaks, as ``name:action`` strings."""
    failed = [F.when(~passes(rule, logical_date), F.lit(f"{rule_name(rule)}:{rule.action}")) for rule in rules]
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


def _stale(winners: DataFrame, current: DataFrame | None, entity: Entity) -> tuple[DataFrame, DataFrame]:
    """Rows older than the Silver row they would replace (a late re-send) lose survivorship too."""
    if current is None or entity.survivorship is None:
        return winners, winners.limit(0)
    order_by = entity.survivorship.order_by
    existing = current.select(*entity.natural_key, F.col(order_by).alias("_current"))
    joined = winners.join(existing, list(entity.natural_key), "left")
    newer = F.col("_current").isNull() | (F.col(order_by) >= F.col("_current"))
    return joined.where(newer).drop("_current"), joined.where(~newer).drop("_current")


def _as_quarantine(frame: DataFrame, reason: Column) -> DataFrame:
    payload = F.to_json(F.struct(*[F.col(c) for c in frame.columns if c not in (*LINEAGE, "_dq_failed")]))
    return frame.select("source_file", "source_row", payload.alias("raw_line"), reason.alias("reason"))


def _tags(action: str | None = None) -> Column:
    """The names of the rules a row broke (with ``action``, only those of that action)."""
    failed = F.col("_dq_failed")
    if action is not None:
        failed = F.filter(failed, lambda tag: tag.endswith(f":{action}"))
    return F.transform(failed, lambda tag: F.substring_index(tag, ":", 1))


@dataclass
class SilverPlan:
    """What one date's Silver run keeps and quarantines, decided and counted, not yet written."""

    kept: DataFrame
    """Rows to MERGE, with ``dq_warnings`` and ``logical_date``."""
    quarantined: DataFrame
    """Rows for the system's quarantine table, each with its reason and ``labels``."""
    dq: dict[str, Any]
    kept_rows: int
    reasons: dict[str, int]
    """Quarantined rows per reason."""
    _cached: DataFrame

    def release(self) -> None:
        """Drop the cached DQ evaluation both frames derive from, once they are written."""
        self._cached.unpersist()


def plan(
    bronze: DataFrame,
    current: DataFrame | None,
    entity: Entity,
    rules: Sequence[DqRule],
    logical_date: date,
    labels: Mapping[str, str],
) -> SilverPlan:
    """Clean, de-duplicate and check one date's Bronze rows against ``current`` (the Silver table, or
    None before its first run). Raises ``DqFailure`` when a rule with action ``fail`` is broken."""
    cleaned = clean(bronze.drop("ingest_ts", "logical_date", run_metrics.SOURCE_MODIFIED), entity)
    winners, superseded = deduplicate(cleaned, entity)
    winners, stale = _stale(winners, current, entity)
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
            .withColumn("dq_warnings", _tags())
            .drop("_dq_failed")
            .withColumn("logical_date", F.lit(logical_date))
        )
        quarantined = (
            _as_quarantine(
                evaluated.where(to_quarantine), F.concat(F.lit("dq: "), F.concat_ws(", ", _tags("quarantine")))
            )
            .unionByName(_as_quarantine(superseded, F.lit(SUPERSEDED)))
            .unionByName(_as_quarantine(stale, F.lit(STALE)))
        )
        for name, value in labels.items():
            quarantined = quarantined.withColumn(name, F.lit(value))
        quarantined = quarantined.withColumn("ingest_ts", F.current_timestamp())
        reasons = {row["reason"]: int(row["count"]) for row in quarantined.groupBy("reason").count().collect()}
        return SilverPlan(kept, quarantined, summary, kept.count(), reasons, evaluated)
    except BaseException:
        evaluated.unpersist()
        raise


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
    """Plan one logical date's Silver run, replace its quarantine slice, MERGE what it keeps; returns
    the run's counts."""
    exists = delta_io.exists(spark, silver_location)
    current = delta_io.read(spark, silver_location) if exists else None
    decided = plan(bronze, current, entity, rules, logical_date, labels)
    try:
        quarantine.replace_slice(decided.quarantined, quarantine_location, "silver", labels["entity"], logical_date)
        _merge(spark, decided.kept, silver_location, entity, exists)
    finally:
        decided.release()
    # Bronze written before it kept each file's modification time has no source timestamp.
    newest = run_metrics.newest_source() if run_metrics.SOURCE_MODIFIED in bronze.columns else F.lit(None)
    bronze_rows, micros = bronze.agg(F.count(F.lit(1)), newest).first() or (0, None)
    return {
        "bronze_rows": bronze_rows,
        "newest_source_ts": run_metrics.source_timestamp(micros),
        "silver_rows": decided.kept_rows,
        "quarantined": sum(decided.reasons.values()),
        "quarantine_reasons": decided.reasons,
        "dq": decided.dq,
    }


def _merge(spark: SparkSession, rows: DataFrame, location: str, entity: Entity, exists: bool) -> None:
    if not exists:
        delta_io.save(rows.write.format("delta").mode("overwrite"), location)
        return
    condition = " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in entity.natural_key)
    delta_io.merge(spark, rows, location, condition)
