"""Airflow DAG: Unity Catalog governance (config/governance.yaml), triggered after each deploy."""

from lakehouse.airflow.factory import governance_dag

dag = governance_dag()
