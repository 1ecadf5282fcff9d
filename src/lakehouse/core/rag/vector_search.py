"""The knowledge index on Databricks: a Vector Search delta-sync index over the chunks table, which
embeds the chunk text with the configured endpoint and follows the table's change data feed.

Uses databricks-sdk's Vector Search API (already a dependency) rather than the separate
``databricks-vectorsearch`` client, which wraps the same REST endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.vectorsearch import (
    DeltaSyncVectorIndexSpecRequest,
    EmbeddingSourceColumn,
    PipelineType,
    VectorIndexType,
)

from lakehouse.config.models import Environment
from lakehouse.core.naming import TableName, knowledge_index
from lakehouse.core.rag.retrieval import CHUNK_FIELDS, ROUTING_BONUS, RRF_K, IndexedChunk


def index_name(environment: Environment) -> str:
    return f"{knowledge_index(environment)}_index"


def sync(client: WorkspaceClient, environment: Environment, source: TableName) -> dict[str, Any]:
    """Create the delta-sync index on first use, then ask it to catch up with the table."""
    settings = environment.rag
    if settings.vector_search_endpoint is None or settings.embedding_endpoint is None:
        raise ValueError("this environment has no rag.vector_search_endpoint / rag.embedding_endpoint")
    name = index_name(environment)
    try:
        client.vector_search_indexes.get_index(name)
        created = False
    except NotFound:
        client.vector_search_indexes.create_index(
            name=name,
            endpoint_name=settings.vector_search_endpoint,
            primary_key="chunk_id",
            index_type=VectorIndexType.DELTA_SYNC,
            delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
                source_table=str(source),
                pipeline_type=PipelineType.TRIGGERED,
                embedding_source_columns=[
                    EmbeddingSourceColumn(name="text", embedding_model_endpoint_name=settings.embedding_endpoint)
                ],
                columns_to_sync=list(CHUNK_FIELDS),
            ),
        )
        created = True
    client.vector_search_indexes.sync_index(name)
    return {"vector_index": name, "created": created, "sync_requested": True}


class VectorSearchSearcher:
    """Hybrid (vector + keyword) queries against the delta-sync index; the classification
    allow-list and the domain restriction are filters of the query itself."""

    def __init__(self, client: WorkspaceClient, name: str, allowed_classifications: Collection[str]) -> None:
        self.client = client
        self.name = name
        self.allowed = list(allowed_classifications)

    def search(
        self, question: str, n: int, domains: Collection[str] | None = None, prefer: str | None = None
    ) -> list[tuple[IndexedChunk, float]]:
        filters: dict[str, list[str]] = {"classification": self.allowed}
        if domains is not None:
            filters["domain"] = list(domains)
        response = self.client.vector_search_indexes.query_index(
            index_name=self.name,
            columns=list(CHUNK_FIELDS),
            query_text=question,
            query_type="HYBRID",
            num_results=n * 2 if prefer else n,
            filters_json=json.dumps(filters),
        )
        columns = [column.name for column in (response.manifest.columns if response.manifest else None) or []]
        rows = (response.result.data_array if response.result else None) or []
        found = []
        for rank, values in enumerate(rows, start=1):
            record = dict(zip(columns, values, strict=False))
            chunk = IndexedChunk(**{name: record[name] for name in CHUNK_FIELDS})
            # The same preference for a routed domain as the local search gives it.
            score = 1 / (RRF_K + rank) + (ROUTING_BONUS if chunk.domain == prefer else 0.0)
            found.append((chunk, score))
        found.sort(key=lambda item: -item[1])
        return found[:n]
