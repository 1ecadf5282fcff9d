"""The SparkSession for a stage: Delta Lake enabled, sized for the machine it runs on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from delta import configure_spark_with_delta_pip
from pyspark.sql import SparkSession

DELTA_JARS_VAR = "LAKEHOUSE_DELTA_JARS"
"""Folder holding the Delta jars, fetched by set-up; when absent Spark resolves them from Maven."""


def default_jars_dir() -> Path:
    return Path(sys.prefix) / "share" / "lakehouse" / "jars"


def delta_jars() -> list[str]:
    folder = Path(os.environ.get(DELTA_JARS_VAR) or default_jars_dir())
    return sorted(str(path) for path in folder.glob("delta-*.jar"))


def build_session(
    app_name: str,
    master: str = "local[*]",
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
    java_options: str = "",
) -> SparkSession:
    """A Delta-enabled session. Small-machine settings: the defaults assume a cluster (200 shuffle
    partitions, 10,000-way file listing in VACUUM) and cost tens of seconds per task on a laptop."""
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(shuffle_partitions))
        .config("spark.databricks.delta.snapshotPartitions", str(max(1, shuffle_partitions // 2)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # Local mode talks only to itself: keep the driver on loopback, whatever the host name resolves to.
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    if java_options:
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    jars = delta_jars()
    builder = builder.config("spark.jars", ",".join(jars)) if jars else configure_spark_with_delta_pip(builder)
    return builder.getOrCreate()
