"""The knowledge index build: redacted before anything is stored, incremental, idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.rag.documents import load_documents
from lakehouse.core.rag.embeddings import local_embedder
from lakehouse.core.rag.redaction import EMAIL, Redactor
from lakehouse.spark.rag import index as rag_index

RAG = load_config("local").require_pipelines().rag
HEADER = (
    "---\ntitle: {title}\ndomain: {domain}\ndoc_type: runbook\nclassification: internal\nretention: P1Y\n"
    "owner: t\n---\n"
)
PII = re.compile(r"P\d{8}|AC\d{8}|003\d{8}|\d{4} \d{3} \d{3}|\+61")


def _doc(root: Path, domain: str, name: str, body: str) -> None:
    path = root / domain / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(title=name, domain=domain) + body)


def _upsert(spark: SparkSession, root: Path, location: str) -> dict:
    return rag_index.upsert(
        spark,
        load_documents(root, RAG.domains),
        location,
        chunking=RAG.chunking,
        redactor=Redactor(RAG.identifiers),
        embedder=local_embedder(),
        embedding_model=local_embedder().name,
    )


def _version(spark: SparkSession, location: str) -> int:
    return int(spark.sql(f"DESCRIBE HISTORY delta.`{location}`").agg({"version": "max"}).first()[0])


@pytest.mark.slow
def test_index_is_redacted_incremental_and_idempotent(spark: SparkSession, tmp_path: Path) -> None:
    root, location = tmp_path / "knowledge", str(tmp_path / "index")
    long_body = "\n\n".join(f"## Step {n}\n" + f"Replay partition {n} of the service extract. " * 12 for n in range(6))
    _doc(root, "jarvis", "replay.md", long_body)
    _doc(
        root, "pega", "breach.md", "## Escalation\nCall 0412 345 678 or mail jane.citizen@example.com about P00012345."
    )
    _doc(root, "amdm", "postcodes.md", "## Rules\nPostcodes are four digits; state upper case.")

    first = _upsert(spark, root, location)
    assert (first["documents"], first["embedded_documents"], first["removed_documents"]) == (3, 3, 0)
    rows = spark.read.format("delta").load(location).collect()
    assert first["chunks"] == len(rows) > 3
    assert {len(row["embedding"]) for row in rows} == {256}
    for row in rows:
        assert not EMAIL.search(row["text"]) and not PII.search(row["text"]), row["text"]
    (breach,) = [row for row in rows if row["doc_id"] == "pega/breach.md"]
    assert "[PHONE]" in breach["text"] and "[EMAIL]" in breach["text"] and "[CUSTOMER_ID]" in breach["text"]
    assert breach["redactions"] == {"PHONE": 1, "EMAIL": 1, "CUSTOMER_ID": 1}
    assert first["redactions"] == {"PHONE": 1, "EMAIL": 1, "CUSTOMER_ID": 1}

    version = _version(spark, location)
    again = _upsert(spark, root, location)
    assert (again["embedded_documents"], again["embedded_chunks"], again["chunks"]) == (0, 0, first["chunks"])
    assert _version(spark, location) == version, "an unchanged knowledge base must not commit"

    before = {r["chunk_id"]: r["indexed_at"] for r in rows if r["doc_id"] == "jarvis/replay.md"}
    _doc(root, "amdm", "postcodes.md", "## Rules\nPostcodes are four digits.\n\n## New\nSuburbs are title case.")
    (root / "pega" / "breach.md").unlink()
    changed = _upsert(spark, root, location)
    assert (changed["embedded_documents"], changed["removed_documents"], changed["unchanged_documents"]) == (1, 1, 1)
    after = spark.read.format("delta").load(location).collect()
    assert "pega/breach.md" not in {r["doc_id"] for r in after}
    assert {r["chunk_id"]: r["indexed_at"] for r in after if r["doc_id"] == "jarvis/replay.md"} == before
    assert any("Suburbs are title case" in r["text"] for r in after if r["doc_id"] == "amdm/postcodes.md")
    assert _version(spark, location) == version + 1, "one commit per change"
    assert changed["redactions"] == {}


def test_a_settings_change_re_embeds_every_document() -> None:
    a = rag_index.settings_fingerprint(RAG.chunking, dict(RAG.identifiers), "model-a")
    b = rag_index.settings_fingerprint(RAG.chunking, dict(RAG.identifiers), "model-b")
    c = rag_index.settings_fingerprint(
        RAG.chunking.model_copy(update={"max_chars": 500}), dict(RAG.identifiers), "model-a"
    )
    assert len({a, b, c}) == 3
