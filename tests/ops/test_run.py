"""End to end: generated landing data through every DAG, run by Airflow, into Gold."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse import cli
from lakehouse.config import load_config
from lakehouse.core.naming import (
    bronze_table,
    gold_table,
    quarantine_table,
    run_metrics_table,
    silver_table,
    xref_table,
)
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.ops.report.summary import table_inventory
from lakehouse.spark.silver_rules import rule_name
from lakehouse.spark.tables import Tables
from tests.conftest import ROOT

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]
ROWS = 500


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path, spark: SparkSession) -> dict[str, Any]:
    from lakehouse.ops.run import run_all, shared_spark

    root = tmp_path_factory.mktemp("e2e")
    patch = pytest.MonkeyPatch()
    patch.setenv("LAKEHOUSE_LANDING_ROOT", str(root / "landing"))
    patch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(root / "warehouse"))
    patch.setenv("LAKEHOUSE_ENV", "local")
    config = load_config("local")
    manifest = write_demo_data(dict(config.systems), root / "landing", ROWS, 21, DAYS[0])
    # As `lakehouse run` does by default: two lanes, clients of one Spark Connect server.
    with shared_spark(config.require_local("test"), root / "spark-connect.log") as remote:
        results = run_all(config, DAYS, progress=lambda line: None, lanes=2, spark_remote=remote)
    yield {"config": config, "manifest": manifest, "results": results, "tables": Tables(root / "warehouse")}
    patch.undo()


def _read(spark: SparkSession, lake: dict[str, Any], name):
    return lake["tables"].read(spark, name)


def _gold(lake: dict[str, Any], name: str):
    config = lake["config"]
    (table,) = [t for t in config.require_pipelines().gold.tables if t.name == name]
    return gold_table(config.require_environment(), table)


def _entity_days(config: Any) -> set[tuple[str, str, str]]:
    """Every entity of every system on every date of the run."""
    return {
        (name, entity, day.isoformat()) for name, s in config.systems.items() for entity in s.entities for day in DAYS
    }


@pytest.mark.slow
def test_every_dag_run_succeeds_in_scheduling_order(lakehouse: dict[str, Any]) -> None:
    runs = [(r.dag_id, r.logical_date.isoformat(), r.state) for r in lakehouse["results"]]
    ingest = [f"lakehouse_ingest_{s}" for s in lakehouse["config"].systems]
    order = [*ingest, "lakehouse_gold", "lakehouse_rag"]
    expected = [(dag_id, day.isoformat(), "success") for day in DAYS for dag_id in order]
    # 2026-03-01 is a Sunday: the weekly maintenance runs after that date's data is in.
    expected.insert(len(order), ("lakehouse_maintenance", "2026-03-01", "success"))
    assert runs == expected


@pytest.mark.slow
def test_a_dates_ingest_dags_run_side_by_side_and_gold_after_them(lakehouse: dict[str, Any]) -> None:
    results = lakehouse["results"]
    for day in DAYS:
        ingest = sorted(
            (r.started, r.started + r.seconds) for r in results if r.logical_date == day and "_ingest_" in r.dag_id
        )
        assert len(ingest) == len(lakehouse["config"].systems)
        assert any(start < end for (_, end), (start, _) in itertools.pairwise(ingest)), ingest
        (gold,) = [r for r in results if r.logical_date == day and r.dag_id == "lakehouse_gold"]
        assert gold.started >= max(end for _, end in ingest) - 0.5  # rounding of the run times


def test_batches_put_a_dates_ingest_dags_side_by_side_the_largest_first(project: Any) -> None:
    from lakehouse.ops.run import _batches, plan

    config = load_config("local")
    days = [date(2026, 3, 7), date(2026, 3, 8)]  # Saturday, Sunday

    batches = _batches(plan(config, days), config)

    ingest = [f"lakehouse_ingest_{name}" for name in config.systems]
    assert [len(batch) for batch in batches] == [len(ingest), 1, 1, len(ingest), 1, 1, 1]
    for day, batch in zip(days, (batches[0], batches[3]), strict=True):
        assert {dag_id for dag_id, _ in batch} == set(ingest) and {d for _, d in batch} == {day}
        sizes = [len(config.systems[dag_id.removeprefix("lakehouse_ingest_")].entities) for dag_id, _ in batch]
        assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]


@pytest.mark.slow
def test_bronze_rows_in_equal_silver_rows_plus_quarantined_for_every_run(lakehouse: dict[str, Any]) -> None:
    log = [json.loads(line) for line in lakehouse["tables"].run_log().read_text().splitlines()]
    bronze = {
        (r["arguments"]["system"], r["arguments"]["entity"], r["logical_date"]): r["result"]
        for r in log
        if r["stage"] == "bronze"
    }
    silver = {
        (r["arguments"]["system"], r["arguments"]["entity"], r["logical_date"]): r["result"]
        for r in log
        if r["stage"] == "silver"
    }
    assert set(silver) == _entity_days(lakehouse["config"])
    for key, result in silver.items():
        assert result["bronze_rows"] == bronze[key]["bronze_rows"], key
        assert result["bronze_rows"] == result["silver_rows"] + result["quarantined"], key
    manifest_lines = {(f["system"], f["entity"], f["date"]): f["lines"] for f in lakehouse["manifest"]["files"]}
    for key, result in bronze.items():
        assert result["lines"] == manifest_lines[key] == result["bronze_rows"] + result["quarantined"]


@pytest.mark.slow
def test_every_stage_task_has_its_row_in_the_observability_table(
    spark: SparkSession, lakehouse: dict[str, Any]
) -> None:
    config, tables = lakehouse["config"], lakehouse["tables"]
    environment = config.require_environment()
    metrics = [r.asDict(recursive=True) for r in tables.read(spark, run_metrics_table(environment)).collect()]
    run_ids = {(r.dag_id, r.logical_date.isoformat()): r.run_id for r in lakehouse["results"]}
    log = [json.loads(line) for line in tables.run_log().read_text().splitlines()]
    # One row per stage task, each carrying the id of the Airflow run it belongs to.
    assert len(metrics) == len(log) and {r["status"] for r in metrics} == {"success"}
    assert {r["run_id"] for r in metrics} == set(run_ids.values())
    silver = {(r["system"], r["entity"], r["logical_date"].isoformat()): r for r in metrics if r["stage"] == "silver"}
    assert set(silver) == _entity_days(config)
    for (system, entity, day), row in silver.items():
        assert row["run_id"] == run_ids[(f"lakehouse_ingest_{system}", day)]
        assert row["freshness_seconds"] > 0
        assert [r["rule"] for r in row["dq_rules"]] == [
            rule_name(rule) for rule in config.systems[system].dq_rules_for(entity)
        ]
        quarantined = _read(spark, lakehouse, quarantine_table(environment, system)).where(
            f"layer = 'silver' AND entity = '{entity}' AND logical_date = '{day}'"
        )
        assert row["rows_quarantined"] == quarantined.count()
        assert row["quarantine_reasons"] == Counter(q["reason"] for q in quarantined.collect())
    # The last date's Silver rows out are the Silver table's rows of that date (a MERGE keeps one per key).
    for (system, entity, day), row in silver.items():
        if day == DAYS[-1].isoformat():
            target = silver_table(environment, system, config.systems[system], entity)
            assert row["rows_out"] == _read(spark, lakehouse, target).where(f"logical_date = '{day}'").count()


@pytest.mark.slow
def test_gold_matches_what_the_landing_data_says(spark: SparkSession, lakehouse: dict[str, Any]) -> None:
    manifest = lakehouse["manifest"]
    dim = _read(spark, lakehouse, _gold(lakehouse, "dim_customer_scd2")).collect()
    customers = ROWS + len(manifest["new_customers_day2"])
    changed = set(manifest["changed_customers_day2"])
    assert sum(r["is_current"] for r in dim) == customers
    assert len(dim) == customers + len(changed)
    closed = {r["customer_id"]: r for r in dim if not r["is_current"]}
    assert set(closed) == changed
    current = {r["customer_id"]: r for r in dim if r["is_current"]}
    for prty_id, old in closed.items():
        assert old["effective_to"] == current[prty_id]["effective_from"]

    config = lakehouse["config"]
    environment = config.require_environment()
    cases = _read(spark, lakehouse, silver_table(environment, "pega", config.systems["pega"], "case")).count()
    assert _read(spark, lakehouse, _gold(lakehouse, "fact_case")).count() == cases
    metrics = _read(spark, lakehouse, _gold(lakehouse, "case_metrics")).collect()
    assert sum(r["cases"] for r in metrics) == cases
    c360 = _read(spark, lakehouse, _gold(lakehouse, "customer_360"))
    assert c360.count() == customers
    contacts = _read(spark, lakehouse, silver_table(environment, "sfdc", config.systems["sfdc"], "contact")).count()
    (xref,) = config.systems["sfdc"].entities["contact"].silver.xrefs
    contact_map = _read(spark, lakehouse, xref_table(environment, xref))
    assert contact_map.where("valid_to = TIMESTAMP'9999-12-31 00:00:00'").count() == contacts
    assert _read(spark, lakehouse, _gold(lakehouse, "bridge_contact")).count() == contacts

    quarantine = Counter(
        row["reason"] for row in _read(spark, lakehouse, quarantine_table(environment, "amdm")).collect()
    )
    planted: Counter[str] = Counter()
    for entry in manifest["files"]:
        if entry["system"] == "amdm":
            planted.update(entry["defects"])
    assert quarantine["dq: postcode_regex"] == planted["bad_postcode"]
    assert quarantine["dq: state_in_set"] == planted["unknown_state"]


@pytest.mark.slow
def test_the_health_page_shows_the_demo_runs_numbers(
    spark: SparkSession,
    lakehouse: dict[str, Any],
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``lakehouse report`` on the demo run, opened in headless Chromium: every system is shown, and
    each number equals what the Delta tables themselves hold."""
    from selenium.webdriver.common.by import By

    config, tables = lakehouse["config"], lakehouse["tables"]
    environment = config.require_environment()
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tables.warehouse))
    assert cli.main(["report", "--env", "local"]) == 0
    url = capsys.readouterr().out.strip()
    assert url == (tables.warehouse / "_reports" / "health.html").as_uri()
    browser.get(url)
    assert browser.title == "Lakehouse health · local"
    sections = {s.get_attribute("data-system"): s for s in browser.find_elements(By.CSS_SELECTOR, "section.system")}
    assert list(sections) == list(config.systems) and all(s.is_displayed() for s in sections.values())

    def number(element: Any, metric: str) -> int:
        (cell,) = element.find_elements(By.CSS_SELECTOR, f'[data-metric="{metric}"]')
        assert cell.text == f"{int(cell.get_attribute('data-value')):,}", "the number shown is the number carried"
        return int(cell.get_attribute("data-value"))

    lines = {(f["system"], f["entity"], f["date"]): f["lines"] for f in lakehouse["manifest"]["files"]}
    for system, section in sections.items():
        rows = {
            (r.get_attribute("data-entity"), r.get_attribute("data-date")): r
            for r in section.find_elements(By.CSS_SELECTOR, 'tr[data-row="counts"]')
        }
        assert set(rows) == {(e, d.isoformat()) for e in config.systems[system].entities for d in DAYS}
        quarantine = _read(spark, lakehouse, quarantine_table(environment, system)).collect()
        for (entity, day), row in rows.items():
            bronze = _read(spark, lakehouse, bronze_table(environment, system, entity))
            assert number(row, "lines") == lines[(system, entity, day)]
            assert number(row, "bronze_rows") == bronze.where(f"logical_date = '{day}'").count()
            assert number(row, "quarantined") == sum(
                (q["entity"], q["logical_date"]) == (entity, day) for q in quarantine
            )
            if day == DAYS[-1].isoformat():  # a MERGE moves a key's row to the latest date that wrote it
                silver = _read(spark, lakehouse, silver_table(environment, system, config.systems[system], entity))
                assert number(row, "silver_rows") == silver.where(f"logical_date = '{day}'").count()
        reasons = {
            (r.get_attribute("data-entity"), r.get_attribute("data-layer"), r.get_attribute("data-date"),
             r.get_attribute("data-reason")): number(r, "rows")
            for r in section.find_elements(By.CSS_SELECTOR, 'tr[data-row="quarantine"]')
        }  # fmt: skip
        assert reasons == Counter((q["entity"], q["layer"], q["logical_date"], q["reason"]) for q in quarantine)
        for row in section.find_elements(By.CSS_SELECTOR, 'tr[data-row="failing_rule"][data-action="quarantine"]'):
            entity, rule, day = (row.get_attribute(a) for a in ("data-entity", "data-rule", "data-date"))
            caught = [
                q
                for q in quarantine
                if (q["entity"], q["layer"], q["logical_date"]) == (entity, "silver", day)
                and rule in q["reason"].removeprefix("dq: ").split(", ")
            ]
            assert number(row, "failed") == len(caught)
            keys = [k.get_attribute("data-sample-key") for k in row.find_elements(By.CSS_SELECTOR, "[data-sample-key]")]
            assert keys and all(any(f'"{key}"' in q["raw_line"] for q in caught) for key in keys)
    assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-row="failing_rule"]'), "the demo data breaks rules"
    for chart in browser.find_elements(By.CSS_SELECTOR, "svg.chart"):
        assert chart.is_displayed() and chart.size["height"] > 100

    browser.set_window_size(1280, browser.execute_script("return document.documentElement.scrollHeight"))
    screenshot = tables.warehouse.parent / "health.png"
    assert browser.save_screenshot(str(screenshot))
    print(f"health page screenshot: {screenshot}")


