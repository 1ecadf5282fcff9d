"""Bronze: landing lines → typed rows of the contract, and quarantined lines with the reason.

``parse_lines`` is the pure part: it takes raw lines (``value``, ``source_file``, ``source_row``) and
returns the contract's columns plus ``_raw`` and ``_reason`` (null for a good row). ``ingest`` wraps
it in an incremental, checkpointed file stream (``availableNow``) over one logical date's folder.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming import StreamingQuery

from lakehouse.config.models import Entity
from lakehouse.spark import delta_io, quarantine, run_metrics
from lakehouse.spark.contracts import contract_schema, string_schema

_log = logging.getLogger(__name__)

WORKER_TIMEOUT = "Python worker failed to connect back"
"""Over Spark Connect the server starts a Python process for the batch function when the query
starts and gives it 10 s to connect back (hard-coded in Spark 4.2); on a loaded machine it can miss that."""

CORRUPT = "_corrupt_record"
REASON = "_reason"
RAW = "_raw"


def _ddl(schema: T.StructType) -> str:
    """DDL of a schema plus the corrupt-record column, as ``from_csv`` takes it."""
    fields = [f"`{field.name}` {field.dataType.simpleString()}" for field in schema.fields]
    return ", ".join([*fields, f"`{CORRUPT}` STRING"])


def parse_lines(lines: DataFrame, entity: Entity) -> DataFrame:
    parsed = _parse_csv(lines, entity) if entity.format == "csv" else _parse_jsonl(lines, entity)
    missing_key = [F.when(F.col(f"typed.{key}").isNull(), F.lit(key)) for key in entity.natural_key]
    key_reason = F.when(
        F.concat_ws(", ", *missing_key) != "", F.concat(F.lit("missing natural key: "), F.concat_ws(", ", *missing_key))
    )
    reason = F.coalesce(F.col(REASON), key_reason)
    columns = [F.col(f"typed.{column.name}").alias(column.name) for column in entity.columns]
    lineage = [name for name in lines.columns if name != "value"]
    return parsed.select(*columns, *lineage, F.col("value").alias(RAW), reason.alias(REASON))


def _parse_csv(lines: DataFrame, entity: Entity) -> DataFrame:
    names = [column.name for column in entity.columns]
    expected_header = ",".join(names)
    # The first line of each file is its header; a header other than the contract's is schema drift.
    first = Window.partitionBy("source_file").orderBy("source_row")
    lines = lines.withColumn("_header", F.first("value").over(first.rowsBetween(Window.unboundedPreceding, 0)))
    lines = lines.withColumn("_is_header", F.row_number().over(first) == 1)
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    typed = F.from_csv("value", _ddl(contract_schema(entity)), options)
    strings = F.from_csv("value", _ddl(string_schema(entity)), options)
    parsed = lines.where(~F.col("_is_header")).select("*", typed.alias("typed"), strings.alias("strings"))
    reason = (
        F.when(
            F.col("_header") != expected_header,
            F.concat(
                F.lit("schema drift: header '"), F.col("_header"), F.lit(f"' is not the contract's '{expected_header}'")
            ),
        )
        .when(
            F.col(f"strings.{CORRUPT}").isNotNull(), F.lit(f"wrong column count: the contract has {len(names)} columns")
        )
        .when(F.col(f"typed.{CORRUPT}").isNotNull(), _type_reason(entity, lambda name: F.col(f"strings.{name}")))
    )
    return parsed.withColumn(REASON, reason)


def _type_reason(entity: Entity, raw: Callable[[str], Column]) -> Column:
    """Names the columns that had a value (``raw``) which did not parse as the contract's type."""
    bad = [
        F.when(raw(c.name).isNotNull() & F.col(f"typed.{c.name}").isNull(), F.lit(f"{c.name} ({c.type})"))
        for c in entity.columns
    ]
    return F.concat(F.lit("value does not match the contract type: "), F.concat_ws(", ", *bad))


def _parse_jsonl(lines: DataFrame, entity: Entity) -> DataFrame:
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    schema = contract_schema(entity).add(CORRUPT, "string")
    fields = F.from_json("value", "MAP<STRING, STRING>", options)
    parsed = lines.select("*", F.from_json("value", schema, options).alias("typed"), fields.alias("fields"))
    known = F.array(*[F.lit(c.name) for c in entity.columns])
    unexpected = F.array_except(F.map_keys("fields"), known)
    reason = (
        F.when(F.col("fields").isNull(), F.lit("not a valid JSON object"))
        .when(
            F.size(unexpected) > 0, F.concat(F.lit("schema drift: unexpected field(s) "), F.concat_ws(", ", unexpected))
        )
        .when(
            F.col(f"typed.{CORRUPT}").isNotNull(),
            _type_reason(entity, lambda name: F.col("fields").getItem(name)),
        )
    )
    return parsed.withColumn(REASON, reason)


