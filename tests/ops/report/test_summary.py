"""The run summary a person reads at the end of ``lakehouse run``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lakehouse.config import load_config
from lakehouse.ops.report.summary import read_run_log, render
from lakehouse.ops.run import DagRunResult
from tests.conftest import ConfigCopy

RECORDS = [
    {
        "stage": "bronze",
        "logical_date": "2026-03-01",
        "arguments": {"system": "crm", "entity": "customer"},
        "seconds": 2.0,
        "result": {"lines": 103, "bronze_rows": 100, "quarantined": 3},
    },
    {
        "stage": "silver",
        "logical_date": "2026-03-01",
        "arguments": {"system": "crm", "entity": "customer"},
        "seconds": 3.5,
        "result": {
            "bronze_rows": 100,
            "silver_rows": 98,
            "quarantined": 2,
            "quarantine_reasons": {"dq: country_in_set": 2},
            "dq": {
                "rows": 100,
                "passed": 98,
                "pass_rate": 0.98,
                "rules": {
                    "country_in_set": {"action": "quarantine", "failed": 2},
                    "email_regex": {"action": "warn", "failed": 0},
                },
            },
        },
    },
    {
        "stage": "smoke_checks",
        "logical_date": "2026-03-01",
        "arguments": {},
        "seconds": 1.0,
        "result": {
            "row_counts": {"dim_customer": 98},
            "orphans": {"fact_invoice.customer_id has a customer": {"orphans": 2, "checked": 100}},
        },
    },
    {
        "stage": "rag_index",
        "logical_date": "2026-03-01",
        "arguments": {"domains": "crm"},
        "seconds": 2.0,
        "result": {"documents": 25, "embedded_documents": 25, "chunks": 160, "redactions": {"EMAIL": 9, "PHONE": 4}},
    },
]


def test_summary_shows_tables_quarantine_dq_smoke_index_and_time(project: ConfigCopy) -> None:
    config = load_config("local")
    results = [
        DagRunResult("lakehouse_ingest_crm", date(2026, 3, 1), "success", 10.0),
        DagRunResult("lakehouse_gold", date(2026, 3, 1), "failed", 5.0, ["smoke_checks"]),
    ]
    text = render(config, results, RECORDS, {"t_raw.crm.customer_bronze": 100}, Path("/wh"), 15.2)
    lines = text.splitlines()
    assert lines[0] == "Lakehouse run, environment 'local', 2026-03-01 to 2026-03-01: 2 DAG runs, 1 FAILED, 15s"
    assert not any(line.startswith("Not run") for line in lines)
    assert (
        "Knowledge index: 25 documents in 160 chunks (25 document embeddings computed over 1 run(s)); "
        "PII redacted: EMAIL 9, PHONE 4"
    ) in lines
    assert any(line.split()[:2] == ["rag", "t_ai.knowledge.document_chunks"] for line in lines)
    assert "Tables (Delta, under /wh)" in lines
    assert any(line.split() == ["bronze", "t_raw.crm.customer_bronze", "100"] for line in lines)
    assert any(line.split() == ["silver", "t_curated.crm.customer_silver", "-"] for line in lines)
    assert any(line.split()[:3] == ["crm", "customer", "silver:"] and line.split()[-1] == "2" for line in lines)
    assert any(line.split()[:3] == ["crm", "customer", "bronze:"] and line.split()[-1] == "3" for line in lines)
    assert any(line.split()[:5] == ["crm.customer", "2026-03-01", "100", "98.00%", "90%"] for line in lines)
    assert "  orphans: fact_invoice.customer_id has a customer: 2 of 100" in lines
    assert any(line.split() == ["silver", "3.5s"] for line in lines)
    assert "  lakehouse_gold 2026-03-01: smoke_checks" in lines
    assert not any("health page" in line for line in lines)


def test_summary_links_to_the_health_page(project: ConfigCopy, tmp_path: Path) -> None:
    results = [DagRunResult("lakehouse_ingest_crm", date(2026, 3, 1), "success", 10.0)]
    page = tmp_path / "_reports" / "health.html"
    text = render(load_config("local"), results, RECORDS, {}, tmp_path, 1.0, page)
    assert f"Lakehouse health page (freshness, row counts, DQ over time): {page.as_uri()}" in text.splitlines()[:4]


def test_run_log_is_read_from_where_this_run_started(tmp_path: Path) -> None:
    log = tmp_path / "stages.jsonl"
    log.write_text('{"stage": "old"}\n')
    offset = log.stat().st_size
    with log.open("a") as handle:
        handle.write('{"stage": "new"}\n')
    assert read_run_log(log, offset) == [{"stage": "new"}]
    assert read_run_log(tmp_path / "missing.jsonl", 0) == []
