"""The knowledge base over a Spark session: the index loaded from its Delta table (or a Databricks
Vector Search index), answers composed by the configured serving endpoint, telemetry appended to its
Delta table. The asking itself is ``lakehouse.core.rag.answers``."""

from __future__ import annotations

from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import ChatMessage, ChatMessageRole
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import LocalEnvironment
from lakehouse.core.locations import warehouse_root
from lakehouse.core.naming import TableName, knowledge_index, rag_telemetry
from lakehouse.core.rag import answers
from lakehouse.core.rag.answers import INDEX_COLUMNS, SYSTEM_PROMPT, TELEMETRY_FIELDS, FieldType
from lakehouse.core.rag.retrieval import LocalSearch, Mode, Retrieval, Searcher
from lakehouse.core.rag.vector_search import VectorSearchSearcher, index_name
from lakehouse.spark import delta_io
from lakehouse.spark.main import session_for
from lakehouse.spark.tables import Tables

_SPARK_TYPES: dict[FieldType, T.DataType] = {
    "timestamp": T.TimestampType(),
    "string": T.StringType(),
    "boolean": T.BooleanType(),
    "int": T.IntegerType(),
    "double": T.DoubleType(),
    "array<string>": T.ArrayType(T.StringType()),
}
TELEMETRY_SCHEMA = T.StructType([T.StructField(name, _SPARK_TYPES[kind]) for name, kind in TELEMETRY_FIELDS])


def load_local_search(
    spark: SparkSession, tables: Tables, index: TableName, config: LakehouseConfig, mode: Mode
) -> LocalSearch:
    """The allowed part of the index, in memory: other classifications never leave the table."""
    if not tables.exists(spark, index):
        raise answers.index_not_built(index)
    allowed = list(config.require_pipelines().rag.allowed_classifications)
    rows = (
        tables.read(spark, index)
        .where(F.col("classification").isin(allowed))
        .select(*INDEX_COLUMNS)
        .orderBy("chunk_id")
        .collect()
    )
    return answers.local_search([row.asDict() for row in rows], index, mode)


class KnowledgeBase(answers.KnowledgeBase):
    """The knowledge base of an environment, read and logged through ``spark``."""

    def __init__(self, config: LakehouseConfig, spark: SparkSession, tables: Tables, mode: Mode = "hybrid") -> None:
        environment = config.require_environment()
        searcher: Searcher
        if environment.rag.vector_search_endpoint:
            rag = config.require_pipelines().rag
            searcher = VectorSearchSearcher(WorkspaceClient(), index_name(environment), rag.allowed_classifications)
        else:
            searcher = load_local_search(spark, tables, knowledge_index(environment), config, mode)
        location = tables.location(rag_telemetry(environment))

        def log(row: dict[str, Any]) -> None:
            frame = spark.createDataFrame([row], TELEMETRY_SCHEMA)
            delta_io.save(frame.write.format("delta").mode("append"), location)

        super().__init__(config, searcher, log, serving_answer)
        self.spark = spark
        self.tables = tables


def local_knowledge_base(config: LakehouseConfig, environment: LocalEnvironment) -> KnowledgeBase:
    """A local environment's knowledge base through its Spark session (``lakehouse ask`` with an endpoint)."""
    return KnowledgeBase(config, session_for(config.env_name), Tables(warehouse_root(environment)))


def serving_answer(endpoint: str, retrieval: Retrieval) -> str:
    """The answer of a Databricks model serving endpoint to the passages and the question."""
    response: Any = WorkspaceClient().serving_endpoints.query(
        name=endpoint,
        messages=[
            ChatMessage(role=ChatMessageRole.SYSTEM, content=SYSTEM_PROMPT),
            ChatMessage(role=ChatMessageRole.USER, content=answers.prompt(retrieval)),
        ],
    )
    return str(response.choices[0].message.content)
