"""A stage over a real Spark Connect server whose Python worker starts late, as on a loaded machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from lakehouse.config import load_config
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.ops.spark_connect import SparkConnectServer
from tests.conftest import ROOT

DAY = date(2026, 3, 1)


@pytest.mark.slow
def test_bronze_starts_its_query_again_when_the_servers_batch_worker_connects_back_late(tmp_path: Path) -> None:
    # The server's first Python worker, the Bronze batch function's, starts after the server's 10 s.
    first = tmp_path / "first-worker-started"
    python = tmp_path / "slow-python"
    python.write_text(f'#!/bin/sh\nif [ ! -e {first} ]; then touch {first}; sleep 12; fi\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    config = load_config("local")
    settings = config.require_environment().local.model_copy(update={"spark_master": "local[2]", "driver_memory": "1g"})
    write_demo_data(dict(config.systems), tmp_path / "landing", 50, 5, DAY)
    server = SparkConnectServer(tmp_path / "spark-connect.log", settings, python=str(python))
    server.start()
    try:
        command = [sys.executable, "-m", "lakehouse.spark.main", "--stage", "bronze", "--env", "local"]
        command += ["--logical-date", DAY.isoformat(), "--arg", "system=amdm", "--arg", "entity=address"]
        environ = {
            **os.environ,
            "LAKEHOUSE_ENV": "local",
            "LAKEHOUSE_SPARK_REMOTE": server.url,
            "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "landing"),
            "LAKEHOUSE_WAREHOUSE_ROOT": str(tmp_path / "warehouse"),
        }
        done = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    assert first.exists()
    assert "did not connect back in time; starting attempt 2 of 3" in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["bronze_rows"] > 0
