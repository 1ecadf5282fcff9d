"""Airflow DAGs: one ingest DAG (Bronze, Silver, DQ gate) per system in config/systems.yaml."""

from lakehouse.airflow.factory import ingest_dags

globals().update(ingest_dags())
