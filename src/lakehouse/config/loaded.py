"""What loading the config gives: every part that is valid, and every problem, grouped by the part it
breaks, so that a broken system leaves the others usable (``lakehouse.config.loader`` builds it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.config.issues import ConfigError, ConfigIssue, display_path
from lakehouse.config.models import DatabricksEnvironment, Environment, Governance, LocalEnvironment, Pipelines, System


@dataclass(frozen=True)
class LakehouseConfig:
    """Everything that loaded, plus every problem found, grouped by the part it breaks."""

    config_dir: Path
    env_name: str
    environment: Environment | None
    systems: Mapping[str, System]
    pipelines: Pipelines | None
    environment_issues: tuple[ConfigIssue, ...] = ()
    system_issues: Mapping[str, tuple[ConfigIssue, ...]] = field(default_factory=dict)
    """Per broken system; the key ``""`` holds problems of the systems file as a whole."""
    pipeline_issues: tuple[ConfigIssue, ...] = ()
    governance: Governance | None = None
    governance_issues: tuple[ConfigIssue, ...] = ()

    @property
    def issues(self) -> tuple[ConfigIssue, ...]:
        per_system = tuple(issue for issues in self.system_issues.values() for issue in issues)
        return self.environment_issues + per_system + self.pipeline_issues + self.governance_issues

    @property
    def broken_systems(self) -> tuple[str, ...]:
        return tuple(name for name in self.system_issues if name)

    def require_environment(self) -> Environment:
        if self.environment is None:
            raise ConfigError(self.environment_issues, f"environment '{self.env_name}' cannot be loaded")
        return self.environment

    def require_local(self, needed_by: str = "this") -> LocalEnvironment:
        """The environment, which ``needed_by`` needs to be local (its warehouse is a folder here)."""
        environment = self.require_environment()
        if not isinstance(environment, LocalEnvironment):
            raise ValueError(f"{needed_by} needs a local environment; '{self.env_name}' runs on {environment.target}")
        return environment

    def require_databricks(self, needed_by: str = "this") -> DatabricksEnvironment:
        environment = self.require_environment()
        if not isinstance(environment, DatabricksEnvironment):
            raise ValueError(
                f"{needed_by} needs a Databricks environment; '{self.env_name}' runs on {environment.target}"
            )
        return environment

    def require_pipelines(self) -> Pipelines:
        if self.pipelines is None or self.pipeline_issues:
            raise ConfigError(self.pipeline_issues, "Gold, RAG and maintenance pipelines cannot be built")
        return self.pipelines

    def require_governance(self) -> Governance:
        if self.governance is None or self.governance_issues:
            raise ConfigError(self.governance_issues, "Unity Catalog governance cannot be planned")
        # A secure view over a broken system cannot be planned: its problems are that system's issues.
        blocked = [
            ConfigIssue(
                display_path(self.config_dir / "governance.yaml"),
                f"secure_views.{name}.source",
                f"reads system '{view.source.partition('.')[0]}', which has problems of its own",
                view.source,
            )
            for name, view in self.governance.secure_views.items()
            if view.source.partition(".")[0] in self.broken_systems
        ]
        if blocked:
            raise ConfigError(blocked, "Unity Catalog governance cannot be planned")
        return self.governance

    def raise_for_issues(self) -> None:
        if self.issues:
            raise ConfigError(self.issues, f"lakehouse config for environment '{self.env_name}' is invalid")
