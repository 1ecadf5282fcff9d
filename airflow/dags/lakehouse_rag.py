"""Airflow DAG: the RAG knowledge index build (config/pipelines.yaml)."""

from lakehouse.factory import rag_dag

dag = rag_dag()
