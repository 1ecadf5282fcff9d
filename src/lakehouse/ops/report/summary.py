"""The summary ``lakehouse run`` prints: what was built, what was rejected and why, how long it took."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import (
    TableName,
    bronze_table,
    gold_table,
    knowledge_index,
    quarantine_table,
    silver_table,
    xref_table,
)


@dataclass
class DagRunResult:
    dag_id: str
    logical_date: date
    state: str
    seconds: float
    failed_tasks: list[str] = field(default_factory=list)
    run_id: str = ""
    started: float = 0.0
    """When it started, in seconds since the epoch: runs of one date may overlap."""
    tasks: list[str] = field(default_factory=list)
    """One line per task: its state and how long it took."""


def read_run_log(path: Path, offset: int) -> list[dict[str, Any]]:
    """The stage records appended to the run log after ``offset`` bytes."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        return [json.loads(line) for line in handle.read().decode("utf-8").splitlines() if line.strip()]


def table_inventory(config: LakehouseConfig) -> list[tuple[str, TableName]]:
    environment = config.require_environment()
    tables: list[tuple[str, TableName]] = []
    for name, system in config.systems.items():
        tables += [("bronze", bronze_table(environment, name, entity)) for entity in system.entities]
        tables.append(("quarantine", quarantine_table(environment, name)))
    for name, system in config.systems.items():
        tables += [("silver", silver_table(environment, name, system, entity)) for entity in system.entities]
        tables += [("silver", xref_table(environment, xref)) for xref in system.xrefs]
    tables += [("gold", gold_table(environment, table)) for table in config.require_pipelines().gold.tables]
    tables.append(("rag", knowledge_index(environment)))
    return tables


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> list[str]:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return ["  " + line.format(*headers), "  " + line.format(*("-" * w for w in widths))] + [
        "  " + line.format(*(str(v) for v in row)) for row in rows
    ]


def render(
    config: LakehouseConfig,
    results: Sequence[DagRunResult],
    records: Sequence[dict[str, Any]],
    counts: dict[str, int | None],
    warehouse: Path,
    seconds: float,
    health_page: Path | None = None,
) -> str:
    failed = [r for r in results if r.state != "success"]
    dates = sorted({r.logical_date for r in results})
    head = (
        f"Lakehouse run, environment '{config.env_name}', {dates[0]} to {dates[-1]}: {len(results)} DAG runs, "
        + (f"{len(failed)} FAILED" if failed else "all succeeded")
        + f", {seconds:.0f}s"
    )
    out = [head, "=" * len(head), ""]
    if health_page is not None:
        out += [f"Lakehouse health page (freshness, row counts, DQ over time): {health_page.resolve().as_uri()}", ""]

    out.append(f"Tables (Delta, under {warehouse})")
    rows = [
        (layer, str(name), "-" if counts.get(str(name)) is None else counts[str(name)])
        for layer, name in table_inventory(config)
    ]
    out += [*_table(rows, ("layer", "table", "rows")), ""]

    reasons: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        result = record["result"]
        args = record["arguments"]
        if record["stage"] == "bronze" and result.get("quarantined"):
            reasons[(args["system"], args["entity"], "bronze: contract violations")] += result["quarantined"]
        if record["stage"] == "silver":
            for reason, count in result.get("quarantine_reasons", {}).items():
                reasons[(args["system"], args["entity"], f"silver: {reason}")] += count
    out.append("Quarantined rows per reason (this run)")
    out += _table([(*key, count) for key, count in sorted(reasons.items())], ("system", "entity", "reason", "rows"))
    out.append("")

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record["stage"] == "silver":
            latest[(record["arguments"]["system"], record["arguments"]["entity"])] = record
    dq_rows = []
    for (system, entity), record in sorted(latest.items()):
        dq = record["result"]["dq"]
        required = config.systems[system].min_pass_rate_for(entity)
        failing = ", ".join(f"{n}={r['failed']}" for n, r in dq["rules"].items() if r["failed"]) or "-"
        dq_rows.append(
            (
                f"{system}.{entity}",
                record["logical_date"],
                dq["rows"],
                f"{dq['pass_rate']:.2%}",
                f"{required:.0%}",
                failing,
            )
        )
    out.append("DQ pass rate per table (last date)")
    out += [*_table(dq_rows, ("table", "date", "rows", "pass rate", "required", "failing rules")), ""]

    smoke = [r for r in records if r["stage"] == "smoke_checks"]
    if smoke:
        result = smoke[-1]["result"]
        orphans = "; ".join(f"{k}: {v['orphans']} of {v['checked']}" for k, v in result["orphans"].items()) or "none"
        empty = [name for name, count in result["row_counts"].items() if count == 0]
        out.append(
            f"Smoke checks ({smoke[-1]['logical_date']}): passed; row counts all above zero"
            if not empty
            else f"Smoke checks: empty tables {empty}"
        )
        out.append(f"  orphans: {orphans}")
        out.append("")

    index_runs = [r for r in records if r["stage"] == "rag_index"]
    if index_runs:
        result = index_runs[-1]["result"]
        embedded = sum(r["result"]["embedded_documents"] for r in index_runs)
        redactions = ", ".join(f"{label} {n}" for label, n in sorted(result["redactions"].items())) or "none"
        out += [
            f"Knowledge index: {result['documents']} documents in {result['chunks']} chunks "
            f"({embedded} document embeddings computed over {len(index_runs)} run(s)); PII redacted: {redactions}",
            '  ask it: lakehouse ask "How do I replay a day of Jarvis services?"',
            "",
        ]

    per_stage: dict[str, float] = defaultdict(float)
    for record in records:
        per_stage[record["stage"]] += record["seconds"]
    per_dag: dict[str, float] = defaultdict(float)
    for result in results:
        per_dag[result.dag_id.removeprefix("lakehouse_").split("_")[0]] += result.seconds
    out.append("Time per stage (inside tasks)")
    out += _table([(stage, f"{secs:.1f}s") for stage, secs in per_stage.items()], ("stage", "time"))
    out.append("Time per DAG kind (whole runs, including Airflow)")
    out += _table([(kind, f"{secs:.1f}s") for kind, secs in per_dag.items()], ("DAGs", "time"))
    if failed:
        out += ["", "Failed runs:"] + [f"  {r.dag_id} {r.logical_date}: {', '.join(r.failed_tasks)}" for r in failed]
    return "\n".join(out)
