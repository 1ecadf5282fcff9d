"""Delta tables without a JVM: what Spark wrote, delta-rs reads; what delta-rs appends, Spark reads
and appends after, in one table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.core.rag.answers import TELEMETRY_FIELDS
from lakehouse.ops import delta_files
from lakehouse.spark import delta_io
from lakehouse.spark.rag.knowledge_base import TELEMETRY_SCHEMA


def test_rows_spark_merged_into_a_change_data_feed_table_read_filtered_and_sorted(
    spark: SparkSession, tmp_path: Path
) -> None:
    location = str(tmp_path / "index")
    first = spark.createDataFrame(
        [("c2", "internal", [0.5, 0.25]), ("c1", "public", [1.0, 0.0]), ("c3", "restricted", [0.0, 1.0])],
        "chunk_id STRING, classification STRING, embedding ARRAY<FLOAT>",
    )
    delta_io.save(first.write.format("delta").option("delta.enableChangeDataFeed", "true"), location)
    change = spark.createDataFrame([("c1", "public", [0.0, 1.0]), ("c0", "internal", [0.5, 0.5])], first.schema)
    delta_io.merge(spark, change, location, "t.chunk_id = s.chunk_id")

    rows = delta_files.read_rows(
        tmp_path / "index", ["chunk_id", "embedding"], ("classification", ["public", "internal"]), "chunk_id"
    )

    assert rows == [
        {"chunk_id": "c0", "embedding": [0.5, 0.5]},
        {"chunk_id": "c1", "embedding": [0.0, 1.0]},
        {"chunk_id": "c2", "embedding": [0.5, 0.25]},
    ]
    assert delta_files.read_rows(tmp_path / "nothing", ["chunk_id"], ("classification", ["public"]), "chunk_id") is None


def _row(question: str, asked_at: datetime) -> dict[str, object]:
    return {
        "asked_at": asked_at, "env": "local", "question": question, "domain": None, "routed": False, "k": 5,
        "doc_ids": ["a.md"], "chunk_ids": [], "latency_ms": 1.5, "answer_chars": 10, "composed_by": "passages",
        "safety_flags": ["pii_in_question"],
    }  # fmt: skip


def test_an_append_without_spark_and_one_with_it_land_in_one_table(spark: SparkSession, tmp_path: Path) -> None:
    folder = tmp_path / "telemetry"
    first = datetime(2026, 3, 1, 8, 30, 0, 123456)  # naive UTC, as telemetry_row makes it

    delta_files.append_row(folder, _row("first, by delta-rs", first), TELEMETRY_FIELDS)
    frame = spark.createDataFrame([_row("second, by Spark", datetime(2026, 3, 1, 9))], TELEMETRY_SCHEMA)
    delta_io.save(frame.write.format("delta").mode("append"), str(folder))
    delta_files.append_row(folder, _row("third, by delta-rs", datetime(2026, 3, 1, 10)), TELEMETRY_FIELDS)

    rows = delta_io.read(spark, str(folder)).orderBy("asked_at").collect()
    assert [row["question"] for row in rows] == ["first, by delta-rs", "second, by Spark", "third, by delta-rs"]
    assert rows[0].asDict() == _row("first, by delta-rs", first)  # the same instant, session time zone UTC
    assert delta_io.read(spark, str(folder)).schema == TELEMETRY_SCHEMA
    read_back = delta_files.read_rows(folder, ["question", "asked_at"], ("env", ["local"]), "asked_at")
    assert read_back is not None and read_back[0]["asked_at"] == first.replace(tzinfo=UTC)
