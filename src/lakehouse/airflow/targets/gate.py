"""The DQ gate's decision, the same for both targets; only where the Silver counts come from differs.
Its ``DqGateFailure`` is decided by the data: each target fails the task without a retry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lakehouse.config import load_config
from lakehouse.core import silver_versions
from lakehouse.core.stages import DqGateFailure


def evaluate_dq_gate(
    env: str, logical_date: str, arguments: Mapping[str, str], metrics: Mapping[str, Any]
) -> dict[str, Any]:
    """Raise ``DqGateFailure`` naming the failing rules when the pass rate is under the threshold."""
    system = load_config(env).systems[arguments["system"]]
    dq = metrics["dq"]
    required = system.min_pass_rate_for(arguments["entity"])
    failing = {name: rule for name, rule in dq["rules"].items() if rule["failed"]}
    summary = {"pass_rate": dq["pass_rate"], "required": required, "rows": dq["rows"], "failing_rules": failing}
    if dq["pass_rate"] < required:
        details = "; ".join(f"{name} ({rule['action']}): {rule['failed']} row(s)" for name, rule in failing.items())
        raise DqGateFailure(
            f"{arguments['system']}.{arguments['entity']} {logical_date}: DQ pass rate {dq['pass_rate']:.2%} is under "
            f"{required:.2%} over {dq['rows']} rows; failing rules: {details}"
        )
    return summary


def pass_dq_gate(
    env: str,
    logical_date: str,
    arguments: Mapping[str, str],
    metrics: Mapping[str, Any],
    outlets: Iterable[Any],
    outlet_events: Any,
) -> dict[str, Any]:
    """Evaluate the gate; when it passes, announce the Silver asset for ``logical_date`` with the
    versions the Silver run wrote, which Gold of that date reads."""
    summary = evaluate_dq_gate(env, logical_date, arguments, metrics)
    silver_versions.announce(outlets, outlet_events, logical_date, metrics.get("versions", {}))
    return summary
