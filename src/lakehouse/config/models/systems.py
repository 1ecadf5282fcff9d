"""``config/systems.yaml``: source systems, their entities (columns from the contracts), Silver rules,
survivorship and DQ rules."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from lakehouse.config.models.base import Duration, Identifier, Ownership, Schedule, StrictModel

ColumnType = Literal["string", "integer", "long", "double", "boolean", "date", "timestamp", "struct"]
DqAction = Literal["warn", "quarantine", "fail"]
SurrogateKey = Literal["customer_sk", "account_sk", "service_sk", "address_sk", "case_sk"]


class Column(StrictModel):
    name: Identifier
    type: ColumnType
    nullable: bool = True
    pii: bool = False
    """Personal data: masked and tagged by governance."""
    description: str = ""
    fields: tuple[Column, ...] = ()
    """The nested fields of a ``struct`` column."""

    @model_validator(mode="after")
    def _fields_only_for_struct(self) -> Column:
        if self.type == "struct" and not self.fields:
            raise ValueError("a struct column needs 'fields'")
        if self.type != "struct" and self.fields:
            raise ValueError("only a struct column may have 'fields'")
        return self

    def paths(self) -> list[str]:
        """This column and, for a struct, each nested field as ``parent.child``."""
        return [self.name] + [f"{self.name}.{path}" for child in self.fields for path in child.paths()]


class Xref(StrictModel):
    schema_: Identifier = Field(alias="schema")
    """Silver schema of the cross-reference table."""
    table: Identifier
    """Its name; its SQL is ``airflow/include/sql/silver/<table>.sql``."""


class SilverTarget(StrictModel):
    schema_: Identifier | None = Field(default=None, alias="schema")
    """Silver schema; the system's name when unset."""
    table: Identifier
    """The Silver table's name in that schema."""
    xrefs: tuple[Xref, ...] = ()
    """Cross-reference tables (docs/pipeline.md) kept from this table by the same task, each by
    ``airflow/include/sql/silver/<table>.sql``, after the Silver MERGE."""


RuleKey = tuple[str | int, ...]
"""Where a value sits inside a rule (``("columns", 1)``), for pointing a problem at what the user wrote."""


class OneColumnRule(StrictModel):
    """A rule that rewrites one column in place."""

    column: Identifier
    """The column the rule rewrites."""

    def inputs(self) -> list[tuple[RuleKey, str]]:
        """The columns the rule reads, each with its key inside the rule."""
        return [(("column",), self.column)]

    @property
    def output(self) -> str | None:
        """A column the rule adds to the Silver table, if any."""
        return None


class ManyColumnRule(StrictModel):
    """A rule that derives a new column from several."""

    columns: tuple[Identifier, ...] = Field(min_length=1)
    """The columns it reads, in order."""
    target: Identifier
    """The column it adds."""

    def inputs(self) -> list[tuple[RuleKey, str]]:
        return [(("columns", index), column) for index, column in enumerate(self.columns)]

    @property
    def output(self) -> str | None:
        return self.target


class TrimUpper(OneColumnRule):
    """Trims the value and upper-cases it."""

    rule: Literal["trim_upper"]


class PadDigits(OneColumnRule):
    """Left-pads a short run of digits with zeros to ``width``; any other value stays as it came, so a
    DQ rule can reject it."""

    rule: Literal["pad_digits"]
    width: int = Field(ge=1, le=32)
    target: Identifier | None = None
    """Write the padded value here instead of rewriting ``column``."""

    @property
    def output(self) -> str | None:
        return self.target


class NormaliseEmail(OneColumnRule):
    """Trims and lower-cases an email address."""

    rule: Literal["normalise_email"]


class NormalisePhone(OneColumnRule):
    """Writes an Australian phone number in E.164 (``0412 345 678`` → ``+61412345678``); other values
    are trimmed and kept as given."""

    rule: Literal["normalise_phone"]
    country: Literal["AU"] = "AU"


class NormaliseEnum(OneColumnRule):
    """Trims and upper-cases a code; optionally turns runs of spaces and dashes into one underscore."""

    rule: Literal["normalise_enum"]
    separators_to_underscore: bool = False


class ConcatColumns(ManyColumnRule):
    """Joins the trimmed, non-empty values of ``columns`` with ``separator``."""

    rule: Literal["concat"]
    columns: tuple[Identifier, ...] = Field(min_length=2)
    separator: str = " "


class HashColumns(ManyColumnRule):
    """The SHA-256 of the ``|``-joined values of ``columns`` (a null as the empty string)."""

    rule: Literal["sha256"]


SilverRule = Annotated[
    TrimUpper | PadDigits | NormaliseEmail | NormalisePhone | NormaliseEnum | ConcatColumns | HashColumns,
    Field(discriminator="rule"),
]
"""A Silver rule, by its ``rule``. ``lakehouse.spark.silver_rules`` applies each kind."""


