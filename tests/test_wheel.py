"""The wheel the Databricks jobs install: versioned with the commit, light dependencies, and usable
without a checkout (config and SQL travel inside it)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_the_wheel_carries_config_sql_and_the_stage_entry_point(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name("uv")
    environ = {**os.environ, "LAKEHOUSE_BUILD_COMMIT": "0123456789ab"}
    subprocess.run(
        [str(uv), "build", "--quiet", "--wheel", "--out-dir", str(tmp_path), str(ROOT)], check=True, env=environ
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name == "lakehouse_orchestrator-0.1.0+g0123456789ab-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(
            archive.read("lakehouse_orchestrator-0.1.0+g0123456789ab.dist-info/METADATA").decode()
        )
        entry_points = archive.read("lakehouse_orchestrator-0.1.0+g0123456789ab.dist-info/entry_points.txt").decode()
        archive.extractall(tmp_path / "site")
    assert "lakehouse-stage = lakehouse.spark.main:wheel_main" in entry_points
    assert "lakehouse/bundled/config/systems.yaml" in names
    assert "lakehouse/bundled/airflow/include/sql/gold/dim_customer_scd2.sql" in names
    # A cluster installs the unconditional requirements only: never Airflow, never a second Spark.
    required = [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    assert not [r for r in required if r.startswith(("apache-airflow", "pyspark", "delta-spark"))]

    # Outside any checkout, the installed code finds the config and the SQL it carries.
    probe = (
        "from lakehouse.config import load_config; from lakehouse.resources import sql_dir; "
        "c = load_config('prod'); assert not c.issues, c.issues; print(c.env_name, sql_dir())"
    )
    site = tmp_path / "site"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")} | {"PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["prod", str(site / "lakehouse" / "bundled" / "airflow" / "include" / "sql")]
