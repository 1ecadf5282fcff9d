"""Entities of one system write its quarantine table at the same time (their tasks run side by
side). Each test holds one write inside its transaction, commits another, then lets the first
commit: the interleaving that made parallel tasks fail, made certain instead of left to timing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.spark import quarantine

DAY = date(2026, 3, 1)
CONFLICT = "commit lost to a concurrent writer"


def _rows(spark: SparkSession, entity: str, reason: str, count: int = 2) -> DataFrame:
    return spark.createDataFrame(
        [(f"{entity}.csv", row, f"line {row}", reason, "cmdm", entity, DAY.isoformat()) for row in range(count)],
        "source_file string, source_row long, raw_line string, reason string, system string, entity string, "
        "logical_date string",
    ).withColumns({"layer": F.lit("bronze"), "ingest_ts": F.current_timestamp()})


def _held(frame: DataFrame, gate: Path) -> DataFrame:
    """``frame``, computed only once ``gate / "open"`` exists; ``gate / "entered"`` says the write's
    job (and so its transaction) has started. One partition, so it holds one of the two cores."""
    entered, opened = gate / "entered", gate / "open"

    @F.udf("string", useArrow=False)  # plain pickling: the project does not ship pyarrow
    def wait(value: str) -> str:
        entered.touch()
        while not opened.exists():
            time.sleep(0.05)
        return value

    return frame.coalesce(1).withColumn("raw_line", wait("raw_line"))


def _interleave(held_write: Callable[[], None], other_write: Callable[[], None], gate: Path) -> None:
    """Start ``held_write``, commit ``other_write`` while it is held, then let it finish."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            held_write()
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not (gate / "entered").exists() and thread.is_alive():
        assert time.monotonic() < deadline, "the held write never started"
        time.sleep(0.05)
    if errors:
        raise errors[0]
    other_write()
    (gate / "open").touch()
    thread.join(timeout=120)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def _reasons(spark: SparkSession, location: Path) -> list[tuple[str, str, str]]:
    table = spark.read.format("delta").load(str(location))
    return sorted((r["entity"], r["layer"], r["reason"]) for r in table.collect())


def test_two_entities_creating_the_table_at_once_both_land_once(
    spark: SparkSession, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lakehouse.spark.delta_io")
    location = str(tmp_path / "cmdm_quarantine")
    held = _held(_rows(spark, "party_address", "wrong column count"), tmp_path)
    _interleave(
        lambda: quarantine.append(held, location, "party_address#quarantine", 0),
        lambda: quarantine.append(_rows(spark, "customer", "missing natural key"), location, "customer#quarantine", 0),
        tmp_path,
    )
    # The held append started on an empty folder and lost the race to create the table: it ran again.
    assert any(CONFLICT in record.getMessage() for record in caplog.records if record.levelno == logging.INFO)
    assert _reasons(spark, tmp_path / "cmdm_quarantine") == [
        *[("customer", "bronze", "missing natural key")] * 2,
        *[("party_address", "bronze", "wrong column count")] * 2,
    ]


def test_slices_of_different_entities_are_replaced_side_by_side_without_a_conflict(
    spark: SparkSession, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lakehouse.spark.delta_io")
    location = str(tmp_path / "cmdm_quarantine")
    for entity in ("customer", "party_address"):
        quarantine.replace_slice(_rows(spark, entity, "first run"), location, "silver", entity, DAY)
    held = _held(_rows(spark, "party_address", "second run", count=1), tmp_path)
    _interleave(
        lambda: quarantine.replace_slice(held, location, "silver", "party_address", DAY),
        lambda: quarantine.replace_slice(
            _rows(spark, "customer", "second run", count=1), location, "silver", "customer", DAY
        ),
        tmp_path,
    )
    # Partitioned by entity: neither replacement read what the other wrote, so neither had to retry.
    assert not [record for record in caplog.records if CONFLICT in record.getMessage()]
    assert _reasons(spark, tmp_path / "cmdm_quarantine") == [
        ("customer", "silver", "second run"),
        ("party_address", "silver", "second run"),
    ]


def test_a_rerun_replaces_only_its_own_layer_entity_and_date(spark: SparkSession, tmp_path: Path) -> None:
    location = str(tmp_path / "cmdm_quarantine")
    quarantine.append(_rows(spark, "customer", "wrong column count"), location, "customer#quarantine", 0)
    quarantine.replace_slice(_rows(spark, "customer", "dq: email"), location, "silver", "customer", DAY)
    quarantine.replace_slice(_rows(spark, "customer", "dq: email"), location, "silver", "customer", date(2026, 3, 2))
    quarantine.replace_slice(_rows(spark, "customer", "dq: phone", 1), location, "silver", "customer", DAY)
    table = spark.read.format("delta").load(location)
    assert sorted((r["layer"], r["logical_date"], r["reason"]) for r in table.collect()) == [
        *[("bronze", "2026-03-01", "wrong column count")] * 2,
        ("silver", "2026-03-01", "dq: phone"),
        *[("silver", "2026-03-02", "dq: email")] * 2,
    ]
