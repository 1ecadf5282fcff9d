"""The Azure DevOps pipelines of ``infra/pipelines/``: their structure, what they call, and the CD scripts.

The YAML is expanded the way Azure Pipelines does for what these files use (``template:`` references with
``${{ parameters.* }}``), then checked: CI builds the wheel once and publishes it; CD downloads that
artifact in dev, test and prod, in that order, each stage a deployment job bound to its environment,
prod only for a release of main; every script it runs is in the repository (or in the release CI
packs), every ``lakehouse`` command exists in the CLI, every bundle target in ``infra/databricks.yml``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.cli import build_parser, main
from lakehouse.core.stages import JOBS
from tests.conftest import DATABRICKS_ENVIRONMENTS, ROOT
from tests.fakes.databricks_workspace import Workspace

PIPELINES = ROOT / "infra" / "pipelines"
RELEASE = "$(RELEASE)/"
PARAMETER = re.compile(r"\$\{\{\s*parameters\.(\w+)\s*\}\}")
# A file the pipeline or a script runs or reads: under scripts/ or infra/, maybe in the release CI packs.
PATH = re.compile(r"(?P<release>\$\(RELEASE\)/)?(?P<path>(?:scripts|infra)/[\w./-]*[\w])")
LAKEHOUSE = re.compile(r"(?:^|[\s;&|(/])lakehouse\"?((?:\s+[a-z][\w-]*)+)")
WHEEL_BUILDS = re.compile(r"build_wheel\.sh|uv build|python -m build|pip wheel|bdist_wheel")


# --- expanding the YAML ---------------------------------------------------------------------------


def _substitute(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, parameters) for item in value]
    if isinstance(value, str):
        whole = PARAMETER.fullmatch(value.strip())
        if whole:
            return parameters[whole.group(1)]
        return PARAMETER.sub(lambda match: str(parameters[match.group(1)]), value)
    return value


def _expand(items: list[Any], folder: Path, kind: str) -> list[Any]:
    """Replace each ``- template: FILE`` item by the template's own ``kind`` items."""
    expanded: list[Any] = []
    for item in items:
        if isinstance(item, dict) and "template" in item:
            template_file = folder / item["template"]
            template = yaml.safe_load(template_file.read_text())
            declared = {p["name"]: p.get("default") for p in template.get("parameters", [])}
            unknown = set(item.get("parameters", {})) - set(declared)
            assert not unknown, f"{template_file}: no parameter(s) {sorted(unknown)}"
            values = {**declared, **item.get("parameters", {})}
            missing = [name for name, value in values.items() if value is None]
            assert not missing, f"{template_file}: parameter(s) {missing} not given"
            expanded += _expand(_substitute(template[kind], values), template_file.parent, kind)
        else:
            expanded.append(item)
    return expanded


def load_pipeline(path: Path) -> dict[str, Any]:
    """The pipeline with its templates expanded: stages, their jobs, and the jobs' steps."""
    pipeline = yaml.safe_load(path.read_text())
    pipeline["stages"] = _expand(pipeline["stages"], path.parent, "stages")
    for stage in pipeline["stages"]:
        stage["jobs"] = _expand(stage["jobs"], path.parent, "jobs")
        for job in stage["jobs"]:
            if "deployment" in job:
                job["steps"] = job["strategy"]["runOnce"]["deploy"]["steps"]
            job["steps"] = _expand(job["steps"], path.parent, "steps")
    return pipeline


