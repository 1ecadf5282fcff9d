"""The health page end to end: real Bronze and Silver runs on demo data record their metrics,
``lakehouse report`` writes the page, and headless Chromium shows the numbers the Delta tables hold."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse import cli
from lakehouse.config import load_config
from lakehouse.demo_data import write_demo_data
from lakehouse.locations import LANDING_ROOT_VAR, WAREHOUSE_ROOT_VAR
from lakehouse.naming import bronze_table, quarantine_table, run_metrics_table, silver_table
from spark_jobs import run_metrics
from spark_jobs.stages import StageContext, run_bronze, run_silver
from spark_jobs.tables import Tables

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
RUNS = [("amdm", "address", DAY1), ("amdm", "address", DAY2)]
"""Two dates and every kind of row, at the cost of four stage runs; the other systems show as not run yet."""
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A warehouse whose Bronze, Silver, quarantine and observability tables come from real runs,
    each stage's metrics row built as ``spark_jobs.main`` builds it."""
    root = tmp_path_factory.mktemp("health")
    config = load_config("local")
    manifest = write_demo_data(dict(config.systems), root / "landing", 40, 7, DAY1)
    ctx = StageContext(config, config.require_environment(), Tables(root / "warehouse"), root / "landing")
    rows = []
    for system, entity, day in RUNS:
        for stage, runner in (("bronze", run_bronze), ("silver", run_silver)):
            started_at, started = datetime.now(UTC), time.monotonic()
            result = runner(spark, ctx, system, entity, day)
            arguments = {"system": system, "entity": entity}
            rows.append(run_metrics.row(stage, arguments, day, "test", started_at, time.monotonic() - started, result))
    run_metrics.append(spark, ctx.tables.location(run_metrics_table(ctx.environment)), rows)
    yield {"root": root, "ctx": ctx, "manifest": manifest}


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: scripts/test.sh installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The machine may have no internet: nothing in the background may try to reach it.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _table_counts(spark: SparkSession, ctx: StageContext) -> dict[str, Any]:
    """The tables' own counts, straight from the Delta folders."""

    def read(name: Any) -> Any:
        return spark.read.format("delta").load(ctx.tables.location(name))

    counts: dict[str, Any] = {"bronze": Counter(), "silver": Counter(), "quarantine": Counter()}
    for system, entity in sorted({(s, e) for s, e, _ in RUNS}):
        settings = ctx.config.systems[system]
        for row in read(bronze_table(ctx.environment, system, entity)).groupBy("logical_date").count().collect():
            counts["bronze"][(entity, row["logical_date"].isoformat())] = row["count"]
        silver = read(silver_table(ctx.environment, system, settings, entity))
        for row in silver.groupBy("logical_date").count().collect():
            counts["silver"][(entity, row["logical_date"].isoformat())] = row["count"]
        for row in read(quarantine_table(ctx.environment, system)).collect():
            counts["quarantine"][(row["entity"], row["layer"], row["logical_date"], row["reason"])] += 1
            counts.setdefault("raw", []).append(row)
    return counts


def test_report_says_to_run_first_when_there_are_no_metrics(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(WAREHOUSE_ROOT_VAR, str(tmp_path))
    assert cli.main(["report", "--env", "local"]) == 2
    assert "run `lakehouse run` first" in capsys.readouterr().err


def test_the_page_shows_every_system_and_the_tables_own_counts(
    spark: SparkSession,
    lake: dict[str, Any],
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from selenium.webdriver.common.by import By

    ctx: StageContext = lake["ctx"]
    monkeypatch.setenv(WAREHOUSE_ROOT_VAR, str(lake["root"] / "warehouse"))
    monkeypatch.setenv(LANDING_ROOT_VAR, str(lake["root"] / "landing"))
    assert cli.main(["report", "--env", "local"]) == 0
    url = capsys.readouterr().out.strip()
    assert url == (lake["root"] / "warehouse" / "_reports" / "health.html").as_uri()

    browser.get(url)
    assert browser.title == "Lakehouse health · local"
    sections = browser.find_elements(By.CSS_SELECTOR, "section.system")
    assert [s.get_attribute("data-system") for s in sections] == list(ctx.config.systems)
    assert all(s.is_displayed() for s in sections)

    def rows(kind: str) -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, f'tr[data-row="{kind}"]')

    def number(row: Any, metric: str) -> int | None:
        (cell,) = row.find_elements(By.CSS_SELECTOR, f'[data-metric="{metric}"]')
        value = cell.get_attribute("data-value")
        if value is not None:
            assert cell.text == f"{int(value):,}", "the number shown is the number carried"
        return None if value is None else int(value)

    tables = _table_counts(spark, ctx)
    lines = {(f["entity"], f["date"]): f["lines"] for f in lake["manifest"]["files"]}
    shown = {}
    for row in rows("counts"):
        key = (row.get_attribute("data-entity"), row.get_attribute("data-date"))
        shown[key] = {m: number(row, m) for m in ("lines", "bronze_rows", "silver_rows", "quarantined")}
    assert set(shown) == {(e, d.isoformat()) for _, e, d in RUNS}
    for (entity, day), numbers in shown.items():
        assert numbers["lines"] == lines[(entity, day)]
        assert numbers["bronze_rows"] == tables["bronze"][(entity, day)]
        quarantined = sum(n for (e, _, d, _), n in tables["quarantine"].items() if (e, d) == (entity, day))
        assert numbers["quarantined"] == quarantined
    # Silver is MERGEd on the key: a date's rows are in Silver under that date until a later date rewrites them.
    assert shown[("address", "2026-03-02")]["silver_rows"] == tables["silver"][("address", "2026-03-02")]

    reasons = {
        (r.get_attribute("data-entity"), r.get_attribute("data-layer"), r.get_attribute("data-date"),
         r.get_attribute("data-reason")): number(r, "rows")
        for r in rows("quarantine")
    }  # fmt: skip
    assert reasons == dict(tables["quarantine"])
    assert any(layer == "silver" for _, layer, _, _ in reasons), "the demo data plants DQ failures"

    failing = rows("failing_rule")
    assert failing, "the demo data breaks quarantine rules"
    for row in failing:
        entity, rule, day = (row.get_attribute(a) for a in ("data-entity", "data-rule", "data-date"))
        if row.get_attribute("data-action") != "quarantine":
            continue
        caught = [
            q
            for q in tables["raw"]
            if (q["entity"], q["layer"], q["logical_date"]) == (entity, "silver", day)
            and rule in q["reason"].removeprefix("dq: ").split(", ")
        ]
        assert number(row, "failed") == len(caught)
        keys = [k.get_attribute("data-sample-key") for k in row.find_elements(By.CSS_SELECTOR, "[data-sample-key]")]
        assert keys and all(any(f'"{key}"' in q["raw_line"] for q in caught) for key in keys)

    for chart in browser.find_elements(By.CSS_SELECTOR, 'section[data-system="amdm"] svg.chart'):
        assert chart.is_displayed() and chart.size["height"] > 100

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, height)
    screenshot = lake["root"] / "health.png"
    assert browser.save_screenshot(str(screenshot))
    print(f"health page screenshot: {screenshot}")
