"""A system's quarantine table: the rows of all its entities that broke the contract (Bronze) or a
quarantine rule (Silver), each with its reason.

The entities' tasks write it side by side. Two things keep their commits apart: the table is
partitioned by entity, so one entity's slice replacement never reads files another entity adds,
and a commit that loses the race to create the table is run again against the table the winner
created (``delta_io.retry_conflicts``)."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.spark import delta_io

COLUMNS = {
    "source_file": "string",
    "source_row": "bigint",
    "raw_line": "string",
    "reason": "string",
    "system": "string",
    "entity": "string",
    "logical_date": "string",
    "layer": "string",
    "ingest_ts": "timestamp",
}
"""Fixed, so that no writer changes the table's metadata under the others."""

PARTITION = "entity"


def _conform(frame: DataFrame) -> DataFrame:
    return frame.select(*[F.col(name).cast(kind).alias(name) for name, kind in COLUMNS.items()])


def append(frame: DataFrame, location: str, app_id: str, batch_id: int) -> None:
    """Append a Bronze batch's rejected lines; the transaction id makes a retried batch land once."""
    writer = (
        _conform(frame)
        .write.format("delta")
        .mode("append")
        .partitionBy(PARTITION)
        .option("txnAppId", app_id)
        .option("txnVersion", batch_id)
    )
    delta_io.retry_conflicts(lambda: delta_io.save(writer, location))


def replace_slice(frame: DataFrame, location: str, layer: str, entity: str, logical_date: date) -> None:
    """Replace what ``layer`` quarantined for ``entity`` on ``logical_date``: a re-run of the date
    is never counted twice."""
    frame = frame.withColumn("layer", F.lit(layer)).withColumn("logical_date", F.lit(logical_date.isoformat()))
    condition = f"{PARTITION} = '{entity}' AND layer = '{layer}' AND logical_date = '{logical_date.isoformat()}'"
    writer = (
        _conform(frame).write.format("delta").mode("overwrite").partitionBy(PARTITION).option("replaceWhere", condition)
    )
    delta_io.retry_conflicts(lambda: delta_io.save(writer, location))
