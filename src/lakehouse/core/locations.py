"""Where things are for the local target: the landing zone, the warehouse, the knowledge documents
on disk, and the Spark Connect server the stages use, if any."""

from __future__ import annotations

import os
from pathlib import Path

from lakehouse import resources
from lakehouse.config.models import Environment, LocalEnvironment, Rag
from lakehouse.core.naming import TableName

LANDING_ROOT_VAR = "LAKEHOUSE_LANDING_ROOT"
WAREHOUSE_ROOT_VAR = "LAKEHOUSE_WAREHOUSE_ROOT"
KNOWLEDGE_ROOT_VAR = "LAKEHOUSE_KNOWLEDGE_ROOT"
SPARK_REMOTE_VAR = "LAKEHOUSE_SPARK_REMOTE"


def _resolve(configured: str, override_var: str) -> Path:
    path = Path(os.environ.get(override_var) or configured).expanduser()
    return path if path.is_absolute() else resources.base_dir() / path


def landing_root(environment: LocalEnvironment) -> Path:
    return _resolve(environment.local.landing_root, LANDING_ROOT_VAR)


def warehouse_root(environment: LocalEnvironment) -> Path:
    return _resolve(environment.local.warehouse_root, WAREHOUSE_ROOT_VAR)


def table_folder(warehouse: Path, table: TableName) -> Path:
    """A local Delta table's folder: ``<warehouse>/<catalog>/<schema>/<table>``."""
    return warehouse / table.catalog / table.schema / table.table


def spark_remote(environment: LocalEnvironment) -> str | None:
    """The Spark Connect server's ``sc://`` URL; ``None``: a Spark of the process's own."""
    value = os.environ.get(SPARK_REMOTE_VAR) or environment.local.spark_remote or "none"
    return None if value == "none" else value


def health_page(environment: LocalEnvironment) -> Path:
    """Where ``lakehouse report`` writes the health page, and the Airflow UI's plugin finds it."""
    return warehouse_root(environment) / "_reports" / "health.html"


def knowledge_root(environment: Environment, rag: Rag) -> Path:
    """The folder of knowledge documents: the environment's, else the repository's."""
    return _resolve(environment.rag.documents or rag.documents, KNOWLEDGE_ROOT_VAR)
