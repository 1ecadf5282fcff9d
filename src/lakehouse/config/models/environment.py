"""``config/variables/<env>.yaml``: one environment, by where its stages run (``target``): local Spark
or Databricks; its catalogs, connections, alerts, lineage, retries and Airflow objects."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints, field_validator, model_validator

from lakehouse.config.models.base import Identifier, StrictModel
from lakehouse.config.models.governance import EnvironmentGovernance
from lakehouse.config.models.integrations import AirflowObjects, Alerts, Lineage, Retries, SfdcOutbound


class Catalogs(StrictModel):
    """The environment's catalog of each zone (locally, a folder of the warehouse)."""

    bronze: Identifier
    """Raw extracts as landed, and each system's quarantine."""
    silver: Identifier
    """Cleaned, conformed tables, one row per natural key."""
    gold: Identifier
    """The marts, and the ``ops`` schema of run metrics."""
    ai: Identifier
    """The knowledge index and the RAG telemetry."""


class Connections(StrictModel):
    """Airflow connection ids; their secrets come from the secrets backend, never from config."""

    databricks: str = "databricks_default"
    """The workspace: its host, and a token or service principal."""
    smtp: str = "smtp_default"
    """The mail server of the ``email`` alert channel."""
    teams: str = "teams_default"
    """HTTP connection whose password is the Teams incoming webhook's URL."""
    pagerduty: str = "pagerduty_default"
    """PagerDuty Events connection whose password is the integration (routing) key."""


JobKey = Literal["bronze_ingest", "silver", "gold", "rag", "maintenance"]
"""The Databricks jobs the stages run in; which stage runs in which is the stage registry's
(``lakehouse.core.stages``)."""


class JobCluster(StrictModel):
    """The job cluster every stage job runs on, within the ``etl_restricted`` cluster policy of
    docs/databricks.md (2 to 16 workers, single-user access mode, fixed tags)."""

    spark_version: str = Field(min_length=1)
    """The Databricks Runtime, such as ``17.3.x-scala2.13``."""
    node_type_id: str = Field(min_length=1)
    """The workers' VM size, such as ``Standard_D4ds_v5``."""
    num_workers: int = Field(default=2, ge=2, le=16)


