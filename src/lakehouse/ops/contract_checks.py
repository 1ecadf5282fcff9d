"""Change control of the data contracts (docs/data-quality.md): a change that breaks consumers
needs a new major version, and the sample payloads beside each contract must validate.

``lakehouse contracts check`` compares each contract with its version at a git revision (the main
branch by default); ``lakehouse contracts validate`` validates ``samples/<entity>.json`` of every
system against its contract."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from lakehouse.config.contracts import Contract, contract_paths, load_contract, parse_contract
from lakehouse.config.issues import display_path
from lakehouse.config.models import Column

SAMPLES_DIR = "samples"


class ContractCheckError(Exception):
    """The comparison cannot be made: no git checkout, or no such revision."""


@dataclass(frozen=True)
class ContractFile:
    system: str
    entity: str
    path: Path


def contract_files(config_dir: Path) -> Iterator[ContractFile]:
    for path in contract_paths(config_dir):
        yield ContractFile(path.parent.name, path.name.removesuffix(".schema.json"), path)


def breaking_changes(old: Sequence[Column], new: Sequence[Column], prefix: str = "") -> list[str]:
    """What a consumer of ``old`` would trip over in ``new``: a column removed or retyped, a new
    required column, a column that may no longer be null."""
    changes = []
    before = {column.name: column for column in old}
    for column in new:
        name = f"{prefix}{column.name}"
        previous = before.pop(column.name, None)
        if previous is None:
            if not column.nullable:
                changes.append(f"'{name}' is a new required field")
            continue
        if previous.type != column.type:
            changes.append(f"'{name}' changed type from {previous.type} to {column.type}")
        elif column.type == "struct":
            changes += breaking_changes(previous.fields, column.fields, f"{name}.")
        if previous.nullable and not column.nullable:
            changes.append(f"'{name}' became required")
    changes += [f"'{prefix}{name}' was removed" for name in before]
    return changes


def _columns(contract: Contract) -> tuple[Column, ...]:
    return tuple(Column.model_validate(column) for column in contract.columns)


def check_against(config_dir: Path, base: str) -> tuple[int, list[str]]:
    """How many contracts were compared with their version at git revision ``base``, and every
    problem found."""
    try:
        top = _git(config_dir, "rev-parse", "--show-toplevel").strip()
        _git(config_dir, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except subprocess.CalledProcessError as exc:
        raise ContractCheckError(f"cannot compare with '{base}': {exc.stderr.strip() or 'no such revision'}") from exc
    problems, compared = [], 0
    for file in contract_files(config_dir):
        shown = display_path(file.path)
        current, issues = load_contract(file.path)
        if current is None:
            problems += [str(issue) for issue in issues]
            continue
        relative = file.path.resolve().relative_to(Path(top).resolve()).as_posix()
        try:
            text = _git(config_dir, "show", f"{base}:{relative}")
        except subprocess.CalledProcessError:
            continue  # a new contract: nothing to break
        previous, issues = parse_contract(json.loads(text), f"{base}:{relative}")
        if previous is None:
            continue  # the base's own problem; it was reported when it was the change
        compared += 1
        before, after = _columns(previous), _columns(current)
        changes = breaking_changes(before, after)
        if changes and current.major <= previous.major:
            problems.append(
                f"{shown}: breaking change without a new major version ({previous.version} on {base}, "
                f"now {current.version}): " + "; ".join(changes)
            )
        elif before != after and current.version == previous.version:
            problems.append(f"{shown}: columns changed but the version is still {current.version}")
    return compared, problems


def validate_samples(config_dir: Path) -> tuple[int, list[str]]:
    """How many sample payloads were validated, and every problem: payload, JSON path, message."""
    problems, validated = [], 0
    for file in contract_files(config_dir):
        samples = file.path.parent / SAMPLES_DIR / f"{file.entity}.json"
        shown = display_path(samples)
        if not samples.is_file():
            problems.append(f"{shown}: no sample payloads for {file.system}.{file.entity}")
            continue
        contract, issues = load_contract(file.path)
        if contract is None:
            problems += [str(issue) for issue in issues]
            continue
        try:
            payloads = json.loads(samples.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            problems.append(f"{shown}: not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")
            continue
        if not isinstance(payloads, list) or not payloads:
            problems.append(f"{shown}: expected a list of payloads")
            continue
        validator = Draft202012Validator(contract.document, format_checker=FormatChecker())
        for index, payload in enumerate(payloads):
            validated += 1
            for error in sorted(validator.iter_errors(payload), key=lambda e: [str(part) for part in e.absolute_path]):
                where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
                problems.append(f"{shown}: payload {index}{where}: {error.message}")
    return validated, problems


def _git(folder: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True, text=True).stdout


def contracts_command(action: str, config_dir: Path, base: str) -> int:
    """``lakehouse contracts check|validate``: 0 when clean, 1 with problems, 2 when git cannot answer."""
    if action == "check":
        try:
            count, problems = check_against(config_dir, base)
        except ContractCheckError as exc:
            print(f"contracts check: {exc}", file=sys.stderr)
            return 2
        done = f"{count} contract(s) compared with {base}"
    else:
        count, problems = validate_samples(config_dir)
        done = f"{count} sample payload(s) validated"
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"contracts {action}: {done}, {len(problems)} problem(s)", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0
