"""What a config problem is and how it is shown: file, dotted key, bad value, what is allowed."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    key: str
    message: str
    value: Any = MISSING

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        if self.value is MISSING:
            return f"{where}: {self.message}"
        return f"{where}: {self.message} (got {_show(self.value)})"


class ConfigError(Exception):
    """One or more config problems; the message lists every one of them."""

    def __init__(self, issues: Sequence[ConfigIssue], headline: str = "invalid lakehouse config") -> None:
        self.issues = tuple(issues)
        lines = [f"{headline}: {len(self.issues)} problem(s)"] + [f"  - {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def dotted(parts: Iterable[str | int]) -> str:
    key = ""
    for part in parts:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
    return key


def issues_from_validation(
    exc: ValidationError, file: str, prefix: Sequence[str | int], raw: Any, model: type[BaseModel]
) -> list[ConfigIssue]:
    """Turn pydantic's errors into issues that point at the YAML the user wrote."""
    issues = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        path, value, model_path = _follow(raw, loc)
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, model_path[:-1])
            message = "unknown key"
            if allowed:
                close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                message += f"; allowed: {', '.join(allowed)}{hint}"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = message.replace("Input tag", "value")
        if isinstance(value, dict | list) and not error["type"].endswith("_type"):
            value = MISSING  # a model-level rule: the key says where, the whole mapping says nothing
        issues.append(ConfigIssue(file, dotted([*prefix, *path]), message, value))
    return issues


def _follow(raw: Any, loc: list[str | int]) -> tuple[list[str | int], Any, list[str | int]]:
    """Walk the raw YAML along pydantic's location.

    Returns the path as the user wrote it (without the tag segments that pydantic adds for
    discriminated unions), the value found there, and the path for walking the model classes.
    """
    node = raw
    path: list[str | int] = []
    model_path: list[str | int] = []
    for index, segment in enumerate(loc):
        last = index == len(loc) - 1
        if segment == "[key]":
            return path, path[-1] if path else MISSING, model_path
        in_mapping = isinstance(node, dict) and segment in node
        in_list = isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)
        if in_mapping or in_list:
            node = node[segment]
        elif isinstance(node, dict) and not last and segment in node.values():
            model_path.append(segment)  # a discriminated union's tag
            continue
        else:
            node = MISSING
        path.append(segment)
        model_path.append(segment)
    return path, node, model_path


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    current: Any = model
    for segment in loc:
        current = _step(current, segment)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


def _step(annotation: Any, segment: str | int) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _step(get_args(annotation)[0], segment)
    if origin in (Union, types.UnionType):
        for member in get_args(annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                if _tag_matches(member, segment):
                    return member
                found = _step(member, segment)
                if found is not None:
                    return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if segment in (name, field.alias):
                return field.annotation
        return None
    if origin in (tuple, list) and isinstance(segment, int):
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    return None


def _tag_matches(model: type[BaseModel], segment: str | int) -> bool:
    for field in model.model_fields.values():
        if get_origin(field.annotation) is Literal and segment in get_args(field.annotation):
            return True
    return False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