class Survivorship(StrictModel):
    """Which of several rows of one natural key wins: the latest ``order_by``, then the later file,
    then the later line. Without it, the later file and line win."""

    order_by: Identifier
    """A column of the contract that orders versions of a record, such as an update timestamp."""


class Entity(StrictModel):
    description: str = ""
    format: Literal["csv", "jsonl"]
    """Of the landed extract: CSV with a header line, or one JSON object per line."""
    columns: tuple[Column, ...] = Field(min_length=1)
    """From the entity's contract (``lakehouse.config.contracts``), in the order the extract has them."""
    contract_version: str
    """From the contract's ``version``."""
    natural_key: tuple[Identifier, ...] = Field(min_length=1)
    """The columns that identify a record: Silver keeps one row per key."""
    canonical_keys: dict[SurrogateKey, str] = Field(default_factory=dict)
    """Gold surrogate key -> contract column (or ``struct.field``) it is the sha256 of: the key the systems share."""
    silver: SilverTarget
    """Where the entity's Silver table is."""
    silver_rules: tuple[SilverRule, ...] = ()
    """Applied in order to every row before survivorship and DQ."""
    survivorship: Survivorship | None = None
    """Which row of a key wins; the later file and line when unset."""
    min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    """The DQ pass rate this entity's Silver table must reach; the system's ``dq.min_pass_rate`` if unset."""

    def column_paths(self) -> list[str]:
        return [path for column in self.columns for path in column.paths()]


class DqCheckBase(StrictModel):
    name: Identifier | None = None
    """How the rule is reported (metrics, quarantine reasons); ``<column>_<check>`` when unset."""
    entity: Identifier | None = None
    """Required when the system has more than one entity."""
    column: Identifier
    """The column of the entity the rule checks."""
    action: DqAction
    """What happens to a row that breaks the rule: ``warn`` keeps it in Silver tagged with the rule,
    ``quarantine`` moves it to the quarantine table, ``fail`` stops the batch before anything is
    written, without a retry."""
    description: str = ""


class NotNullCheck(DqCheckBase):
    check: Literal["not_null"]


class RegexCheck(DqCheckBase):
    check: Literal["regex"]
    pattern: str
    """Regular expression the whole value must match."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class InSetCheck(DqCheckBase):
    check: Literal["in_set"]
    values: tuple[str, ...] = Field(min_length=1)
    """The allowed values."""


class NotAfterLogicalDateCheck(DqCheckBase):
    check: Literal["not_after_logical_date"]


DqRule = Annotated[
    NotNullCheck | RegexCheck | InSetCheck | NotAfterLogicalDateCheck,
    Field(discriminator="check"),
]


class DqSettings(StrictModel):
    min_pass_rate: float = Field(default=0.99, ge=0, le=1)
    """The share of an entity's rows that must pass every rule for the DQ gate to announce its Silver
    table; below it the ingest DAG fails without a retry."""


class Landing(StrictModel):
    path: str = "{system}/{entity}/{date}"
    """Folder of one day's extract under the landing root; ``{system}``, ``{entity}`` and ``{date}`` are
    filled in."""

    @field_validator("path")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        names = set(re.findall(r"{([^{}]*)}", value))
        unknown = names - {"system", "entity", "date"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {{system}}, {{entity}}, {{date}}")
        if "date" not in names:
            raise ValueError("must contain {date} so that each logical date reads its own slice")
        return value


class System(Ownership):
    description: str = ""
    domain: Identifier
    """Business domain: a tag of the ingest DAG and a heading of the health page."""
    schedule: Schedule
    """When the ingest DAG runs: when the day's extract is expected to have landed."""
    freshness_deadline: Duration
    """How long an ingest run may take from being queued before a deadline-missed alert."""
    landing: Landing = Landing()
    entities: dict[Identifier, Entity] = Field(min_length=1)
    """Each table the system sends, by name: ``config/contracts/<system>/<entity>.schema.json`` is its
    contract."""
    dq_rules: tuple[DqRule, ...] = ()
    """Checks of Silver rows, evaluated after the Silver rules; each one of the kinds below."""
    dq: DqSettings = DqSettings()

    def rule_entity(self, rule: DqRule) -> str | None:
        """The entity a DQ rule checks: its own, or the only one when it names none."""
        if rule.entity is None and len(self.entities) == 1:
            return next(iter(self.entities))
        return rule.entity

    @property
    def xrefs(self) -> list[Xref]:
        """The cross-reference tables its entities keep."""
        return [xref for entity in self.entities.values() for xref in entity.silver.xrefs]

    def dq_rules_for(self, entity_name: str) -> list[DqRule]:
        return [rule for rule in self.dq_rules if self.rule_entity(rule) == entity_name]

    def min_pass_rate_for(self, entity_name: str) -> float:
        threshold = self.entities[entity_name].min_pass_rate
        return self.dq.min_pass_rate if threshold is None else threshold
