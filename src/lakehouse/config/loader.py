"""Read the YAML under ``config/`` into validated models, once per process and file version.

A problem in one system leaves the other systems usable: the result keeps the valid parts and
lists every problem with the part it breaks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from lakehouse import resources
from lakehouse.config.checks import check_governance, check_pipelines, check_silver_tables_unique, check_system
from lakehouse.config.contracts import contract_path, contract_paths, load_contract
from lakehouse.config.issues import MISSING, ConfigIssue, display_path, issues_from_validation
from lakehouse.config.loaded import LakehouseConfig
from lakehouse.config.models import (
    ENVIRONMENT_MODELS,
    Environment,
    Governance,
    Identifier,
    Pipelines,
    System,
)

ENV_VAR = "LAKEHOUSE_ENV"
CONFIG_DIR_VAR = "LAKEHOUSE_CONFIG_DIR"
DEFAULT_ENV = "local"

SYSTEMS_FILE = "systems.yaml"
PIPELINES_FILE = "pipelines.yaml"
GOVERNANCE_FILE = "governance.yaml"
VARIABLES_DIR = "variables"

_SYSTEM_NAME: TypeAdapter[str] = TypeAdapter(Identifier)


def default_config_dir() -> Path:
    configured = os.environ.get(CONFIG_DIR_VAR)
    if configured:
        return Path(configured)
    return resources.config_dir()


def selected_env() -> str:
    return os.environ.get(ENV_VAR) or DEFAULT_ENV


def available_envs(config_dir: Path | None = None) -> list[str]:
    folder = (config_dir or default_config_dir()) / VARIABLES_DIR
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load_config(env: str | None = None, config_dir: Path | None = None) -> LakehouseConfig:
    """Load and validate the config; cached until one of its files changes."""
    folder = (config_dir or default_config_dir()).resolve()
    env_name = env or selected_env()
    files = [folder / SYSTEMS_FILE, folder / PIPELINES_FILE, folder / VARIABLES_DIR / f"{env_name}.yaml"]
    files.append(folder / GOVERNANCE_FILE)
    files += contract_paths(folder)
    return _load_cached(folder, env_name, tuple(_fingerprint(path) for path in files))


def _fingerprint(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_cached(folder: Path, env_name: str, _fingerprints: tuple[tuple[str, int, int], ...]) -> LakehouseConfig:
    environment, environment_issues = _load_environment(folder, env_name)
    systems, known_systems, system_issues = _load_systems(folder / SYSTEMS_FILE)
    pipelines, pipeline_issues = _load_pipelines(folder / PIPELINES_FILE, systems, known_systems)
    governance, governance_issues = _load_governance(folder, env_name, environment, systems, known_systems)
    return LakehouseConfig(
        config_dir=folder,
        env_name=env_name,
        environment=environment,
        systems=systems,
        pipelines=pipelines,
        environment_issues=tuple(environment_issues),
        system_issues={name: tuple(issues) for name, issues in system_issues.items()},
        pipeline_issues=tuple(pipeline_issues),
        governance=governance,
        governance_issues=tuple(governance_issues),
    )


def _read_yaml(path: Path) -> tuple[Any, list[ConfigIssue]]:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ConfigIssue(shown, "", "file not found")]
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [ConfigIssue(shown, "", f"not valid YAML: {where}{problem}")]


def _mapping(raw: Any, file: str, key: str, what: str) -> tuple[dict[str, Any], list[ConfigIssue]]:
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [ConfigIssue(file, key, f"expected {what}", raw)]
    return raw, []


def _validate(
    model: type[BaseModel], raw: Any, file: str, prefix: tuple[str | int, ...]
) -> tuple[Any, list[ConfigIssue]]:
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, issues_from_validation(exc, file, prefix, raw, model)


def _load_environment(folder: Path, env_name: str) -> tuple[Environment | None, list[ConfigIssue]]:
    path = folder / VARIABLES_DIR / f"{env_name}.yaml"
    if not path.is_file():
        known = ", ".join(available_envs(folder)) or "none"
        message = f"no such environment '{env_name}' (set {ENV_VAR}); known: {known}"
        return None, [ConfigIssue(display_path(path), "", message)]
    raw, issues = _read_yaml(path)
    if issues:
        return None, issues
    raw = raw if raw is not None else {}
    target = raw.get("target", MISSING) if isinstance(raw, dict) else MISSING
    model = ENVIRONMENT_MODELS.get(target) if isinstance(target, str) else None
    if model is None:
        allowed = ", ".join(ENVIRONMENT_MODELS)
        message = "required key is missing" if target is MISSING else "unknown target"
        return None, [ConfigIssue(display_path(path), "target", f"{message}; allowed: {allowed}", target)]
    environment, issues = _validate(model, raw, display_path(path), ())
    return environment, issues


def _load_systems(path: Path) -> tuple[dict[str, System], set[str], dict[str, list[ConfigIssue]]]:
    file = display_path(path)
    raw, issues = _read_yaml(path)
    document, more = _mapping(raw, file, "", "a mapping with 'defaults' and 'systems'")
    issues += more
    for key in document:
        if key not in ("defaults", "systems"):
            issues.append(ConfigIssue(file, str(key), "unknown key; allowed: defaults, systems"))
    defaults, more = _mapping(document.get("defaults"), file, "defaults", "a mapping of system keys")
    issues += more
    raw_systems, more = _mapping(document.get("systems"), file, "systems", "a mapping of system name to settings")
    issues += more
    if not raw_systems and not issues:
        issues.append(ConfigIssue(file, "systems", "no systems defined"))

    systems: dict[str, System] = {}
    problems: dict[str, list[ConfigIssue]] = {"": issues} if issues else {}
    for name, body in raw_systems.items():
        name = str(name)
        try:
            _SYSTEM_NAME.validate_python(name)
        except ValidationError:
            problems[name] = [ConfigIssue(file, f"systems.{name}", "system names are lower-case snake case", name)]
            continue
        merged = {**defaults, **body} if isinstance(body, dict) else body
        merged, contract_problems = _with_contracts(path.parent, file, name, merged)
        system, system_problems = _validate(System, merged, file, ("systems", name))
        inherited = set(defaults) - set(body) if isinstance(body, dict) else set()
        system_problems = [_point_at_defaults(issue, name, inherited) for issue in system_problems]
        if contract_problems:
            # An entity whose contract did not load has no columns: that is the contract's problem.
            derived = (".columns", ".contract_version")
            system_problems = [issue for issue in system_problems if not issue.key.endswith(derived)]
            system, system_problems = None, contract_problems + system_problems
        if system is not None:
            system_problems = list(check_system(name, system, file))
        if system_problems:
            problems[name] = system_problems
        else:
            systems[name] = system
    for name, issue in check_silver_tables_unique(systems, file):
        problems.setdefault(name, []).append(issue)
    return {name: system for name, system in systems.items() if name not in problems}, set(raw_systems), problems


def _with_contracts(folder: Path, file: str, system_name: str, body: Any) -> tuple[Any, list[ConfigIssue]]:
    """``body`` with each entity's columns and contract version read from its contract."""
    entities = body.get("entities") if isinstance(body, dict) else None
    if not isinstance(entities, dict):
        return body, []  # validation reports it
    issues: list[ConfigIssue] = []
    with_columns: dict[str, Any] = {}
    for entity_name, entity in entities.items():
        path = contract_path(folder, system_name, str(entity_name))
        if isinstance(entity, dict) and "columns" in entity:
            key = f"systems.{system_name}.entities.{entity_name}.columns"
            issues.append(ConfigIssue(file, key, f"columns come from the entity's contract, {display_path(path)}"))
            with_columns[entity_name] = entity
            continue
        contract, problems = load_contract(path)
        issues += problems
        if contract is not None and isinstance(entity, dict):
            entity = {**entity, "columns": contract.columns, "contract_version": contract.version}
        with_columns[entity_name] = entity
    return {**body, "entities": with_columns}, issues