@pytest.mark.slow
def test_running_a_date_again_leaves_every_table_identical(spark: SparkSession, lakehouse: dict[str, Any]) -> None:
    from lakehouse.ops.run import run_all

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        tables = {}
        for _, name in table_inventory(lakehouse["config"]):
            frame = _read(spark, lakehouse, name)
            frame = frame.drop("ingest_ts")  # when a row was written, not what it says
            tables[str(name)] = sorted(map(tuple, frame.collect()), key=repr)
        return tables

    before = snapshot()
    again = run_all(lakehouse["config"], DAYS[1:], progress=lambda line: None)
    assert all(r.state == "success" for r in again)
    after = snapshot()
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name


@pytest.mark.slow
def test_the_knowledge_base_answers_with_citations_and_logs_each_question(
    spark: SparkSession, lakehouse: dict[str, Any]
) -> None:
    from lakehouse.core.naming import knowledge_index, rag_telemetry
    from lakehouse.core.rag.answers import NO_MODEL
    from lakehouse.spark.rag.knowledge_base import KnowledgeBase
    from lakehouse.spark.rag.tools import toolset

    config, tables = lakehouse["config"], lakehouse["tables"]
    environment = config.require_environment()
    index = tables.read(spark, knowledge_index(environment))
    assert index.select("doc_id").distinct().count() == len(list((ROOT / "knowledge").rglob("*.md")))

    knowledge = KnowledgeBase(config, spark, tables)
    answer = knowledge.ask("How do I replay a day of Jarvis services?")
    assert answer.text.startswith(NO_MODEL) and answer.composed_by == "passages"
    assert answer.retrieval.passages and "[1] " in answer.text
    assert "jarvis/service-feed-runbook.md" in answer.retrieval.doc_ids
    knowledge.ask("Who approves a change to customer P00012345?", k=50)
    log = tables.read(spark, rag_telemetry(environment)).orderBy("asked_at").collect()
    assert [row["question"] for row in log[-2:]] == [
        "How do I replay a day of Jarvis services?",
        "Who approves a change to customer [CUSTOMER_ID]?",
    ]
    assert log[-2]["doc_ids"] == answer.retrieval.doc_ids and log[-2]["latency_ms"] > 0
    assert set(log[-1]["safety_flags"]) >= {"pii_in_question", "top_k_capped:50->10"}

    tools = toolset(knowledge)
    assert "[1] " in tools["retriever_tool"].run("Which case statuses does Pega send?")
    rows = tools["sql_tool"].run("SELECT count(*) AS n FROM customer_360")
    customers = ROWS + len(lakehouse["manifest"]["new_customers_day2"])
    assert rows == [{"n": customers}]


