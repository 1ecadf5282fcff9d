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


OUTCOME = "_outcome"
"""Null for a row Silver keeps, else the reason it is quarantined."""
_WINNER = "_winner"
"""True for the row that survives its key and is not older than Silver's: the rows DQ is counted over."""


def rank(frame: DataFrame, entity: Entity) -> DataFrame:
    """Adds ``_rank``, 1 for the row that survives its natural key: the latest by the entity's
    survivorship column if it has one (a missing value is oldest), then the later file, then the later line."""
    order: list[Column] = []
    if entity.survivorship is not None:
        order.append(F.col(entity.survivorship.order_by).desc_nulls_last())
    order += [F.col("source_file").desc(), F.col("source_row").desc()]
    return frame.withColumn("_rank", F.row_number().over(Window.partitionBy(*entity.natural_key).orderBy(*order)))


def evaluate_dq(frame: DataFrame, rules: Sequence[DqRule], logical_date: date) -> DataFrame:
    """Adds ``_dq_failed``: the rules the row breaks, as ``name:action`` strings."""
    failed = [F.when(~passes(rule, logical_date), F.lit(f"{rule_name(rule)}:{rule.action}")) for rule in rules]
    return frame.withColumn("_dq_failed", F.filter(F.array(*failed), lambda x: x.isNotNull()) if failed else F.array())


def _stale(ranked: DataFrame, current: DataFrame | None, entity: Entity) -> tuple[DataFrame, Column]:
    """``ranked`` joined to the Silver rows it would replace, and whether a row is older than the one
    held (a late re-send loses survivorship too; a missing value is older than any)."""
    if current is None or entity.survivorship is None:
        return ranked, F.lit(False)
    order_by = entity.survivorship.order_by
    existing = current.select(*entity.natural_key, F.col(order_by).alias("_current"))
    joined = ranked.join(existing, list(entity.natural_key), "left")
    held = F.col("_current").isNotNull()
    return joined, held & (F.col(order_by).isNull() | (F.col(order_by) < F.col("_current")))


def _tags(action: str | None = None) -> Column:
    """The names of the rules a row broke (with ``action``, only those of that action)."""
    failed = F.col("_dq_failed")
    if action is not None:
        failed = F.filter(failed, lambda tag: tag.endswith(f":{action}"))
    return F.transform(failed, lambda tag: F.substring_index(tag, ":", 1))


def _outcomes(
    bronze: DataFrame, current: DataFrame | None, entity: Entity, rules: Sequence[DqRule], logical_date: date
) -> tuple[DataFrame, list[str]]:
    """Every Bronze row, cleaned, with its ``OUTCOME``, ``_WINNER`` and DQ failures; and the names of
    its data columns (what Silver keeps and a quarantined row's payload holds)."""
    cleaned = clean(bronze.drop("ingest_ts", "logical_date"), entity)
    data = [name for name in cleaned.columns if name != run_metrics.SOURCE_MODIFIED]
    joined, stale = _stale(rank(cleaned, entity), current, entity)
    evaluated = evaluate_dq(joined, rules, logical_date)
    to_quarantine = F.exists("_dq_failed", lambda tag: tag.endswith(":quarantine"))
    outcome = (
        F.when(F.col("_rank") > 1, F.lit(SUPERSEDED))
        .when(stale, F.lit(STALE))
        .when(to_quarantine, F.concat(F.lit("dq: "), F.concat_ws(", ", _tags("quarantine"))))
    )
    winner = (F.col("_rank") == 1) & ~stale
    return evaluated.withColumn(_WINNER, winner).withColumn(OUTCOME, outcome), data


@dataclass(frozen=True)
class _Tally:
    bronze_rows: int
    reasons: dict[str, int]
    newest_source_ts: str | None
    dq: dict[str, Any]


