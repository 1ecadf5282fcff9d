"""The benchmarks' own inputs are sound: a benchmark that times an error path measures nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from airflow.dag_processing.dagbag import DagBag

from lakehouse.config import load_config
from lakehouse.core.naming import ingest_dag_id, silver_table
from tests.conftest import CONFIG_DIR, DAGS_FOLDER, ROOT


def _benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_parse_benchmarks_200_systems_validate_and_keep_their_tables_apart(tmp_path: Path) -> None:
    shipped = load_config(env="local", config_dir=CONFIG_DIR)
    generated = _benchmark("parse_time").generated_config(tmp_path / "config", 200)

    config = load_config(env="local", config_dir=generated)

    assert len(config.systems) == 200
    assert set(shipped.systems) <= set(config.systems)
    environment = config.require_environment()
    silver = [
        silver_table(environment, name, system, entity)
        for name, system in config.systems.items()
        for entity in system.entities
    ]
    assert len(silver) == len(set(silver))


def test_the_parse_benchmarks_generated_dags_import_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow_db: Path
) -> None:
    generated = _benchmark("parse_time").generated_config(tmp_path / "config", 8)
    monkeypatch.setenv("LAKEHOUSE_CONFIG_DIR", str(generated))
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")

    bag = DagBag(dag_folder=str(DAGS_FOLDER))

    assert bag.import_errors == {}
    names = load_config(env="local", config_dir=generated).systems
    assert {ingest_dag_id(name) for name in names} <= set(bag.dag_ids)
