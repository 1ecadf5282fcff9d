"""Data contracts: one JSON Schema (draft 2020-12) per system and entity, in
``config/contracts/<system>/<entity>.schema.json``.

A contract is the single source of an entity's columns: their order (the CSV header), types,
nullability, PII flags and descriptions. The loader reads them into the entity's ``columns``, from
which the Spark read schema, the Silver column set and the docs are derived.

How JSON Schema maps to columns:

- ``string``; ``string`` with ``format: date`` (date) or ``date-time`` (timestamp);
  ``integer`` (``format: int64`` for long); ``number`` (double); ``boolean``; ``object`` with its
  own ``properties`` (struct).
- A property listed in ``required`` may not be null; every other property allows null, and says so
  with ``"type": [<type>, "null"]``, so that sample payloads validate as Spark reads them.
- ``x-pii: true`` marks personal data; ``description`` documents the column.
- ``version`` (``MAJOR.MINOR.PATCH``) is the contract's version: a change that breaks consumers
  needs a new major version (``lakehouse contracts check``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from lakehouse.config.issues import ConfigIssue, display_path

CONTRACTS_DIR = "contracts"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def contract_path(config_dir: Path, system: str, entity: str) -> Path:
    return config_dir / CONTRACTS_DIR / system / f"{entity}.schema.json"


def contract_paths(config_dir: Path) -> list[Path]:
    """Every contract under ``config_dir``."""
    return sorted((config_dir / CONTRACTS_DIR).glob("*/*.schema.json"))


@dataclass(frozen=True)
class Contract:
    document: dict[str, Any]
    """The JSON Schema itself, which sample payloads are validated against."""
    version: str
    columns: list[dict[str, Any]]
    """Raw column settings, validated as ``lakehouse.config.models.Column`` by the loader."""

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])  # parse_contract checked it is MAJOR.MINOR.PATCH


def read_contract(path: Path) -> tuple[dict[str, Any] | None, list[ConfigIssue]]:
    """The contract's JSON document, or the problems that stop it from being read."""
    file = display_path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [ConfigIssue(file, "", "no contract: every entity needs its JSON Schema here")]
    except json.JSONDecodeError as exc:
        return None, [ConfigIssue(file, "", f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    if not isinstance(document, dict):
        return None, [ConfigIssue(file, "", "expected a JSON Schema object", document)]
    return document, []


def load_contract(path: Path) -> tuple[Contract | None, list[ConfigIssue]]:
    document, issues = read_contract(path)
    if document is None:
        return None, issues
    return parse_contract(document, display_path(path))


def parse_contract(document: dict[str, Any], file: str) -> tuple[Contract | None, list[ConfigIssue]]:
    """Check ``document`` against the draft 2020-12 meta-schema and the mapping above."""
    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        return None, [ConfigIssue(file, _pointer(exc.path), f"not a valid JSON Schema: {exc.message}")]
    issues: list[ConfigIssue] = []
    if document.get("$schema") != DIALECT:
        issues.append(ConfigIssue(file, "/$schema", f"contracts use JSON Schema draft 2020-12: {DIALECT}"))
    version = document.get("version")
    if not isinstance(version, str) or not VERSION.match(version):
        issues.append(ConfigIssue(file, "/version", "expected a version MAJOR.MINOR.PATCH, e.g. 1.0.0", version))
    if document.get("type") != "object":
        issues.append(
            ConfigIssue(file, "/type", 'a contract describes one record: expected "object"', document.get("type"))
        )
    columns = _object_columns(document, file, (), issues)
    if issues:
        return None, issues
    assert isinstance(version, str)
    return Contract(document, version, columns), []


_SCALARS = {
    ("string", None): "string",
    ("string", "date"): "date",
    ("string", "date-time"): "timestamp",
    ("integer", None): "integer",
    ("integer", "int32"): "integer",
    ("integer", "int64"): "long",
    ("number", None): "double",
    ("boolean", None): "boolean",
}


def _object_columns(
    schema: dict[str, Any], file: str, where: tuple[str, ...], issues: list[ConfigIssue]
) -> list[dict[str, Any]]:
    if not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        issues.append(ConfigIssue(file, _pointer((*where, "properties")), "expected the record's properties"))
        return []
    if schema.get("additionalProperties", False) is not False:
        message = "Bronze quarantines fields the contract does not name: set 'additionalProperties' to false"
        issues.append(ConfigIssue(file, _pointer((*where, "additionalProperties")), message))
    required = set(schema.get("required", ()))
    for name in required - set(schema["properties"]):
        issues.append(ConfigIssue(file, _pointer((*where, "required")), "names no property", name))
    return [
        _column(name, body, name not in required, file, (*where, "properties", name), issues)
        for name, body in schema["properties"].items()
    ]


def _column(
    name: str, body: Any, optional: bool, file: str, where: tuple[str, ...], issues: list[ConfigIssue]
) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "nullable": optional}
    if not isinstance(body, dict):
        issues.append(ConfigIssue(file, _pointer(where), "expected a property schema", body))
        return column
    kinds = body.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    allows_null = "null" in kinds
    kinds = [kind for kind in kinds if kind != "null"]
    if allows_null != optional:
        message = (
            'an optional property allows null: use "type": [<type>, "null"]'
            if optional
            else 'a required property may not be null: drop "null" from its type'
        )
        issues.append(ConfigIssue(file, _pointer((*where, "type")), message, body.get("type")))
    if len(kinds) != 1:
        issues.append(ConfigIssue(file, _pointer((*where, "type")), "expected one type (and null)", body.get("type")))
        return column
    if kinds[0] == "object":
        column["type"] = "struct"
        column["fields"] = _object_columns(body, file, where, issues)
    else:
        kind = _SCALARS.get((kinds[0], body.get("format")))
        if kind is None:
            allowed = ", ".join(_shown(*pair) for pair in _SCALARS) + ", object"
            given = _shown(kinds[0], body.get("format"))
            issues.append(ConfigIssue(file, _pointer(where), f"unsupported type; allowed: {allowed}", given))
            return column
        column["type"] = kind
    column["pii"] = bool(body.get("x-pii", False))
    column["description"] = str(body.get("description", ""))
    return column


def _shown(kind: str, format_: str | None) -> str:
    return f"{kind} ({format_})" if format_ else kind


def _pointer(parts: Any) -> str:
    """Where in the document, as a JSON Pointer (RFC 6901)."""
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts) if parts else ""
