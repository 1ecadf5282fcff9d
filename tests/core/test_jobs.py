"""The Databricks jobs derived from the stage registry, per environment, and the bundle files."""

from __future__ import annotations

import pytest

from lakehouse.config import load_config
from lakehouse.core import jobs
from lakehouse.core.stages import COMMON_PARAMETERS, JOBS, STAGES
from lakehouse.ops.jobs import databricks_environments
from tests.conftest import ROOT

WHEEL = "/Volumes/dev_ep_ai/artifacts/wheels/lakehouse_orchestrator-0.1.0+gabc1234-py3-none-any.whl"


def test_every_stage_with_a_job_runs_in_a_job_that_declares_and_forwards_its_parameters() -> None:
    for stage in STAGES.values():
        if stage.job is None:
            continue
        resource = jobs.resource(JOBS[stage.job])
        declared = [parameter["name"] for parameter in resource["parameters"]]
        (task,) = resource["tasks"]
        forwarded = task["python_wheel_task"]["named_parameters"]
        for name in (*COMMON_PARAMETERS, *stage.parameter_names):
            assert name in declared, f"job {stage.job} does not declare {name}, which stage {stage.name} takes"
            assert forwarded[name] == f"{{{{job.parameters.{name}}}}}", (stage.job, name)
        # Nothing else: a parameter no stage of the job takes is not declared.
        taken = {name for other in JOBS[stage.job].stages for name in other.parameter_names}
        assert set(declared) == {*COMMON_PARAMETERS, *taken}


def test_the_gold_job_forwards_silver_versions_to_the_entry_point() -> None:
    """The drift the registry ends: the Gold DAG passes it, so the Gold job must take it."""
    (task,) = jobs.resource(JOBS["gold"])["tasks"]
    assert task["python_wheel_task"]["named_parameters"]["silver_versions"] == "{{job.parameters.silver_versions}}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_an_environments_jobs_carry_its_values_and_nothing_unresolved(env: str) -> None:
    settings = load_config(env).require_databricks().databricks
    definitions = jobs.job_definitions(env, settings, WHEEL)
    assert set(definitions) == set(JOBS)
    for key, job in definitions.items():
        data = job.as_dict()
        assert data["name"] == settings.jobs[key]
        assert data["tags"]["ENVM"] == env and data["tags"]["COST_CENTER"] == settings.cost_centre
        cluster = data["job_clusters"][0]["new_cluster"]
        assert cluster["num_workers"] == settings.cluster.num_workers
        assert cluster["spark_version"] == settings.cluster.spark_version
        (task,) = data["tasks"]
        assert task["python_wheel_task"]["entry_point"] == "lakehouse-stage"
        assert task["libraries"] == [{"whl": WHEEL}]
        assert "${" not in str(data)


def test_the_committed_bundle_files_are_what_the_registry_and_config_make() -> None:
    """``lakehouse jobs render --write`` rewrites them; a stale file fails here."""
    for relative, text in jobs.bundle_files(databricks_environments()).items():
        path = ROOT / relative
        assert path.is_file() and path.read_text() == text, f"{relative} is stale: run lakehouse jobs render --write"
    committed = {path.relative_to(ROOT).as_posix() for path in (ROOT / jobs.JOBS_FOLDER).glob("*.yml")}
    assert committed == {f"{jobs.JOBS_FOLDER}/{key}.yml" for key in JOBS}


def test_each_databricks_environment_is_a_bundle_target_with_its_config_values() -> None:
    environments = databricks_environments()
    bundle = jobs.bundle(environments)
    assert set(bundle["targets"]) == {name for name, _ in environments}
    for name, environment in environments:
        target = bundle["targets"][name]
        assert target["variables"] == jobs.variables(name, environment.databricks)
        assert ("mode" in target) == (environment.databricks.bundle_mode == "production")
    first, environment = environments[0]
    assert set(bundle["variables"]) == {*jobs.variables(first, environment.databricks), "wheel"}
    assert [name for name, target in bundle["targets"].items() if target.get("default")] == ["dev"]
