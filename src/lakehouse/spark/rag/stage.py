"""The RAG index stage: the knowledge documents of some domains redacted, chunked and embedded into
the index, and synced to Vector Search where the environment names an endpoint.

A module of its own, apart from the other runners (``lakehouse.spark.stages``): its embedding model
and databricks-sdk take over a second to import, which no other stage's task should pay."""

from __future__ import annotations

from datetime import date
from typing import Any

from databricks.sdk import WorkspaceClient
from pyspark.sql import SparkSession

from lakehouse.core.locations import knowledge_root
from lakehouse.core.naming import knowledge_index
from lakehouse.core.rag import vector_search
from lakehouse.core.rag.documents import load_documents
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import Redactor
from lakehouse.spark.rag import index as rag_index
from lakehouse.spark.stages import StageContext


def run_rag_index(spark: SparkSession, ctx: StageContext, day: date, *, domains: list[str]) -> dict[str, Any]:
    """Redact, chunk and embed the knowledge documents of ``domains`` into the index."""
    rag = ctx.config.require_pipelines().rag
    settings = ctx.environment.rag
    index = knowledge_index(ctx.environment)
    root = knowledge_root(ctx.environment, rag)
    documents = load_documents(root, domains)
    # A Databricks delta-sync index embeds with its endpoint; locally the packaged model does.
    embedder = None if settings.embedding_endpoint else local_embedder()
    result = rag_index.upsert(
        spark,
        documents,
        ctx.tables.location(index),
        chunking=rag.chunking,
        redactor=Redactor(rag.identifiers),
        embedder=embedder,
        embedding_model=settings.embedding_endpoint or (embedder.name if embedder else ""),
    )
    if settings.vector_search_endpoint:
        result.update(vector_search.sync(WorkspaceClient(), ctx.environment, index))
    return {"index": str(index), "knowledge_root": str(root), **result}
