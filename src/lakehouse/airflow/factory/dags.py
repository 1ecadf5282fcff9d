"""Build Airflow DAGs from validated config models. No YAML, network, Variables or Spark here.

Why one module: the DAGs share their defaults (owner, retries, alert routes, the deadline alert, the
business-date parameter) and their tasks come from the same targets; ``_Builder`` holds those once and
has one method per kind of DAG (ingest, Gold, RAG, maintenance, governance)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import (  # type: ignore[attr-defined]  # lazily exported names mypy cannot see
    DAG,
    Asset,
    AssetAll,
    AsyncCallback,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    IdentityMapper,
    Param,
    PartitionedAssetTimetable,
    TaskGroup,
    chain,
)

from lakehouse.airflow.alerts import Route, TaskAlertNotifier, deadline_missed
from lakehouse.airflow.factory import docs
from lakehouse.airflow.targets import StageTask, build_operator, governance_operators
from lakehouse.config import LakehouseConfig, load_config
from lakehouse.config.models import AlertEvent, Environment, Ownership, Schedule
from lakehouse.core import silver_versions
from lakehouse.core.governance import SECTIONS, build_plan
from lakehouse.core.naming import (
    GOLD_DAG_ID,
    GOVERNANCE_DAG_ID,
    MAINTENANCE_DAG_ID,
    RAG_DAG_ID,
    SILVER_GATE_POOL,
    TableName,
    gold_table,
    ingest_dag_id,
    knowledge_index,
    outbound_tables,
    silver_table,
)

LOGICAL_DATE_PARAM = "logical_date"


def _asset(table: TableName) -> Asset:
    return Asset(name=str(table), uri=table.asset_uri)


def _timetable(schedule: Schedule) -> CronTriggerTimetable:
    return CronTriggerTimetable(schedule.cron, timezone=schedule.timezone)


def _tags(env_name: str, ownership: Ownership, labels: dict[str, str]) -> list[str]:
    labelled = {"env": env_name, **labels, "cost_centre": ownership.cost_centre}
    return [f"{key}:{value}" for key, value in labelled.items()] + sorted(set(ownership.tags))


def _params(**extra: Param) -> dict[str, Param]:
    return {
        **extra,
        LOGICAL_DATE_PARAM: Param(
            None,
            type=["null", "string"],
            format="date",
            title="Business date",
            description="YYYY-MM-DD slice to process; empty means the run's logical date.",
        ),
    }


class _Builder:
    def __init__(self, config: LakehouseConfig) -> None:
        self.config = config
        self.env_name = config.env_name
        self.environment: Environment = config.require_environment()

    def dag(
        self,
        *,
        dag_id: str,
        description: str,
        ownership: Ownership,
        labels: dict[str, str],
        schedule: Any,
        timezone: str,
        deadline: timedelta,
        doc_md: str,
        params: dict[str, Param],
        system: str | None = None,
        max_active_runs: int | None = None,
        user_defined_macros: dict[str, Any] | None = None,
    ) -> DAG:
        environment = self.environment
        retries = environment.retries
        retry, failure, deadline_miss = (self.route(event, system) for event in ("retry", "failure", "deadline_miss"))
        # Queued-at, not logical date: a backfill of last month must not count as a missed deadline.
        alert = DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=deadline,
            callback=AsyncCallback(
                deadline_missed,
                kwargs={"dag_id": dag_id, "deadline": str(deadline), "route": deadline_miss.as_kwargs()},
            ),
        )
        start = environment.start_date
        return DAG(
            dag_id=dag_id,
            description=description,
            schedule=schedule,
            start_date=pendulum.datetime(start.year, start.month, start.day, tz=timezone),
            catchup=False,
            max_active_runs=max_active_runs or environment.max_active_runs,
            user_defined_macros=user_defined_macros,
            tags=_tags(self.env_name, ownership, labels),
            doc_md=doc_md,
            params=params,
            deadline=alert,
            default_args={
                "owner": ownership.owner,
                "retries": retries.retries,
                "retry_delay": retries.retry_delay,
                "retry_exponential_backoff": retries.exponential_backoff,
                "max_retry_delay": retries.max_retry_delay,
                "on_retry_callback": [TaskAlertNotifier(event="retry", route=retry)],
                "on_failure_callback": [TaskAlertNotifier(event="failure", route=failure)],
            },
        )

    def route(self, event: AlertEvent, system: str | None) -> Route:
        alerts, connections = self.environment.alerts, self.environment.connections
        return Route(
            env=self.env_name,
            severity=getattr(alerts.severity, event),
            channels=alerts.channels(event),
            system=system,
            email_to=alerts.email_to,
            email_from=alerts.email_from,
            smtp_conn_id=connections.smtp,
            teams_conn_id=connections.teams,
            pagerduty_conn_id=connections.pagerduty,
        )

    def task(self, spec: StageTask, **kwargs: Any) -> Any:
        return build_operator(self.config, spec, **kwargs)

    def ingest(self, name: str) -> DAG:
        system = self.config.systems[name]
        silver = {entity: silver_table(self.environment, name, system, entity) for entity in system.entities}
        dag = self.dag(
            dag_id=ingest_dag_id(name),
            description=f"{name}: landing → Bronze → Silver with the DQ gate",
            ownership=system,
            labels={"system": name, "domain": system.domain, "layer": "ingest"},
            schedule=_timetable(system.schedule),
            timezone=system.schedule.timezone,
            deadline=system.freshness_deadline,
            doc_md=docs.ingest_doc(self.env_name, self.environment, name, system, silver),
            params=_params(system=Param(name, type="string", enum=[name], title="Source system")),
            system=name,
        )
        with dag:
            for entity in system.entities:
                arguments = {"system": name, "entity": entity}
                with TaskGroup(group_id=entity, tooltip=f"{name}.{entity}: Bronze, Silver, DQ gate"):
                    bronze = self.task(StageTask("bronze", "bronze", arguments))
                    clean = self.task(StageTask("silver", "silver", arguments))
                    # The Silver asset is announced only once the DQ gate passed.
                    gate = self.task(
                        StageTask("dq_gate", "dq_gate", arguments),
                        outlets=[_asset(silver[entity])],
                        pool=SILVER_GATE_POOL,
                    )
                    bronze >> clean >> gate
        return dag

    def gold(self) -> DAG:
        gold = self.config.require_pipelines().gold
        tables = {table.name: gold_table(self.environment, table) for table in gold.tables}
        inputs = sorted({ref for table in gold.tables for ref in table.inputs})
        assets = [_asset(self._silver_of(ref)) for ref in inputs]
        dag = self.dag(
            dag_id=GOLD_DAG_ID,
            description="Silver → Gold MERGEs, then smoke checks",
            ownership=gold,
            labels={"layer": "gold"},
            # One run per business date, the partition key the DQ gates announce Silver with, once
            # every input has it. Runs go one at a time, in date order: SCD2 history needs that.
            schedule=PartitionedAssetTimetable(assets=AssetAll(*assets), default_partition_mapper=IdentityMapper()),
            timezone="UTC",
            deadline=gold.deadline,
            doc_md=docs.gold_doc(self.env_name, self.environment, gold, tables),
            params=_params(),
            max_active_runs=1,
            user_defined_macros=silver_versions.MACROS,
        )
        with dag:
            tasks = {
                table.name: self.task(
                    StageTask(
                        table.name, "gold", {"table": table.name, "silver_versions": silver_versions.SILVER_VERSIONS}
                    ),
                    outlets=[_asset(tables[table.name])],
                )
                for table in gold.tables
            }
            for table in gold.tables:
                for dependency in table.depends_on:
                    tasks[dependency] >> tasks[table.name]
            smoke = self.task(StageTask("smoke_checks", "smoke_checks"))
            downstream = {dependency for table in gold.tables for dependency in table.depends_on}
            for name, task in tasks.items():
                if name not in downstream:
                    task >> smoke
            if self.environment.sfdc_outbound.enabled:
                # Salesforce gets only what passed the smoke checks.
                outbound = outbound_tables(self.environment)
                requests = self.task(StageTask("sfdc_requests", "sfdc_requests"), outlets=[_asset(outbound.input)])
                send = self.task(StageTask("sfdc_outbound", "sfdc_outbound"), outlets=[_asset(outbound.output)])
                smoke >> requests >> send
        return dag

    def _silver_of(self, ref: str) -> TableName:
        system_name, _, entity = ref.partition(".")
        system = self.config.systems.get(system_name)
        if system is None:
            # The system is broken (its own import error says why); its Silver table keeps the
            # default name, so Gold still waits on the right asset once the system is fixed.
            return TableName(self.environment.catalogs.silver, system_name, f"{entity}_silver")
        return silver_table(self.environment, system_name, system, entity)

    def rag(self) -> DAG:
        rag = self.config.require_pipelines().rag
        index = knowledge_index(self.environment)
        dag = self.dag(
            dag_id=RAG_DAG_ID,
            description="Knowledge documents → redacted chunks → embeddings → index",
            ownership=rag,
            labels={"layer": "rag"},
            schedule=_timetable(rag.schedule),
            timezone=rag.schedule.timezone,
            deadline=rag.deadline,
            doc_md=docs.rag_doc(self.env_name, self.environment, rag, index),
            params=_params(),
        )
        with dag:
            self.task(
                StageTask("build_index", "rag_index", {"domains": ",".join(rag.domains)}), outlets=[_asset(index)]
            )
        return dag

    def maintenance(self) -> DAG:
        maintenance = self.config.require_pipelines().maintenance
        dag = self.dag(
            dag_id=MAINTENANCE_DAG_ID,
            description="Weekly OPTIMIZE ZORDER and VACUUM of every table",
            ownership=maintenance,
            labels={"layer": "maintenance"},
            schedule=_timetable(maintenance.schedule),
            timezone=maintenance.schedule.timezone,
            deadline=maintenance.deadline,
            doc_md=docs.maintenance_doc(self.env_name, self.environment, maintenance),
            params=_params(),
        )
        retention = str(self.environment.retention_days)
        with dag:
            for name in self.config.systems:
                self.task(StageTask(f"maintain_{name}", "maintenance", {"scope": name, "retention_days": retention}))
            self.task(StageTask("maintain_gold", "maintenance", {"scope": "gold", "retention_days": retention}))
            self.task(StageTask("snapshot_index", "rag_snapshot", {}))
        return dag

    def governance(self) -> DAG:
        governance = self.config.require_governance()
        plan = build_plan(self.config)
        dag = self.dag(
            dag_id=GOVERNANCE_DAG_ID,
            description="Unity Catalog catalogs, schemas, masks, secure views, grants and PII tags",
            ownership=governance,
            labels={"layer": "governance"},
            schedule=None,
            timezone="UTC",
            deadline=governance.deadline,
            doc_md=docs.governance_doc(
                self.env_name, self.environment, governance, {s: len(plan.section(s)) for s in SECTIONS}
            ),
            params={},
            max_active_runs=1,
        )
        with dag:
            chain(*governance_operators(self.config, plan))
        return dag


def ingest_dags(config: LakehouseConfig | None = None) -> dict[str, DAG]:
    """One ingest DAG per valid system; broken systems are reported by ``raise_config_issues``."""
    builder = _Builder(config or load_config())
    return {ingest_dag_id(name): builder.ingest(name) for name in builder.config.systems}


def gold_dag(config: LakehouseConfig | None = None) -> DAG:
    return _Builder(config or load_config()).gold()


def rag_dag(config: LakehouseConfig | None = None) -> DAG:
    return _Builder(config or load_config()).rag()


def maintenance_dag(config: LakehouseConfig | None = None) -> DAG:
    return _Builder(config or load_config()).maintenance()


def governance_dag(config: LakehouseConfig | None = None) -> DAG:
    return _Builder(config or load_config()).governance()


def raise_config_issues(config: LakehouseConfig | None = None) -> None:
    """Raise every config problem, so that Airflow lists it as an import error of the calling file."""
    (config or load_config()).raise_for_issues()
