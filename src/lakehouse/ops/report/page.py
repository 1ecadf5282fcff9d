"""``lakehouse report``: the health page of a local environment, written from its tables."""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import locations
from lakehouse.ops.environment import local_config
from lakehouse.ops.report.health_page import write
from lakehouse.spark.health import MetricsNotFound, collect
from lakehouse.spark.main import session_for
from lakehouse.spark.tables import Tables


def write_health_page(
    spark: SparkSession, config: LakehouseConfig, environment: LocalEnvironment, tables: Tables, out: Path | None = None
) -> Path:
    """Writes the page; raises ``MetricsNotFound`` when no stage has recorded metrics yet."""
    return write(collect(spark, config, tables), out or locations.health_page(environment))


def report_command(env: str | None, out: Path | None) -> int:
    config, environment = local_config(env, "lakehouse report")
    spark = session_for(config.env_name)
    tables = Tables(locations.warehouse_root(environment))
    try:
        path = write_health_page(spark, config, environment, tables, out)
    except MetricsNotFound as exc:
        print(f"lakehouse report: {exc}", file=sys.stderr)
        return 2
    print(path.resolve().as_uri())
    return 0
