"""``doc_md`` for each DAG, written from the models alone: no connection, secret or alert address."""

from __future__ import annotations

from lakehouse.config.models import Column, Environment, Gold, Governance, Maintenance, Rag, Schedule, System
from lakehouse.core.naming import TableName


def _schedule(schedule: Schedule) -> str:
    return f"`{schedule.cron}` ({schedule.timezone})"


def _column(column: Column) -> str:
    flags = [column.type] + (["not null"] if not column.nullable else []) + (["PII"] if column.pii else [])
    nested = f" {{{', '.join(child.name for child in column.fields)}}}" if column.fields else ""
    return f"`{column.name}`{nested} ({', '.join(flags)})"


def _header(title: str, description: str, env_name: str, environment: Environment, owner: str) -> list[str]:
    lines = [f"### {title}", ""]
    if description:
        lines += [description, ""]
    lines += [f"- **Environment:** `{env_name}` (target `{environment.target}`)", f"- **Owner:** {owner}"]
    return lines


def ingest_doc(env_name: str, environment: Environment, name: str, system: System, silver: dict[str, TableName]) -> str:
    lines = _header(
        f"Ingest `{name}`: Bronze, Silver, DQ gate", system.description, env_name, environment, system.owner
    )
    lines += [
        f"- **Domain:** {system.domain}; **cost centre:** {system.cost_centre}",
        f"- **Schedule:** {_schedule(system.schedule)}",
        f"- **Freshness deadline:** {system.freshness_deadline} after the run is queued",
        f"- **Landing:** `<landing_root>/{system.landing.path}`",
        "",
    ]
    for entity_name, entity in system.entities.items():
        lines += [
            f"#### `{entity_name}` ({entity.format}) → `{silver[entity_name]}`",
            "",
            f"- Natural key: {', '.join(f'`{key}`' for key in entity.natural_key)}",
            f"- Contract: `config/contracts/{name}/{entity_name}.schema.json`, version {entity.contract_version}",
            f"- DQ pass rate required: {system.min_pass_rate_for(entity_name):.0%}",
            f"- Columns: {', '.join(_column(column) for column in entity.columns)}",
        ]
        if entity.canonical_keys:
            keys = ", ".join(f"`{sk}` = sha256(`{column}`)" for sk, column in entity.canonical_keys.items())
            lines.append(f"- Canonical keys: {keys}")
        if entity.silver_rules:
            lines.append(
                f"- Silver rules: {', '.join(rule.rule + '(' + _rule_args(rule) + ')' for rule in entity.silver_rules)}"
            )
        if entity.silver.xrefs:
            names = ", ".join(f"`{environment.catalogs.silver}.{x.schema_}.{x.table}`" for x in entity.silver.xrefs)
            lines.append(f"- Cross-references kept after the Silver MERGE: {names}")
        lines.append("")
    if system.dq_rules:
        lines += ["#### DQ rules", "", "| entity | column | check | action |", "|---|---|---|---|"]
        for rule in system.dq_rules:
            lines.append(f"| {system.rule_entity(rule)} | `{rule.column}` | {rule.check} | {rule.action} |")
    return "\n".join(lines)


def _rule_args(rule: object) -> str:
    values = rule.model_dump(exclude={"rule"}, exclude_defaults=True, by_alias=True)  # type: ignore[attr-defined]
    return ", ".join(f"{key}={value}" for key, value in values.items())


def gold_doc(env_name: str, environment: Environment, gold: Gold, tables: dict[str, TableName]) -> str:
    lines = _header(
        "Gold marts",
        "MERGEs Silver into the Gold marts, then runs the smoke checks.",
        env_name,
        environment,
        gold.owner,
    )
    lines += [
        "- **Schedule:** once per business date, when every Silver input below has that date; each run"
        " reads Silver at that date's versions, one run at a time",
        f"- **Deadline:** {gold.deadline} after the run is queued",
        f"- **Smoke checks:** row counts above zero; at most {gold.smoke_checks.max_orphan_ratio:.1%} orphans a check",
        "",
        "| table | kind | inputs | depends on |",
        "|---|---|---|---|",
    ]
    for table in gold.tables:
        inputs = ", ".join(table.inputs) or "-"
        depends = ", ".join(table.depends_on) or "-"
        lines.append(f"| `{tables[table.name]}` | {table.kind} | {inputs} | {depends} |")
    return "\n".join(lines)


def rag_doc(env_name: str, environment: Environment, rag: Rag, index: TableName) -> str:
    lines = _header(
        "RAG knowledge index",
        "Redacts, chunks and embeds knowledge documents into the index.",
        env_name,
        environment,
        rag.owner,
    )
    lines += [
        f"- **Schedule:** {_schedule(rag.schedule)}; **deadline:** {rag.deadline}",
        f"- **Domains:** {', '.join(rag.domains)}",
        f"- **Index:** `{index}`",
    ]
    return "\n".join(lines)


def maintenance_doc(env_name: str, environment: Environment, maintenance: Maintenance) -> str:
    lines = _header(
        "Table maintenance",
        "OPTIMIZE with ZORDER and VACUUM of every lakehouse table.",
        env_name,
        environment,
        maintenance.owner,
    )
    lines += [
        f"- **Schedule:** {_schedule(maintenance.schedule)}; **deadline:** {maintenance.deadline}",
        f"- **VACUUM retention:** {environment.retention_days} days",
    ]
    return "\n".join(lines)


def governance_doc(env_name: str, environment: Environment, governance: Governance, sections: dict[str, int]) -> str:
    lines = _header(
        "Unity Catalog governance",
        "Catalogs, schemas, masking functions, secure views, grants and PII tags from `config/governance.yaml`.",
        env_name,
        environment,
        governance.owner,
    )
    counts = ", ".join(f"{count} {section}" for section, count in sections.items() if count)
    lines += [
        "- **Schedule:** none: triggered after each deploy; every statement is idempotent",
        f"- **Statements:** {counts}",
        f"- **Roles:** {', '.join(f'`{role}`' for role in governance.roles)}",
        "",
        f"`lakehouse governance plan --env {env_name}` prints every statement. Views and PII tags need their",
        "tables: on a new environment they fail until the first ingest built them, then succeed.",
    ]
    return "\n".join(lines)
