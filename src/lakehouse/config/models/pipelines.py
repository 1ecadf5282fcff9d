"""``config/pipelines.yaml``: the Gold marts, the RAG index and the weekly maintenance."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from lakehouse.config.models.base import DottedName, Duration, Identifier, Schedule, StrictModel


class GoldTable(StrictModel):
    name: Identifier
    schema_: Identifier = Field(alias="schema")
    kind: Literal["table", "view"] = "table"
    description: str = ""
    inputs: tuple[DottedName, ...] = ()
    """Silver inputs as ``system.entity``."""
    depends_on: tuple[Identifier, ...] = ()
    """Gold tables built before this one."""
    current_flag: Identifier | None = None
    """The boolean column that marks a row current (an SCD2 dimension): the row-count smoke check
    then counts current rows only."""


class SmokeChecks(StrictModel):
    max_orphan_ratio: float = Field(default=0.0, ge=0, le=1)
    """Share of a check's rows allowed to lack their parent (a quarantined master record leaves its
    children orphaned) before the smoke task fails."""


class Gold(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    deadline: Duration
    """From the moment the run is queued (its Silver inputs arrived) to Gold being published."""
    tables: tuple[GoldTable, ...] = Field(min_length=1)
    smoke_checks: SmokeChecks = SmokeChecks()


Classification = Literal["public", "internal", "confidential", "restricted"]


class Chunking(StrictModel):
    max_chars: int = Field(default=1000, ge=200, le=8000)
    overlap_chars: int = Field(default=150, ge=0, le=2000)

    @model_validator(mode="after")
    def _overlap_smaller_than_chunk(self) -> Chunking:
        if self.overlap_chars >= self.max_chars // 2:
            raise ValueError("'overlap_chars' must be under half of 'max_chars'")
        return self


class Rag(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    schedule: Schedule
    deadline: Duration
    domains: tuple[Identifier, ...] = Field(min_length=1)
    """Systems whose knowledge documents are indexed."""
    documents: str = "knowledge"
    """Folder with one subfolder of documents per domain; relative paths are relative to the
    repository root. The environment's ``rag.documents`` (a volume on Databricks) wins over it."""
    chunking: Chunking = Chunking()
    allowed_classifications: tuple[Classification, ...] = ("public", "internal")
    """Only chunks of these classifications are ever returned; the others are indexed but filtered."""
    top_k: int = Field(default=5, ge=1)
    max_top_k: int = Field(default=10, ge=1, le=50)
    routing: dict[Identifier, tuple[str, ...]] = Field(default_factory=dict)
    """Domain -> words in a question that make retrieval prefer that domain's documents."""
    identifiers: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    """Label -> regular expression of an identifier the redactor replaces with ``[LABEL]``."""
    sql_tables: tuple[Identifier, ...] = ()
    """Gold tables the agent's SQL tool may read."""

    @field_validator("identifiers")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"identifier '{label}': not a valid regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rag:
        if self.top_k > self.max_top_k:
            raise ValueError(f"'top_k' ({self.top_k}) is above 'max_top_k' ({self.max_top_k})")
        return self


class Maintenance(StrictModel):
    owner: str = Field(min_length=1)
    cost_centre: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    schedule: Schedule
    deadline: Duration


class Pipelines(StrictModel):
    gold: Gold
    rag: Rag
    maintenance: Maintenance
