"""The DAG factory: config models in, Airflow DAGs out."""

from lakehouse.airflow.factory.dags import (
    gold_dag,
    governance_dag,
    ingest_dags,
    maintenance_dag,
    rag_dag,
    raise_config_issues,
)

__all__ = ["gold_dag", "governance_dag", "ingest_dags", "maintenance_dag", "rag_dag", "raise_config_issues"]
