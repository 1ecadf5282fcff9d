"""Names of tables and assets, derived from config in one place so that DAGs and jobs agree."""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.config.models import Environment, GoldTable, System, Xref


@dataclass(frozen=True)
class TableName:
    catalog: str
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"

    @property
    def asset_uri(self) -> str:
        # "x-" schemes are left alone by Airflow's URI normalisation.
        return f"x-lakehouse://{self.catalog}/{self.schema}/{self.table}"


def bronze_table(environment: Environment, system_name: str, entity_name: str) -> TableName:
    return TableName(environment.catalogs.bronze, system_name, f"{entity_name}_bronze")


def quarantine_table(environment: Environment, system_name: str) -> TableName:
    """Rows of one system that broke its contract (Bronze) or a quarantine DQ rule (Silver)."""
    return TableName(environment.catalogs.bronze, system_name, f"{system_name}_quarantine")


def silver_table(environment: Environment, system_name: str, system: System, entity_name: str) -> TableName:
    target = system.entities[entity_name].silver
    return TableName(environment.catalogs.silver, target.schema_ or system_name, target.table)


def xref_table(environment: Environment, xref: Xref) -> TableName:
    return TableName(environment.catalogs.silver, xref.schema_, xref.table)


def gold_table(environment: Environment, table: GoldTable) -> TableName:
    return TableName(environment.catalogs.gold, table.schema_, table.name)


def knowledge_index(environment: Environment) -> TableName:
    return TableName(environment.catalogs.ai, "knowledge", "document_chunks")


def rag_telemetry(environment: Environment) -> TableName:
    return TableName(environment.catalogs.ai, "knowledge", "rag_telemetry")


def run_metrics_table(environment: Environment) -> TableName:
    """One row per stage run: counts, quarantine reasons, DQ results, freshness, duration."""
    return TableName(environment.catalogs.gold, "ops", "run_metrics")


SFDC_SCHEMA = "sfdc"


@dataclass(frozen=True)
class OutboundTables:
    """The Salesforce outbound tables (docs/outbound.md), in the Gold catalog."""

    input: TableName
    """One row per upsert request, written by the Gold DAG."""
    output: TableName
    """The latest state of each request: claimed, sent, failed or retryable."""
    history: TableName
    """Every state each request went through, append-only."""
    engagement: TableName
    """Interaction history (IH) of contacts."""


def outbound_tables(environment: Environment) -> OutboundTables:
    def table(name: str) -> TableName:
        return TableName(environment.catalogs.gold, SFDC_SCHEMA, name)

    return OutboundTables(
        table("outbound_input"), table("outbound_output"), table("outbound_output_hist"), table("engagement_data")
    )


def ingest_dag_id(system_name: str) -> str:
    return f"lakehouse_ingest_{system_name}"


GOLD_DAG_ID = "lakehouse_gold"
RAG_DAG_ID = "lakehouse_rag"
MAINTENANCE_DAG_ID = "lakehouse_maintenance"
GOVERNANCE_DAG_ID = "lakehouse_governance"

SILVER_GATE_POOL = "lakehouse_silver_gates"
"""The one-slot Airflow pool every DQ gate runs in. Airflow 3.3 registers two Silver events of the
same business date that commit at the same moment as two pending Gold runs, neither of which ever
has all its inputs (apache/airflow#71070), so Gold of that date never starts; one gate at a time
cannot race."""
