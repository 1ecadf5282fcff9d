"""Retrieval quality of the knowledge index on a labelled question set: hit ratio at k and MRR.

Indexes ``knowledge/`` with the chunks and vectors the index build writes (``rag_index.chunk_rows``:
the same redaction, chunking and embedding model), then asks every question of
``benchmarks/rag_eval/questions.yaml`` through the guarded retriever, as ``lakehouse ask`` does,
for each search mode. A question is a hit when one of its relevant documents is among the top-k
passages; its reciprocal rank is 1 / the rank of the first passage from a relevant document.

    .venv/bin/python benchmarks/rag_eval.py [--k 5] [--runs 5]

Goal: hit ratio at k=5 of at least 0.9.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from lakehouse.config import load_config
from lakehouse.core.rag.documents import load_documents
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import Redactor
from lakehouse.core.rag.retrieval import LocalSearch, Mode, route
from lakehouse.core.rag.retrieval import retrieve as guarded_retrieve
from lakehouse.resources import base_dir
from lakehouse.spark.rag.index import SCHEMA, chunk_rows, settings_fingerprint

QUESTIONS = Path(__file__).with_name("rag_eval") / "questions.yaml"
COLUMNS = SCHEMA.fieldNames()


def build(rag: Any, redactor: Redactor) -> tuple[list[dict[str, Any]], float]:
    documents = load_documents(base_dir() / rag.documents, rag.domains)
    embedder = local_embedder()
    started = time.perf_counter()
    fingerprint = settings_fingerprint(rag.chunking, dict(rag.identifiers), embedder.name)
    rows = chunk_rows(documents, rag.chunking, redactor, embedder, embedder.name, fingerprint)
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows], time.perf_counter() - started


def evaluate(search: LocalSearch, rag: Any, redactor: Redactor, questions: list[dict[str, Any]], k: int) -> dict:
    hits, reciprocal, latencies = 0, [], []
    for question in questions:
        result = guarded_retrieve(search, rag, redactor, question["question"], k=max(k, 10))
        latencies.append(result.latency_ms)
        ranked = [p.chunk.doc_id for p in result.passages]
        relevant = set(question["relevant"])
        hits += any(doc in relevant for doc in ranked[:k])
        first = next((rank for rank, doc in enumerate(ranked, start=1) if doc in relevant), None)
        reciprocal.append(1 / first if first else 0.0)
    return {
        "hit_ratio": hits / len(questions),
        "mrr": statistics.fmean(reciprocal),
        "median_latency_ms": statistics.median(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="repetitions of the timed parts (median reported)")
    args = parser.parse_args()

    rag = load_config("local").require_pipelines().rag
    redactor = Redactor(rag.identifiers)
    labelled = yaml.safe_load(QUESTIONS.read_text())
    questions, restricted = labelled["questions"], labelled.get("restricted_questions", [])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    builds = [build(rag, redactor) for _ in range(args.runs)]
    rows = builds[0][0]
    build_s = statistics.median(seconds for _, seconds in builds)
    documents = len({row["doc_id"] for row in rows})
    print(
        f"index: {documents} documents, {len(rows)} chunks; redact + chunk + embed in {build_s * 1000:.0f} ms "
        f"(median of {args.runs}; {len(rows) / build_s:.0f} chunks/s)"
    )
    allowed = [row for row in rows if row["classification"] in rag.allowed_classifications]
    routed = [q for q in questions if route(q["question"], rag.routing) is not None]
    right = sum(route(q["question"], rag.routing) == q["domain"] for q in routed)
    print(f"questions: {len(questions)}; routing picked a domain for {len(routed)}, the labelled one for {right}")

    report: dict[Mode, dict[str, float]] = {}
    for mode in ("hybrid", "dense", "bm25"):
        search = LocalSearch.from_rows(allowed, local_embedder(), mode)
        runs = [evaluate(search, rag, redactor, questions, args.k) for _ in range(args.runs)]
        report[mode] = {**runs[0], "median_latency_ms": statistics.median(r["median_latency_ms"] for r in runs)}
        print(
            f"  {mode:<6}  hit ratio@{args.k} {report[mode]['hit_ratio']:.3f}  MRR {report[mode]['mrr']:.3f}  "
            f"median retrieval latency {report[mode]['median_latency_ms']:.1f} ms"
        )
    search = LocalSearch.from_rows(allowed, local_embedder())
    unrouted = evaluate(search, rag.model_copy(update={"routing": {}}), redactor, questions, args.k)
    print(f"  hybrid without domain routing: hit ratio@{args.k} {unrouted['hit_ratio']:.3f}  MRR {unrouted['mrr']:.3f}")
    leaked = [
        (q["id"], passage.chunk.doc_id)
        for q in restricted
        for passage in guarded_retrieve(search, rag, redactor, q["question"], k=rag.max_top_k).passages
        if passage.chunk.doc_id in set(q["relevant"])
    ]
    print(f"restricted questions: {len(restricted)}; passages from their restricted documents returned: {len(leaked)}")
    goal = report["hybrid"]["hit_ratio"] >= 0.9
    print(f"goal hit ratio@{args.k} >= 0.9 (hybrid, the default): {'met' if goal else 'MISSED'}")
    return 0 if goal and not leaked else 1


if __name__ == "__main__":
    sys.exit(main())
