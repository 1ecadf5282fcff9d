"""The Unity Catalog governance plan of an environment: every statement, in the order they apply, from
``config/governance.yaml``, the environment and the SQL files of ``airflow/include/sql/governance``.

Pure text, like ``lakehouse.core.sql_files``: no Spark, no network. Each statement is idempotent (``IF NOT
EXISTS``, ``CREATE OR REPLACE``, ``GRANT``, ``SET TAGS``), so applying the plan again changes nothing.

A local environment has no Unity Catalog: its warehouse is folders, ``<catalog>/<schema>/<table>``, and
Spark runs without a metastore. Each statement Spark can honour also gets a local rendering: a schema
becomes the database ``<catalog>__<schema>`` located at its folder, functions and views go into those
databases, tables are read by path, and group membership (``is_account_group_member``, which Spark
lacks) is ``FALSE``, since a local session belongs to no account group: masked columns stay masked.
Catalogs, volumes, grants and tags have no local rendering.

Why one module: every section (catalogs, schemas, volumes, functions, grants, views, tags) is built
from the same names and the same two renderings, Unity Catalog and local; ``_Builder`` holds them once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import (
    Column,
    DatabricksEnvironment,
    DatabricksSettings,
    Environment,
    Governance,
    LocalEnvironment,
    Zone,
)
from lakehouse.core.locations import warehouse_root
from lakehouse.core.naming import (
    TableName,
    bronze_table,
    gold_table,
    knowledge_index,
    outbound_tables,
    quarantine_table,
    rag_telemetry,
    run_metrics_table,
    silver_table,
    xref_table,
)
from lakehouse.core.sql_files import literal, render, statements
from lakehouse.resources import sql_file

Section = Literal["catalogs", "schemas", "volumes", "functions", "grants", "views", "tags"]
SECTIONS: tuple[Section, ...] = ("catalogs", "schemas", "volumes", "functions", "grants", "views", "tags")
"""The order statements apply in: containers, then what lives in them, then who may use it. Views and
tags need their tables, which the pipelines create: they come last."""

ZONES: tuple[Zone, ...] = ("bronze", "silver", "gold", "ai")
ZONE_COMMENTS: dict[Zone, str] = {
    "bronze": "Bronze: raw extracts as they landed, and their quarantine",
    "silver": "Silver: cleansed and conformed tables, cross-references, secure views",
    "gold": "Gold: marts for BI and ML, run metrics",
    "ai": "Knowledge index, prompts, evaluations and artifacts",
}


@dataclass(frozen=True)
class Statement:
    section: Section
    sql: str
    """The Unity Catalog statement."""
    local: str | None = None
    """The Spark statement a local environment applies instead; ``None``: not applied locally."""
    needs: TableName | None = None
    """A table the statement reads or changes, which must exist first."""


@dataclass(frozen=True)
class Plan:
    env_name: str
    target: str
    statements: tuple[Statement, ...]

    def section(self, name: Section) -> list[Statement]:
        return [statement for statement in self.statements if statement.section == name]


def governance_sql(name: str) -> str:
    return sql_file(f"governance/{name}").read_text(encoding="utf-8")


def _one(text: str, values: dict[str, str]) -> str:
    def resolve(name: str) -> str:
        if name not in values:
            raise KeyError(f"unknown SQL placeholder '{{{{ {name} }}}}'")
        return values[name]

    (statement,) = statements(render(text, resolve))
    return statement


class _Names:
    """How a statement names things: Unity Catalog names, or their local rendering."""

    def __init__(self, groups: dict[str, str], warehouse: Path | None) -> None:
        self.groups = groups
        self.warehouse = warehouse

    @property
    def local(self) -> bool:
        return self.warehouse is not None

    def schema(self, catalog: str, schema: str) -> str:
        return f"{catalog}__{schema}" if self.local else f"{catalog}.{schema}"

    def object(self, catalog: str, schema: str, name: str) -> str:
        return f"{self.schema(catalog, schema)}.{name}"

    def table(self, table: TableName) -> str:
        if self.warehouse is None:
            return str(table)
        return f"delta.`{self.warehouse / table.catalog / table.schema / table.table}`"

    def is_member(self, role: str) -> str:
        return "FALSE" if self.local else f"is_account_group_member({literal(self.groups[role])})"


def warehouse_name(settings: DatabricksSettings) -> str:
    """The SQL warehouse the statements run on (its absence is a config issue of the environment)."""
    name = settings.sql_warehouse_for_governance
    if name is None:
        raise ValueError("governance needs a SQL warehouse: set databricks.governance_warehouse or gold_warehouse")
    return name


def build_plan(config: LakehouseConfig) -> Plan:
    """Every governance statement of the environment, in ``SECTIONS`` order."""
    environment = config.require_environment()
    governance = config.require_governance()
    warehouse = warehouse_root(environment) if isinstance(environment, LocalEnvironment) else None
    builder = _Builder(config, environment, governance, warehouse)
    built = list(builder.statements())
    ordered = tuple(statement for section in SECTIONS for statement in built if statement.section == section)
    return Plan(config.env_name, environment.target, ordered)


class _Builder:
    def __init__(
        self, config: LakehouseConfig, environment: Environment, governance: Governance, warehouse: Path | None
    ) -> None:
        self.config = config
        self.environment = environment
        self.governance = governance
        groups = dict(environment.governance.groups)
        self.uc = _Names(groups, None)
        self.spark = _Names(groups, warehouse) if warehouse is not None else None

    def catalog(self, zone: Zone) -> str:
        return str(getattr(self.environment.catalogs, zone))

    def rendered(
        self, section: Section, file: str, values: Callable[[_Names], dict[str, str]], needs: TableName | None = None
    ) -> Statement:
        text = governance_sql(file)
        local = _one(text, values(self.spark)) if self.spark is not None else None
        return Statement(section, _one(text, values(self.uc)), local, needs)

    def statements(self) -> Iterator[Statement]:
        for zone in ZONES:
            catalog = self.catalog(zone)
            values = {"catalog": catalog, "comment": literal(ZONE_COMMENTS[zone])}
            yield Statement("catalogs", _one(governance_sql("catalog.sql"), values))
        for catalog, schema in schemas(self.config, self.environment):
            yield self.schema(catalog, schema)
        for catalog, schema, volume in volumes(self.environment):
            yield Statement("volumes", _one(governance_sql("volume.sql"), {"volume": f"{catalog}.{schema}.{volume}"}))
        for name in self.governance.functions:
            yield self.function(name)
        yield from self.catalog_grants()
        for name in self.governance.secure_views:
            yield from self.secure_view(name)
        yield from self.pii_tags()

    def function(self, name: str) -> Statement:
        function = self.governance.functions[name]
        catalog = self.catalog(function.zone)

        def values(names: _Names) -> dict[str, str]:
            return {
                "this": names.object(catalog, function.schema_, name),
                "comment": literal(function.description),
                "is_pii_reader": names.is_member(self.governance.pii_readers),
            }

        return self.rendered("functions", f"functions/{name}.sql", values)

    def schema(self, catalog: str, schema: str) -> Statement:
        text = governance_sql("schema.sql")
        uc = _one(text, {"schema": self.uc.schema(catalog, schema)})
        local = None
        if self.spark is not None and self.spark.warehouse is not None:
            location = literal(str(self.spark.warehouse / catalog / schema))
            local = _one(
                governance_sql("schema_local.sql"), {"schema": self.spark.schema(catalog, schema), "location": location}
            )
        return Statement("schemas", uc, local)

    def grant(self, privileges: tuple[str, ...] | list[str], securable: str, role: str, section: Section) -> Statement:
        values = {
            "privileges": ", ".join(privileges),
            "securable": securable,
            "principal": f"`{self.environment.governance.groups[role]}`",
        }
        return Statement(section, _one(governance_sql("grant.sql"), values))

    def catalog_grants(self) -> Iterator[Statement]:
        for zone in ZONES:
            for role, privileges in self.governance.grants.get(zone, {}).items():
                yield self.grant(privileges, f"CATALOG {self.catalog(zone)}", role, "grants")
        for view in self.governance.secure_views.values():
            for role in view.readers:
                schema = self.uc.schema(self.catalog(view.zone), view.schema_)
                yield self.grant(["USE SCHEMA"], f"SCHEMA {schema}", role, "grants")

    def secure_view(self, name: str) -> Iterator[Statement]:
        view = self.governance.secure_views[name]
        catalog = self.catalog(view.zone)
        system_name, _, entity_name = view.source.partition(".")
        source = silver_table(self.environment, system_name, self.config.systems[system_name], entity_name)
        functions = self.governance.functions

        def values(names: _Names) -> dict[str, str]:
            masked = [
                f"{names.object(self.catalog(functions[f].zone), functions[f].schema_, f)}({column}) AS {column}"
                for column, f in view.masks.items()
            ]
            return {
                "this": names.object(catalog, view.schema_, name),
                "comment": literal(view.description),
                "masked_columns": ", ".join(view.masks),
                "masked_values": ", ".join(masked),
                "source": names.table(source),
                "row_rules": self.row_rules(name, names),
            }

        yield self.rendered("views", "secure_view.sql", values, needs=source)
        for role in view.readers:
            yield self.grant(["SELECT"], f"TABLE {self.uc.object(catalog, view.schema_, name)}", role, "views")

    def row_rules(self, view_name: str, names: _Names) -> str:
        rows = self.governance.secure_views[view_name].rows
        if rows is None:
            return "TRUE"
        seen = [names.is_member(role) for role in rows.every_row]
        for role, values in rows.only.items():
            allowed = ", ".join(literal(value) for value in values)
            seen.append(f"({names.is_member(role)} AND {rows.column} IN ({allowed}))")
        return " OR ".join(seen)

    def pii_tags(self) -> Iterator[Statement]:
        tags = ", ".join(f"{literal(key)} = {literal(value)}" for key, value in self.governance.pii_tags.items())
        text = governance_sql("column_tags.sql")
        for table, column in pii_columns(self.config, self.environment):
            values = {"table": str(table), "column": column, "tags": tags}
            yield Statement("tags", _one(text, values), needs=table)


def schemas(config: LakehouseConfig, environment: Environment) -> list[tuple[str, str]]:
    """Every schema the pipelines write or read, as (catalog, schema), in the environment's catalogs:
    the systems' Bronze and Silver schemas, XREFs, Gold tables' schemas, run metrics, the knowledge
    index, the Salesforce outbound tables when outbound is on, the volumes' schemas and the governance
    objects' schemas."""
    tables: list[TableName] = []
    for system_name, system in config.systems.items():
        tables.append(quarantine_table(environment, system_name))
        for entity_name in system.entities:
            tables.append(bronze_table(environment, system_name, entity_name))
            tables.append(silver_table(environment, system_name, system, entity_name))
        tables += [xref_table(environment, xref) for xref in system.xrefs]
    tables += [gold_table(environment, table) for table in config.require_pipelines().gold.tables]
    tables += [run_metrics_table(environment), knowledge_index(environment), rag_telemetry(environment)]
    if environment.sfdc_outbound.enabled:
        outbound = outbound_tables(environment)
        tables += [outbound.input, outbound.output, outbound.history, outbound.engagement]
    found = [(table.catalog, table.schema) for table in tables]
    found += [(catalog, schema) for catalog, schema, _ in volumes(environment)]
    governance = config.require_governance()
    catalog_of = environment.catalogs.model_dump()
    found += [(catalog_of[f.zone], f.schema_) for f in governance.functions.values()]
    found += [(catalog_of[v.zone], v.schema_) for v in governance.secure_views.values()]
    order = list(catalog_of.values())
    unique = {pair for pair in found if pair[0] in order}
    return sorted(unique, key=lambda pair: (order.index(pair[0]), pair[1]))


