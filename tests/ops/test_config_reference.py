"""``lakehouse docs``: the config reference is generated from the models and committed up to date."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import get_args

import pytest

from lakehouse import cli, resources
from lakehouse.config import models
from lakehouse.ops import config_reference

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_reference_is_what_the_models_make() -> None:
    committed = ROOT / config_reference.PAGE
    assert committed.is_file() and committed.read_text() == config_reference.render(), (
        f"{config_reference.PAGE} is stale: run `lakehouse docs`"
    )


def test_tagged_unions_are_shown_as_their_kinds_and_contract_fields_as_derived() -> None:
    page = config_reference.render()
    assert "mapping or mapping" not in page
    assert "### `systems.<system>.entities.<name>.silver_rules[]`: one of these, by `rule`" in page
    assert "### `systems.<system>.dq_rules[]`: one of these, by `check`" in page
    kinds = [
        (tag, variant)
        for tag, union in (("rule", models.SilverRule), ("check", models.DqRule))
        for variant in get_args(get_args(union)[0])
    ]
    assert {tag for tag, _ in kinds} == {"rule", "check"}
    for tag, variant in kinds:
        (value,) = get_args(variant.model_fields[tag].annotation)
        assert f"| `{value}` |" in page, f"{variant.__name__} is missing"
    assert "| `systems.<system>.entities.<name>.columns` | from the contract |" in page
    assert "entities.<name>.columns[]" not in page
    # Each environment key is listed once, not once per target.
    assert page.count("| `retention_days` |") == 1


def test_docs_check_fails_on_a_stale_copy_and_docs_rewrites_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    copy = tmp_path / config_reference.PAGE
    shutil.copy(ROOT / config_reference.PAGE, copy)
    copy.write_text(copy.read_text().replace("| key | type |", "| key | kind |", 1))
    monkeypatch.setattr(resources, "checkout_root", lambda: tmp_path)

    assert cli.main(["docs", "--check"]) == 1
    assert "docs/config-reference.md is stale: run `lakehouse docs`" in capsys.readouterr().err
    assert "| key | kind |" in copy.read_text()  # --check changes nothing

    assert cli.main(["docs"]) == 0
    assert copy.read_text() == config_reference.render()
    assert cli.main(["docs", "--check"]) == 0
    assert "is up to date" in capsys.readouterr().out
