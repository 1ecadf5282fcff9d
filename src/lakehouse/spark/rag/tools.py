"""Tools an agent can call (docs/rag.md): the guarded retriever, and read-only SQL over the Gold
tables that config allows. Each tool carries the JSON-schema spec a function-calling model needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from pyspark.sql import SparkSession
from sqlglot import exp

from lakehouse.config import LakehouseConfig
from lakehouse.core.naming import TableName, gold_table
from lakehouse.core.rag.answers import NOTHING_FOUND, cited_passages
from lakehouse.spark.rag.knowledge_base import KnowledgeBase
from lakehouse.spark.tables import Tables


class ToolError(ValueError):
    """The call was refused; the message says why, for the model to correct itself."""


@dataclass
class RetrieverTool:
    knowledge: KnowledgeBase
    name: str = "retriever_tool"
    description: str = (
        "Search the domain-tagged knowledge base (runbooks, data dictionaries, policies). Questions about cases "
        "go to pega, addresses to amdm, services to jarvis, identity to cmdm, contacts to sfdc unless a domain is "
        "given. Returns numbered passages with their source document."
    )

    @property
    def spec(self) -> dict[str, Any]:
        domains = list(self.knowledge.rag.domains)
        return _spec(
            self.name,
            self.description,
            {"question": {"type": "string"}, "domain": {"type": "string", "enum": domains}},
            ["question"],
        )

    def run(self, question: str, domain: str | None = None) -> str:
        retrieval = self.knowledge.retrieve(question, domain=domain)
        return cited_passages(retrieval) if retrieval.passages else NOTHING_FOUND


class SqlTool:
    """One SELECT over allow-listed Gold tables, named by their short names; at most ``row_limit`` rows."""

    name = "sql_tool"

    def __init__(self, config: LakehouseConfig, spark: SparkSession, tables: Tables, row_limit: int = 100) -> None:
        environment = config.require_environment()
        allowed = set(config.require_pipelines().rag.sql_tables)
        self.tables: dict[str, TableName] = {
            t.name: gold_table(environment, t) for t in config.require_pipelines().gold.tables if t.name in allowed
        }
        self.spark = spark
        self.locations = tables
        self.row_limit = row_limit
        self.description = (
            "Run one read-only Spark SQL SELECT over the Gold marts. Tables: "
            + ", ".join(sorted(self.tables))
            + f". At most {row_limit} rows are returned."
        )

    @property
    def spec(self) -> dict[str, Any]:
        return _spec(self.name, self.description, {"sql": {"type": "string"}}, ["sql"])

    def rewrite(self, sql: str) -> str:
        """The statement as Spark runs it, or ``ToolError`` if it is not a single allowed SELECT."""
        try:
            statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise ToolError(f"not valid Spark SQL: {exc}") from None
        if len(statements) != 1:
            raise ToolError(f"expected one statement, got {len(statements)}")
        (query,) = statements
        if not isinstance(query, exp.Query):
            raise ToolError(f"only SELECT queries are allowed, not {query.key.upper()}")
        ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
        for table in list(query.find_all(exp.Table)):
            if not table.db and table.name in ctes:
                continue
            target = self.tables.get(table.name)
            if (
                target is None
                or (table.db and table.db != target.schema)
                or (table.catalog and table.catalog != target.catalog)
            ):
                named = ".".join(part for part in (table.catalog, table.db, table.name) if part)
                raise ToolError(f"table '{named}' is not allowed; allowed: {', '.join(sorted(self.tables))}")
            resolved = exp.to_table(self.locations.sql(target), dialect="spark")
            if table.alias:
                resolved.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias)))
            table.replace(resolved)
        return f"SELECT * FROM ({query.sql(dialect='spark')}) AS result LIMIT {self.row_limit}"

    def run(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict(recursive=True) for row in self.spark.sql(self.rewrite(sql)).collect()]


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def toolset(knowledge: KnowledgeBase) -> dict[str, RetrieverTool | SqlTool]:
    """The agent's tools by name, over the same session and warehouse as the knowledge base."""
    retriever = RetrieverTool(knowledge)
    sql = SqlTool(knowledge.config, knowledge.spark, knowledge.tables)
    return {retriever.name: retriever, sql.name: sql}