def _point_at_defaults(issue: ConfigIssue, system_name: str, inherited: set[str]) -> ConfigIssue:
    """A bad value a system took from ``defaults`` is reported where it is written."""
    prefix = f"systems.{system_name}."
    if not issue.key.startswith(prefix):
        return issue
    rest = issue.key[len(prefix) :]
    top = rest.split(".", 1)[0].split("[", 1)[0]
    if top not in inherited:
        return issue
    return replace(issue, key=f"defaults.{rest}", message=f"{issue.message}; inherited by systems.{system_name}")


def _load_pipelines(
    path: Path, systems: Mapping[str, System], known_systems: set[str]
) -> tuple[Pipelines | None, list[ConfigIssue]]:
    file = display_path(path)
    raw, issues = _read_yaml(path)
    if issues:
        return None, issues
    pipelines, issues = _validate(Pipelines, raw if raw is not None else {}, file, ())
    if pipelines is None:
        return None, issues
    issues = list(check_pipelines(pipelines, systems, {str(name) for name in known_systems}, file))
    return pipelines, issues


def _load_governance(
    folder: Path, env_name: str, environment: Environment | None, systems: Mapping[str, System], known_systems: set[str]
) -> tuple[Governance | None, list[ConfigIssue]]:
    path = folder / GOVERNANCE_FILE
    file = display_path(path)
    raw, issues = _read_yaml(path)
    if issues:
        return None, issues
    governance, issues = _validate(Governance, raw if raw is not None else {}, file, ())
    if governance is None or environment is None:
        return governance, issues
    env_file = display_path(folder / VARIABLES_DIR / f"{env_name}.yaml")
    known = {str(name) for name in known_systems}
    return governance, list(check_governance(governance, environment, systems, known, file, env_file))
