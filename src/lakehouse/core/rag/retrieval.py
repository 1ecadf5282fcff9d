"""Guarded retrieval over the knowledge index: domain routing, classification allow-list, a cap on
top-k, de-duplicated passages with citations, and PII redaction of what goes out.

``LocalSearch`` is the serverless vector search of the local target: dense cosine similarity over
the chunk embeddings fused with BM25 (exact terms such as column names and status codes that static
embeddings blur) by reciprocal rank fusion. It holds the index in memory; a knowledge base of a few
thousand chunks takes a few megabytes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import bm25s
import numpy as np
import Stemmer

from lakehouse.config.models import Rag
from lakehouse.core.rag.embeddings import Embedder, Vectors
from lakehouse.core.rag.redaction import Redactor

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
"""Reciprocal rank fusion constant; 60 is the value of the original paper and rarely worth tuning."""
ROUTING_BONUS = 0.5 / (RRF_K + 1)
"""What a routed domain adds to its chunks' fused score: half the vote of a ranker that put them
first. It re-orders close calls without overriding strong evidence from another domain."""
DUPLICATE_SIMILARITY = 0.97


@dataclass(frozen=True)
class IndexedChunk:
    chunk_id: str
    doc_id: str
    domain: str
    title: str
    section: str
    classification: str
    source_uri: str
    text: str


CHUNK_FIELDS = tuple(IndexedChunk.__dataclass_fields__)


@dataclass(frozen=True)
class Passage:
    chunk: IndexedChunk
    score: float
    text: str
    """The chunk's text as returned: redacted again on the way out."""

    @property
    def citation(self) -> str:
        return f"{self.chunk.doc_id}" + (f" > {self.chunk.section}" if self.chunk.section else "")


@dataclass
class Retrieval:
    question: str
    """Redacted: this is what is searched for and logged."""
    domain: str | None
    routed: bool
    """True when the domain was inferred from the question's words rather than given."""
    k: int
    passages: list[Passage]
    safety_flags: list[str] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def doc_ids(self) -> list[str]:
        return list(dict.fromkeys(p.chunk.doc_id for p in self.passages))


class Searcher(Protocol):
    def search(
        self, question: str, n: int, domains: Collection[str] | None, prefer: str | None
    ) -> list[tuple[IndexedChunk, float]]:
        """Up to ``n`` chunks of the allowed classifications, best first."""
        ...


def route(question: str, routing: Mapping[str, Sequence[str]]) -> str | None:
    """The domain whose routing words the question uses most; ``None`` when none or a tie."""
    words = set(re.findall(r"[a-z0-9]+", question.lower()))
    hits = {domain: len(words & {w.lower() for w in vocabulary}) for domain, vocabulary in routing.items()}
    best = max(hits.values(), default=0)
    winners = [domain for domain, count in hits.items() if count == best]
    return winners[0] if best and len(winners) == 1 else None


# bm25s sets its logger to DEBUG on import, which floods any handler that lets DEBUG through.
logging.getLogger("bm25s").setLevel(logging.WARNING)


# Snowball stems, so that "replay", "replays" and "replaying" are one term to BM25.
_STEMMER = Stemmer.Stemmer("english")


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


class LocalSearch:
    def __init__(self, chunks: Sequence[IndexedChunk], vectors: Vectors, embedder: Embedder, mode: Mode = "hybrid"):
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        self.chunks = list(chunks)
        self.vectors = vectors
        self.embedder = embedder
        self.mode = mode
        self._domains = np.array([c.domain for c in self.chunks])
        self._bm25 = bm25s.BM25()
        if self.chunks:
            self._bm25.index(_tokens([c.text for c in self.chunks]), show_progress=False)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], embedder: Embedder, mode: Mode = "hybrid") -> LocalSearch:
        """From rows of the index table (as dicts); all rows must carry this embedder's vectors."""
        models = {row["embedding_model"] for row in rows} - {embedder.name}
        if models:
            raise ValueError(
                f"the index was embedded with {', '.join(sorted(models))}, not {embedder.name}: rebuild it"
            )
        chunks = [IndexedChunk(**{name: row[name] for name in CHUNK_FIELDS}) for row in rows]
        vectors = np.array([row["embedding"] for row in rows], dtype=np.float32).reshape(len(rows), -1)
        return cls(chunks, vectors, embedder, mode)

    def search(
        self, question: str, n: int, domains: Collection[str] | None = None, prefer: str | None = None
    ) -> list[tuple[IndexedChunk, float]]:
        if not self.chunks:
            return []
        fused = np.zeros(len(self.chunks))
        if self.mode in ("hybrid", "dense"):
            fused += _rrf(self.vectors @ self.embedder.embed([question])[0])
        if self.mode in ("hybrid", "bm25"):
            query = _tokens([question])[0]
            if query:
                fused += _rrf(self._bm25.get_scores(query))
        if prefer is not None:
            fused += ROUTING_BONUS * (self._domains == prefer)
        if domains is not None:
            fused[~np.isin(self._domains, list(domains))] = -np.inf
        order = [int(i) for i in np.argsort(-fused, kind="stable") if np.isfinite(fused[i])]
        return _distinct([(i, float(fused[i])) for i in order], self.chunks, self.vectors, n)


def _rrf(scores: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(scores))
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (RRF_K + ranks)


def _distinct(
    ranked: list[tuple[int, float]], chunks: Sequence[IndexedChunk], vectors: Vectors, n: int
) -> list[tuple[IndexedChunk, float]]:
    """The first ``n`` chunks that do not repeat one already taken (the same text in two documents,
    or nearly)."""
    taken: list[int] = []
    seen_text: set[str] = set()
    result: list[tuple[IndexedChunk, float]] = []
    for index, score in ranked:
        if len(result) == n:
            break
        body = " ".join(chunks[index].text.split("\n", 1)[-1].lower().split())
        if body in seen_text or (taken and float(np.max(vectors[taken] @ vectors[index])) >= DUPLICATE_SIMILARITY):
            continue
        taken.append(index)
        seen_text.add(body)
        result.append((chunks[index], score))
    return result


def retrieve(
    searcher: Searcher,
    rag: Rag,
    redactor: Redactor,
    question: str,
    domain: str | None = None,
    k: int | None = None,
) -> Retrieval:
    """Search with every guardrail of the config applied; ``domain`` given restricts the search to it,
    a domain routed from the question's words only makes its documents preferred."""
    started = time.perf_counter()
    flags: list[str] = []
    cleaned = redactor(question)
    if cleaned.changed:
        flags.append("pii_in_question")
    wanted = k or rag.top_k
    if wanted > rag.max_top_k:
        flags.append(f"top_k_capped:{wanted}->{rag.max_top_k}")
    wanted = max(1, min(wanted, rag.max_top_k))
    if domain is not None and domain not in rag.domains:
        raise ValueError(f"unknown domain '{domain}'; known: {', '.join(rag.domains)}")
    routed = route(cleaned.text, rag.routing) if domain is None else None
    found = searcher.search(cleaned.text, wanted, [domain] if domain else None, routed)
    passages: list[Passage] = []
    for chunk, score in found:
        if chunk.classification not in rag.allowed_classifications:
            # The searcher filters already; this holds even for one that does not.
            flags.append(f"dropped_classification:{chunk.classification}")
            continue
        out = redactor(chunk.text)
        if out.changed:
            flags.append("redacted_output")
        passages.append(Passage(chunk, score, out.text))
    return Retrieval(
        question=cleaned.text,
        domain=domain or routed,
        routed=routed is not None,
        k=wanted,
        passages=passages,
        safety_flags=sorted(set(flags)),
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
    )
