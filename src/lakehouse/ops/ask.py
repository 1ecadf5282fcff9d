"""``lakehouse ask``: a question to the knowledge base of a local environment, answered with the
cited passages (and a composed answer where a serving endpoint is configured).

Without endpoints (the laptop case) the index is read and the question logged straight from the
Delta files (``ops.delta_files``): no JVM, no Spark import (1.1-1.4 s a question
in all, ``benchmarks/ask_time.py``, against 16-19 s through Spark). An environment
that names a Vector Search or serving endpoint goes through Spark and databricks-sdk, as the agent
does."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import locations
from lakehouse.core.naming import knowledge_index, rag_telemetry
from lakehouse.core.rag import answers
from lakehouse.core.rag.answers import INDEX_COLUMNS, TELEMETRY_FIELDS, Answer, IndexNotBuilt, KnowledgeBase
from lakehouse.ops import delta_files
from lakehouse.ops.environment import local_config


def as_document(answer: Answer) -> dict[str, Any]:
    retrieval = answer.retrieval
    passages = [
        {"citation": p.citation, "doc_id": p.chunk.doc_id, "domain": p.chunk.domain, "score": p.score, "text": p.text}
        for p in retrieval.passages
    ]
    return {
        "answer": answer.text,
        "composed_by": answer.composed_by,
        "domain": retrieval.domain,
        "routed": retrieval.routed,
        "passages": passages,
        "safety_flags": retrieval.safety_flags,
        "latency_ms": retrieval.latency_ms,
    }


def as_text(answer: Answer) -> str:
    retrieval = answer.retrieval
    how = f"routed to {retrieval.domain}" if retrieval.routed else (retrieval.domain or "all domains")
    lines = [answer.text, "", f"Sources ({how}; {retrieval.latency_ms:.0f} ms):"]
    for number, passage in enumerate(retrieval.passages, start=1):
        lines.append(f"  [{number}] {passage.citation}  ({passage.chunk.classification}, {passage.chunk.source_uri})")
    if retrieval.safety_flags:
        lines.append(f"Safety flags: {', '.join(retrieval.safety_flags)}")
    return "\n".join(lines)


def files_knowledge_base(config: LakehouseConfig, environment: LocalEnvironment) -> KnowledgeBase:
    """The knowledge base of a local environment without endpoints, over its Delta files."""
    warehouse = locations.warehouse_root(environment)
    index = knowledge_index(environment)
    allowed = config.require_pipelines().rag.allowed_classifications
    rows = delta_files.read_rows(
        locations.table_folder(warehouse, index), INDEX_COLUMNS, ("classification", allowed), "chunk_id"
    )
    if rows is None:
        raise answers.index_not_built(index)
    telemetry = locations.table_folder(warehouse, rag_telemetry(environment))
    return KnowledgeBase(
        config, answers.local_search(rows, index), lambda row: delta_files.append_row(telemetry, row, TELEMETRY_FIELDS)
    )


SPARK_KNOWLEDGE_BASE = "lakehouse.spark.rag.knowledge_base:local_knowledge_base"
"""The Spark path, for an environment with a search or serving endpoint. Loaded by name, as the
stage registry's runners are: Spark and databricks-sdk take about 3 s to import, which the common
case (no endpoint) must not pay."""


def spark_knowledge_base(config: LakehouseConfig, environment: LocalEnvironment) -> KnowledgeBase:
    module, _, name = SPARK_KNOWLEDGE_BASE.partition(":")
    build: Callable[[LakehouseConfig, LocalEnvironment], KnowledgeBase] = getattr(import_module(module), name)
    return build(config, environment)


def ask_command(env: str | None, question: str, domain: str | None, k: int | None, as_json: bool) -> int:
    config, environment = local_config(env, "lakehouse ask")
    endpoints = environment.rag.vector_search_endpoint or environment.rag.serving_endpoint
    try:
        knowledge = (spark_knowledge_base if endpoints else files_knowledge_base)(config, environment)
        answer = knowledge.ask(question, domain=domain, k=k)
    except (IndexNotBuilt, ValueError) as exc:
        print(f"lakehouse ask: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(as_document(answer), indent=2) if as_json else as_text(answer))
    return 0
