"""``lakehouse report`` before any stage has recorded metrics. The page itself is checked against the
demo run's tables in headless Chromium by ``tests/ops/test_run.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse import cli
from lakehouse.core.locations import WAREHOUSE_ROOT_VAR


def test_report_says_to_run_first_when_there_are_no_metrics(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(WAREHOUSE_ROOT_VAR, str(tmp_path))
    assert cli.main(["report", "--env", "local"]) == 2
    assert "run `lakehouse run` first" in capsys.readouterr().err