def _tally(outcomes: DataFrame, rules: Sequence[DqRule]) -> _Tally:
    """One aggregation: per outcome, its rows and newest source timestamp; over the winners, the DQ
    summary (rows, rows passing every rule, failures per rule)."""
    # Bronze written before it kept each file's modification time has no source timestamp.
    newest = run_metrics.newest_source() if run_metrics.SOURCE_MODIFIED in outcomes.columns else F.lit(None)
    winner = F.col(_WINNER)
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        F.count_if(winner).alias("winners"),
        F.count_if(winner & (F.size("_dq_failed") == 0)).alias("passed"),
        newest.alias("newest"),
    ]
    tags = [f"{rule_name(rule)}:{rule.action}" for rule in rules]
    aggregates += [F.count_if(winner & F.array_contains("_dq_failed", tag)).alias(tag) for tag in tags]
    groups = outcomes.groupBy(OUTCOME).agg(*aggregates).collect()
    total = sum(int(group["winners"]) for group in groups)
    passed = sum(int(group["passed"]) for group in groups)
    summary = {
        "rows": total,
        "passed": passed,
        "pass_rate": passed / total if total else 1.0,
        "rules": {
            rule_name(rule): {
                "action": rule.action,
                "check": rule.check,
                "column": rule.column,
                "failed": sum(int(group[tag]) for group in groups),
            }
            for rule, tag in zip(rules, tags, strict=True)
        },
    }
    micros = max((group["newest"] for group in groups if group["newest"] is not None), default=None)
    return _Tally(
        bronze_rows=sum(int(group["rows"]) for group in groups),
        reasons={group[OUTCOME]: int(group["rows"]) for group in groups if group[OUTCOME] is not None},
        newest_source_ts=run_metrics.source_timestamp(micros),
        dq=summary,
    )


@dataclass
class SilverPlan:
    """What one date's Silver run keeps and quarantines, decided and counted, not yet written."""

    kept: DataFrame
    """Rows to MERGE, with ``dq_warnings`` and ``logical_date``."""
    quarantined: DataFrame
    """Rows for the system's quarantine table, each with its reason and ``labels``."""
    dq: dict[str, Any]
    bronze_rows: int
    reasons: dict[str, int]
    """Quarantined rows per reason."""
    newest_source_ts: str | None
    """The newest landing file's modification time among the Bronze rows (None for Bronze written
    before it kept one)."""
    _cached: DataFrame

    @property
    def kept_rows(self) -> int:
        """Every Bronze row is kept or quarantined."""
        return self.bronze_rows - sum(self.reasons.values())

    def release(self) -> None:
        """Drop the cached outcomes both frames derive from, once they are written."""
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
    None before its first run). Raises ``DqFailure`` when a rule with action ``fail`` is broken.

    Every count comes from one aggregation over the cached outcomes, which the writes then reuse."""
    outcomes, data = _outcomes(bronze, current, entity, rules, logical_date)
    outcomes = outcomes.persist()
    try:
        tally = _tally(outcomes, rules)
        broken = {name: r["failed"] for name, r in tally.dq["rules"].items() if r["action"] == "fail" and r["failed"]}
        if broken:
            details = ", ".join(f"{name}: {count} row(s)" for name, count in broken.items())
            raise DqFailure(
                f"{labels['system']}.{labels['entity']} {logical_date}: rules with action 'fail' broken ({details})",
                {"dq": tally.dq},
            )
        kept = outcomes.where(F.col(OUTCOME).isNull()).select(
            *data, _tags().alias("dq_warnings"), F.lit(logical_date).alias("logical_date")
        )
        payload = F.to_json(F.struct(*[F.col(name) for name in data if name not in LINEAGE]))
        quarantined = outcomes.where(F.col(OUTCOME).isNotNull()).select(
            *LINEAGE,
            payload.alias("raw_line"),
            F.col(OUTCOME).alias("reason"),
            *[F.lit(value).alias(name) for name, value in labels.items()],
            F.current_timestamp().alias("ingest_ts"),
        )
        return SilverPlan(
            kept, quarantined, tally.dq, tally.bronze_rows, tally.reasons, tally.newest_source_ts, outcomes
        )
    except BaseException:
        outcomes.unpersist()
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
    return {
        "bronze_rows": decided.bronze_rows,
        "newest_source_ts": decided.newest_source_ts,
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
