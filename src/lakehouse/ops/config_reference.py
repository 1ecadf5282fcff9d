"""``lakehouse docs``: ``docs/config-reference.md``, generated from the config models.

Every key of every file under ``config/`` is listed with its type, its default and the docstring of
its field in ``lakehouse.config.models``, so the reference changes with the code. Nested keys follow
the key that holds them. A list whose entries are one of several models told apart by a tag (Silver
rules by ``rule``, DQ rules by ``check``) gets a table of its own, one row per kind. A test fails when
the committed page differs from what this writes.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lakehouse import resources
from lakehouse.config import models

PAGE = "docs/config-reference.md"

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""The pattern of ``models.Identifier``, shown as the type *name*."""

DERIVED: dict[tuple[type[BaseModel], str], str] = {
    (models.Entity, "columns"): "Not written in `systems.yaml`: read from the entity's contract, "
    "`config/contracts/<system>/<entity>.schema.json`, one column per property in extract order "
    '(`docs/data-quality.md`, "Data contracts"). Writing it is an error.',
    (models.Entity, "contract_version"): "Not written in `systems.yaml`: the contract's `version`.",
}
"""Fields the loader fills in from elsewhere: listed with where their value comes from, not as keys
to write."""


@dataclass(frozen=True)
class Section:
    heading: str
    prefix: str
    model: type[BaseModel]
    about: str
    skip: tuple[str, ...] = ()
    """Fields left out: those an enclosing section already lists."""
    level: int = 2


_BASE_FIELDS = tuple(models.EnvironmentBase.model_fields)

SECTIONS: tuple[Section, ...] = (
    Section(
        "`config/systems.yaml`",
        "systems.<system>",
        models.System,
        "One entry per source system under `systems:`. A key under `defaults:` applies to every system "
        "that does not set it (a nested mapping such as `schedule` is taken whole). Each entity's "
        "columns come from its contract, `config/contracts/<system>/<entity>.schema.json`.",
    ),
    Section(
        "`config/pipelines.yaml`", "", models.Pipelines, "The Gold marts, the RAG index and the weekly maintenance."
    ),
    Section(
        "`config/governance.yaml`",
        "",
        models.Governance,
        "Unity Catalog governance, the same in every environment: roles, grants per zone, masking "
        "functions, secure views and PII tags. Each environment names the account group of each role "
        "(`governance.groups` in its variables file).",
    ),
    Section(
        "`config/variables/<env>.yaml`",
        "",
        models.EnvironmentBase,
        "One file per environment; its name is the environment's (`LAKEHOUSE_ENV`). These keys are the "
        "same whatever the target; `target` chooses which of the two sections below applies too.",
    ),
    Section(
        "Only with `target: local`",
        "",
        models.LocalEnvironment,
        "Stages run in the Airflow task on Spark in local mode with Delta Lake; tables are folders of a "
        "warehouse (`docs/local.md`).",
        skip=_BASE_FIELDS,
        level=3,
    ),
    Section(
        "Only with `target: databricks`",
        "",
        models.DatabricksEnvironment,
        "Stages run as Databricks jobs and SQL; tables are Unity Catalog names (`docs/databricks.md`).",
        skip=_BASE_FIELDS,
        level=3,
    ),
)


