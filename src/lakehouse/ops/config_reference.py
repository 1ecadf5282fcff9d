"""``lakehouse docs``: ``docs/config-reference.md``, generated from the config models.

Every key of every file under ``config/`` is listed with its type, its default and the docstring of
its field in ``lakehouse.config.models``, so the reference changes with the code. Nested keys follow
the key that holds them. A list whose entries are one of several models told apart by a tag (Silver
rules by ``rule``, DQ rules by ``check``) gets a table of its own, one row per kind. A test fails when
the committed page differs from what this writes.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from lakehouse import resources
from lakehouse.config import models
from lakehouse.ops.field_text import default_text, discriminator, field_doc, is_model, type_text, unwrap

PAGE = "docs/config-reference.md"

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


def _cell(text: str) -> str:
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def _about(model: type[BaseModel]) -> str:
    return model.__doc__ if model.__doc__ and model.__doc__ != BaseModel.__doc__ else ""


def _description(model: type[BaseModel], name: str, nested: list[type[BaseModel]]) -> str:
    parts = [field_doc(model, name)]
    if len(nested) == 1 and _about(nested[0]) and _about(nested[0]) not in parts[0]:
        parts.append(_about(nested[0]))
    return _cell(" ".join(part for part in parts if part))


def _nested(annotation: Any) -> tuple[list[type[BaseModel]], str, TaggedUnion | None]:
    """The models a field holds (directly, in a list or as a mapping's values), the suffix of their
    keys, and the tagged union its list entries are, if they are one."""
    annotation, metadata = unwrap(annotation)
    origin = get_origin(annotation)
    suffix = ""
    if origin in (tuple, list):
        annotation, metadata = unwrap(get_args(annotation)[0])
        origin, suffix = get_origin(annotation), "[]"
    elif origin is dict:
        annotation, metadata = unwrap(get_args(annotation)[1])
        origin, suffix = get_origin(annotation), ".<name>"
    if origin in (Union, types.UnionType):
        members = tuple(arg for arg in get_args(annotation) if is_model(arg))
        tag = discriminator(metadata)
        if tag:
            return [], suffix, TaggedUnion("", tag, members)
        return list(members), suffix, None
    return ([annotation] if is_model(annotation) else []), suffix, None


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
        type_, description = type_text(field.annotation, tuple(field.metadata)), _description(model, name, nested)
        yield f"| `{key}` | {type_} | {default_text(field)} | {description} |"
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
            type_, description = type_text(field.annotation, tuple(field.metadata)), _cell(field_doc(first, name))
            lines.append(f"| `{field.alias or name}` | {type_} | {default_text(field)} | {description} |")
        lines += ["", "and each kind its own:", ""]
    lines += [f"| `{union.tag}` | keys | description |", "|---|---|---|"]
    for variant in union.variants:
        tag_field = variant.model_fields[union.tag]
        (value,) = get_args(unwrap(tag_field.annotation)[0])
        keys = []
        for name, field in variant.model_fields.items():
            if name == union.tag or name in shared:
                continue
            default = default_text(field)
            detail = type_text(field.annotation, tuple(field.metadata)) + (f", {default}" if default else "")
            doc = field_doc(variant, name)
            about = f": {_cell(doc)}" if doc else ""
            keys.append(f"`{field.alias or name}` ({detail}){about}")
        lines.append(f"| `{value}` | {'<br>'.join(keys) or 'none'} | {_cell(_about(variant))} |")
    return lines


def render() -> str:
    lines = [
        "# Config reference",
        "",
        "Every key of the files under `config/`, generated by `lakehouse docs` from the models in",
        "`src/lakehouse/config/models/` (one module per file): change a docstring there, then run the",
        "command (a test fails while this page is stale). `lakehouse validate --all-envs` checks the",
        "files; `docs/config.md` says what each file is for.",
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
