"""The knowledge index: redacted, chunked, embedded documents in one Delta table, upserted
incrementally (only changed documents are re-embedded; removed documents leave the index)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.config.models import Chunking
from lakehouse.core.rag.chunking import chunk_document
from lakehouse.core.rag.documents import KnowledgeDocument
from lakehouse.core.rag.embeddings import Embedder
from lakehouse.core.rag.redaction import Redactor
from lakehouse.core.sql_files import literal
from lakehouse.spark import delta_io

SCHEMA = T.StructType(
    [
        T.StructField("chunk_id", T.StringType(), False),
        T.StructField("doc_id", T.StringType(), False),
        T.StructField("domain", T.StringType(), False),
        T.StructField("title", T.StringType(), False),
        T.StructField("doc_type", T.StringType(), False),
        T.StructField("classification", T.StringType(), False),
        T.StructField("retention", T.StringType(), False),
        T.StructField("owner", T.StringType(), False),
        T.StructField("source_uri", T.StringType(), False),
        T.StructField("section", T.StringType(), False),
        T.StructField("chunk_index", T.IntegerType(), False),
        T.StructField("text", T.StringType(), False),
        T.StructField("redactions", T.MapType(T.StringType(), T.IntegerType()), False),
        # Null where a managed index embeds the text itself (Databricks Vector Search delta-sync).
        T.StructField("embedding", T.ArrayType(T.FloatType()), True),
        T.StructField("embedding_model", T.StringType(), False),
        T.StructField("doc_version", T.StringType(), False),
        T.StructField("indexed_at", T.TimestampType(), False),
    ]
)


def settings_fingerprint(chunking: Chunking, identifiers: dict[str, str], embedding_model: str) -> str:
    """Everything besides a document's bytes that decides its chunks: a change re-indexes them all."""
    settings = {"chunking": chunking.model_dump(), "identifiers": identifiers, "embedding_model": embedding_model}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def doc_version(document: KnowledgeDocument, fingerprint: str) -> str:
    return hashlib.sha256(f"{document.content_hash}:{fingerprint}".encode()).hexdigest()[:32]


def chunk_rows(
    documents: Sequence[KnowledgeDocument],
    chunking: Chunking,
    redactor: Redactor,
    embedder: Embedder | None,
    embedding_model: str,
    fingerprint: str,
) -> list[tuple[Any, ...]]:
    """Rows of ``SCHEMA``: PII is redacted before chunking, so no chunk (and no embedding) sees it."""
    now = datetime.now(UTC).replace(tzinfo=None)
    pending: list[tuple[KnowledgeDocument, int, str, str, dict[str, int]]] = []
    for document in documents:
        title, body = redactor(document.meta.title).text, redactor(document.body).text
        for chunk in chunk_document(title, body, chunking.max_chars, chunking.overlap_chars):
            counts = {label: chunk.text.count(f"[{label}]") for label in redactor.labels}
            pending.append((document, chunk.index, chunk.section, chunk.text, counts))
    vectors = embedder.embed([text for _, _, _, text, _ in pending]) if embedder is not None else None
    rows = []
    for position, (document, index, section, text, counts) in enumerate(pending):
        meta = document.meta
        rows.append(
            (
                f"{document.doc_id}#{index}",
                document.doc_id,
                meta.domain,
                meta.title,
                meta.doc_type,
                meta.classification,
                _iso_duration_days(meta.retention.days),
                meta.owner,
                document.source_uri,
                section,
                index,
                text,
                {label: count for label, count in counts.items() if count},
                vectors[position].tolist() if vectors is not None else None,
                embedding_model,
                doc_version(document, fingerprint),
                now,
            )
        )
    return rows


def _iso_duration_days(days: int) -> str:
    return f"P{days // 365}Y" if days % 365 == 0 else f"P{days}D"


def upsert(
    spark: SparkSession,
    documents: Sequence[KnowledgeDocument],
    location: str,
    *,
    chunking: Chunking,
    redactor: Redactor,
    embedder: Embedder | None,
    embedding_model: str,
) -> dict[str, Any]:
    """Bring the index at ``location`` in line with ``documents`` in one Delta commit (none when
    nothing changed), embedding only new and changed documents."""
    fingerprint = settings_fingerprint(chunking, redactor.identifiers, embedding_model)
    exists = delta_io.exists(spark, location)
    indexed: dict[str, str] = {}
    if exists:
        current = delta_io.read(spark, location).select("doc_id", "doc_version").distinct().collect()
        indexed = {row["doc_id"]: row["doc_version"] for row in current}
    changed = [d for d in documents if indexed.get(d.doc_id) != doc_version(d, fingerprint)]
    removed = sorted(set(indexed) - {d.doc_id for d in documents})
    result: dict[str, Any] = {
        "documents": len(documents),
        "embedded_documents": len(changed),
        "removed_documents": len(removed),
        "unchanged_documents": len(documents) - len(changed),
    }
    if changed or removed:
        rows = chunk_rows(changed, chunking, redactor, embedder, embedding_model, fingerprint)
        frame = spark.createDataFrame(rows, SCHEMA)
        result["embedded_chunks"] = len(rows)
        if not exists:
            # Change data feed lets a Databricks Vector Search delta-sync index follow the table.
            delta_io.save(frame.write.format("delta").option("delta.enableChangeDataFeed", "true"), location)
        else:
            touched = [d.doc_id for d in changed] + removed
            touched_ids = ", ".join(literal(doc_id) for doc_id in touched)
            delta_io.merge(spark, frame, location, "t.chunk_id = s.chunk_id", f"t.doc_id IN ({touched_ids})")
    else:
        result["embedded_chunks"] = 0
    table = delta_io.read(spark, location)
    result["chunks"] = table.count()
    result["redactions"] = {
        row["label"]: int(row["n"])
        for row in table.select(F.explode("redactions").alias("label", "count"))
        .groupBy("label")
        .agg(F.sum("count").alias("n"))
        .collect()
    }
    return result