class DatabricksSettings(StrictModel):
    jobs: dict[JobKey, Annotated[str, StringConstraints(min_length=1)]]
    """The name of each job in the workspace, by which Airflow finds it."""
    job_ids: dict[JobKey, int] = Field(default_factory=dict)
    """Optional overrides: a job id here wins over looking the job up by name."""
    cluster: JobCluster
    poll_seconds: int = Field(default=60, ge=1, le=600)
    """How often the triggerer asks for a run's state; stages take minutes, so a minute costs little."""
    cost_centre: str = Field(min_length=1)
    """``COST_CENTER`` tag of the jobs and ``UDP_BU_DB_COST`` of their clusters."""
    landing: str = Field(pattern=r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$")
    """The volume folder the extracts land in, laid out as ``<system>/<entity>/<YYYY-MM-DD>/`` (docs/local.md)."""
    checkpoints: str = Field(pattern=r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$")
    """Volume folder of the Bronze streams' checkpoints."""
    artifacts: str = Field(pattern=r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$")
    """Unity Catalog volume folder the project's wheel is uploaded to and installed from."""
    submit_runs: bool = False
    """One-off runs: each task submits its stage (``runs/submit``) on a new job cluster instead of
    running the deployed job; nothing is deployed but the wheel, and runs appear under no job."""
    wheel: str | None = None
    """The wheel file in ``artifacts`` that one-off runs install (deployed jobs name theirs)."""
    gold_warehouse: str | None = None
    """Name of the SQL warehouse the Gold tables are built on (the SQL Statement Execution API);
    unset means the ``gold`` job builds them on its job cluster. Smoke checks stay in the job."""
    governance_warehouse: str | None = None
    """SQL warehouse the governance statements run on; unset means ``gold_warehouse``."""
    bundle_mode: Literal["production"] | None = "production"
    """The mode of this environment's target in the Databricks Asset Bundle (``infra/databricks.yml``):
    ``production`` makes the CLI check that the deployment is the shared one; unset leaves the
    default mode, for an environment engineers also deploy to themselves (dev), and makes the first
    such environment the bundle's default target."""

    @field_validator("jobs")
    @classmethod
    def _every_job_named(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [key for key in get_args(JobKey) if key not in value]
        if missing:
            raise ValueError(f"no name for the job(s) {', '.join(missing)}")
        return value

    @property
    def sql_warehouse_for_governance(self) -> str | None:
        """The SQL warehouse governance statements run on: its own, else Gold's."""
        return self.governance_warehouse or self.gold_warehouse

    @property
    def one_off_wheel(self) -> str | None:
        """The wheel one-off runs install (``submit_runs``); ``None`` when tasks run the deployed jobs."""
        return self.wheel if self.submit_runs else None

    @model_validator(mode="after")
    def _one_off_runs_need_a_wheel(self) -> DatabricksSettings:
        if self.submit_runs and not self.wheel:
            raise ValueError("'submit_runs' needs 'wheel': the file in 'artifacts' the runs install")
        return self


class LocalSettings(StrictModel):
    landing_root: str
    """Where extracts land; a relative path is relative to the repository root.
    ``$LAKEHOUSE_LANDING_ROOT`` wins over it."""
    warehouse_root: str
    """The folder holding one folder per catalog; relative as above, ``$LAKEHOUSE_WAREHOUSE_ROOT``
    wins over it."""
    spark_master: str = "local[*]"
    """``local[N]`` for N cores of this machine, or a standalone cluster's ``spark://host:7077``."""
    driver_memory: Annotated[str, StringConstraints(pattern=r"^\d+[mg]$")] = "4g"
    """Heap of the Spark driver, which in local mode also runs the executors (``spark.driver.memory``)."""
    driver_java_options: str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    """JVM flags of the driver (``spark.driver.extraJavaOptions``). Each task starts its own
    short-lived driver: without the optimising JIT compiler and the parallel collector it spends
    far less CPU, which tasks running side by side on a laptop share. Clear it for long jobs."""
    spark_remote: Annotated[str, StringConstraints(pattern=r"^sc://[^/\s]+:\d+$")] | None = None
    """A Spark Connect server, ``sc://host:port``, that stages run on instead of a Spark of their
    own. ``$LAKEHOUSE_SPARK_REMOTE`` wins over it (``none``: a Spark of their own); ``lakehouse
    stack`` sets that variable for Airflow to the server it starts, and the compose file to its
    ``spark-connect`` service. Unset: each task starts its own Spark, a JVM in its process."""


class RagSettings(StrictModel):
    documents: str | None = None
    """Where this environment's knowledge documents are (a Unity Catalog volume path on Databricks);
    unset means the repository folder of ``pipelines.yaml``."""
    embedding_endpoint: str | None = None
    """Databricks model serving endpoint that embeds chunks and questions; unset means the local
    embedding model shipped with the package."""
    vector_search_endpoint: str | None = None
    """Databricks Vector Search endpoint serving the delta-sync index; unset means local search."""
    serving_endpoint: str | None = None
    """Chat model endpoint that composes answers; unset means answers are the cited passages."""

    @model_validator(mode="after")
    def _vector_search_needs_endpoints(self) -> RagSettings:
        if (self.vector_search_endpoint is None) != (self.embedding_endpoint is None):
            raise ValueError("'vector_search_endpoint' and 'embedding_endpoint' are set together or not at all")
        return self


class EnvironmentBase(StrictModel):
    """What every environment has, whatever runs its stages."""

    description: str = ""
    start_date: date
    """The first date every DAG of the environment may run for."""
    catalogs: Catalogs
    connections: Connections = Connections()
    alerts: Alerts = Alerts()
    lineage: Lineage = Lineage()
    sfdc_outbound: SfdcOutbound = SfdcOutbound()
    airflow: AirflowObjects = AirflowObjects()
    rag: RagSettings = RagSettings()
    governance: EnvironmentGovernance = EnvironmentGovernance()
    retries: Retries = Retries()
    max_active_runs: int = Field(default=1, ge=1, le=32)
    """Runs of one DAG at a time (Gold always runs one at a time, in date order)."""
    retention_days: int = Field(ge=7, le=3650)
    """Delta VACUUM retention; under 7 days breaks time travel and concurrent readers."""


class LocalEnvironment(EnvironmentBase):
    """Stages run in the Airflow task on Spark with Delta Lake; tables are folders of a warehouse."""

    target: Literal["local"]
    local: LocalSettings


class DatabricksEnvironment(EnvironmentBase):
    """Stages run as Databricks jobs and SQL; tables are Unity Catalog names."""

    target: Literal["databricks"]
    databricks: DatabricksSettings

    @model_validator(mode="after")
    def _vector_search_configured(self) -> DatabricksEnvironment:
        if self.rag.vector_search_endpoint is None:
            raise ValueError("target 'databricks' needs 'rag.vector_search_endpoint' and 'rag.embedding_endpoint'")
        return self

    @model_validator(mode="after")
    def _outbound_credentials_reachable(self) -> DatabricksEnvironment:
        # A Databricks job has no Airflow connections: it reads the secret from the scope.
        if self.sfdc_outbound.enabled and not self.sfdc_outbound.secret_scope:
            raise ValueError("'sfdc_outbound.connection' on target 'databricks' needs 'sfdc_outbound.secret_scope'")
        return self


Environment = Annotated[LocalEnvironment | DatabricksEnvironment, Field(discriminator="target")]
"""An environment, by its ``target``."""

ENVIRONMENT_MODELS: dict[str, type[LocalEnvironment] | type[DatabricksEnvironment]] = {
    "local": LocalEnvironment,
    "databricks": DatabricksEnvironment,
}
"""The model of each ``target``; the loader validates a file against its own, so that a problem is
reported at the key the file has, without the union's tag in between."""