@pytest.mark.slow
def test_lakehouse_ask_answers_the_readme_questions_with_citations(
    spark: SparkSession, lakehouse: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from lakehouse.cli import main
    from lakehouse.core.naming import rag_telemetry

    assert main(["ask", "How do I replay a day of Jarvis services?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["composed_by"] == "passages" and answer["passages"]
    assert answer["passages"][0]["citation"].startswith("jarvis/")
    assert main(["ask", "Which case statuses count as open?", "--domain", "pega", "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Sources (pega;" in out and out.count("  [") == 3
    assert all(line.split()[1].startswith("pega/") for line in out.splitlines() if line.startswith("  ["))
    assert main(["ask", "anything", "--domain", "genesys"]) == 2
    assert "unknown domain 'genesys'" in capsys.readouterr().err
    # Asked without Spark, logged to the same Delta table Spark reads and appends to.
    telemetry = lakehouse["tables"].read(spark, rag_telemetry(lakehouse["config"].require_environment()))
    last = telemetry.orderBy("asked_at").collect()[-2:]
    assert [(row["question"], row["domain"], row["k"]) for row in last] == [
        ("How do I replay a day of Jarvis services?", "jarvis", 5),
        ("Which case statuses count as open?", "pega", 3),
    ]


def _maintenance_days(runs: list[tuple[str, date]]) -> list[date]:
    return [day for dag_id, day in runs if dag_id == "lakehouse_maintenance"]


def test_maintenance_runs_after_the_dates_its_weekly_schedule_falls_on(project: Any) -> None:
    from lakehouse.ops.run import plan

    config = load_config("local")  # the test project: Sundays 03:00 UTC
    week = [date(2026, 3, 4) + timedelta(days=n) for n in range(7)]  # Wednesday to Tuesday

    runs = plan(config, week)

    assert _maintenance_days(runs) == [date(2026, 3, 8)]
    sunday = runs.index(("lakehouse_gold", date(2026, 3, 8)))
    assert runs[sunday + 1 : sunday + 3] == [
        ("lakehouse_rag", date(2026, 3, 8)),
        ("lakehouse_maintenance", date(2026, 3, 8)),
    ]
    assert len(runs) == 7 * (len(config.systems) + 2) + 1


def test_maintenance_that_is_not_due_runs_only_when_asked(project: Any) -> None:
    from lakehouse.ops.run import plan

    config = load_config("local")
    weekdays = [date(2026, 3, 2), date(2026, 3, 3)]

    assert _maintenance_days(plan(config, weekdays)) == []
    assert _maintenance_days(plan(config, weekdays, maintenance=True)) == [date(2026, 3, 3)]
    assert plan(config, weekdays, maintenance=True)[-1] == ("lakehouse_maintenance", date(2026, 3, 3))
    # Asked on a due date: it runs once, not twice.
    assert _maintenance_days(plan(config, [date(2026, 3, 8)], maintenance=True)) == [date(2026, 3, 8)]
