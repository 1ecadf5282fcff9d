"""Tasks of different systems at the same time: each stage in its own process and JVM, as the
scheduler's workers run them, against one warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.naming import run_metrics_table
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.spark.tables import Tables
from tests.conftest import ROOT

DAY = date(2026, 3, 1)
SYSTEMS = [("amdm", "address"), ("jarvis", "service"), ("pega", "case")]


def _stage(stage: str, system: str, entity: str, environ: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lakehouse.spark.main", "--stage", stage, "--env", "local"]
    command += ["--logical-date", DAY.isoformat(), "--arg", f"system={system}", "--arg", f"entity={entity}"]
    # Files, not pipes: a full pipe would stall a process until the test reads it, serialising them.
    with (logs / f"{stage}-{system}.out").open("w") as out, (logs / f"{stage}-{system}.err").open("w") as err:
        return subprocess.Popen(command, cwd=ROOT, env=environ, stdout=out, stderr=err)


@pytest.mark.slow
def test_stages_of_different_systems_run_side_by_side(spark: SparkSession, tmp_path: Path) -> None:
    config = load_config("local")
    write_demo_data(dict(config.systems), tmp_path / "landing", 200, 5, DAY)
    environ = {
        **os.environ,
        "LAKEHOUSE_ENV": "local",
        "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "landing"),
        "LAKEHOUSE_WAREHOUSE_ROOT": str(tmp_path / "warehouse"),
    }
    for stage in ("bronze", "silver"):
        processes = [_stage(stage, system, entity, environ, tmp_path) for system, entity in SYSTEMS]
        codes = [p.wait(timeout=600) for p in processes]
        for (system, entity), code in zip(SYSTEMS, codes, strict=True):
            err = (tmp_path / f"{stage}-{system}.err").read_text()
            assert code == 0, f"{stage} {system}.{entity} failed:\n{err[-3000:]}"
            result = json.loads((tmp_path / f"{stage}-{system}.out").read_text().strip().splitlines()[-1])
            assert result["bronze_rows"] > 0 if stage == "bronze" else result["silver_rows"] > 0
        records = [json.loads(line) for line in (tmp_path / "warehouse" / "_runs" / "stages.jsonl").open()]
        finished = [r for r in records if r["stage"] == stage]
        assert len(finished) == len(SYSTEMS)
        # Each was inside its stage while the others were: none waited for another to finish.
        ends = [datetime.fromisoformat(r["finished_at"]) for r in finished]
        starts = [end - timedelta(seconds=r["seconds"]) for end, r in zip(ends, finished, strict=True)]
        assert max(starts) < min(ends), [(str(s), str(e)) for s, e in zip(starts, ends, strict=True)]
        # Their rows in the observability table, which they appended side by side (the first ones
        # creating the table at once).
        metrics = Tables(tmp_path / "warehouse").read(spark, run_metrics_table(config.require_environment()))
        rows = metrics.where(f"stage = '{stage}'").collect()
        assert sorted((r["system"], r["entity"], r["status"]) for r in rows) == [(s, e, "success") for s, e in SYSTEMS]
