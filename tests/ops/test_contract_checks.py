"""Contract change control: breaking changes need a new major version, sample payloads validate."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lakehouse.cli import main
from lakehouse.config.models import Column
from lakehouse.ops.contract_checks import breaking_changes
from tests.conftest import CONFIG_DIR, PROJECT_DIR


def _column(name: str, type_: str = "string", nullable: bool = True, **more: Any) -> Column:
    return Column.model_validate({"name": name, "type": type_, "nullable": nullable, **more})


def test_what_breaks_a_consumer() -> None:
    party = _column("party", "struct", fields=[{"name": "prty_id", "type": "string"}])
    old = [_column("id", nullable=False), _column("email"), _column("count", "integer"), _column("phone"), party]
    new = [
        _column("id", nullable=False),
        _column("count", "long"),
        _column("phone", nullable=False),
        _column("party", "struct", fields=[{"name": "prty_id", "type": "long"}]),
        _column("note"),
        _column("region", nullable=False),
    ]
    assert breaking_changes(old, new) == [
        "'count' changed type from integer to long",
        "'phone' became required",
        "'party.prty_id' changed type from string to long",
        "'region' is a new required field",
        "'email' was removed",
    ]
    # A new optional column and a column that may now be null break no one.
    assert breaking_changes(old, [*old, _column("note")]) == []
    assert breaking_changes([_column("id", nullable=False)], [_column("id")]) == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git checkout whose ``main`` holds the test project's config."""
    shutil.copytree(PROJECT_DIR / "config", tmp_path / "config")
    for command in (
        ["init", "-q", "-b", "main"],
        ["add", "config"],
        ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "contracts"],
    ):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True)
    return tmp_path / "config"


def _edit(config: Path, contract: str, change: Any) -> None:
    path = config / "contracts" / f"{contract}.schema.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def _check(config: Path, capsys: pytest.CaptureFixture[str], base: str = "main") -> tuple[int, str]:
    code = main(["contracts", "check", "--base", base, "--config-dir", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_removing_a_field_fails_the_check_unless_the_major_version_goes_up(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(repo, capsys) == (0, "contracts check: 3 contract(s) compared with main, 0 problem(s)\n")

    def drop_email(document: dict[str, Any]) -> None:
        del document["properties"]["email"]
        document["version"] = "1.1.0"

    _edit(repo, "crm/customer", drop_email)
    code, output = _check(repo, capsys)
    assert code == 1
    assert (
        "crm/customer.schema.json: breaking change without a new major version (1.0.0 on main, now 1.1.0): "
        "'email' was removed"
    ) in output
    _edit(repo, "crm/customer", lambda d: d.update(version="2.0.0"))
    assert _check(repo, capsys)[0] == 0


def test_a_new_required_field_or_a_retyped_one_is_named(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(document: dict[str, Any]) -> None:
        document["properties"]["channel_id"] = {"type": "string"}
        document["required"].append("channel_id")
        document["properties"]["amount"]["type"] = ["string", "null"]

    _edit(repo, "billing/invoice", change)
    code, output = _check(repo, capsys)
    assert code == 1
    assert "'amount' changed type from double to string; 'channel_id' is a new required field" in output


def test_any_change_of_columns_needs_a_new_version(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(repo, "billing/payment", lambda d: d["properties"].update(region={"type": ["string", "null"]}))
    code, output = _check(repo, capsys)
    assert code == 1 and "billing/payment.schema.json: columns changed but the version is still 1.0.0" in output
    _edit(repo, "billing/payment", lambda d: d.update(version="1.1.0"))
    assert _check(repo, capsys)[0] == 0


def test_an_unknown_base_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(repo, capsys, base="release-9")
    assert code == 2 and "contracts check: cannot compare with 'release-9'" in output


def test_the_shipped_samples_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "validate"]) == 0
    payloads = sum(len(json.loads(path.read_text())) for path in CONFIG_DIR.glob("contracts/*/samples/*.json"))
    assert f"contracts validate: {payloads} sample payload(s) validated, 0 problem(s)" in capsys.readouterr().out


def test_a_bad_payload_is_pointed_at(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_DIR / "config", config)
    assert main(["contracts", "validate", "--config-dir", str(config)]) == 0
    assert "contracts validate: 6 sample payload(s) validated, 0 problem(s)" in capsys.readouterr().out

    samples = config / "contracts" / "billing" / "samples" / "payment.json"
    payloads = json.loads(samples.read_text())
    payloads[1]["paid_ts"] = "2026-03-01 10:00"
    payloads[0]["payer"]["plan"] = "X"
    del payloads[0]["payment_id"]
    samples.write_text(json.dumps(payloads))
    assert main(["contracts", "validate", "--config-dir", str(config)]) == 1
    err = capsys.readouterr().err
    assert "payment.json: payload 1.paid_ts: '2026-03-01 10:00' is not a 'date-time'" in err
    assert "payment.json: payload 0.payer: Additional properties are not allowed ('plan' was unexpected)" in err
    assert "payment.json: payload 0: 'payment_id' is a required property" in err
    assert "contracts validate: 6 sample payload(s) validated, 3 problem(s)" in err

    samples.write_text("[{")
    assert main(["contracts", "validate", "--config-dir", str(config)]) == 1
    assert "payment.json: not valid JSON: line 1, column 3" in capsys.readouterr().err
