"""The Spark read schema comes from the entity's JSON Schema contract, and nothing else."""

from __future__ import annotations

from typing import Any

from pyspark.sql import types as T

from lakehouse.airflow.factory.docs import ingest_doc
from lakehouse.config import load_config
from lakehouse.core.naming import silver_table
from lakehouse.spark.contracts import contract_schema
from tests.conftest import ConfigCopy


def test_a_column_added_to_the_contract_is_read_by_bronze_and_documented(config_copy: ConfigCopy) -> None:
    def add_region(document: dict[str, Any]) -> None:
        document["properties"]["region"] = {"type": ["integer", "null"], "format": "int64", "x-pii": True}
        document["version"] = "1.1.0"

    config_copy.edit("contracts/jarvis/service.schema.json", add_region)
    config = load_config("local", config_copy.dir)
    service = config.systems["jarvis"].entities["service"]
    schema = contract_schema(service)
    assert schema.fieldNames()[-2:] == ["updated_ts", "region"]
    assert schema["region"].dataType == T.LongType() and schema["start_dt"].dataType == T.DateType()
    environment = config.require_environment()
    silver = {"service": silver_table(environment, "jarvis", config.systems["jarvis"], "service")}
    doc = ingest_doc("local", environment, "jarvis", config.systems["jarvis"], silver)
    assert "- Contract: `config/contracts/jarvis/service.schema.json`, version 1.1.0" in doc
    assert "`region` (long, PII)" in doc
