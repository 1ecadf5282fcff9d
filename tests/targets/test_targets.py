"""Stage → operator per target, and the business date each task renders."""

from __future__ import annotations

import pendulum
import pytest

from lakehouse.config import load_config
from lakehouse.factory import ingest_dags
from lakehouse.targets import StageTask, build_operator
from tests.conftest import ConfigCopy


def _render(task, params: dict) -> None:
    # A 04:00 Sydney run: its logical date is still the previous day in UTC.
    logical_date = pendulum.datetime(2026, 2, 1, 17, 0, tz="UTC")
    context = {"params": params, "ds": "2026-02-01", "logical_date": logical_date, "dag": task.dag, "task": task}
    task.render_template_fields(context)


@pytest.mark.parametrize("env", ["local", "prod"])
@pytest.mark.parametrize(("override", "expected"), [(None, "2026-02-02"), ("2026-01-15", "2026-01-15")])
def test_business_date_is_the_logical_date_unless_the_trigger_sets_one(
    env: str, override: str | None, expected: str
) -> None:
    task = ingest_dags(load_config(env))["lakehouse_ingest_amdm"].get_task("address.silver")
    _render(task, {"system": "amdm", "logical_date": override})
    if env == "local":
        assert task.op_kwargs["logical_date"] == expected
        assert task.op_kwargs["arguments"] == {"system": "amdm", "entity": "address"}
    else:
        assert task.job_parameters["logical_date"] == expected
        assert task.job_parameters["system"] == "amdm" and task.job_parameters["entity"] == "address"


def test_job_id_override_wins_over_the_job_name(config_copy: ConfigCopy) -> None:
    config_copy.edit("variables/prod.yaml", lambda d: d["databricks"].update(job_ids={"gold": 3033}))
    config = load_config("prod")
    environment = config.require_environment()
    gold = build_operator("prod", environment, StageTask("dim_address", "gold", {"table": "dim_address"}))
    smoke = build_operator("prod", environment, StageTask("smoke_checks", "smoke_checks"))
    bronze = build_operator("prod", environment, StageTask("bronze", "bronze"))
    assert (gold.job_id, gold.job_name) == (3033, None)
    assert (smoke.job_id, smoke.job_name) == (3033, None)
    assert (bronze.job_id, bronze.job_name) == (None, "lakehouse-prod-bronze-ingest")
