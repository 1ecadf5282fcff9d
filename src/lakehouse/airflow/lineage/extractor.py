"""The Delta tables in a task's OpenLineage events, as datasets ``catalog.schema.table`` in namespace
``x-lakehouse``; ``lineage_environ`` registers both extractors.

- ``StageExtractor``, for the local target's stage tasks: the tables the stage registry says the
  stage reads and writes (``lakehouse.core.stages``).
- ``TableExtractor``, for ``PythonOperator`` (the DQ gates): the provider turns an Airflow asset into
  a dataset only through a converter an Airflow provider registers for the asset's URI scheme, and
  ``x-lakehouse`` has none; this keeps what the provider's own extractor records and adds the
  lakehouse tables the task declares as inlets and outlets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage
from airflow.providers.openlineage.extractors.manager import ExtractorManager
from airflow.providers.openlineage.extractors.python import PythonExtractor
from openlineage.client.event_v2 import Dataset

from lakehouse.config import load_config
from lakehouse.core import stages
from lakehouse.core.naming import TableName

ASSET_SCHEME = "x-lakehouse"
DATASET_NAMESPACE = ASSET_SCHEME


def table_dataset(asset: Any) -> Dataset | None:
    """The dataset of a lakehouse table's asset (``x-lakehouse://catalog/schema/table``), else None."""
    uri = getattr(asset, "uri", None)
    if not isinstance(uri, str) or not uri.startswith(f"{ASSET_SCHEME}://"):
        return None
    parts = uri.removeprefix(f"{ASSET_SCHEME}://").split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return Dataset(namespace=DATASET_NAMESPACE, name=".".join(parts))


def _datasets(declared: Iterable[Any]) -> list[Dataset]:
    found = (table_dataset(item) or ExtractorManager.convert_to_ol_dataset(item) for item in declared)
    return [dataset for dataset in found if dataset is not None]


class TableExtractor(PythonExtractor):
    def _execute_extraction(self) -> OperatorLineage | None:
        lineage = super()._execute_extraction() or OperatorLineage()
        inputs, outputs = _datasets(self.operator.inlets), _datasets(self.operator.outlets)
        if not inputs and not outputs:
            # The provider then looks at hook lineage and at assets it can convert itself.
            return lineage
        # The task's data lineage is known, so the "unknown source" facet no longer applies.
        run_facets = {key: facet for key, facet in lineage.run_facets.items() if key != "unknownSourceAttribute"}
        return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets, job_facets=lineage.job_facets)


def dataset(table: TableName) -> Dataset:
    return Dataset(namespace=DATASET_NAMESPACE, name=str(table))


class StageExtractor(BaseExtractor):
    """The tables a local stage task reads and writes, from the stage registry."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["LocalStageOperator"]

    def _execute_extraction(self) -> OperatorLineage | None:
        declared = stages.stage(self.operator.stage)
        config = load_config(self.operator.env)
        arguments = self.operator.arguments
        return OperatorLineage(
            inputs=[dataset(table) for table in declared.reads(config, arguments)],
            outputs=[dataset(table) for table in declared.writes(config, arguments)],
        )
