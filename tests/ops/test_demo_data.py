"""Demo landing data: consistent across systems, deterministic, with exactly the defects it claims."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lakehouse.config import load_config
from lakehouse.ops.demo_data import write_demo_data

DAY1, DAY2 = "2026-03-01", "2026-03-02"
KINDS = (
    "extra_column",
    "missing_column",
    "bad_email",
    "bad_postcode",
    "unknown_status",
    "future_start_dt",
    "unknown_state",
)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("landing")
    manifest = write_demo_data(dict(load_config("local").systems), root, 300, 11, date(2026, 3, 1))
    return root, manifest


def _csv(root: Path, system: str, entity: str, day: str) -> tuple[list[str], list[list[str]]]:
    (path,) = (root / system / entity / day).glob("*.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _well_formed(root: Path, system: str, entity: str, day: str) -> list[dict[str, str]]:
    header, rows = _csv(root, system, entity, day)
    return [dict(zip(header, row, strict=True)) for row in rows if len(row) == len(header) and row[0]]


def test_layout_follows_the_landing_contract(landing: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = landing
    assert manifest["dates"] == [DAY1, DAY2]
    paths = sorted(f["path"] for f in manifest["files"])
    assert "cmdm/party_account/2026-03-02/cmdm_party_account_20260302.csv" in paths
    assert "pega/case/2026-03-01/pega_case_20260301.jsonl" in paths
    systems = load_config("local").systems.values()
    # One file per entity and day.
    assert len(paths) == len(set(paths)) == 2 * sum(len(system.entities) for system in systems)
    for entry in manifest["files"]:
        lines = (root / entry["path"]).read_text(encoding="utf-8").splitlines()
        header = 1 if entry["path"].endswith(".csv") else 0
        assert len(lines) - header == entry["lines"]


def test_the_systems_agree_on_customers_accounts_services_and_addresses(landing: tuple[Path, dict[str, Any]]) -> None:
    root, _ = landing
    days = (DAY1, DAY2)
    customers = {r["prty_id"] for d in days for r in _well_formed(root, "cmdm", "customer", d)}
    addresses = {r["amdm_addr_id"] for d in days for r in _well_formed(root, "amdm", "address", d)}
    accounts = {r["acct_id"] for d in days for r in _well_formed(root, "cmdm", "party_account", d)}
    services = {r["serv_id"] for d in days for r in _well_formed(root, "jarvis", "service", d)}
    for day in days:
        assert {r["amdm_addr_id"] for r in _well_formed(root, "cmdm", "party_address", day)} <= addresses
        for row in _well_formed(root, "jarvis", "service", day):
            assert row["prty_id"] in customers and row["acct_id"] in accounts
        for row in _well_formed(root, "sfdc", "contact", day):
            assert row["prty_id"] in customers and row["acct_id"] in accounts
        (cases,) = (root / "pega" / "case" / day).glob("*.jsonl")
        for line in cases.read_text().splitlines():
            try:
                case = json.loads(line)
            except json.JSONDecodeError:
                continue
            if case.get("party"):
                assert case["party"]["prty_id"] in customers
            if case.get("service"):
                assert case["service"]["serv_id"] in services


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    systems = dict(load_config("local").systems)
    write_demo_data(systems, tmp_path / "a", 50, 3, date(2026, 3, 1))
    write_demo_data(systems, tmp_path / "b", 50, 3, date(2026, 3, 1))
    write_demo_data(systems, tmp_path / "c", 50, 4, date(2026, 3, 1))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert any((tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in files)


def _defects(manifest: dict[str, Any], system: str, entity: str, day: str) -> dict[str, int]:
    (entry,) = [f for f in manifest["files"] if (f["system"], f["entity"], f["date"]) == (system, entity, day)]
    return {kind: entry["defects"].get(kind, 0) for kind in KINDS} | dict(entry["defects"])


@pytest.mark.parametrize("day", [DAY1, DAY2])
def test_planted_defects_are_in_the_files_as_counted(landing: tuple[Path, dict[str, Any]], day: str) -> None:
    root, manifest = landing
    header, rows = _csv(root, "sfdc", "contact", day)
    defects = _defects(manifest, "sfdc", "contact", day)
    assert sum(len(row) > len(header) for row in rows) == defects["extra_column"] == 1
    assert sum(len(row) < len(header) for row in rows) == defects["missing_column"] == 1
    contacts = _well_formed(root, "sfdc", "contact", day)
    email = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    assert sum(not email.match(r["email"].strip().lower()) for r in contacts) == defects["bad_email"]
    assert sum(not r["postcode"].isdigit() for r in contacts) == defects["bad_postcode"]

    services = _well_formed(root, "jarvis", "service", day)
    jarvis = _defects(manifest, "jarvis", "service", day)
    valid = {"ACTIVE", "SUSPENDED", "DISCONNECTED", "PENDING"}
    assert sum(r["status"].strip().upper() not in valid for r in services) == jarvis["unknown_status"]
    future = [r for r in services if r["start_dt"][:2] == "20" and r["start_dt"] > day]
    assert len(future) == jarvis["future_start_dt"]

    addresses = _well_formed(root, "amdm", "address", day)
    amdm = _defects(manifest, "amdm", "address", day)
    assert sum(not r["post_cd"].isdigit() or len(r["post_cd"]) > 4 for r in addresses) == amdm["bad_postcode"]
    assert (
        sum(r["state"].strip().upper() not in {"NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"} for r in addresses)
        == amdm["unknown_state"]
    )


def test_second_day_is_a_delta_with_changed_and_new_customers(landing: tuple[Path, dict[str, Any]]) -> None:
    root, manifest = landing
    day1 = {r["prty_id"]: r for r in _well_formed(root, "cmdm", "customer", DAY1) if r["updated_ts"].startswith("20")}
    day2 = [r for r in _well_formed(root, "cmdm", "customer", DAY2) if r["updated_ts"].startswith("20")]
    changed, new = set(manifest["changed_customers_day2"]), set(manifest["new_customers_day2"])
    assert len(changed) == 15 and len(new) == 3
    assert {r["prty_id"] for r in day2} == changed | new
    assert new.isdisjoint(day1)
    for prty_id in changed:
        before = day1[prty_id]
        after = next(r for r in day2 if r["prty_id"] == prty_id and r["updated_ts"] > before["updated_ts"])
        assert any(before[k] != after[k] for k in ("last_name", "email", "phone"))


def test_rows_below_the_minimum_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 20"):
        write_demo_data(dict(load_config("local").systems), tmp_path, 5, 1, date(2026, 3, 1))
