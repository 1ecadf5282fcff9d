"""Airflow DAG: the RAG knowledge index build (config/pipelines.yaml)."""

from lakehouse.airflow.factory import rag_dag

dag = rag_dag()
