"""Spark schemas derived from the contracts in config."""

from __future__ import annotations

from pyspark.sql import types as T

from lakehouse.config.models import Column, Entity

_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "integer": T.IntegerType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}


def spark_type(column: Column) -> T.DataType:
    if column.type == "struct":
        return T.StructType([T.StructField(child.name, spark_type(child), True) for child in column.fields])
    return _TYPES[column.type]


def contract_schema(entity: Entity) -> T.StructType:
    """Every column nullable: a missing value is a contract violation we report, not a parse crash."""
    return T.StructType([T.StructField(column.name, spark_type(column), True) for column in entity.columns])


def string_schema(entity: Entity) -> T.StructType:
    return T.StructType([T.StructField(column.name, T.StringType(), True) for column in entity.columns])
