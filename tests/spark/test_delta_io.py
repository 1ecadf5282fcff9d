"""The same stage code for a table addressed by path (local) and by name (Databricks): names are
exercised here through Spark's own catalog, with two-part names."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.spark import delta_io


@pytest.mark.parametrize("by", ["path", "name"])
def test_exists_save_read_and_merge_by_path_or_by_name(spark: SparkSession, tmp_path: Path, by: str) -> None:
    if by == "name":
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS io_test LOCATION '{tmp_path / 'schema'}'")
        location = "io_test.customers"
        spark.sql(f"DROP TABLE IF EXISTS {location}")
    else:
        location = str(tmp_path / "customers")
    assert delta_io.is_path(location) == (by == "path")
    assert not delta_io.exists(spark, location)
    delta_io.save(spark.createDataFrame([("P1", "Ann")], "id STRING, name STRING").write.format("delta"), location)
    assert delta_io.exists(spark, location)
    changes = spark.createDataFrame([("P1", "Anne"), ("P2", "Bob")], "id STRING, name STRING")
    delta_io.merge(spark, changes, location, "t.id = s.id")
    assert sorted(map(tuple, delta_io.read(spark, location).collect())) == [("P1", "Anne"), ("P2", "Bob")]
    assert spark.sql(f"SELECT count(*) FROM {delta_io.sql_name(location)}").first()[0] == 2
    history = delta_io.history(spark, location)
    assert history is not None
    assert [commit.operation for commit in history][:1] == ["MERGE"]
    assert all(timedelta(0) <= commit.age < timedelta(minutes=10) for commit in history)


def test_history_is_none_where_no_delta_table_is(spark: SparkSession, tmp_path: Path) -> None:
    spark.range(3).write.parquet(str(tmp_path / "plain"))
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW io_test_view AS SELECT * FROM parquet.`{tmp_path / 'plain'}`")
    for location in (str(tmp_path / "plain"), str(tmp_path / "never-written"), "io_test_view", "io_test.absent"):
        assert delta_io.history(spark, location) is None, location


def test_a_folder_of_files_without_a_commit_is_no_delta_table(spark: SparkSession, tmp_path: Path) -> None:
    # What a first write that died before its commit leaves behind: DESCRIBE DETAIL refuses it.
    spark.range(3).write.parquet(str(tmp_path / "orphan"))
    assert not delta_io.exists(spark, str(tmp_path / "orphan"))
    assert not delta_io.exists(spark, str(tmp_path / "never-written"))
