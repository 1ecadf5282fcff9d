"""``lakehouse ask``: a question to the knowledge base of a local environment, answered with the
cited passages (and a composed answer where a serving endpoint is configured)."""

from __future__ import annotations

import json
import sys
from typing import Any

from lakehouse.core import locations
from lakehouse.ops.environment import local_config
from lakehouse.spark.main import session_for
from lakehouse.spark.rag.knowledge_base import Answer, IndexNotBuilt, KnowledgeBase
from lakehouse.spark.tables import Tables


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


def ask_command(env: str | None, question: str, domain: str | None, k: int | None, as_json: bool) -> int:
    config, environment = local_config(env, "lakehouse ask")
    spark = session_for(config.env_name)
    try:
        knowledge = KnowledgeBase(config, spark, Tables(locations.warehouse_root(environment)))
        answer = knowledge.ask(question, domain=domain, k=k)
    except (IndexNotBuilt, ValueError) as exc:
        print(f"lakehouse ask: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(as_document(answer), indent=2) if as_json else as_text(answer))
    return 0
