"""``config/pipelines.yaml``: the Gold marts, the RAG index and the weekly maintenance."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from lakehouse.config.models.base import DottedName, Duration, Identifier, Ownership, Schedule, StrictModel


class GoldTable(StrictModel):
    name: Identifier
    """The table's name; its SQL is ``airflow/include/sql/gold/<name>.sql``."""
    schema_: Identifier = Field(alias="schema")
    """Gold schema of the table."""
    kind: Literal["table", "view"] = "table"
    """``table``: the SQL file MERGEs into it. ``view``: the file holds one ``SELECT``, made a view (a
    table rebuilt each run where views cannot outlive the session)."""
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


class Gold(Ownership):
    deadline: Duration
    """From the moment the run is queued (its Silver inputs arrived) to Gold being published."""
    tables: tuple[GoldTable, ...] = Field(min_length=1)
    """Built in an order that follows ``depends_on``; every table gets a row-count smoke check."""
    smoke_checks: SmokeChecks = SmokeChecks()


Classification = Literal["public", "internal", "confidential", "restricted"]


class Chunking(StrictModel):
    max_chars: int = Field(default=1000, ge=200, le=8000)
    """The longest chunk a document is cut into."""
    overlap_chars: int = Field(default=150, ge=0, le=2000)
    """How much of a chunk's end the next chunk repeats."""

    @model_validator(mode="after")
    def _overlap_smaller_than_chunk(self) -> Chunking:
        if self.overlap_chars >= self.max_chars // 2:
            raise ValueError("'overlap_chars' must be under half of 'max_chars'")
        return self


class Rag(Ownership):
    schedule: Schedule
    """When the index is rebuilt."""
    deadline: Duration
    """How long a run may take from being queued before a deadline-missed alert."""
    domains: tuple[Identifier, ...] = Field(min_length=1)
    """Systems whose knowledge documents are indexed."""
    documents: str = "knowledge"
    """Folder with one subfolder of documents per domain; relative paths are relative to the
    repository root. The environment's ``rag.documents`` (a volume on Databricks) wins over it."""
    chunking: Chunking = Chunking()
    allowed_classifications: tuple[Classification, ...] = ("public", "internal")
    """Only chunks of these classifications are ever returned; the others are indexed but filtered."""
    top_k: int = Field(default=5, ge=1)
    """Passages a question gets when it asks for no other number (``lakehouse ask --k``)."""
    max_top_k: int = Field(default=10, ge=1, le=50)
    """The most passages any question gets; a larger request is capped and flagged."""
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


class Maintenance(Ownership):
    schedule: Schedule
    """When OPTIMIZE and VACUUM run over every table."""
    deadline: Duration
    """How long a run may take from being queued before a deadline-missed alert."""
    optimize_min_files: int = Field(default=50, ge=1)
    """OPTIMIZE a table once its commits since the last OPTIMIZE added this many more data files than
    they removed (Delta's auto-compaction threshold by default): fewer small files cost less to read
    than to rewrite."""


class Pipelines(StrictModel):
    gold: Gold
    rag: Rag
    maintenance: Maintenance
