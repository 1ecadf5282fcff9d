"""Where things are on disk for the local target: the checkout, the landing zone, the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

from lakehouse.config.models import Environment, Rag

LANDING_ROOT_VAR = "LAKEHOUSE_LANDING_ROOT"
WAREHOUSE_ROOT_VAR = "LAKEHOUSE_WAREHOUSE_ROOT"
KNOWLEDGE_ROOT_VAR = "LAKEHOUSE_KNOWLEDGE_ROOT"


def project_root() -> Path:
    """The checkout this package is installed from (editable install)."""
    return Path(__file__).resolve().parents[2]


def bundled(folder: str) -> Path:
    """A folder of the checkout (``config``, ``airflow/include/sql``), or the copy the wheel carries
    where there is no checkout: a Databricks cluster that installed the wheel."""
    checkout = project_root() / folder
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "bundled" / folder


def _resolve(configured: str, override_var: str) -> Path:
    path = Path(os.environ.get(override_var) or configured).expanduser()
    return path if path.is_absolute() else project_root() / path


def _local(environment: Environment) -> tuple[str, str]:
    if environment.local is None:
        raise ValueError("this environment has no 'local' section: its target is not local")
    return environment.local.landing_root, environment.local.warehouse_root


def landing_root(environment: Environment) -> Path:
    return _resolve(_local(environment)[0], LANDING_ROOT_VAR)


def warehouse_root(environment: Environment) -> Path:
    return _resolve(_local(environment)[1], WAREHOUSE_ROOT_VAR)


def knowledge_root(environment: Environment, rag: Rag) -> Path:
    """The folder of knowledge documents: the environment's, else the repository's."""
    return _resolve(environment.rag.documents or rag.documents, KNOWLEDGE_ROOT_VAR)
