"""``lakehouse docs``: ``docs/config-reference.md``, generated from the config models.

Every key of every file under ``config/`` is listed with its type, its default and the docstring of
its field in ``lakehouse.config.models``, so the reference changes with the code. A test fails when
the committed page differs from what this writes.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lakehouse import resources
from lakehouse.config import models

PAGE = "docs/config-reference.md"

FILES: tuple[tuple[str, str, type[BaseModel] | None, str], ...] = (
    (
        "config/systems.yaml",
        "systems.<system>",
        models.System,
        "One entry per source system under `systems:`; a key under `defaults:` applies to every system "
        "that does not set it. Each entity's columns come from its contract, "
        "`config/contracts/<system>/<entity>.schema.json`.",
    ),
    ("config/pipelines.yaml", "", models.Pipelines, "The Gold marts, the RAG index and the weekly maintenance."),
    ("config/governance.yaml", "", models.Governance, "Unity Catalog governance: roles, grants, masks, secure views."),
    (
        "config/variables/<env>.yaml (target: local)",
        "",
        models.LocalEnvironment,
        "An environment whose stages run in the Airflow task on local Spark with Delta Lake.",
    ),
    (
        "config/variables/<env>.yaml (target: databricks)",
        "",
        models.DatabricksEnvironment,
        "An environment whose stages run as Databricks jobs and SQL.",
    ),
)


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    """The models a field holds, directly or in a list, mapping or union."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_of(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (tuple, list, Union, types.UnionType):
        return [model for arg in get_args(annotation) for model in _models_of(arg)]
    if origin is dict:
        return _models_of(get_args(annotation)[1])
    return []


def _type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type(get_args(annotation)[0])
    if origin is Literal:
        return " \\| ".join(f"`{value}`" if value is not None else "null" for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(_type(arg) for arg in get_args(annotation) if arg is not type(None)) + (
            " or null" if type(None) in get_args(annotation) else ""
        )
    if origin in (tuple, list):
        return f"list of {_type(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping of {_type(key)} to {_type(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", date: "date", timedelta: "duration"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined or isinstance(value, BaseModel) or value in ({}, (), []):
        return ""
    if isinstance(value, timedelta):
        return f"`{int(value.total_seconds())} s`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rows(model: type[BaseModel], prefix: str, seen: set[type[BaseModel]]) -> Iterator[str]:
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        yield f"| `{key}` | {_type(field.annotation)} | {_default(field)} | {_cell(field.description or '')} |"
        annotation = field.annotation
        suffix = ".<name>" if get_origin(annotation) is dict else "[]" if get_origin(annotation) is tuple else ""
        nested += [(key + suffix, member) for member in _models_of(annotation)]
    for key, member in nested:
        if member in seen:
            continue
        seen.add(member)
        tag = next(
            (
                f" (`{k}: {get_args(f.annotation)[0]}`)"
                for k, f in member.model_fields.items()
                if get_origin(f.annotation) is Literal and len(get_args(f.annotation)) == 1 and k != "target"
            ),
            "",
        )
        if tag or (member.__doc__ and member.__doc__ != BaseModel.__doc__):
            yield f"| `{key}`{tag} | | | {_cell(member.__doc__ or '')} |"
        yield from _rows(member, key, seen)


def render() -> str:
    lines = [
        "# Config reference",
        "",
        "Every key of the files under `config/`, generated by `lakehouse docs` from the models in",
        "`src/lakehouse/config/models.py`: change a docstring there, then run the command. Durations are",
        "ISO 8601 (`PT2H`, `P1D`) or seconds. `lakehouse validate --all-envs` checks the files.",
    ]
    for file, prefix, model, about in FILES:
        assert model is not None
        lines += ["", f"## `{file}`", "", about, "", "| key | type | default | description |", "|---|---|---|---|"]
        lines += list(_rows(model, prefix, {model}))
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
        print(f"{PAGE} is stale: run lakehouse docs", file=sys.stderr)
        return 1
    path.write_text(text)
    print(f"wrote {PAGE}")
    return 0
