"""How a config model's field reads in ``docs/config-reference.md``: its type in words (a *name*, a
*duration*, ``integer 1 to 32``), its default as written in YAML, and the tag of a tagged union."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import types
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""The pattern of ``lakehouse.config.models.Identifier``, shown as the type *name*."""


def unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The annotation without ``Annotated``, and the metadata ``Annotated`` carried."""
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        return inner, tuple(metadata)
    return annotation, ()


def discriminator(metadata: tuple[Any, ...]) -> str | None:
    """The field a tagged union is told apart by (``Field(discriminator="rule")``)."""
    return next(
        (m.discriminator for m in metadata if isinstance(m, FieldInfo) and isinstance(m.discriminator, str)), None
    )


def is_model(annotation: Any) -> bool:
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


def type_text(annotation: Any, metadata: tuple[Any, ...] = ()) -> str:
    annotation, more = unwrap(annotation)
    metadata = (*metadata, *more)
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        if discriminator(metadata):
            return "mapping"
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        text = " or ".join(type_text(arg, metadata) for arg in members)
        return text + (" or unset" if type(None) in get_args(annotation) else "")
    if origin in (tuple, list):
        (item, *_) = get_args(annotation)
        tag = discriminator(unwrap(item)[1])
        if tag:
            return f"list of mappings, each one of the kinds by `{tag}` below"
        return f"list of {type_text(item)}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping of {type_text(key)} to {type_text(value)}"
    if is_model(annotation):
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


def default_text(field: FieldInfo) -> str:
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


@cache
def _attribute_docs(model: type) -> dict[str, str]:
    """The string under each annotated attribute of ``model``'s own body, as written in its source."""
    try:
        (body,) = ast.parse(textwrap.dedent(inspect.getsource(model))).body
    except (OSError, TypeError, ValueError):
        return {}
    docs: dict[str, str] = {}
    statements = body.body if isinstance(body, ast.ClassDef) else []
    for statement, following in pairwise(statements):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_doc(model: type, name: str) -> str:
    """A field's docstring, from the model or the nearest base that declares it. Read here, when the
    reference is written, rather than by pydantic on every import of the models."""
    for cls in model.__mro__:
        doc = _attribute_docs(cls).get(name)
        if doc is not None:
            return doc
    return ""
