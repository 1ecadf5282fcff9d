"""Airflow DAG: weekly OPTIMIZE and VACUUM (config/pipelines.yaml)."""

from lakehouse.airflow.factory import maintenance_dag

dag = maintenance_dag()
