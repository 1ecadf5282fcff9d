"""The DQ gate: a table under its pass-rate threshold fails, naming each failing rule and its rows."""

from __future__ import annotations

import pytest

from lakehouse.targets.gate import DqGateFailure, evaluate_dq_gate
from tests.conftest import ConfigCopy

ADDRESS = {"system": "amdm", "entity": "address"}


def _metrics(passed: int, rows: int, failed: dict[str, tuple[str, int]]) -> dict:
    rules = {
        name: {"action": action, "check": "regex", "column": "c", "failed": n} for name, (action, n) in failed.items()
    }
    return {"dq": {"rows": rows, "passed": passed, "pass_rate": passed / rows, "rules": rules}}


def test_a_table_under_the_threshold_fails_naming_its_rules_and_rows() -> None:
    metrics = _metrics(97, 100, {"postcode_regex": ("quarantine", 2), "state_in_set": ("quarantine", 1)})
    with pytest.raises(DqGateFailure) as caught:
        evaluate_dq_gate("local", "2026-03-01", ADDRESS, metrics)
    assert str(caught.value) == (
        "amdm.address 2026-03-01: DQ pass rate 97.00% is under 99.00% over 100 rows; failing rules: "
        "postcode_regex (quarantine): 2 row(s); state_in_set (quarantine): 1 row(s)"
    )


def test_a_table_at_the_threshold_passes_and_reports_what_failed() -> None:
    metrics = _metrics(99, 100, {"postcode_regex": ("quarantine", 1), "state_in_set": ("quarantine", 0)})
    summary = evaluate_dq_gate("local", "2026-03-01", ADDRESS, metrics)
    assert (summary["pass_rate"], summary["required"]) == (0.99, 0.99)
    assert list(summary["failing_rules"]) == ["postcode_regex"]


def test_an_entity_can_set_its_own_threshold(config_copy: ConfigCopy) -> None:
    systems = config_copy.read("systems.yaml")
    systems["systems"]["amdm"]["entities"]["address"]["min_pass_rate"] = 0.95
    config_copy.write("systems.yaml", systems)
    metrics = _metrics(97, 100, {"postcode_regex": ("quarantine", 3)})
    assert evaluate_dq_gate("local", "2026-03-01", ADDRESS, metrics)["required"] == 0.95
    with pytest.raises(DqGateFailure, match=r"DQ pass rate 94.00% is under 95.00%"):
        evaluate_dq_gate("local", "2026-03-01", ADDRESS, _metrics(94, 100, {"postcode_regex": ("quarantine", 6)}))
