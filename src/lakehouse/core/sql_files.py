"""The SQL files of ``airflow/include/sql``: where they are, how their placeholders are filled, and
the statements a Gold table's file comes down to. Pure text, so DAG parsing can render SQL for a
SQL warehouse without Spark, and Spark stages run the very same statements."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import TableName, gold_table, outbound_tables, silver_table, xref_table
from lakehouse.resources import sql_file

_PLACEHOLDER = re.compile(r"{{\s*([a-z0-9_.]+)\s*}}")


def render(text: str, resolve: Callable[[str], str]) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown name is an error, not an empty string."""
    return _PLACEHOLDER.sub(lambda match: resolve(match.group(1)), text)


def statements(text: str) -> list[str]:
    """Split on ``;`` at the end of a line; comments and blank statements dropped."""
    parts = re.split(r";\s*$", text, flags=re.MULTILINE)
    cleaned = [
        "\n".join(line for line in part.splitlines() if not line.strip().startswith("--")).strip() for part in parts
    ]
    return [part for part in cleaned if part]


def sql_date(day: date) -> str:
    return f"DATE'{day.isoformat()}'"


def resolver(
    config: LakehouseConfig,
    name_of: Callable[[TableName], str],
    logical_date: str,
    this: TableName | None = None,
    as_of: Callable[[TableName], str] = lambda table: "",
    values: Mapping[str, str] | None = None,
) -> Callable[[str], str]:
    """What each placeholder becomes: tables named by ``name_of`` (a path locally, a Unity Catalog
    name on Databricks), ``logical_date`` as given (a literal, or a template a task renders), and
    the ``values`` a statement is given. A Silver or XREF table is followed by ``as_of`` of it (a
    time-travel clause, or nothing)."""
    environment = config.require_environment()
    gold_tables = {table.name: table for table in config.require_pipelines().gold.tables}
    xrefs = {xref.table: xref_table(environment, xref) for system in config.systems.values() for xref in system.xrefs}
    outbound = {table.table: table for table in vars(outbound_tables(environment)).values()}

    def resolve(name: str) -> str:
        if values and name in values:
            return values[name]
        if name == "this" and this is not None:
            return name_of(this)
        if name == "logical_date":
            return logical_date
        if name == "env":
            return f"'{config.env_name}'"
        layer, _, rest = name.partition(".")
        if layer == "silver":
            system_name, _, entity_name = rest.partition(".")
            system = config.systems.get(system_name)
            if system is not None and entity_name in system.entities:
                table = silver_table(environment, system_name, system, entity_name)
                return name_of(table) + as_of(table)
        if layer == "xref" and rest in xrefs:
            return name_of(xrefs[rest]) + as_of(xrefs[rest])
        if layer == "sfdc" and rest in outbound:
            return name_of(outbound[rest])
        if layer == "gold" and rest in gold_tables:
            return name_of(gold_table(environment, gold_tables[rest]))
        raise KeyError(f"unknown SQL placeholder '{{{{ {name} }}}}'")

    return resolve


def gold_statements(
    config: LakehouseConfig,
    table_name: str,
    name_of: Callable[[TableName], str],
    logical_date: str,
    *,
    materialise_views: bool,
    as_of: Callable[[TableName], str] = lambda table: "",
) -> list[str]:
    """The statements that build one Gold table, reading Silver at ``as_of``. A ``kind: view`` file
    holds only its ``SELECT``; it becomes a view, or a table rebuilt each run where views cannot
    outlive the session."""
    (table,) = [t for t in config.require_pipelines().gold.tables if t.name == table_name]
    target = gold_table(config.require_environment(), table)
    text = sql_file(f"gold/{table_name}.sql").read_text(encoding="utf-8")
    parts = statements(render(text, resolver(config, name_of, logical_date, target, as_of)))
    if table.kind != "view":
        return parts
    select = "\n".join(parts)
    if materialise_views:
        return [f"CREATE OR REPLACE TABLE {name_of(target)} USING DELTA AS\n{select}"]
    return [f"CREATE OR REPLACE VIEW {name_of(target)} AS\n{select}"]


def script(parts: list[str]) -> str:
    """One statement for APIs that take one (the SQL Statement Execution API): a single statement
    as is, several as a SQL script (``BEGIN ... END``, Databricks SQL and Spark 4)."""
    if len(parts) == 1:
        return parts[0]
    return "BEGIN\n" + "".join(f"{part};\n" for part in parts) + "END"


def row_count_statement(config: LakehouseConfig, name_of: Callable[[TableName], str], logical_date: str) -> str:
    """One statement counting the rows of every Gold table of ``pipelines.yaml`` (its current rows
    where it names a ``current_flag``): ``smoke/row_count.sql`` per table, their results in one."""
    environment = config.require_environment()
    template = sql_file("smoke/row_count.sql").read_text(encoding="utf-8")
    selects = []
    for table in config.require_pipelines().gold.tables:
        target = gold_table(environment, table)
        values = {
            "table_name": literal(table.name),
            "current_only": f" WHERE {table.current_flag}" if table.current_flag else "",
        }
        (select,) = statements(render(template, resolver(config, name_of, logical_date, target, values=values)))
        selects.append(select)
    return "\nUNION ALL\n".join(selects)


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