@dataclass(frozen=True)
class TaggedUnion:
    """A list entry that is one of several models, told apart by the value of ``tag``."""

    key: str
    tag: str
    variants: tuple[type[BaseModel], ...]


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The annotation without ``Annotated``, and the metadata ``Annotated`` carried."""
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        return inner, tuple(metadata)
    return annotation, ()


def _discriminator(metadata: tuple[Any, ...]) -> str | None:
    """The field a tagged union is told apart by (``Field(discriminator="rule")``)."""
    return next(
        (m.discriminator for m in metadata if isinstance(m, FieldInfo) and isinstance(m.discriminator, str)), None
    )


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _bounds(metadata: tuple[Any, ...]) -> str:
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    above = next((m.gt for m in metadata if isinstance(m, annotated_types.Gt)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    parts = [f"{low} to {high}" if low is not None and high is not None else ""]
    if not parts[0]:
        parts = [f"at least {low}" if low is not None else "", f"over {above}" if above is not None else ""]
        parts.append(f"at most {high}" if high is not None else "")
    text = ", ".join(part for part in parts if part)
    return f" {text}" if text else ""


def _type(annotation: Any, metadata: tuple[Any, ...] = ()) -> str:
    annotation, more = _unwrap(annotation)
    metadata = (*metadata, *more)
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        if _discriminator(metadata):
            return "mapping"
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        text = " or ".join(_type(arg, metadata) for arg in members)
        return text + (" or unset" if type(None) in get_args(annotation) else "")
    if origin in (tuple, list):
        (item, *_) = get_args(annotation)
        tag = _discriminator(_unwrap(item)[1])
        if tag:
            return f"list of mappings, each one of the kinds by `{tag}` below"
        return f"list of {_type(item)}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping of {_type(key)} to {_type(value)}"
    if _is_model(annotation):
        return "mapping"
    if annotation is str:
        pattern = next((m.pattern for m in metadata if getattr(m, "pattern", None)), None)
        if pattern == NAME_PATTERN:
            return "name"
        if pattern and pattern.startswith(NAME_PATTERN[:-1] + "(\\."):
            return "dotted name"
        return "string"
    if annotation is timedelta:
        return "duration"
    if annotation is Any:
        return "any value"
    names = {int: "integer", float: "number", bool: "boolean", date: "date"}
    if annotation in names:
        return names[annotation] + _bounds(metadata)
    return getattr(annotation, "__name__", str(annotation))


def _iso_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined or isinstance(value, BaseModel):
        return ""
    if value is None:
        return "unset"
    if value in ({}, (), [], ""):
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, timedelta):
        return f"`{_iso_duration(value)}`"
    if isinstance(value, tuple | list | dict):
        return f"`{json.dumps(list(value) if isinstance(value, tuple) else value)}`"
    if isinstance(value, str) and value != value.strip():
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def _about(model: type[BaseModel]) -> str:
    return model.__doc__ if model.__doc__ and model.__doc__ != BaseModel.__doc__ else ""


def _description(field: FieldInfo, nested: list[type[BaseModel]]) -> str:
    parts = [field.description or ""]
    if len(nested) == 1 and _about(nested[0]) and _about(nested[0]) not in parts[0]:
        parts.append(_about(nested[0]))
    return _cell(" ".join(part for part in parts if part))


def _nested(annotation: Any) -> tuple[list[type[BaseModel]], str, TaggedUnion | None]:
    """The models a field holds (directly, in a list or as a mapping's values), the suffix of their
    keys, and the tagged union its list entries are, if they are one."""
    annotation, metadata = _unwrap(annotation)
    origin = get_origin(annotation)
    suffix = ""
    if origin in (tuple, list):
        annotation, metadata = _unwrap(get_args(annotation)[0])
        origin, suffix = get_origin(annotation), "[]"
    elif origin is dict:
        annotation, metadata = _unwrap(get_args(annotation)[1])
        origin, suffix = get_origin(annotation), ".<name>"
    if origin in (Union, types.UnionType):
        members = tuple(arg for arg in get_args(annotation) if _is_model(arg))
        tag = _discriminator(metadata)
        if tag:
            return [], suffix, TaggedUnion("", tag, members)
        return list(members), suffix, None
    return ([annotation] if _is_model(annotation) else []), suffix, None


def _rows(
    model: type[BaseModel],
    prefix: str,
    within: tuple[type[BaseModel], ...],
    unions: list[TaggedUnion],
    skip: tuple[str, ...],
) -> Iterator[str]:
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        key = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        derived = DERIVED.get((model, name))
        if derived is not None:
            yield f"| `{key}` | from the contract | | {derived} |"
            continue
        nested, suffix, union = _nested(field.annotation)
        description = _description(field, nested)
        yield f"| `{key}` | {_type(field.annotation, tuple(field.metadata))} | {_default(field)} | {description} |"
        if union is not None:
            unions.append(TaggedUnion(key + suffix, union.tag, union.variants))
        for member in nested:
            if member not in within:
                yield from _rows(member, key + suffix, (*within, member), unions, ())


def _union_table(union: TaggedUnion, level: int) -> list[str]:
    """One row per kind: its tag, its keys with their types and defaults, and what it does. Keys every
    kind has are listed once, above."""
    fields = [variant.model_fields for variant in union.variants]
    shared = [name for name in fields[0] if name != union.tag and all(name in f for f in fields[1:])]
    lines = ["", f"{'#' * level} `{union.key}`: one of these, by `{union.tag}`", ""]
    if shared:
        lines += ["Every kind has these keys:", "", "| key | type | default | description |", "|---|---|---|---|"]
        first = union.variants[0]
        for name in shared:
            field = first.model_fields[name]
            type_, description = _type(field.annotation, tuple(field.metadata)), _cell(field.description or "")
            lines.append(f"| `{field.alias or name}` | {type_} | {_default(field)} | {description} |")
        lines += ["", "and each kind its own:", ""]
    lines += [f"| `{union.tag}` | keys | description |", "|---|---|---|"]
    for variant in union.variants:
        tag_field = variant.model_fields[union.tag]
        (value,) = get_args(_unwrap(tag_field.annotation)[0])
        keys = []
        for name, field in variant.model_fields.items():
            if name == union.tag or name in shared:
                continue
            default = _default(field)
            detail = _type(field.annotation, tuple(field.metadata)) + (f", {default}" if default else "")
            keys.append(f"`{field.alias or name}` ({detail})" + (f": {field.description}" if field.description else ""))
        lines.append(f"| `{value}` | {_cell('; '.join(keys)) or 'none'} | {_cell(_about(variant))} |")
    return lines


def render() -> str:
    lines = [
        "# Config reference",
        "",
        "Every key of the files under `config/`, generated by `lakehouse docs` from the models in",
        "`src/lakehouse/config/models.py`: change a docstring there, then run the command (a test fails",
        "while this page is stale). `lakehouse validate --all-envs` checks the files; `docs/config.md`",
        "says what each file is for.",
        "",
        "Types: a *name* is lower-case snake case (`^[a-z][a-z0-9_]*$`, at most 64 characters), a *dotted",
        "name* such names joined by dots (`system.entity`); a *duration* is ISO 8601 (`PT2H`, `P1D`) or a",
        "number of seconds; *unset* means the key may be left out or `null`. Keys under a key that takes",
        "several entries are written `key[]` (a list) or `key.<name>` (a mapping by name).",
    ]
    for section in SECTIONS:
        unions: list[TaggedUnion] = []
        rows = list(_rows(section.model, section.prefix, (section.model,), unions, section.skip))
        lines += ["", f"{'#' * section.level} {section.heading}", "", section.about, ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|", *rows]
        for union in unions:
            lines += _union_table(union, section.level + 1)
    return "\n".join(lines) + "\n"


def docs_command(check: bool) -> int:
    root = resources.checkout_root()
    if root is None:
        raise SystemExit("lakehouse docs writes into a checkout; none is here")
    path = root / PAGE
    text = render()
    if path.is_file() and path.read_text() == text:
        print(f"{PAGE} is up to date")
        return 0
    if check:
        print(f"{PAGE} is stale: run `lakehouse docs`", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {PAGE}")
    return 0
