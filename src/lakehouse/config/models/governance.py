"""``config/governance.yaml``: Unity Catalog roles, grants, masking functions and secure views; each
environment names the groups that hold the roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lakehouse.config.models.base import DottedName, Duration, Identifier, Ownership, StrictModel

Zone = Literal["bronze", "silver", "gold", "ai"]
"""A catalog of the environment's ``catalogs``."""
Privilege = Literal[
    "ALL PRIVILEGES",
    "APPLY TAG",
    "BROWSE",
    "CREATE FUNCTION",
    "CREATE MATERIALIZED VIEW",
    "CREATE MODEL",
    "CREATE SCHEMA",
    "CREATE TABLE",
    "CREATE VOLUME",
    "EXECUTE",
    "MODIFY",
    "READ VOLUME",
    "SELECT",
    "USE CATALOG",
    "USE SCHEMA",
    "WRITE VOLUME",
]
"""Unity Catalog privileges a catalog grant may give; its schemas and tables inherit them."""
TagKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=255)]


class Role(StrictModel):
    """A role (docs/governance.md); each environment names its Azure AD group (``governance.groups``)."""

    description: str = Field(min_length=1)


class SqlFunction(StrictModel):
    """A SQL function; its ``CREATE OR REPLACE FUNCTION`` is ``airflow/include/sql/governance/functions/<name>.sql``."""

    zone: Zone
    """The catalog the function is created in."""
    schema_: Identifier = Field(alias="schema")
    """Its schema there."""
    description: str = ""


class RowRules(StrictModel):
    """Which rows of a secure view a reader sees, by the value of one column (a region, a line of business)."""

    column: Identifier
    """The column of the source table whose value decides."""
    every_row: tuple[Identifier, ...] = ()
    """Roles that see every row."""
    only: dict[Identifier, tuple[str, ...]] = Field(default_factory=dict)
    """Role -> the values of ``column`` its members see."""

    @model_validator(mode="after")
    def _someone_sees_rows(self) -> RowRules:
        if not self.every_row and not self.only:
            raise ValueError("row rules that let no role see a row: name roles in 'every_row' or 'only'")
        return self


class SecureView(StrictModel):
    """A view over a Silver table that masks columns for readers outside the PII role (docs/governance.md)."""

    zone: Zone = "silver"
    """The catalog the view is created in."""
    schema_: Identifier = Field(alias="schema")
    """Its schema there."""
    source: DottedName
    """The Silver table it reads, as ``system.entity``."""
    masks: dict[Identifier, Identifier] = Field(min_length=1)
    """Column -> the function of ``functions`` that masks it."""
    rows: RowRules | None = None
    readers: tuple[Identifier, ...] = ()
    """Roles granted ``SELECT`` on the view."""
    description: str = ""


class Governance(Ownership):
    """``config/governance.yaml``: roles, grants per zone, masking functions and secure views. Catalogs
    come from the environment, schemas from the systems, Gold tables and volumes, PII tags from the
    contracts' ``x-pii`` marks."""

    deadline: Duration = timedelta(hours=1)
    """Of the ``lakehouse_governance`` DAG run, from being queued."""
    roles: dict[Identifier, Role] = Field(min_length=1)
    pii_readers: Identifier
    """The role whose members see masked columns in clear."""
    pii_tags: dict[TagKey, str] = Field(default_factory=lambda: {"pii": "true"}, min_length=1)
    """Unity Catalog tags set on every column a contract marks ``x-pii``."""
    grants: dict[Zone, dict[Identifier, tuple[Privilege, ...]]] = Field(default_factory=dict)
    """Zone -> role -> privileges on its catalog."""
    functions: dict[Identifier, SqlFunction] = Field(default_factory=dict)
    secure_views: dict[Identifier, SecureView] = Field(default_factory=dict)


class EnvironmentGovernance(StrictModel):
    groups: dict[Identifier, Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")]] = Field(
        default_factory=dict
    )
    """Role of ``governance.yaml`` -> the account group (Azure AD, synced by SCIM) that holds it here."""
