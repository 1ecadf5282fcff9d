"""Asking the knowledge base, whatever holds the index: guarded retrieval, an answer composed by a
model (or the cited passages when there is none), and one telemetry row per question.

Where the index comes from and where the row goes are given: a Spark session in the stages and on
Databricks (``lakehouse.spark.rag.knowledge_base``), the Delta files read directly by ``lakehouse
ask`` on a laptop (``lakehouse.ops.ask``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import TableName
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import Redactor
from lakehouse.core.rag.retrieval import CHUNK_FIELDS, LocalSearch, Mode, Retrieval, Searcher, retrieve

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
INDEX_COLUMNS = (*CHUNK_FIELDS, "embedding", "embedding_model")
"""What a local search reads of the index table."""

FieldType = Literal["timestamp", "string", "boolean", "int", "double", "array<string>"]
TELEMETRY_FIELDS: tuple[tuple[str, FieldType], ...] = (
    ("asked_at", "timestamp"),
    ("env", "string"),
    ("question", "string"),
    ("domain", "string"),
    ("routed", "boolean"),
    ("k", "int"),
    ("doc_ids", "array<string>"),
    ("chunk_ids", "array<string>"),
    ("latency_ms", "double"),
    ("answer_chars", "int"),
    ("composed_by", "string"),
    ("safety_flags", "array<string>"),
)
"""The telemetry table's columns: one schema, whichever engine appends the row."""


@dataclass
class Answer:
    text: str
    retrieval: Retrieval
    composed_by: str
    """The serving endpoint's name, or ``passages`` when no model composed the answer."""


class IndexNotBuilt(RuntimeError):
    """The knowledge index table does not exist yet."""


Composer = Callable[[str, Retrieval], str]
"""Given the serving endpoint and the retrieval, the model's answer."""


def local_search(rows: Sequence[Mapping[str, Any]], index: TableName, mode: Mode = "hybrid") -> LocalSearch:
    """A search over the index rows (``INDEX_COLUMNS``, allowed classifications only), embedded by
    the packaged model."""
    try:
        return LocalSearch.from_rows(rows, local_embedder(), mode)
    except ValueError as exc:
        raise IndexNotBuilt(f"{index}: {exc}") from None


def index_not_built(index: TableName) -> IndexNotBuilt:
    return IndexNotBuilt(f"the knowledge index {index} does not exist yet: run the lakehouse_rag DAG first")


class KnowledgeBase:
    """The Python API behind ``lakehouse ask`` and the agent's retriever tool."""

    def __init__(
        self,
        config: LakehouseConfig,
        searcher: Searcher,
        log: Callable[[dict[str, Any]], None],
        compose: Composer | None = None,
    ) -> None:
        self.config = config
        self.rag = config.require_pipelines().rag
        self.environment = config.require_environment()
        self.redactor = Redactor(self.rag.identifiers)
        self.searcher = searcher
        self._log = log
        self._compose = compose

    def retrieve(self, question: str, domain: str | None = None, k: int | None = None) -> Retrieval:
        return retrieve(self.searcher, self.rag, self.redactor, question, domain, k)

    def ask(self, question: str, domain: str | None = None, k: int | None = None) -> Answer:
        retrieval = self.retrieve(question, domain, k)
        endpoint = self.environment.rag.serving_endpoint
        if not retrieval.passages:
            answer = Answer(NOTHING_FOUND, retrieval, "passages")
        elif endpoint is None or self._compose is None:
            answer = Answer(f"{NO_MODEL}\n\n{cited_passages(retrieval)}", retrieval, "passages")
        else:
            composed = self.redactor(self._compose(endpoint, retrieval))
            if composed.changed:
                retrieval.safety_flags.append("redacted_answer")
            answer = Answer(composed.text, retrieval, endpoint)
        self._log(telemetry_row(self.config.env_name, answer))
        return answer


def telemetry_row(env_name: str, answer: Answer) -> dict[str, Any]:
    """The question's telemetry row (``TELEMETRY_FIELDS``; the question already redacted)."""
    retrieval = answer.retrieval
    return {
        "asked_at": datetime.now(UTC).replace(tzinfo=None),
        "env": env_name,
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


def cited_passages(retrieval: Retrieval) -> str:
    blocks = []
    for number, passage in enumerate(retrieval.passages, start=1):
        body = passage.text.split("\n", 1)[-1].strip()
        blocks.append(f"[{number}] {passage.chunk.title} ({passage.citation})\n{body}")
    return "\n\n".join(blocks)


def prompt(retrieval: Retrieval) -> str:
    """The user message a serving endpoint gets (``SYSTEM_PROMPT`` is the system message)."""
    return f"Passages:\n{cited_passages(retrieval)}\n\nQuestion: {retrieval.question}"
