"""Airflow DAG: Gold marts, scheduled on the Silver assets they read (config/pipelines.yaml)."""

from lakehouse.airflow.factory import gold_dag

dag = gold_dag()
