"""Guarded retrieval over the shipped knowledge base, with the chunks and vectors the index build
writes (no Spark: ``rag_index.chunk_rows`` is what the build stores)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from lakehouse.config import load_config
from lakehouse.core.rag.documents import load_documents
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import EMAIL, Redactor
from lakehouse.core.rag.retrieval import LocalSearch, retrieve, route
from lakehouse.spark.rag.index import SCHEMA, chunk_rows, settings_fingerprint
from tests.conftest import ROOT

RAG = load_config("local").require_pipelines().rag
REDACTOR = Redactor(RAG.identifiers)
# What the redactor's labels stand for, in the shapes the documents use.
RAW_PII = re.compile(
    r"\bP\d{8}\b|\bAC\d{8}\b|\b003\d{8}\b"  # customer, account and contact ids
    r"|\b04\d{2} ?\d{3} ?\d{3}\b|\+61 ?\d|\(0\d\) ?\d{4}|\b0[2378]\d{8}\b"  # mobile, international, landline
)
QUESTIONS = yaml.safe_load((ROOT / "benchmarks" / "rag_eval" / "questions.yaml").read_text())


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    documents = load_documents(ROOT / "knowledge", RAG.domains)
    embedder = local_embedder()
    fingerprint = settings_fingerprint(RAG.chunking, dict(RAG.identifiers), embedder.name)
    built = chunk_rows(documents, RAG.chunking, REDACTOR, embedder, embedder.name, fingerprint)
    return [dict(zip(SCHEMA.fieldNames(), row, strict=True)) for row in built]


@pytest.fixture(scope="module")
def search(rows: list[dict[str, Any]]) -> LocalSearch:
    allowed = [row for row in rows if row["classification"] in RAG.allowed_classifications]
    return LocalSearch.from_rows(allowed, local_embedder())


def test_no_email_phone_or_id_is_in_any_indexed_chunk(rows: list[dict[str, Any]]) -> None:
    raw = (ROOT / "knowledge").rglob("*.md")
    assert sum(bool(EMAIL.search(p.read_text()) or RAW_PII.search(p.read_text())) for p in raw) >= 8
    for row in rows:
        assert not EMAIL.search(row["text"]), row["chunk_id"]
        assert not RAW_PII.search(row["text"]), (row["chunk_id"], RAW_PII.search(row["text"]))
    assert sum(1 for row in rows if row["redactions"]) >= 8


def test_no_pii_in_any_passage_returned_for_the_labelled_questions(search: LocalSearch) -> None:
    for question in QUESTIONS["questions"]:
        for passage in retrieve(search, RAG, REDACTOR, question["question"], k=RAG.max_top_k).passages:
            assert not EMAIL.search(passage.text) and not RAW_PII.search(passage.text), passage.chunk.chunk_id


@pytest.mark.parametrize("question", QUESTIONS["restricted_questions"], ids=lambda q: q["id"])
def test_a_question_about_a_restricted_document_gets_nothing_from_it(search: LocalSearch, question: dict) -> None:
    restricted = set(question["relevant"])
    for domain in (None, question["domain"]):
        result = retrieve(search, RAG, REDACTOR, question["question"], domain=domain, k=RAG.max_top_k)
        assert restricted.isdisjoint(result.doc_ids)
        assert all(p.chunk.classification in RAG.allowed_classifications for p in result.passages)


def test_a_searcher_that_leaks_a_disallowed_chunk_is_still_filtered(rows: list[dict[str, Any]]) -> None:
    leaky = LocalSearch.from_rows(rows, local_embedder())  # loaded without the classification filter
    question = QUESTIONS["restricted_questions"][0]
    result = retrieve(leaky, RAG, REDACTOR, question["question"], k=RAG.max_top_k)
    assert set(question["relevant"]).isdisjoint(result.doc_ids)
    assert "dropped_classification:restricted" in result.safety_flags


def test_answers_cite_documents_and_passages_are_distinct(search: LocalSearch) -> None:
    result = retrieve(search, RAG, REDACTOR, "Which Jarvis service statuses are valid in Silver?")
    assert result.passages and len(result.passages) <= RAG.top_k
    assert result.passages[0].citation.startswith(result.passages[0].chunk.doc_id)
    assert all(p.chunk.source_uri.startswith("file://") for p in result.passages)
    bodies = [p.text.split("\n", 1)[-1] for p in result.passages]
    assert len(set(bodies)) == len(bodies)


def test_duplicate_documents_yield_one_passage(rows: list[dict[str, Any]]) -> None:
    allowed = [row for row in rows if row["classification"] in RAG.allowed_classifications]
    copies = [{**row, "chunk_id": "copy/" + row["chunk_id"], "doc_id": "copy/" + row["doc_id"]} for row in allowed]
    doubled = LocalSearch.from_rows(allowed + copies, local_embedder())
    result = retrieve(doubled, RAG, REDACTOR, "How are Pega case SLA breaches counted?", k=RAG.max_top_k)
    bodies = [p.text.split("\n", 1)[-1] for p in result.passages]
    assert len(set(bodies)) == len(bodies) == len(result.passages)


def test_top_k_is_capped_and_flagged(search: LocalSearch) -> None:
    result = retrieve(search, RAG, REDACTOR, "retention of data", k=RAG.max_top_k + 20)
    assert result.k == RAG.max_top_k and len(result.passages) <= RAG.max_top_k
    assert f"top_k_capped:{RAG.max_top_k + 20}->{RAG.max_top_k}" in result.safety_flags


def test_pii_in_a_question_is_redacted_before_search_and_flagged(search: LocalSearch) -> None:
    result = retrieve(search, RAG, REDACTOR, "Why was customer P00012345 (jane@example.com) quarantined?")
    assert result.question == "Why was customer [CUSTOMER_ID] ([EMAIL]) quarantined?"
    assert "pii_in_question" in result.safety_flags


def test_pii_that_reaches_a_passage_is_redacted_on_the_way_out(rows: list[dict[str, Any]]) -> None:
    row = {**rows[0], "text": rows[0]["text"] + "\nEscalate to jane.citizen@example.com on 0412 345 678."}
    result = retrieve(LocalSearch.from_rows([row], local_embedder()), RAG, REDACTOR, "escalate", k=1)
    assert "[EMAIL]" in result.passages[0].text and "[PHONE]" in result.passages[0].text
    assert "redacted_output" in result.safety_flags


def test_routing_words_pick_a_domain() -> None:
    routing = {"crm": ("customer", "Email"), "billing": ("invoice", "payment", "refund")}
    assert route("Why was this invoice not paid?", routing) == "billing"
    assert route("customer email bounced", routing) == "crm"
    assert route("the customer's invoice", routing) is None  # a tie prefers nobody
    assert route("what is the retention period", routing) is None
    assert route("The EMAIL of the invoice's customer", routing) == "crm"  # two words to one, any case


def test_a_routed_question_searches_its_domain_and_an_explicit_domain_restricts(search: LocalSearch) -> None:
    """Over the shipped knowledge base, with a routing word of the shipped pipelines.yaml."""
    domain, word = next(
        (domain, word)
        for domain, words in RAG.routing.items()
        for word in words
        if route(f"how is {word} handled", RAG.routing) == domain
    )
    routed = retrieve(search, RAG, REDACTOR, f"How is {word} handled?")
    assert (routed.domain, routed.routed) == (domain, True)
    other = next(name for name in RAG.domains if name != domain)
    restricted = retrieve(search, RAG, REDACTOR, "What is the retention period?", domain=other, k=10)
    assert {p.chunk.domain for p in restricted.passages} == {other}
    with pytest.raises(ValueError, match="unknown domain 'genesys'"):
        retrieve(search, RAG, REDACTOR, "x", domain="genesys")


def test_the_labelled_questions_meet_the_hit_ratio_goal(search: LocalSearch) -> None:
    """The goal: retrieval hit ratio at least 0.9 at k=5 (benchmarks/rag_eval.py reports MRR too)."""
    questions = QUESTIONS["questions"]
    assert len(questions) >= 40
    hits = sum(
        bool(set(q["relevant"]) & set(retrieve(search, RAG, REDACTOR, q["question"], k=5).doc_ids)) for q in questions
    )
    assert hits / len(questions) >= 0.9


def test_a_model_mismatch_asks_for_a_rebuild(rows: list[dict[str, Any]]) -> None:
    stale = [{**rows[0], "embedding_model": "old"}]
    with pytest.raises(ValueError, match="embedded with old, not wordllama"):
        LocalSearch.from_rows(stale, local_embedder())
