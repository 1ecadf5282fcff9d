"""Typed models of the files under ``config/``.

Each model validates itself (types, allowed values, cron, timezone, regex). Checks that span several
models, such as a DQ rule naming a column of its system's contract, live in ``checks.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""Lower-case snake case: safe as a DAG id part, a task id, a table or a column name."""

DottedName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")]
Duration = Annotated[timedelta, Field(gt=timedelta(0))]
"""ISO 8601 duration such as ``PT2H`` (or a number of seconds)."""

ColumnType = Literal["string", "integer", "long", "double", "boolean", "date", "timestamp", "struct"]
DqAction = Literal["warn", "quarantine", "fail"]
SurrogateKey = Literal["customer_sk", "account_sk", "service_sk", "address_sk", "case_sk"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Schedule(StrictModel):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError("not a valid cron expression; expected five fields such as '0 4 * * *'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA timezone; expected a name such as 'Australia/Sydney'") from None
        return value


# --- source systems -------------------------------------------------------------------------------


class Column(StrictModel):
    name: Identifier
    type: ColumnType
    nullable: bool = True
    pii: bool = False
    description: str = ""
    fields: tuple[Column, ...] = ()

    @model_validator(mode="after")
    def _fields_only_for_struct(self) -> Column:
        if self.type == "struct" and not self.fields:
            raise ValueError("a struct column needs 'fields'")
        if self.type != "struct" and self.fields:
            raise ValueError("only a struct column may have 'fields'")
        return self

    def paths(self) -> list[str]:
        """This column and, for a struct, each nested field as ``parent.child``."""
        return [self.name] + [f"{self.name}.{path}" for child in self.fields for path in child.paths()]


class Xref(StrictModel):
    schema_: Identifier = Field(alias="schema")
    table: Identifier


class SilverTarget(StrictModel):
    schema_: Identifier | None = Field(default=None, alias="schema")
    """Silver schema; the system's name when unset."""
    table: Identifier
    xrefs: tuple[Xref, ...] = ()
    """Cross-reference tables of BLUEPRINT §28 kept from this table by the same task, each by
    ``airflow/include/sql/silver/<table>.sql``, after the Silver MERGE."""


RuleKey = tuple[str | int, ...]
"""Where a value sits inside a rule (``("columns", 1)``), for pointing a problem at what the user wrote."""


class OneColumnRule(StrictModel):
    """A rule that rewrites one column in place."""

    column: Identifier
    """The column the rule rewrites."""

    def inputs(self) -> list[tuple[RuleKey, str]]:
        """The columns the rule reads, each with its key inside the rule."""
        return [(("column",), self.column)]

    @property
    def output(self) -> str | None:
        """A column the rule adds to the Silver table, if any."""
        return None


class ManyColumnRule(StrictModel):
    """A rule that derives a new column from several."""

    columns: tuple[Identifier, ...] = Field(min_length=1)
    """The columns it reads, in order."""
    target: Identifier
    """The column it adds."""

    def inputs(self) -> list[tuple[RuleKey, str]]:
        return [(("columns", index), column) for index, column in enumerate(self.columns)]

    @property
    def output(self) -> str | None:
        return self.target


class TrimUpper(OneColumnRule):
    """Trims the value and upper-cases it."""

    rule: Literal["trim_upper"]


class PadDigits(OneColumnRule):
    """Left-pads a short run of digits with zeros to ``width``; any other value stays as it came, so a
    DQ rule can reject it."""

    rule: Literal["pad_digits"]
    width: int = Field(ge=1, le=32)
    target: Identifier | None = None
    """Write the padded value here instead of rewriting ``column``."""

    @property
    def output(self) -> str | None:
        return self.target


class NormaliseEmail(OneColumnRule):
    """Trims and lower-cases an email address."""

    rule: Literal["normalise_email"]


class NormalisePhone(OneColumnRule):
    """Writes an Australian phone number in E.164 (``0412 345 678`` → ``+61412345678``); other values
    are trimmed and kept as given."""

    rule: Literal["normalise_phone"]
    country: Literal["AU"] = "AU"


class NormaliseEnum(OneColumnRule):
    """Trims and upper-cases a code; optionally turns runs of spaces and dashes into one underscore."""

    rule: Literal["normalise_enum"]
    separators_to_underscore: bool = False


class ConcatColumns(ManyColumnRule):
    """Joins the trimmed, non-empty values of ``columns`` with ``separator``."""

    rule: Literal["concat"]
    columns: tuple[Identifier, ...] = Field(min_length=2)
    separator: str = " "


class HashColumns(ManyColumnRule):
    """The SHA-256 of the ``|``-joined values of ``columns`` (a null as the empty string)."""

    rule: Literal["sha256"]


SilverRule = Annotated[
    TrimUpper | PadDigits | NormaliseEmail | NormalisePhone | NormaliseEnum | ConcatColumns | HashColumns,
    Field(discriminator="rule"),
]
"""A Silver rule, by its ``rule``. ``lakehouse.spark.silver_rules`` applies each kind."""


class Survivorship(StrictModel):
    """Which of several rows of one natural key wins: the latest ``order_by``, then the later file,
    then the later line. Without it, the later file and line win."""

    order_by: Identifier
    """A column of the contract that orders versions of a record, such as an update timestamp."""


class Entity(StrictModel):
    description: str = ""
    format: Literal["csv", "jsonl"]
    columns: tuple[Column, ...] = Field(min_length=1)
    """From the entity's contract (``lakehouse.config.contracts``), in the order the extract has them."""
    contract_version: str
    natural_key: tuple[Identifier, ...] = Field(min_length=1)
    canonical_keys: dict[SurrogateKey, str] = Field(default_factory=dict)
    """Gold surrogate key -> contract column (or ``struct.field``) it is the sha256 of (BLUEPRINT §28)."""
    silver: SilverTarget
    silver_rules: tuple[SilverRule, ...] = ()
    """Applied in order to every row before survivorship and DQ."""
    survivorship: Survivorship | None = None
    min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    """The DQ pass rate this entity's Silver table must reach; the system's ``dq.min_pass_rate`` if unset."""

    def column_paths(self) -> list[str]:
        return [path for column in self.columns for path in column.paths()]


class DqCheckBase(StrictModel):
    name: Identifier | None = None
    entity: Identifier | None = None
    """Required when the system has more than one entity."""
    column: Identifier
    action: DqAction
    description: str = ""


class NotNullCheck(DqCheckBase):
    check: Literal["not_null"]


class RegexCheck(DqCheckBase):
    check: Literal["regex"]
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class InSetCheck(DqCheckBase):
    check: Literal["in_set"]
    values: tuple[str, ...] = Field(min_length=1)


class NotAfterLogicalDateCheck(DqCheckBase):
    check: Literal["not_after_logical_date"]


DqRule = Annotated[
    NotNullCheck | RegexCheck | InSetCheck | NotAfterLogicalDateCheck,
    Field(discriminator="check"),
]


class DqSettings(StrictModel):
    min_pass_rate: float = Field(default=0.99, ge=0, le=1)


class Landing(StrictModel):
    path: str = "{system}/{entity}/{date}"
    """Folder of one day's extract under the landing root; ``{system}``, ``{entity}`` and ``{date}`` are
    filled in."""

    @field_validator("path")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        names = set(re.findall(r"{([^{}]*)}", value))
        unknown = names - {"system", "entity", "date"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {{system}}, {{entity}}, {{date}}")
        if "date" not in names:
            raise ValueError("must contain {date} so that each logical date reads its own slice")
        return value


class System(StrictModel):
    description: str = ""
    domain: Identifier
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    schedule: Schedule
    freshness_deadline: Duration
    landing: Landing = Landing()
    entities: dict[Identifier, Entity] = Field(min_length=1)
    dq_rules: tuple[DqRule, ...] = ()
    dq: DqSettings = DqSettings()

    def rule_entity(self, rule: DqRule) -> str | None:
        """The entity a DQ rule checks: its own, or the only one when it names none."""
        if rule.entity is None and len(self.entities) == 1:
            return next(iter(self.entities))
        return rule.entity

    @property
    def xrefs(self) -> list[Xref]:
        """The cross-reference tables its entities keep."""
        return [xref for entity in self.entities.values() for xref in entity.silver.xrefs]

    def dq_rules_for(self, entity_name: str) -> list[DqRule]:
        return [rule for rule in self.dq_rules if self.rule_entity(rule) == entity_name]

    def min_pass_rate_for(self, entity_name: str) -> float:
        threshold = self.entities[entity_name].min_pass_rate
        return self.dq.min_pass_rate if threshold is None else threshold


# --- Gold, RAG and maintenance --------------------------------------------------------------------


class GoldTable(StrictModel):
    name: Identifier
    schema_: Identifier = Field(alias="schema")
    kind: Literal["table", "view"] = "table"
    description: str = ""
    inputs: tuple[DottedName, ...] = ()
    """Silver inputs as ``system.entity``."""
    depends_on: tuple[Identifier, ...] = ()
    """Gold tables built before this one."""


class SmokeChecks(StrictModel):
    max_orphan_ratio: float = Field(default=0.0, ge=0, le=1)
    """Share of a check's rows allowed to lack their parent (a quarantined master record leaves its
    children orphaned) before the smoke task fails."""


class Gold(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    deadline: Duration
    """From the moment the run is queued (its Silver inputs arrived) to Gold being published."""
    tables: tuple[GoldTable, ...] = Field(min_length=1)
    smoke_checks: SmokeChecks = SmokeChecks()


Classification = Literal["public", "internal", "confidential", "restricted"]


class Chunking(StrictModel):
    max_chars: int = Field(default=1000, ge=200, le=8000)
    overlap_chars: int = Field(default=150, ge=0, le=2000)

    @model_validator(mode="after")
    def _overlap_smaller_than_chunk(self) -> Chunking:
        if self.overlap_chars >= self.max_chars // 2:
            raise ValueError("'overlap_chars' must be under half of 'max_chars'")
        return self


class Rag(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    schedule: Schedule
    deadline: Duration
    domains: tuple[Identifier, ...] = Field(min_length=1)
    """Systems whose knowledge documents are indexed."""
    documents: str = "knowledge"
    """Folder with one subfolder of documents per domain; relative paths are relative to the
    repository root. The environment's ``rag.documents`` (a volume on Databricks) wins over it."""
    chunking: Chunking = Chunking()
    allowed_classifications: tuple[Classification, ...] = ("public", "internal")
    """Only chunks of these classifications are ever returned; the others are indexed but filtered."""
    top_k: int = Field(default=5, ge=1)
    max_top_k: int = Field(default=10, ge=1, le=50)
    routing: dict[Identifier, tuple[str, ...]] = Field(default_factory=dict)
    """Domain -> words in a question that make retrieval prefer that domain's documents."""
    identifiers: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    """Label -> regular expression of an identifier the redactor replaces with ``[LABEL]``."""
    sql_tables: tuple[Identifier, ...] = ()
    """Gold tables the agent's SQL tool may read."""

    @field_validator("identifiers")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"identifier '{label}': not a valid regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rag:
        if self.top_k > self.max_top_k:
            raise ValueError(f"'top_k' ({self.top_k}) is above 'max_top_k' ({self.max_top_k})")
        return self


class Maintenance(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    schedule: Schedule
    deadline: Duration


class Pipelines(StrictModel):
    gold: Gold
    rag: Rag
    maintenance: Maintenance


# --- Unity Catalog governance ---------------------------------------------------------------------

Zone = Literal["bronze", "silver", "gold", "ai"]
"""A catalog of the environment's ``catalogs``."""
Privilege = Literal[
    "ALL PRIVILEGES",
    "APPLY TAG",
    "BROWSE",
    "CREATE FUNCTION",
    "CREATE MATERIALIZED VIEW",
    "CREATE MODEL",
    "CREATE SCHEMA",
    "CREATE TABLE",
    "CREATE VOLUME",
    "EXECUTE",
    "MODIFY",
    "READ VOLUME",
    "SELECT",
    "USE CATALOG",
    "USE SCHEMA",
    "WRITE VOLUME",
]
"""Unity Catalog privileges a catalog grant may give; its schemas and tables inherit them."""
TagKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=255)]


class Role(StrictModel):
    """A role of BLUEPRINT §24.1; each environment names its Azure AD group (``governance.groups``)."""

    description: str = Field(min_length=1)


class SqlFunction(StrictModel):
    """A SQL function; its ``CREATE OR REPLACE FUNCTION`` is ``airflow/include/sql/governance/functions/<name>.sql``."""

    zone: Zone
    schema_: Identifier = Field(alias="schema")
    description: str = ""


class RowRules(StrictModel):
    """Which rows of a secure view a reader sees, by the value of one column (a region, a line of business)."""

    column: Identifier
    every_row: tuple[Identifier, ...] = ()
    """Roles that see every row."""
    only: dict[Identifier, tuple[str, ...]] = Field(default_factory=dict)
    """Role -> the values of ``column`` its members see."""

    @model_validator(mode="after")
    def _someone_sees_rows(self) -> RowRules:
        if not self.every_row and not self.only:
            raise ValueError("row rules that let no role see a row: name roles in 'every_row' or 'only'")
        return self


class SecureView(StrictModel):
    """A view over a Silver table that masks columns for readers outside the PII role (BLUEPRINT §24.2)."""

    zone: Zone = "silver"
    schema_: Identifier = Field(alias="schema")
    source: DottedName
    """The Silver table it reads, as ``system.entity``."""
    masks: dict[Identifier, Identifier] = Field(min_length=1)
    """Column -> the function of ``functions`` that masks it."""
    rows: RowRules | None = None
    readers: tuple[Identifier, ...] = ()
    """Roles granted ``SELECT`` on the view."""
    description: str = ""


class Governance(StrictModel):
    """``config/governance.yaml``: roles, grants per zone, masking functions and secure views. Catalogs
    come from the environment, schemas from the systems, Gold tables and volumes, PII tags from the
    contracts' ``x-pii`` marks."""

    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    deadline: Duration = timedelta(hours=1)
    """Of the ``lakehouse_governance`` DAG run, from being queued."""
    roles: dict[Identifier, Role] = Field(min_length=1)
    pii_readers: Identifier
    """The role whose members see masked columns in clear."""
    pii_tags: dict[TagKey, str] = Field(default_factory=lambda: {"pii": "true"}, min_length=1)
    """Unity Catalog tags set on every column a contract marks ``x-pii``."""
    grants: dict[Zone, dict[Identifier, tuple[Privilege, ...]]] = Field(default_factory=dict)
    """Zone -> role -> privileges on its catalog."""
    functions: dict[Identifier, SqlFunction] = Field(default_factory=dict)
    secure_views: dict[Identifier, SecureView] = Field(default_factory=dict)


class EnvironmentGovernance(StrictModel):
    groups: dict[Identifier, Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")]] = Field(
        default_factory=dict
    )
    """Role of ``governance.yaml`` -> the account group (Azure AD, synced by SCIM) that holds it here."""


# --- environment ----------------------------------------------------------------------------------


class Catalogs(StrictModel):
    bronze: Identifier
    silver: Identifier
    gold: Identifier
    ai: Identifier


class Connections(StrictModel):
    """Airflow connection ids; their secrets come from the secrets backend, never from config."""

    databricks: str = "databricks_default"
    smtp: str = "smtp_default"
    spark: str = "spark_default"
    teams: str = "teams_default"
    """HTTP connection whose password is the Teams incoming webhook's URL."""
    pagerduty: str = "pagerduty_default"
    """PagerDuty Events connection whose password is the integration (routing) key."""


JobKey = Literal["bronze_ingest", "silver", "gold", "rag", "maintenance"]
"""The Databricks jobs the stages run in; which stage runs in which is the stage registry's
(``lakehouse.core.stages``)."""


class JobCluster(StrictModel):
    """The job cluster every stage job runs on, within the ``etl_restricted`` cluster policy of
    BLUEPRINT §24.1 (2 to 16 workers, single-user access mode, fixed tags)."""

    spark_version: str = Field(min_length=1)
    node_type_id: str = Field(min_length=1)
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
    """The volume folder the extracts land in, laid out as SOURCES.md says."""
    checkpoints: str = Field(pattern=r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$")
    """Volume folder of the Bronze streams' checkpoints."""
    artifacts: str = Field(pattern=r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$")
    """Unity Catalog volume folder the ``spark_jobs`` wheel is uploaded to and installed from."""
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

    @model_validator(mode="after")
    def _one_off_runs_need_a_wheel(self) -> DatabricksSettings:
        if self.submit_runs and not self.wheel:
            raise ValueError("'submit_runs' needs 'wheel': the file in 'artifacts' the runs install")
        return self


class LocalSettings(StrictModel):
    landing_root: str
    warehouse_root: str
    spark_master: str = "local[*]"
    driver_memory: Annotated[str, StringConstraints(pattern=r"^\d+[mg]$")] = "4g"
    """Heap of the Spark driver, which in local mode also runs the executors (``spark.driver.memory``)."""
    driver_java_options: str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    """JVM flags of the driver (``spark.driver.extraJavaOptions``). Each task starts its own
    short-lived driver: without the optimising JIT compiler and the parallel collector it spends
    far less CPU, which tasks running side by side on a laptop share. Clear it for long jobs."""


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


AlertChannel = Literal["log", "email", "teams", "pagerduty"]
Severity = Literal["critical", "error", "warning", "info"]
"""PagerDuty's severities; a route is chosen by severity, and a page carries it."""
AlertEvent = Literal["retry", "failure", "deadline_miss"]


class AlertSeverities(StrictModel):
    """How severe each event is in this environment."""

    retry: Severity = "warning"
    """A try failed and another will follow."""
    failure: Severity = "critical"
    """A task failed with its retries exhausted."""
    deadline_miss: Severity = "critical"
    """A DAG run did not finish within its deadline of being queued."""


class Alerts(StrictModel):
    email_to: tuple[str, ...] = ()
    email_from: str = "lakehouse-alerts@localhost"
    severity: AlertSeverities = AlertSeverities()
    routes: dict[Severity, tuple[AlertChannel, ...]] = {}
    """The channels of each severity; a severity with no route goes to the log only."""

    def channels(self, event: AlertEvent) -> tuple[AlertChannel, ...]:
        return self.routes.get(getattr(self.severity, event), ("log",))

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> Alerts:
        if any("email" in channels for channels in self.routes.values()) and not self.email_to:
            raise ValueError("a route sends email but 'email_to' is empty")
        return self


UrlPath = Annotated[str, StringConstraints(pattern=r"^/?[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*/?$")]
LineageNamespace = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", max_length=128)]


class Lineage(StrictModel):
    """OpenLineage events of every task and DAG run, sent by Airflow's OpenLineage provider to an HTTP
    endpoint (Marquez, a data catalog...). Off while ``url`` is unset: the provider is then disabled."""

    url: str | None = None
    """The lineage server, scheme, host and port only, e.g. ``http://marquez:5000``; events go to
    ``url`` + ``endpoint``."""
    endpoint: UrlPath = "api/v1/lineage"
    """Path of the lineage API under ``url``."""
    namespace: LineageNamespace | None = None
    """Namespace of the jobs (DAGs and tasks); unset means ``lakehouse-<env>``."""
    api_key_connection: str | None = Field(default=None, min_length=1)
    """Airflow connection whose password is the API key sent as a bearer token (from the secrets
    backend); unset means no authentication."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host; expected e.g. 'http://marquez:5000'")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials; put the API key in the connection 'api_key_connection' names")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("must be scheme, host and port only; the API path goes in 'endpoint'")
        try:
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            raise ValueError("has an invalid port") from None
        return value

    @property
    def enabled(self) -> bool:
        return self.url is not None


SalesforceObject = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]
"""An sObject or field API name such as ``Contact`` or ``Mandos_Id__c``."""


class SfdcOutbound(StrictModel):
    """Contact upserts to Salesforce (BLUEPRINT §30), built in the Gold DAG and sent by the outbound
    worker. Off while ``connection`` is unset: the Gold DAG then has no outbound tasks."""

    connection: str | None = Field(default=None, min_length=1)
    """Airflow connection of the connected app: ``host`` is the login URL (e.g.
    ``https://login.salesforce.com`` or the org's My Domain), ``login`` the client id and
    ``password`` the client secret, from the secrets backend."""
    secret_scope: str | None = Field(default=None, min_length=1)
    """Databricks only: the Key Vault-backed secret scope the worker job reads the same connection
    from (key ``airflow-connections-<connection, '_' as '-'>``, the name Airflow's Key Vault
    backend gives it)."""
    api_version: Annotated[str, StringConstraints(pattern=r"^\d{2,3}\.0$")] = "62.0"
    external_id_field: SalesforceObject = "Mandos_Id__c"
    """The Contact's external id field the upsert matches on; holds the CMDM ``prty_id``."""
    batch_size: int = Field(default=200, ge=1, le=200)
    """Records per sObject Collections call; the API takes at most 200."""
    max_retries: int = Field(default=5, ge=0, le=10)
    """Tries after the first on 429, 5xx and connection errors, waiting ``backoff_seconds`` times
    2^n (or the server's ``Retry-After``) in between, at most ``max_backoff_seconds``."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    max_backoff_seconds: float = Field(default=120.0, gt=0, le=600)
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)

    @property
    def enabled(self) -> bool:
        return self.connection is not None


class Retries(StrictModel):
    retries: int = Field(default=2, ge=0, le=10)
    retry_delay: Duration = timedelta(minutes=5)
    exponential_backoff: float = Field(default=2.0, ge=0, le=10)
    """Multiplier of the delay after each failed try; 0 keeps the delay constant."""
    max_retry_delay: Duration = timedelta(hours=1)


SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "passphrase", "credential")
"""Names a value must not have in config: secrets live in the secrets backend only."""


def looks_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def _no_secret_names(values: Mapping[str, Any], where: str) -> None:
    for name in values:
        if looks_secret(name):
            raise ValueError(f"{where} '{name}' looks like a secret; secrets come from the secrets backend only")


class ConnectionShell(StrictModel):
    """An Airflow connection without its secret: what ``lakehouse env apply`` writes into Airflow.
    The password (token, key, webhook URL) comes from the secrets backend."""

    conn_type: str = Field(min_length=1)
    description: str = ""
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    schema_: str | None = Field(default=None, alias="schema")
    login: str | None = None
    extra: dict[str, Any] = {}

    @model_validator(mode="after")
    def _no_secrets(self) -> ConnectionShell:
        _no_secret_names(self.extra, "extra key")
        return self


class AirflowObjects(StrictModel):
    """Non-secret Airflow Variables and connection shells of the environment."""

    variables: dict[str, Any] = {}
    connections: dict[str, ConnectionShell] = {}

    @model_validator(mode="after")
    def _no_secrets(self) -> AirflowObjects:
        _no_secret_names(self.variables, "variable")
        return self


class EnvironmentBase(StrictModel):
    """What every environment has, whatever runs its stages."""

    description: str = ""
    start_date: date
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
