"""The Lakehouse health page: a ``HealthReport`` as one self-contained HTML file.

The page opens offline and from a file: styles and inline SVG charts are in the file, and there is
no script. Every number carries ``data-metric`` and ``data-value`` (its exact value), inside an
element that says which system, entity, date, reason or rule it belongs to, so tests and scrapers
read the numbers without parsing the text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from html import escape
from pathlib import Path

from lakehouse.core.health import EntityDay, HealthReport, SystemHealth
from lakehouse.ops.report.svg_charts import Series, bar_chart, line_chart

"""Where ``lakehouse report`` writes the page, under the local warehouse root."""
MISSING = "&ndash;"

STYLE = """
:root { --ok: #2e7d32; --late: #c62828; --unknown: #757575; --line: #d9dde3; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1200px; padding: 0 24px 48px; }
h1 { margin: 24px 0 4px; } h2 { margin: 0 0 4px; } h3 { margin: 20px 0 6px; font-size: 15px; }
.meta, h2 small { color: #57606a; font-weight: normal; }
section.system { border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 20px 0; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-weight: 600; }
.status.ok { background: var(--ok); } .status.late, .status.failed { background: var(--late); }
.status.unknown { background: var(--unknown); }
.below { color: var(--late); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.charts figure { margin: 0; } figcaption { color: #57606a; font-size: 13px; }
svg.chart text { font-size: 11px; fill: #57606a; }
svg.chart .x-label { text-anchor: middle; } svg.chart .y-label { text-anchor: end; }
svg.chart .threshold-label { text-anchor: end; fill: var(--late); }
svg.chart .grid { stroke: #eaeef2; } svg.chart .line { stroke-width: 2; }
svg.chart .threshold { stroke: var(--late); stroke-dasharray: 5 4; stroke-width: 1.5; }
code, .key { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px; }
.empty { color: #57606a; font-style: italic; }
"""


def duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``: precise enough to compare with a deadline."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _raw(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def _count(metric: str, value: int | None) -> str:
    if value is None:
        return f'<td class="num" data-metric="{metric}">{MISSING}</td>'
    return f'<td class="num" data-metric="{metric}" data-value="{value}">{value:,}</td>'


def _rate(metric: str, value: float | None, ok: bool | None) -> str:
    if value is None:
        return f'<td class="num" data-metric="{metric}">{MISSING}</td>'
    css = "num" if ok is not False else "num below"
    return f'<td class="{css}" data-metric="{metric}" data-value="{_raw(value)}">{value:.2%}</td>'


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[str], empty: str) -> str:
    body = list(rows)
    if not body:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if numeric else f"<th>{escape(h)}</th>" for h, numeric in headers
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def _total(days: Sequence[EntityDay], field: str) -> int | None:
    values = [getattr(day, field) for day in days if getattr(day, field) is not None]
    return sum(values) if values else None


def _freshness(system: SystemHealth) -> str:
    status = system.freshness_status
    deadline = system.deadline.total_seconds()
    if system.freshness_seconds is None:
        age = f'<span class="status unknown" data-metric="freshness" data-status="{status}">unknown</span>'
    else:
        age = (
            f'<span class="status {status}" data-metric="freshness" data-status="{status}" '
            f'data-value="{_raw(system.freshness_seconds)}">{status}: {duration(system.freshness_seconds)}</span>'
        )
    last = system.last_run_at.strftime("%Y-%m-%d %H:%M UTC") if system.last_run_at else "never"
    return (
        f'<p class="freshness">Freshness {age} against a deadline of <span data-metric="deadline" '
        f'data-value="{_raw(deadline)}">{duration(deadline)}</span>. Last stage run {escape(last)}; '
        f'failed stage runs: <span data-metric="failed_runs" data-value="{system.failed_runs}">{system.failed_runs}'
        "</span>.</p>"
    )


def _charts(system: SystemHealth) -> str:
    dates = system.dates
    labels = [d.isoformat() for d in dates]
    per_date = [system.on(d) for d in dates]
    counts = bar_chart(
        f"{system.name}: rows per logical date",
        labels,
        [
            Series("Bronze rows", [_total(days, "bronze_rows") for days in per_date]),
            Series("Silver rows", [_total(days, "silver_rows") for days in per_date]),
            Series("quarantined", [_total(days, "quarantined") for days in per_date]),
        ],
    )
    rates = []
    for entity in system.entities:
        by_date = {day.logical_date: day.dq_pass_rate for day in system.days if day.entity == entity}
        rates.append(Series(entity, [by_date.get(d) for d in dates]))
    passes = line_chart(
        f"{system.name}: DQ pass rate per logical date", labels, rates, threshold=system.min_pass_rate, percent=True
    )
    return (
        '<div class="charts">'
        f'<figure data-chart="rows">{counts}<figcaption>Rows per logical date, all entities</figcaption></figure>'
        f'<figure data-chart="dq_pass_rate">{passes}<figcaption>DQ pass rate per entity; dashed: the system\'s '
        f"minimum ({system.min_pass_rate:.0%}); the table marks each entity against its own</figcaption></figure></div>"
    )


def _counts(system: SystemHealth) -> str:
    rows = [
        f'<tr data-row="counts" data-entity="{escape(day.entity)}" data-date="{day.logical_date.isoformat()}">'
        f"<td>{day.logical_date.isoformat()}</td><td>{escape(day.entity)}</td>"
        + _count("lines", day.lines)
        + _count("bronze_rows", day.bronze_rows)
        + _count("silver_rows", day.silver_rows)
        + _count("quarantined", day.quarantined)
        + _rate("dq_pass_rate", day.dq_pass_rate, system.pass_rate_ok(day))
        + "</tr>"
        for day in sorted(system.days, key=lambda d: (-d.logical_date.toordinal(), d.entity))
    ]
    headers = [
        ("logical date", False),
        ("entity", False),
        ("landing lines", True),
        ("Bronze rows", True),
        ("Silver rows", True),
        ("quarantined", True),
        ("DQ pass rate", True),
    ]
    return _table(headers, rows, "No Bronze or Silver runs recorded yet.")


def _reasons(system: SystemHealth) -> str:
    rows = [
        f'<tr data-row="quarantine" data-entity="{escape(q.entity)}" data-layer="{q.layer}" '
        f'data-date="{q.logical_date.isoformat()}" '
        f'data-reason="{escape(q.reason)}"><td>{q.logical_date.isoformat()}</td><td>{escape(q.entity)}</td>'
        f"<td>{q.layer}</td><td>{escape(q.reason)}</td>" + _count("rows", q.rows) + "</tr>"
        for q in sorted(system.quarantine, key=lambda q: (-q.logical_date.toordinal(), q.entity, q.layer, -q.rows))
    ]
    headers = [("logical date", False), ("entity", False), ("layer", False), ("reason", False), ("rows", True)]
    return _table(headers, rows, "Nothing quarantined.")


def _failing(system: SystemHealth) -> str:
    rows = []
    for failing in system.failing_rules:
        f = failing.failure
        keys = "/".join(system.natural_keys.get(f.entity, ()))
        if f.run_failed:
            samples = '<span class="status failed">run stopped: nothing written</span>'
        elif failing.sample_keys:
            samples = f'<span class="meta">{escape(keys)}:</span> ' + ", ".join(
                f'<span class="key" data-sample-key="{escape(k)}">{escape(k)}</span>' for k in failing.sample_keys
            )
        else:
            samples = '<span class="empty">none left in the tables</span>'
        rows.append(
            f'<tr data-row="failing_rule" data-entity="{escape(f.entity)}" data-rule="{escape(f.rule)}" '
            f'data-date="{f.logical_date.isoformat()}" data-action="{f.action}">'
            f"<td>{f.logical_date.isoformat()}</td><td>{escape(f.entity)}</td>"
            f"<td><code>{escape(f.rule)}</code></td><td>{escape(f.check)} on <code>{escape(f.column)}</code></td>"
            f"<td>{escape(f.action)}</td>" + _count("failed", f.failed) + f"<td>{samples}</td></tr>"
        )
    headers = [
        ("last failed on", False),
        ("entity", False),
        ("rule", False),
        ("check", False),
        ("action", False),
        ("failed rows", True),
        ("sample keys", False),
    ]
    return _table(headers, rows, "No rule failed a row.")


def _section(system: SystemHealth) -> str:
    return (
        f'<section class="system" id="system-{escape(system.name)}" data-system="{escape(system.name)}">\n'
        f"<h2>{escape(system.name)} <small>{escape(system.domain)} · owner {escape(system.owner)}</small></h2>\n"
        + _freshness(system)
        + (_charts(system) if system.days else "")
        + "\n<h3>Row counts and DQ pass rate</h3>\n"
        + _counts(system)
        + "\n<h3>Quarantine reasons</h3>\n"
        + _reasons(system)
        + "\n<h3>Last failing rules</h3>\n"
        + _failing(system)
        + "\n</section>"
    )


def _overview(report: HealthReport) -> str:
    rows = []
    for system in report.systems:
        latest: date | None = system.dates[-1] if system.days else None
        days = system.on(latest) if latest else []
        rated = [day for day in days if day.dq_pass_rate is not None]
        worst = min(rated, key=lambda day: day.dq_pass_rate or 0.0) if rated else None
        status = system.freshness_status
        rows.append(
            f'<tr data-row="overview" data-system="{escape(system.name)}"><td><a href="#system-{escape(system.name)}">'
            f"{escape(system.name)}</a></td>"
            f'<td><span class="status {status}" data-metric="freshness_status">{status}</span></td>'
            f"<td>{latest.isoformat() if latest else MISSING}</td>"
            + _count("bronze_rows", _total(days, "bronze_rows"))
            + _count("silver_rows", _total(days, "silver_rows"))
            + _count("quarantined", _total(days, "quarantined"))
            + _rate(
                "lowest_dq_pass_rate",
                worst.dq_pass_rate if worst else None,
                all(system.pass_rate_ok(day) is not False for day in rated),
            )
            + _count("failing_rules", len(system.failing_rules))
            + "</tr>"
        )
    headers = [
        ("system", False),
        ("freshness", False),
        ("latest date", False),
        ("Bronze rows", True),
        ("Silver rows", True),
        ("quarantined", True),
        ("lowest DQ pass rate", True),
        ("failing rules", True),
    ]
    return _table(headers, rows, "No source systems configured.")


def render(report: HealthReport) -> str:
    written = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Lakehouse health · {escape(report.environment)}</title>",
            f"<style>{STYLE}</style></head>",
            f'<body data-environment="{escape(report.environment)}" '
            f'data-generated-at="{report.generated_at.isoformat()}">',
            "<h1>Lakehouse health</h1>",
            f'<p class="meta">Environment <b>{escape(report.environment)}</b>; written {written} from '
            f"<code>{escape(report.source)}</code>. Counts per logical date are what that date's Bronze and Silver "
            "runs wrote; the overview shows each system's latest date.</p>",
            "<h2>Overview</h2>",
            _overview(report),
            *(_section(system) for system in report.systems),
            "</body></html>",
            "",
        ]
    )


def write(report: HealthReport, path: Path) -> Path:
    """Write the page next to a temporary file and move it into place, so that a reader (the Airflow
    plugin) never serves a half-written page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(render(report), encoding="utf-8")
    partial.replace(path)
    return path