def volumes(environment: Environment) -> list[tuple[str, str, str]]:
    """The Unity Catalog volumes the environment's settings name (landing, checkpoints, artifacts,
    knowledge documents), as (catalog, schema, volume), in its own catalogs."""
    paths: list[str | None] = [environment.rag.documents]
    if isinstance(environment, DatabricksEnvironment):
        settings = environment.databricks
        paths += [settings.landing, settings.checkpoints, settings.artifacts]
    catalogs = set(environment.catalogs.model_dump().values())
    found: list[tuple[str, str, str]] = []
    for path in paths:
        parts = (path or "").split("/")
        if len(parts) >= 5 and parts[1] == "Volumes" and parts[2] in catalogs:
            volume = (parts[2], parts[3], parts[4])
            if volume not in found:
                found.append(volume)
    return found


def pii_columns(config: LakehouseConfig, environment: Environment) -> list[tuple[TableName, str]]:
    """Each Bronze and Silver column holding data a contract marks ``x-pii``. Bronze keeps a struct
    whole (Unity Catalog tags columns, not nested fields); Silver flattens it into its fields."""
    found: list[tuple[TableName, str]] = []
    for system_name, system in config.systems.items():
        for entity_name, entity in system.entities.items():
            bronze = bronze_table(environment, system_name, entity_name)
            silver = silver_table(environment, system_name, system, entity_name)
            for column in entity.columns:
                if _holds_pii(column):
                    found.append((bronze, column.name))
                flattened = column.fields if column.type == "struct" else (column,)
                found += [(silver, field.name) for field in flattened if _holds_pii(field)]
    return found


def _holds_pii(column: Column) -> bool:
    return column.pii or any(_holds_pii(field) for field in column.fields)


def describe(plan: Plan) -> list[str]:
    """The plan as text, by section; on a local environment each statement says whether Spark
    applies it, and how."""
    local = plan.target == "local"
    lines = [f"governance plan of '{plan.env_name}' (target {plan.target}): {len(plan.statements)} statement(s)"]
    if local:
        applied = sum(statement.local is not None for statement in plan.statements)
        lines.append(f"  locally {applied} apply through Spark; the rest need Unity Catalog and are not applied")
    for section in SECTIONS:
        members = plan.section(section)
        if not members:
            continue
        lines += ["", f"-- {section} ({len(members)})"]
        for statement in members:
            lines.append(f"{statement.sql};")
            if local and statement.local is None:
                lines.append("    -- locally: not applied (Unity Catalog only)")
            elif local and statement.local is not None:
                shown = statement.local.replace("\n", "\n    --   ")
                lines.append(f"    -- locally: {shown};")
    return lines
