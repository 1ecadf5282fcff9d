"""A Spark of a lakehouse process prints nothing of its own on a normal run; verbose, it logs as
Spark does by default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lakehouse.core.locations import SPARK_REMOTE_VAR
from lakehouse.spark.session import QUIET_LOGGING, VERBOSE_VAR, driver_java_options

START = """
from lakehouse.spark.session import build_session
spark = build_session("quiet-test", master="local[1]")
spark.sql("SELECT 1").collect()
spark.sparkContext._jvm.org.apache.log4j.LogManager.getLogger("lakehouse.test").warn("a warning")
print("done")
"""


def test_quiet_unless_verbose_or_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VERBOSE_VAR, raising=False)
    assert driver_java_options("-Xss4m") == f"-Xss4m -Dlog4j2.configurationFile=file:{QUIET_LOGGING}"
    assert driver_java_options("-Dlog4j2.configurationFile=mine.xml") == "-Dlog4j2.configurationFile=mine.xml"
    monkeypatch.setenv(VERBOSE_VAR, "1")
    assert driver_java_options("-Xss4m") == "-Xss4m"


def test_a_new_session_prints_no_spark_lines() -> None:
    # A fresh process with a classic session of its own, even when this run's Spark is a Connect
    # client (whose settings pyspark keeps in the environment).
    env = {
        k: v for k, v in os.environ.items() if k not in (VERBOSE_VAR, SPARK_REMOTE_VAR) and not k.startswith("SPARK_")
    }
    started = subprocess.run([sys.executable, "-c", START], env=env, capture_output=True, text=True, timeout=300)

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "done"
    # The JVM itself names the incubator module Spark loads; nothing else may appear, not even the
    # warning logged on purpose.
    assert [line for line in started.stderr.splitlines() if "incubator modules" not in line] == [], started.stderr
