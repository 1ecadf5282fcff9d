"""Checks that span models: names one part of the config uses must exist in another part."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from lakehouse.config.issues import MISSING, ConfigIssue, dotted
from lakehouse.config.models import (
    DatabricksEnvironment,
    Entity,
    Environment,
    Governance,
    Pipelines,
    System,
)
from lakehouse.resources import sql_file


def check_system(name: str, system: System, file: str) -> Iterator[ConfigIssue]:
    base = ("systems", name)

    def issue(*key: str | int, message: str, value: object) -> ConfigIssue:
        return ConfigIssue(file, dotted([*base, *key]), message, value)

    for entity_name, entity in system.entities.items():
        at = ("entities", entity_name)
        top_level = [column.name for column in entity.columns]
        for index, column_name in enumerate(top_level):
            if column_name in top_level[:index]:
                yield issue(*at, "columns", index, "name", message="duplicate column name", value=column_name)
        for index, key in enumerate(entity.natural_key):
            if key not in top_level:
                yield issue(*at, "natural_key", index, message=_not_a_column(top_level), value=key)
        if entity.survivorship is not None and entity.survivorship.order_by not in top_level:
            yield issue(
                *at, "survivorship", "order_by", message=_not_a_column(top_level), value=entity.survivorship.order_by
            )
        paths = entity.column_paths()
        for surrogate, column_path in entity.canonical_keys.items():
            if column_path not in paths:
                yield issue(*at, "canonical_keys", surrogate, message=_not_a_column(paths), value=column_path)
        available = list(top_level)
        for index, silver_rule in enumerate(entity.silver_rules):
            for rule_key, column_name in silver_rule.inputs():
                if column_name not in available:
                    yield issue(
                        *at, "silver_rules", index, *rule_key, message=_not_a_column(available), value=column_name
                    )
            output = silver_rule.output
            if output is not None and output not in available:
                available.append(output)

    for index, rule in enumerate(system.dq_rules):
        checked = system.rule_entity(rule)
        if checked is None:
            yield issue(
                "dq_rules",
                index,
                "entity",
                message=f"required when a system has several entities; one of: {', '.join(system.entities)}",
                value=None,
            )
            continue
        if checked not in system.entities:
            yield issue(
                "dq_rules",
                index,
                "entity",
                message=f"unknown entity; one of: {', '.join(system.entities)}",
                value=rule.entity,
            )
            continue
        entity = system.entities[checked]
        columns = silver_columns(entity)
        if rule.column not in columns:
            yield issue("dq_rules", index, "column", message=_not_a_column(columns), value=rule.column)


def silver_columns(entity: Entity) -> list[str]:
    """Columns of the entity's Silver table: the contract's plus those its rules add."""
    columns = [column.name for column in entity.columns]
    for rule in entity.silver_rules:
        output = rule.output
        if output is not None and output not in columns:
            columns.append(output)
    return columns


def check_silver_tables_unique(systems: Mapping[str, System], file: str) -> Iterator[tuple[str, ConfigIssue]]:
    """Two entities writing one Silver table would overwrite each other."""
    owners: dict[tuple[str, str], str] = {}
    for system_name, system in systems.items():
        for entity_name, entity in system.entities.items():
            table = (entity.silver.schema_ or system_name, entity.silver.table)
            if table in owners:
                yield (
                    system_name,
                    ConfigIssue(
                        file,
                        dotted(["systems", system_name, "entities", entity_name, "silver", "table"]),
                        f"Silver table {'.'.join(table)} is already written by {owners[table]}",
                        entity.silver.table,
                    ),
                )
            else:
                owners[table] = f"{system_name}.{entity_name}"


def check_pipelines(
    pipelines: Pipelines, systems: Mapping[str, System], known_systems: set[str], file: str
) -> Iterator[ConfigIssue]:
    """``systems`` holds the valid systems; ``known_systems`` also those that failed validation."""
    names = [table.name for table in pipelines.gold.tables]
    for index, table in enumerate(pipelines.gold.tables):
        at = ("gold", "tables", index)
        if table.name in names[:index]:
            yield ConfigIssue(file, dotted([*at, "name"]), "duplicate Gold table name", table.name)
        for input_index, ref in enumerate(table.inputs):
            system_name, _, entity_name = ref.partition(".")
            key = dotted([*at, "inputs", input_index])
            if not entity_name:
                yield ConfigIssue(file, key, "expected 'system.entity'", ref)
            elif system_name not in known_systems:
                yield ConfigIssue(
                    file, key, f"unknown system '{system_name}'; known: {', '.join(sorted(known_systems))}", ref
                )
            elif system_name in systems and entity_name not in systems[system_name].entities:
                entities = ", ".join(systems[system_name].entities)
                yield ConfigIssue(
                    file, key, f"system '{system_name}' has no entity '{entity_name}'; it has: {entities}", ref
                )
        for dep_index, dependency in enumerate(table.depends_on):
            if dependency not in names:
                yield ConfigIssue(
                    file,
                    dotted([*at, "depends_on", dep_index]),
                    f"unknown Gold table; known: {', '.join(names)}",
                    dependency,
                )
    cycle = _find_cycle({table.name: table.depends_on for table in pipelines.gold.tables})
    if cycle:
        yield ConfigIssue(file, "gold.tables", f"depends_on forms a cycle: {' -> '.join(cycle)}", MISSING)
    for index, domain in enumerate(pipelines.rag.domains):
        if domain not in known_systems:
            yield ConfigIssue(
                file,
                dotted(["rag", "domains", index]),
                f"unknown system; known: {', '.join(sorted(known_systems))}",
                domain,
            )
    for domain in pipelines.rag.routing:
        if domain not in known_systems:
            message = f"unknown system; known: {', '.join(sorted(known_systems))}"
            yield ConfigIssue(file, dotted(["rag", "routing", domain]), message, domain)
    for index, table_name in enumerate(pipelines.rag.sql_tables):
        if table_name not in names:
            yield ConfigIssue(
                file, dotted(["rag", "sql_tables", index]), f"unknown Gold table; known: {', '.join(names)}", table_name
            )


def _find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for child in graph.get(node, ()):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child in graph and child not in state:
                found = visit(child)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _not_a_column(available: list[str]) -> str:
    return f"not a column of the contract; available: {', '.join(available)}"


GOVERNANCE_SQL = "airflow/include/sql/governance"


def check_governance(
    governance: Governance,
    environment: Environment,
    systems: Mapping[str, System],
    known_systems: set[str],
    file: str,
    env_file: str,
) -> Iterator[ConfigIssue]:
    """Roles named anywhere exist and have a group in the environment; secure views read a Silver
    table and mask its columns with known functions; each function has its SQL file."""
    roles = sorted(governance.roles)

    def role(value: str, *key: str | int) -> Iterator[ConfigIssue]:
        if value not in governance.roles:
            yield ConfigIssue(file, dotted(key), f"unknown role; roles: {', '.join(roles)}", value)

    yield from role(governance.pii_readers, "pii_readers")
    for zone, by_role in governance.grants.items():
        for name in by_role:
            yield from role(name, "grants", zone, name)
    for name in governance.functions:
        if not sql_file(f"governance/functions/{name}.sql").is_file():
            yield ConfigIssue(file, dotted(["functions", name]), f"no SQL file {GOVERNANCE_SQL}/functions/{name}.sql")
    for view_name, view in governance.secure_views.items():
        at = ("secure_views", view_name)
        for index, name in enumerate(view.readers):
            yield from role(name, *at, "readers", index)
        system_name, _, entity_name = view.source.partition(".")
        system = systems.get(system_name)
        if system is None or entity_name not in system.entities:
            # A system that failed validation has its own issues; only an unknown one is this file's.
            if system_name not in known_systems or system is not None:
                yield ConfigIssue(file, dotted([*at, "source"]), "not a Silver table as system.entity", view.source)
            continue
        columns = silver_columns(system.entities[entity_name])
        for column, function in view.masks.items():
            if column not in columns:
                yield ConfigIssue(file, dotted([*at, "masks", column]), _not_a_column(columns), column)
            if function not in governance.functions:
                known = ", ".join(sorted(governance.functions)) or "none"
                yield ConfigIssue(
                    file, dotted([*at, "masks", column]), f"unknown function; functions: {known}", function
                )
        if view.rows is not None:
            if view.rows.column not in columns:
                yield ConfigIssue(file, dotted([*at, "rows", "column"]), _not_a_column(columns), view.rows.column)
            for index, name in enumerate(view.rows.every_row):
                yield from role(name, *at, "rows", "every_row", index)
            for name in view.rows.only:
                yield from role(name, *at, "rows", "only", name)
    if isinstance(environment, DatabricksEnvironment) and not environment.databricks.sql_warehouse_for_governance:
        message = "the governance statements need a SQL warehouse: set it, or databricks.gold_warehouse"
        yield ConfigIssue(env_file, "databricks.governance_warehouse", message)
    groups = environment.governance.groups
    for name in roles:
        if name not in groups:
            yield ConfigIssue(env_file, f"governance.groups.{name}", "every role of governance.yaml needs its group")
    for name in groups:
        if name not in governance.roles:
            yield ConfigIssue(env_file, f"governance.groups.{name}", f"unknown role; roles: {', '.join(roles)}", name)
