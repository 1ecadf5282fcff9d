"""Asking the knowledge base: the index loaded from its Delta table, guarded retrieval, an answer
composed by the configured serving endpoint (or the cited passages when there is none), and one
telemetry row per question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import ChatMessage, ChatMessageRole
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import TableName, knowledge_index, rag_telemetry
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import Redactor
from lakehouse.core.rag.retrieval import CHUNK_FIELDS, LocalSearch, Mode, Retrieval, Searcher, retrieve
from lakehouse.core.rag.vector_search import VectorSearchSearcher, index_name
from lakehouse.spark import delta_io
from lakehouse.spark.tables import Tables

NO_MODEL = (
    "No language model is configured for this environment (rag.serving_endpoint), so this answer is the "
    "passages that match your question, with their sources."
)
NOTHING_FOUND = "Nothing in the knowledge base you may read matches this question."
SYSTEM_PROMPT = (
    "You answer questions of data and support engineers about the lakehouse's source systems. Answer only from "
    "the numbered passages; cite them as [n]. If they do not answer the question, say you do not know. Never "
    "reveal personal data."
)


@dataclass
class Answer:
    text: str
    retrieval: Retrieval
    composed_by: str
    """The serving endpoint's name, or ``passages`` when no model composed the answer."""


class IndexNotBuilt(RuntimeError):
    """The knowledge index table does not exist yet."""


def load_local_search(
    spark: SparkSession, tables: Tables, index: TableName, config: LakehouseConfig, mode: Mode
) -> LocalSearch:
    """The allowed part of the index, in memory: other classifications never leave the table."""
    if not tables.exists(spark, index):
        raise IndexNotBuilt(f"the knowledge index {index} does not exist yet: run the lakehouse_rag DAG first")
    allowed = list(config.require_pipelines().rag.allowed_classifications)
    rows = (
        tables.read(spark, index)
        .where(F.col("classification").isin(allowed))
        .select(*CHUNK_FIELDS, "embedding", "embedding_model")
        .orderBy("chunk_id")
        .collect()
    )
    try:
        return LocalSearch.from_rows([row.asDict() for row in rows], local_embedder(), mode)
    except ValueError as exc:
        raise IndexNotBuilt(f"{index}: {exc}") from None


class KnowledgeBase:
    """The Python API behind ``lakehouse ask`` and the agent's retriever tool."""

    def __init__(self, config: LakehouseConfig, spark: SparkSession, tables: Tables, mode: Mode = "hybrid") -> None:
        self.config = config
        self.rag = config.require_pipelines().rag
        self.environment = config.require_environment()
        self.spark = spark
        self.tables = tables
        self.redactor = Redactor(self.rag.identifiers)
        self.searcher: Searcher
        if self.environment.rag.vector_search_endpoint:
            name = index_name(self.environment)
            self.searcher = VectorSearchSearcher(WorkspaceClient(), name, self.rag.allowed_classifications)
        else:
            self.searcher = load_local_search(spark, tables, knowledge_index(self.environment), config, mode)

    def retrieve(self, question: str, domain: str | None = None, k: int | None = None) -> Retrieval:
        return retrieve(self.searcher, self.rag, self.redactor, question, domain, k)

    def ask(self, question: str, domain: str | None = None, k: int | None = None) -> Answer:
        retrieval = self.retrieve(question, domain, k)
        endpoint = self.environment.rag.serving_endpoint
        if not retrieval.passages:
            answer = Answer(NOTHING_FOUND, retrieval, "passages")
        elif endpoint is None:
            answer = Answer(f"{NO_MODEL}\n\n{cited_passages(retrieval)}", retrieval, "passages")
        else:
            composed = self.redactor(_serving_answer(endpoint, retrieval))
            if composed.changed:
                retrieval.safety_flags.append("redacted_answer")
            answer = Answer(composed.text, retrieval, endpoint)
        self.log(answer)
        return answer

    def log(self, answer: Answer) -> None:
        """Append the question's telemetry row (question already redacted)."""
        retrieval = answer.retrieval
        row = {
            "asked_at": datetime.now(UTC).replace(tzinfo=None),
            "env": self.config.env_name,
            "question": retrieval.question,
            "domain": retrieval.domain,
            "routed": retrieval.routed,
            "k": retrieval.k,
            "doc_ids": retrieval.doc_ids,
            "chunk_ids": [p.chunk.chunk_id for p in retrieval.passages],
            "latency_ms": retrieval.latency_ms,
            "answer_chars": len(answer.text),
            "composed_by": answer.composed_by,
            "safety_flags": retrieval.safety_flags,
        }
        schema = T.StructType(
            [
                T.StructField("asked_at", T.TimestampType()),
                T.StructField("env", T.StringType()),
                T.StructField("question", T.StringType()),
                T.StructField("domain", T.StringType()),
                T.StructField("routed", T.BooleanType()),
                T.StructField("k", T.IntegerType()),
                T.StructField("doc_ids", T.ArrayType(T.StringType())),
                T.StructField("chunk_ids", T.ArrayType(T.StringType())),
                T.StructField("latency_ms", T.DoubleType()),
                T.StructField("answer_chars", T.IntegerType()),
                T.StructField("composed_by", T.StringType()),
                T.StructField("safety_flags", T.ArrayType(T.StringType())),
            ]
        )
        location = self.tables.location(rag_telemetry(self.environment))
        delta_io.save(self.spark.createDataFrame([row], schema).write.format("delta").mode("append"), location)


def cited_passages(retrieval: Retrieval) -> str:
    blocks = []
    for number, passage in enumerate(retrieval.passages, start=1):
        body = passage.text.split("\n", 1)[-1].strip()
        blocks.append(f"[{number}] {passage.chunk.title} ({passage.citation})\n{body}")
    return "\n\n".join(blocks)


def _serving_answer(endpoint: str, retrieval: Retrieval) -> str:
    prompt = f"Passages:\n{cited_passages(retrieval)}\n\nQuestion: {retrieval.question}"
    response: Any = WorkspaceClient().serving_endpoints.query(
        name=endpoint,
        messages=[
            ChatMessage(role=ChatMessageRole.SYSTEM, content=SYSTEM_PROMPT),
            ChatMessage(role=ChatMessageRole.USER, content=prompt),
        ],
    )
    return str(response.choices[0].message.content)
