"""When the stack starts a Spark Connect server, and a stage over a real one whose Python worker starts
late, as on a loaded machine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from lakehouse.config import load_config
from lakehouse.config.models import LocalEnvironment
from lakehouse.core.locations import SPARK_REMOTE_VAR
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.ops.spark_connect import SparkConnectServer, answers, free_port
from lakehouse.ops.stack import own_server
from tests.conftest import ROOT, ConfigCopy

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
    assert "did not connect back in time; starting attempt 2 of 6" in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["bronze_rows"] > 0


def test_the_stack_starts_a_server_only_when_none_is_named(
    project: ConfigCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = load_config("local").require_environment()
    assert isinstance(environment, LocalEnvironment)
    monkeypatch.delenv(SPARK_REMOTE_VAR, raising=False)
    assert own_server(environment) == environment.local
    named = environment.model_copy(update={"local": environment.local.model_copy(update={"spark_remote": "sc://h:1"})})
    assert own_server(named) is None
    for value in ("none", "sc://127.0.0.1:15002"):
        monkeypatch.setenv(SPARK_REMOTE_VAR, value)
        assert own_server(environment) is None, value
    assert own_server(load_config("dev").require_environment()) is None


@pytest.mark.slow
def test_lakehouse_spark_connect_serves_until_it_is_told_to_stop(tmp_path: Path) -> None:
    port = free_port()
    command = [str(Path(sys.executable).with_name("lakehouse")), "spark-connect", "--env", "local", "--port", str(port)]
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not answers(port) and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        assert answers(port)
        # What docker compose stop sends: the server itself shuts down, nothing is left listening.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        assert not answers(port)
    finally:
        server.kill()