def steps_of(pipeline: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stage in pipeline["stages"]:
        for job in stage["jobs"]:
            for step in job["steps"]:
                yield stage["stage"], job.get("job") or job["deployment"], step


def commands_of(step: dict[str, Any]) -> list[str]:
    """The shell text a step runs."""
    inputs = step.get("inputs", {})
    texts = [step.get("bash"), step.get("script"), inputs.get("inlineScript")]
    if inputs.get("scriptPath"):
        texts.append(f"{inputs['scriptPath']} {inputs.get('arguments', '')}")
    return [text for text in texts if text]


def shell_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


# --- the checks, each a list of problems ----------------------------------------------------------


def wheel_problems(ci: dict[str, Any], cd: dict[str, Any]) -> list[str]:
    problems = []
    builds = [(job, text) for _, job, step in steps_of(ci) for text in commands_of(step) if WHEEL_BUILDS.search(text)]
    if len(builds) != 1:
        problems.append(f"CI builds the wheel in {len(builds)} step(s), expected 1: {builds}")
    published = [step["artifact"] for _, _, step in steps_of(ci) if "publish" in step]
    if published != ["release"]:
        problems.append(f"CI publishes {published}, expected the one artifact 'release'")
    for stage, _, step in steps_of(cd):
        if any(WHEEL_BUILDS.search(text) for text in commands_of(step)):
            problems.append(f"CD stage {stage} builds a wheel: {commands_of(step)}")
    [resource] = cd["resources"]["pipelines"]
    for stage in cd["stages"]:
        downloads = [step for job in stage["jobs"] for step in job["steps"] if "download" in step]
        wanted = [{"download": resource["pipeline"], "artifact": "release"}]
        if downloads != wanted:
            problems.append(f"CD stage {stage['stage']} downloads {downloads}, expected {wanted}")
    return problems


def promotion_problems(cd: dict[str, Any]) -> list[str]:
    problems = []
    stages = [stage["stage"] for stage in cd["stages"]]
    if sorted(stages) != sorted(DATABRICKS_ENVIRONMENTS) or stages[-1:] != ["prod"]:
        problems.append(f"CD stages {stages}, expected one per environment of {DATABRICKS_ENVIRONMENTS}, prod last")
    for before, stage in zip([None, *stages], cd["stages"], strict=False):
        depends = stage.get("dependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        if depends != ([before] if before else []):
            problems.append(f"stage {stage['stage']} depends on {depends}, expected {[before] if before else []}")
        jobs = stage["jobs"]
        environments = [job.get("environment") for job in jobs]
        if not all("deployment" in job for job in jobs) or environments != [f"lakehouse-{stage['stage']}"]:
            problems.append(f"stage {stage['stage']}: environments {environments}, expected one deployment job")
        if {"checkout": "none"} not in jobs[0]["steps"]:
            problems.append(f"stage {stage['stage']} checks out sources: it should deploy the release only")
        main_only = "'resources.pipeline.ci.sourceBranch'], 'refs/heads/main')" in str(stage.get("condition", ""))
        if main_only != (stage["stage"] == "prod"):
            problems.append(f"stage {stage['stage']}: condition {stage.get('condition')!r}; only prod takes main only")
    trigger = cd["resources"]["pipelines"][0].get("trigger", {})
    if trigger.get("branches", {}).get("include") != ["main"]:
        problems.append(f"CD starts after CI runs of {trigger}, expected main only")
    return problems


def path_problems(pipeline: dict[str, Any], root: Path, release: Path) -> list[str]:
    """Every file a step names exists (in the release for ``$(RELEASE)/...``), and is executable when
    it is run directly rather than through ``bash``."""
    problems = []
    for stage, job, step in steps_of(pipeline):
        for text in commands_of(step):
            for line in shell_lines(text):
                for match in PATH.finditer(line):
                    base = release if match.group("release") else root
                    path = base / match.group("path")
                    where = f"{stage}/{job}: {match.group(0)}"
                    if not path.exists():
                        problems.append(f"{where}: no such file in {'the release' if base == release else 'the repo'}")
                        continue
                    before = line[: match.start()].rstrip().rstrip('"')
                    run_directly = before == "" or before.endswith(("&&", ";", "|", "$(", "||"))
                    if run_directly and path.is_file() and not os.access(path, os.X_OK):
                        problems.append(f"{where}: run directly but not executable")
    return problems


def called_scripts(pipeline: dict[str, Any], root: Path) -> set[Path]:
    """The repository's scripts the pipeline runs, and the scripts those run in turn."""
    found: set[Path] = set()
    texts = [text for _, _, step in steps_of(pipeline) for text in commands_of(step)]
    while texts:
        for match in PATH.finditer(texts.pop()):
            path = root / match.group("path")
            if path.suffix in (".sh", ".py") and path.is_file() and path not in found:
                found.add(path)
                texts.append(path.read_text())
    scripts = {p for p in found if p.parent.name in ("ci", "cd")}
    # Scripts call their siblings by "$here/NAME": follow those too.
    for script in list(scripts):
        for name in re.findall(r'"\$here/([\w.-]+)"', script.read_text()):
            found.add(script.parent / name)
    return found


def lakehouse_problems(texts: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Every ``lakehouse COMMAND [ACTION]`` in the texts is a command of the CLI (and an action of it)."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    problems = []
    for text in texts:
        for line in shell_lines(text):
            for match in LAKEHOUSE.finditer(line):
                words = match.group(1).split()
                command = commands.get(words[0])
                if command is None:
                    problems.append(f"lakehouse {words[0]}: no such command ({line.strip()})")
                    continue
                action = next((a for a in command._actions if a.dest == "action"), None)
                if action is not None and action.choices and (len(words) < 2 or words[1] not in action.choices):
                    problems.append(f"lakehouse {' '.join(words[:2])}: not one of {sorted(action.choices)}")
    return problems


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load_pipeline(PIPELINES / "ci.yml")


@pytest.fixture(scope="module")
def cd() -> dict[str, Any]:
    return load_pipeline(PIPELINES / "cd.yml")


def _commit() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def _wheel_name(commit: str) -> str:
    return f"lakehouse_orchestrator-0.1.0+g{commit[:12]}-py3-none-any.whl"


def _package(out: Path, wheel_name: str | None = None) -> subprocess.CompletedProcess[str]:
    wheel = out.parent / (wheel_name or _wheel_name(_commit()))
    wheel.write_bytes(b"wheel")
    script = str(ROOT / "scripts" / "ci" / "package_release.sh")
    return subprocess.run(["bash", script, str(wheel), str(out)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "release"
    assert _package(out).returncode == 0
    return out


# --- the tests ------------------------------------------------------------------------------------


def test_ci_runs_on_main_and_pull_requests_and_checks_everything_before_the_wheel(ci: dict[str, Any]) -> None:
    assert ci["trigger"]["branches"]["include"] == ["main"]
    assert ci["pr"]["branches"]["include"] == ["main"]
    [stage] = ci["stages"]
    jobs = {job["job"]: job for job in stage["jobs"]}
    commands = {
        name: " ".join(text for step in job["steps"] for text in commands_of(step)) for name, job in jobs.items()
    }
    assert "ruff check ." in commands["lint"] and "ruff format --check ." in commands["lint"]
    assert ".venv/bin/mypy" in commands["types"]
    assert "scripts/ci/contracts.sh" in commands["contracts"]
    assert "scripts/ci/secret_scan.sh" in commands["secrets"]
    assert "scripts/ci/terraform.sh" in commands["terraform"]
    assert [step["env"]["TERRAFORM_VALIDATE"] for step in jobs["terraform"]["steps"] if "env" in step] == ["1"]
    assert "scripts/ci/tests.sh" in commands["tests"]
    assert sorted(jobs["wheel"]["dependsOn"]) == sorted(set(jobs) - {"wheel"})
    assert ci["variables"]["PYTHON_VERSION"] == "3.11"
    java = [s for s in jobs["wheel"]["steps"] if s.get("task") == "JavaToolInstaller@0"]
    assert java and java[0]["inputs"]["versionSpec"] == "17"


def test_the_wheel_is_built_once_in_ci_and_only_downloaded_in_cd(ci: dict[str, Any], cd: dict[str, Any]) -> None:
    assert wheel_problems(ci, cd) == []
    [resource] = cd["resources"]["pipelines"]
    assert resource["source"] == "lakehouse-ci"


def test_cd_promotes_dev_then_test_then_prod_and_prod_only_from_main(cd: dict[str, Any]) -> None:
    assert promotion_problems(cd) == []


def test_every_path_the_pipelines_call_exists(ci: dict[str, Any], cd: dict[str, Any], release: Path) -> None:
    assert path_problems(ci, ROOT, release) == []
    assert path_problems(cd, ROOT, release) == []
    # The release CI packs carries the CD scripts, the bundle and the lock from the repository.
    for name in ["scripts/cd/stage.sh", "infra/databricks.yml", "airflow/include/jobs/gold.yml", "requirements.lock"]:
        assert (release / name).read_bytes() == (ROOT / name).read_bytes()
    commit = _commit()
    assert (release / "release.env").read_text().splitlines()[:2] == [
        f"RELEASE_COMMIT={commit}",
        f"RELEASE_WHEEL=dist/{_wheel_name(commit)}",
    ]


def test_only_a_wheel_of_this_commit_is_released(tmp_path: Path) -> None:
    result = _package(tmp_path / "release", _wheel_name("0123456789ab"))
    assert result.returncode == 1
    assert f"was not built from this checkout's commit {_commit()}" in result.stderr
    assert not (tmp_path / "release").exists()


def test_every_script_parses(ci: dict[str, Any], cd: dict[str, Any]) -> None:
    scripts = [path for path in called_scripts(ci, ROOT) | called_scripts(cd, ROOT) if path.suffix == ".sh"]
    for script in scripts:
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"


def test_every_script_the_pipelines_run_exists_and_so_does_what_they_call(
    ci: dict[str, Any], cd: dict[str, Any]
) -> None:
    scripts = called_scripts(ci, ROOT) | called_scripts(cd, ROOT)
    names = {str(path.relative_to(ROOT)) for path in scripts}
    assert {"scripts/ci/tests.sh", "scripts/ci/package_release.sh", "scripts/build_wheel.sh"} <= names
    assert {"scripts/cd/stage.sh", "scripts/cd/install_release.sh", "scripts/cd/release_env.py"} <= names
    assert sorted(str(path) for path in scripts if not path.is_file()) == []


def test_every_lakehouse_command_the_pipelines_run_exists_in_the_cli(ci: dict[str, Any], cd: dict[str, Any]) -> None:
    texts = [text for pipeline in (ci, cd) for _, _, step in steps_of(pipeline) for text in commands_of(step)]
    # Shell scripts only: in Python, "lakehouse" is the package (from lakehouse import ...).
    texts += [path.read_text() for path in called_scripts(ci, ROOT) | called_scripts(cd, ROOT) if path.suffix == ".sh"]
    called = {
        " ".join(m.group(1).split()[:2])
        for text in texts
        for line in shell_lines(text)
        for m in LAKEHOUSE.finditer(line)
    }
    assert {"validate", "contracts validate", "contracts check", "env apply", "governance apply"} <= called
    assert lakehouse_problems(texts, build_parser()) == []


def test_every_cd_environment_is_a_bundle_target_and_a_databricks_environment(cd: dict[str, Any]) -> None:
    bundle = yaml.safe_load((ROOT / "infra" / "databricks.yml").read_text())
    for stage in cd["stages"]:
        assert stage["stage"] in bundle["targets"]
        variables = yaml.safe_load((ROOT / "config" / "variables" / f"{stage['stage']}.yaml").read_text())
        assert variables["target"] == "databricks"
        # Approvals are on the environment; the secrets on its variable group; nothing secret in the YAML.
        assert {"group": f"lakehouse-{stage['stage']}"} in stage["variables"]
    assert "mode" not in bundle["targets"]["dev"]  # development mode would rename the jobs Airflow looks up


# --- the checks can fail --------------------------------------------------------------------------


@pytest.fixture
def pipelines_copy(tmp_path: Path) -> Path:
    shutil.copytree(PIPELINES, tmp_path / "pipelines")
    return tmp_path / "pipelines"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_missing_script_and_a_lost_exec_bit_are_found(pipelines_copy: Path, release: Path, tmp_path: Path) -> None:
    _edit(
        pipelines_copy / "templates" / "deploy.yml",
        'scripts/cd/stage.sh" "$(RELEASE)" ${{ parameters.env }} smoke',
        'scripts/cd/smoke.sh" "$(RELEASE)" ${{ parameters.env }} smoke',
    )
    cd = load_pipeline(pipelines_copy / "cd.yml")
    problems = path_problems(cd, ROOT, release)
    envs = [stage["stage"] for stage in cd["stages"]]
    assert problems == [f"{env}/deploy: $(RELEASE)/scripts/cd/smoke.sh: no such file in the release" for env in envs]

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", root / "scripts")
    (root / "scripts" / "ci" / "contracts.sh").chmod(0o644)
    problems = path_problems(load_pipeline(PIPELINES / "ci.yml"), root, release)
    assert problems == ["ci/contracts: scripts/ci/contracts.sh: run directly but not executable"]


def test_a_broken_promotion_is_found(pipelines_copy: Path) -> None:
    _edit(pipelines_copy / "cd.yml", "parameters: {env: test, dependsOn: [dev]}", "parameters: {env: test}")
    _edit(pipelines_copy / "cd.yml", "eq(variables['resources.pipeline.ci.sourceBranch'], 'refs/heads/main')", "true")
    problems = promotion_problems(load_pipeline(pipelines_copy / "cd.yml"))
    assert problems == [
        "stage test depends on [], expected ['dev']",
        "stage prod: condition 'and(succeeded(), true)'; only prod takes main only",
    ]


def test_a_second_wheel_build_is_found(pipelines_copy: Path) -> None:
    _edit(
        pipelines_copy / "templates" / "deploy.yml",
        "- checkout: none",
        "- checkout: none\n                - bash: scripts/build_wheel.sh",
    )
    cd = load_pipeline(pipelines_copy / "cd.yml")
    problems = wheel_problems(load_pipeline(PIPELINES / "ci.yml"), cd)
    envs = [stage["stage"] for stage in cd["stages"]]
    assert problems == [f"CD stage {env} builds a wheel: ['scripts/build_wheel.sh']" for env in envs]


def test_an_unknown_lakehouse_command_is_found() -> None:
    problems = lakehouse_problems(
        ["lakehouse env apply --env dev\nlakehouse envs apply\nlakehouse jobs ship"], build_parser()
    )
    assert problems == [
        "lakehouse envs: no such command (lakehouse envs apply)",
        "lakehouse jobs ship: not one of ['deploy', 'render']",
    ]


# --- the CD scripts -------------------------------------------------------------------------------


def test_a_release_whose_wheel_changed_is_refused(tmp_path: Path) -> None:
    release = tmp_path / "release"
    assert _package(release).returncode == 0
    wheel = _wheel_name(_commit())
    (release / "dist" / wheel).write_bytes(b"another wheel")
    result = subprocess.run(
        ["bash", str(release / "scripts" / "cd" / "install_release.sh"), str(release)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"{wheel}: FAILED" in result.stderr
    assert not (tmp_path / "release-venv").exists()


def _release_env() -> Any:
    spec = importlib.util.spec_from_file_location("release_env", ROOT / "scripts" / "cd" / "release_env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_upload_then_smoke_check_against_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    release_env = _release_env()
    wheel = tmp_path / "lakehouse_orchestrator-0.1.0+gabc1234-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    with Workspace() as workspace:
        monkeypatch.setenv("DATABRICKS_HOST", workspace.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-emulator")

        def run(*args: str) -> tuple[int, str, str]:
            code = release_env.main(list(args))
            out, err = capsys.readouterr()
            return code, out, err

        code, out, _ = run("workspace", "--env", "prod")
        assert code == 0 and out == "https://adb-3333333333333333.13.azuredatabricks.net\n"

        remote = f"/Volumes/dev_ep_ai/artifacts/wheels/{wheel.name}"
        assert run("upload", "--env", "dev", str(wheel))[1] == f"{remote}\n"
        assert workspace.files == {remote: b"wheel bytes"}
        assert f"{remote}: already uploaded" in run("upload", "--env", "dev", str(wheel))[2]

        code, _, err = run("verify", "--env", "dev", str(wheel))
        assert code == 1 and "job 'lakehouse-dev-gold': 0 job(s) of that name, expected 1" in err

        # The bundle deploys the definitions `lakehouse jobs deploy` does, with the same values.
        assert main(["jobs", "deploy", "--env", "dev", "--wheel", str(wheel)]) == 0
        capsys.readouterr()
        code, out, err = run("verify", "--env", "dev", str(wheel))
        assert code == 0, err
        assert out.count(remote) == len(JOBS) and out.endswith("dev: jobs deployed with the released wheel\n")

        other = wheel.with_name(wheel.name.replace("abc1234", "def5678"))
        code, _, err = run("verify", "--env", "dev", str(other))
        assert code == 1 and err.count(f"installs ['{remote}']") == len(JOBS)