def split(parsed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Good rows (without the bookkeeping columns) and quarantined rows (raw line and reason)."""
    good = parsed.where(F.col(REASON).isNull()).drop(REASON, RAW)
    bad = parsed.where(F.col(REASON).isNotNull()).select(
        "source_file", "source_row", F.col(RAW).alias("raw_line"), F.col(REASON).alias("reason")
    )
    return good, bad


def read_landing_stream(spark: SparkSession, folder: str, auto_loader: bool = False) -> DataFrame:
    """Every line of the files in ``folder``, with the file it came from; new files only per run.

    With ``auto_loader`` (Databricks) the files are found by Auto Loader (``cloudFiles``), which
    lists large landing folders incrementally; lines are parsed the same way either way."""
    reader = spark.readStream.format("text")
    if auto_loader:
        reader = spark.readStream.format("cloudFiles").option("cloudFiles.format", "text")
    return reader.load(folder).select(
        "value",
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_modification_time").alias(run_metrics.SOURCE_MODIFIED),
    )


def ingest(
    spark: SparkSession,
    entity: Entity,
    landing_folder: str,
    bronze_location: str,
    quarantine_location: str,
    checkpoint: str,
    labels: dict[str, str],
    auto_loader: bool = False,
) -> dict[str, Any]:
    """Append the new lines of ``landing_folder`` to Bronze and its quarantine; returns the counts.

    The checkpoint makes a re-run of the same logical date a no-op, and Delta's transaction ids
    (``txnAppId``/``txnVersion``) make a batch that is retried after a crash write only once.

    Each batch's counts travel in its Bronze commit (``userMetadata``) and are read back from the
    table's history: over Spark Connect the batch function runs in the server, where this process's
    variables are out of reach. A batch replayed after a crash reports the commit it had made.
    """
    app_id = checkpoint

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        lines = batch.withColumn("source_row", F.monotonically_increasing_id())
        parsed = parse_lines(lines, entity).withColumn("ingest_ts", F.current_timestamp()).persist()
        try:
            good, bad = split(parsed)
            for name, value in labels.items():
                bad = bad.withColumn(name, F.lit(value))
            good = good.withColumn("logical_date", F.lit(labels["logical_date"]).cast("date"))
            good_count, micros = good.agg(F.count(F.lit(1)), run_metrics.newest_source()).first() or (0, None)
            reasons = {row["reason"]: int(row["count"]) for row in bad.groupBy("reason").count().collect()}
            counts = {"app": app_id, "batch": batch_id, "bronze_rows": good_count, "reasons": reasons, "newest": micros}
            # Quarantine first: the Bronze commit, which carries the counts, is the batch's last write.
            bad = bad.withColumn("layer", F.lit("bronze")).withColumn("ingest_ts", F.current_timestamp())
            quarantine.append(bad, quarantine_location, f"{app_id}#quarantine", batch_id)
            _append(good, bronze_location, app_id, batch_id, json.dumps(counts))
        finally:
            parsed.unpersist()

    def start() -> StreamingQuery:
        stream = read_landing_stream(spark, landing_folder, auto_loader).writeStream.foreachBatch(write_batch)
        return stream.option("checkpointLocation", checkpoint).trigger(availableNow=True).start()

    query = _start_again_if_the_worker_was_late(start)
    query.awaitTermination()
    return _counts(spark, bronze_location, app_id, {progress.batchId for progress in query.recentProgress})


def _start_again_if_the_worker_was_late(
    start: Callable[[], StreamingQuery], attempts: int = 6, pause: float = 5.0
) -> StreamingQuery:
    """The query, started again when its batch worker missed the connect-back (``WORKER_TIMEOUT``):
    that fails the start before the query reads anything, so starting again is safe. The pauses grow
    and are jittered: the tasks whose start-up loads the machine then are not all retrying together."""
    for attempt in range(1, attempts):
        try:
            return start()
        except Exception as error:
            if WORKER_TIMEOUT not in str(error):
                raise
            wait = pause * attempt * (1 + random.random())
            _log.warning(
                "the batch worker did not connect back in time; starting attempt %d of %d in %.0f s",
                attempt + 1,
                attempts,
                wait,
            )
            time.sleep(wait)
    return start()


def _counts(spark: SparkSession, bronze_location: str, app_id: str, batch_ids: set[int]) -> dict[str, Any]:
    """What the batches ``batch_ids`` of ``app_id`` committed to Bronze."""
    batches = []
    if batch_ids and delta_io.exists(spark, bronze_location):
        history = spark.sql(f"DESCRIBE HISTORY {delta_io.sql_name(bronze_location)}")
        for row in history.select("userMetadata").collect():
            try:
                metadata = json.loads(row["userMetadata"] or "{}")
            except ValueError:  # a commit of another writer's, with metadata of its own
                continue
            if isinstance(metadata, dict) and metadata.get("app") == app_id and metadata.get("batch") in batch_ids:
                batches.append(metadata)
    reasons: Counter[str] = Counter()
    for batch in batches:
        reasons.update(batch["reasons"])
    bronze_rows = sum(batch["bronze_rows"] for batch in batches)
    newest = [batch["newest"] for batch in batches if batch["newest"] is not None]
    return {
        "lines": bronze_rows + reasons.total(),
        "bronze_rows": bronze_rows,
        "quarantined": reasons.total(),
        "quarantine_reasons": dict(reasons),
        "newest_source_ts": run_metrics.source_timestamp(max(newest, default=None)),
    }


def _append(frame: DataFrame, location: str, app_id: str, batch_id: int, metadata: str) -> None:
    writer = (
        frame.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
        .option("mergeSchema", "true")
        .option("userMetadata", metadata)
    )
    delta_io.save(writer, location)
