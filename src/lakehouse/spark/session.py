"""The SparkSession for a stage: Delta Lake enabled, sized for the machine it runs on; in this
process, or a client of a shared Spark Connect server (``remote_session``) that ``server_command``
starts with the same settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyspark
from delta import configure_spark_with_delta_pip
from pyspark.sql import SparkSession

DELTA_JARS_VAR = "LAKEHOUSE_DELTA_JARS"
"""Folder holding the Delta jars, fetched by set-up; when absent Spark resolves them from Maven."""

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
VERBOSE_VAR = "LAKEHOUSE_SPARK_VERBOSE"
"""``1``: a session of this process logs as Spark does by default (warnings and up), not errors only."""
QUIET_LOGGING = Path(__file__).with_name("log4j2.properties")


def default_jars_dir() -> Path:
    return Path(sys.prefix) / "share" / "lakehouse" / "jars"


def delta_jars() -> list[str]:
    folder = Path(os.environ.get(DELTA_JARS_VAR) or default_jars_dir())
    return sorted(str(path) for path in folder.glob("delta-*.jar"))


def session_conf(
    master: str = "local[*]", shuffle_partitions: int = 4, driver_memory: str = "2g", java_options: str = ""
) -> dict[str, str]:
    """Settings of a Delta-enabled session. Small-machine values: the defaults assume a cluster (200
    shuffle partitions, 10,000-way file listing in VACUUM) and cost tens of seconds per task on a laptop."""
    conf = {
        "spark.master": master,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.default.parallelism": str(shuffle_partitions),
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(shuffle_partitions),
        "spark.databricks.delta.snapshotPartitions": str(max(1, shuffle_partitions // 2)),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if master.startswith("local"):
        # Local mode talks only to itself: keep the driver on loopback, whatever the host name resolves to.
        conf |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    if java_options:
        conf["spark.driver.extraJavaOptions"] = java_options
    return conf


def driver_java_options(configured: str = "") -> str:
    """The driver JVM's options for a session of this process: ``configured``, and logging of errors
    only to the console, unless ``$LAKEHOUSE_SPARK_VERBOSE`` is ``1`` or ``configured`` names a log4j2
    config of its own."""
    if os.environ.get(VERBOSE_VAR) == "1" or "log4j2.configurationFile" in configured:
        return configured
    return f"{configured} -Dlog4j2.configurationFile=file:{QUIET_LOGGING}".strip()


def build_session(
    app_name: str,
    master: str = "local[*]",
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
    java_options: str = "",
) -> SparkSession:
    """A Delta-enabled session in this process (see ``session_conf``, ``driver_java_options``)."""
    builder = SparkSession.builder.appName(app_name)
    conf = session_conf(master, shuffle_partitions, driver_memory, driver_java_options(java_options))
    for key, value in conf.items():
        builder = builder.config(key, value)
    jars = delta_jars()
    builder = builder.config("spark.jars", ",".join(jars)) if jars else configure_spark_with_delta_pip(builder)
    return builder.getOrCreate()


def remote_session(url: str) -> SparkSession:
    """A client session of the Spark Connect server at ``url`` (``sc://host:port``). The server holds
    the static settings (Delta's extensions, memory); a client sets only what a session may."""
    return SparkSession.builder.remote(url).getOrCreate()


def server_command(port: int, conf: dict[str, str], host: str = "127.0.0.1") -> list[str]:
    """The command that runs a Spark Connect server with Delta and ``conf`` (``session_conf``) on
    ``host:port`` in the foreground, from pyspark's own jars (Spark Connect ships with Spark 4)."""
    jars = delta_jars()
    if not jars:
        raise FileNotFoundError(f"no Delta jars in {os.environ.get(DELTA_JARS_VAR) or default_jars_dir()}: run set-up")
    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"  # of the installed distribution
    command = [str(spark_submit), "--class", CONNECT_SERVER_CLASS]
    command += ["--name", "lakehouse-spark-connect", "--jars", ",".join(jars)]
    served = conf | {"spark.connect.grpc.binding.address": host, "spark.connect.grpc.binding.port": str(port)}
    for key, value in served.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal"]
