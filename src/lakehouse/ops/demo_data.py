"""Demo landing data for the five source systems, in the landing layout of ``config/systems.yaml`` and
the formats of the contracts.

The systems agree with each other (the same customers, accounts, services and addresses), a known
number of defects is planted in each file, and the second day is a delta with changed customers so
that SCD2 history shows. ``manifest.json`` beside the data records what was written and planted, so
tests and the run summary can check the pipeline against it.

Why one module: the systems' rows are drawn together from one set of customers, accounts, services
and addresses, which is what keeps them consistent; split per system, each part would need them all.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from io import StringIO
from pathlib import Path
from typing import Any

from lakehouse.config import load_config, selected_env
from lakehouse.config.models import LocalEnvironment, System
from lakehouse.core import locations

SYDNEY = timezone(timedelta(hours=10))
STATES = ["NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"]
SUBURBS = [
    ("Sydney", "NSW", "2000"),
    ("Parramatta", "NSW", "2150"),
    ("Newcastle", "NSW", "2300"),
    ("Melbourne", "VIC", "3000"),
    ("Geelong", "VIC", "3220"),
    ("Brisbane", "QLD", "4000"),
    ("Cairns", "QLD", "4870"),
    ("Adelaide", "SA", "5000"),
    ("Perth", "WA", "6000"),
    ("Hobart", "TAS", "7000"),
    ("Darwin", "NT", "800"),
    ("Canberra", "ACT", "2600"),
]
GCC = {
    "NSW": ("1GSYD", "Greater Sydney"),
    "VIC": ("2GMEL", "Greater Melbourne"),
    "QLD": ("3GBRI", "Greater Brisbane"),
    "SA": ("4GADE", "Greater Adelaide"),
    "WA": ("5GPER", "Greater Perth"),
    "TAS": ("6GHOB", "Greater Hobart"),
    "NT": ("7GDAR", "Greater Darwin"),
    "ACT": ("8ACTE", "Australian Capital Territory"),
}
FIRST = [
    "Olivia",
    "Jack",
    "Charlotte",
    "William",
    "Amelia",
    "Noah",
    "Isla",
    "Oliver",
    "Mia",
    "Leo",
    "Ava",
    "Lucas",
    "Grace",
    "Henry",
    "Chloe",
    "Thomas",
    "Zoe",
    "James",
    "Ruby",
    "Ethan",
]
LAST = [
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Nguyen",
    "Johnson",
    "Martin",
    "White",
    "Anderson",
    "Walker",
    "Thompson",
    "Harris",
    "Lee",
    "Ryan",
    "Kelly",
    "King",
    "Campbell",
    "Clarke",
]
STREETS = [
    "George St",
    "Pitt St",
    "Collins St",
    "Queen St",
    "King William St",
    "Hay St",
    "Elizabeth St",
    "Smith St",
    "Church St",
    "High St",
]
SERVICE_STATUSES = ["ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED", "DISCONNECTED", "PENDING"]
PLANS = ["MOB-S", "MOB-M", "MOB-L", "NBN-50", "NBN-100", "NBN-1000"]
CASE_TYPES = ["COMPLAINT", "FAULT", "BILLING", "ENQUIRY", "MOVE"]
CASE_STATUS_SPELLINGS = {
    "OPEN": ["OPEN", "open"],
    "IN_PROGRESS": ["In Progress", "in-progress", "IN_PROGRESS"],
    "RESOLVED": ["RESOLVED", "Resolved"],
    "CLOSED": ["CLOSED", "closed"],
}
CHANNELS = ["phone", "chat", "email", "store"]

DEFECT_RATE = 0.004
"""Share of rows that carry each kind of planted defect: every table stays above the 99 % DQ pass
rate of ``config/systems.yaml``. The first day's files carry at least one of each kind."""


@dataclass
class EntityFile:
    system: str
    entity: str
    day: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    raw_lines: list[str] = field(default_factory=list)
    """Malformed lines written verbatim after the rows."""
    defects: Counter[str] = field(default_factory=Counter)


@dataclass
class _Customer:
    prty_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    addr_id: str
    acct_id: str


class DemoData:
    def __init__(self, systems: dict[str, System], rows: int, seed: int, first_day: date) -> None:
        if rows < 20:
            raise ValueError("--rows must be at least 20 so that every kind of defect fits")
        self.systems = systems
        self.rows = rows
        self.random = random.Random(seed)
        self.days = [first_day, first_day + timedelta(days=1)]
        self.customers: list[_Customer] = []
        self.services: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        self.truth: dict[str, Any] = {}
        self._day_index = 0

    # --- helpers ----------------------------------------------------------------------------------

    def _defects(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of a file that get one kind of defect: ``DEFECT_RATE`` of them (at least one on
        the first day)."""
        at_least = 1 if self._day_index == 0 else 0
        return self.random.sample(rows, min(len(rows), max(at_least, int(len(rows) * DEFECT_RATE))))

    def _picks(self, rows: list[dict[str, Any]], how_many: int) -> list[dict[str, Any]]:
        return self.random.sample(rows, min(how_many, len(rows)))

    def _ts(self, day: date, hour: int | None = None) -> str:
        moment = datetime.combine(
            day,
            time(
                hour if hour is not None else self.random.randint(0, 22),
                self.random.randint(0, 59),
                self.random.randint(0, 59),
            ),
            SYDNEY,
        )
        return moment.isoformat()

    def _phone(self) -> str:
        digits = f"4{self.random.randint(10_000_000, 99_999_999)}"
        style = self.random.randint(0, 2)
        if style == 0:
            return f"0{digits[:3]} {digits[3:6]} {digits[6:]}"
        if style == 1:
            return f"+61 {digits[:3]} {digits[3:6]} {digits[6:]}"
        return f"0{digits}"

    def _new_customer(self, number: int) -> _Customer:
        first, last = self.random.choice(FIRST), self.random.choice(LAST)
        return _Customer(
            prty_id=f"P{number:08d}",
            first_name=first,
            last_name=last,
            email=f"{first}.{last}{number}@example.com".lower()
            if self.random.random() < 0.7
            else f"  {first}.{last}{number}@Example.COM ",
            phone=self._phone(),
            addr_id=f"A{number:08d}",
            acct_id=f"AC{number:08d}",
        )

    # --- day one ----------------------------------------------------------------------------------

    def build(self) -> Iterator[EntityFile]:
        day1, day2 = self.days
        self.customers = [self._new_customer(n) for n in range(1, self.rows + 1)]
        yield from self._day(day1, self.customers, changed=[])
        changed = self.random.sample(self.customers, max(1, self.rows // 20))
        for customer in changed:
            what = self.random.choice(["email", "phone", "last_name"])
            if what == "email":
                customer.email = f"{customer.first_name}.{customer.last_name}.new@example.com".lower()
            elif what == "phone":
                customer.phone = self._phone()
            else:
                customer.last_name = self.random.choice([n for n in LAST if n != customer.last_name])
        start = self.rows + 1
        arrivals = [self._new_customer(n) for n in range(start, start + max(1, self.rows // 100))]
        self.customers += arrivals
        self.truth["changed_customers_day2"] = sorted(c.prty_id for c in changed)
        self.truth["new_customers_day2"] = sorted(c.prty_id for c in arrivals)
        self._day_index = 1
        yield from self._day(day2, arrivals, changed=changed)

    def _day(self, day: date, fresh: list[_Customer], changed: list[_Customer]) -> Iterator[EntityFile]:
        yield self._addresses(day, fresh)
        yield self._customers(day, fresh + changed)
        yield self._links(day, fresh, "party_address")
        yield self._links(day, fresh, "party_account")
        yield self._services(day, fresh)
        yield self._cases(day)
        yield self._contacts(day, fresh + changed)

    def _addresses(self, day: date, customers: list[_Customer]) -> EntityFile:
        out = EntityFile("amdm", "address", day)
        for customer in customers:
            suburb, state, postcode = self.random.choice(SUBURBS)
            gcc_cd, gcc_nm = GCC[state]
            out.rows.append(
                {
                    "amdm_addr_id": customer.addr_id,
                    "addr_line_1_txt": f"{self.random.randint(1, 400)} {self.random.choice(STREETS)}",
                    "addr_line_2_txt": f"Unit {self.random.randint(1, 40)}" if self.random.random() < 0.3 else "",
                    "sbrb_nm": suburb,
                    "state": state if self.random.random() < 0.8 else f" {state.lower()} ",
                    "post_cd": postcode,
                    "gcc_cd": gcc_cd,
                    "gcc_nm": gcc_nm,
                    "mb_cd": str(self.random.randint(10_000_000_000, 99_999_999_999)),
                }
            )
        for row in self._defects(out.rows):
            row["post_cd"] = self.random.choice(["12A4", "98765", "N/A"])
            out.defects["bad_postcode"] += 1
        for row in self._defects([r for r in out.rows if r["post_cd"].isdigit()]):
            row["state"] = "XYZ"
            out.defects["unknown_state"] += 1
        self._malformed(out)
        return out

    def _customers(self, day: date, customers: list[_Customer]) -> EntityFile:
        out = EntityFile("cmdm", "customer", day)
        for customer in customers:
            out.rows.append(
                {
                    "prty_id": customer.prty_id,
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "email": customer.email,
                    "phone": customer.phone,
                    "updated_ts": self._ts(day - timedelta(days=1)),
                }
            )
        for row in self._defects(out.rows):
            row["email"] = self.random.choice(["no-at-sign.example.com", "someone@", "two@@example.com"])
            out.defects["bad_email"] += 1
        # Duplicates: an older version of a record later in the file; survivorship must keep the newer.
        for row in self._defects(out.rows):
            stale = dict(row, phone=self._phone(), updated_ts=self._ts(day - timedelta(days=3)))
            out.rows.append(stale)
            out.defects["duplicate_older"] += 1
        versions = Counter(r["prty_id"] for r in out.rows)
        for row in self._defects(out.rows):
            if row["updated_ts"] and versions[row["prty_id"]] == 1:
                out.rows.append(dict(row, first_name=row["first_name"] + "-Tie"))
                versions[row["prty_id"]] += 1
                out.defects["duplicate_tie_later_line_wins"] += 1
        self._malformed(out)
        return out

    def _links(self, day: date, customers: list[_Customer], entity: str) -> EntityFile:
        out = EntityFile("cmdm", entity, day)
        valid_from = (day - timedelta(days=30)).isoformat()
        for customer in customers:
            link = (
                {"amdm_addr_id": customer.addr_id}
                if entity == "party_address"
                else {"acct_id": customer.acct_id, "relationship_cd": "OWNER"}
            )
            out.rows.append({"prty_id": customer.prty_id, **link, "valid_from": valid_from, "valid_to": ""})
        self._malformed(out)
        return out

    def _services(self, day: date, customers: list[_Customer]) -> EntityFile:
        out = EntityFile("jarvis", "service", day)
        for customer in customers:
            for _ in range(self.random.choice([1, 1, 2])):
                status = self.random.choice(SERVICE_STATUSES)
                service = {
                    "serv_id": f"S{len(self.services) + 1:08d}",
                    "acct_id": customer.acct_id,
                    "prty_id": customer.prty_id,
                    "status": status if self.random.random() < 0.9 else status.lower(),
                    "plan_cd": self.random.choice(PLANS),
                    "start_dt": (day - timedelta(days=self.random.randint(1, 900))).isoformat(),
                    "end_dt": day.isoformat() if status == "DISCONNECTED" else "",
                    "updated_ts": self._ts(day - timedelta(days=1)),
                }
                self.services.append(service)
                out.rows.append(dict(service))
        if day != self.days[0]:
            for service in self._picks(self.services[: -len(out.rows) or None], max(1, self.rows // 30)):
                service.update(status="SUSPENDED", updated_ts=self._ts(day - timedelta(days=1)))
                out.rows.append(dict(service))
        for row in self._defects(out.rows):
            row["status"] = self.random.choice(["TERMINATED", "UNKNOWN", "ACTIVATED?"])
            out.defects["unknown_status"] += 1
        for row in self._defects([r for r in out.rows if r["status"].upper() in SERVICE_STATUSES]):
            row["start_dt"] = (day + timedelta(days=self.random.randint(1, 60))).isoformat()
            out.defects["future_start_dt"] += 1
        self._malformed(out)
        return out

    def _cases(self, day: date) -> EntityFile:
        out = EntityFile("pega", "case", day)
        new_cases = max(2, self.rows // 2) if day == self.days[0] else max(2, self.rows // 10)
        for _ in range(new_cases):
            service = self.random.choice(self.services)
            created = datetime.fromisoformat(self._ts(day - timedelta(days=self.random.randint(1, 20))))
            status = self.random.choice(list(CASE_STATUS_SPELLINGS))
            closed = (
                created + timedelta(hours=self.random.randint(1, 200)) if status in ("RESOLVED", "CLOSED") else None
            )
            case: dict[str, Any] = {
                "case_id": f"K{len(self.cases) + 1:08d}",
                "case_type": self.random.choice(CASE_TYPES)
                if self.random.random() < 0.8
                else self.random.choice(CASE_TYPES).lower(),
                "status": self.random.choice(CASE_STATUS_SPELLINGS[status]),
                "created_ts": created.isoformat(),
                "closed_ts": closed.isoformat() if closed else None,
                "sla_due_ts": (created + timedelta(hours=72)).isoformat(),
                "reopen_count": self.random.choice([0, 0, 0, 1, 2]),
                "channel": self.random.choice(CHANNELS),
            }
            shape = self.random.random()
            if shape < 0.85:
                case["party"] = {"prty_id": service["prty_id"]}
                case["service"] = {"serv_id": service["serv_id"], "acct_id": service["acct_id"]}
            elif shape < 0.92:
                case["party"] = {"prty_id": service["prty_id"]}
                case["service"] = None
            else:
                case["party"] = None
            self.cases.append(case)
            out.rows.append(dict(case))
        if day != self.days[0]:
            for case in self._picks(
                [c for c in self.cases[:-new_cases] if not c["closed_ts"]], max(1, self.rows // 20)
            ):
                case.update(status="CLOSED", closed_ts=self._ts(day - timedelta(days=1)))
                out.rows.append(dict(case))
        for row in self._defects(out.rows):
            row["status"] = "ESCALATED"
            out.defects["unknown_status"] += 1
        for row in self._defects([r for r in out.rows if r["status"] != "ESCALATED"]):
            row["case_type"] = "SALES"
            out.defects["unknown_case_type"] += 1
        out.raw_lines += [
            '{"case_id": "K-BROKEN", "case_type": "FAULT", "status": "OPEN"',
            json.dumps({"case_id": "K-BADTYPE", "reopen_count": "twice", "status": "OPEN"}),
        ]
        out.defects["malformed_json"] += 1
        out.defects["bad_type"] += 1
        return out

    def _contacts(self, day: date, customers: list[_Customer]) -> EntityFile:
        out = EntityFile("sfdc", "contact", day)
        for customer in customers:
            _, state, postcode = self.random.choice(SUBURBS)
            out.rows.append(
                {
                    "contact_id": f"003{customer.prty_id[1:]}",
                    "prty_id": customer.prty_id,
                    "acct_id": customer.acct_id,
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "email": customer.email,
                    "phone": customer.phone,
                    "state": state,
                    "postcode": postcode,
                    "primary_ind": "Y",
                    "last_modified_ts": self._ts(day - timedelta(days=1)),
                }
            )
        for row in self._defects(out.rows):
            row["email"] = "not-an-email"
            out.defects["bad_email"] += 1
        for row in self._defects([r for r in out.rows if "@" in r["email"]]):
            row["postcode"] = "ABCDE"
            out.defects["bad_postcode"] += 1
        self._malformed(out)
        return out

    def _malformed(self, out: EntityFile) -> None:
        """Lines that cannot be parsed against the contract: each goes to quarantine with a reason."""
        columns = [c.name for c in self.systems[out.system].entities[out.entity].columns]
        template = dict(out.rows[0])
        extra = [str(template[c]) for c in columns] + ["unexpected"]
        out.raw_lines.append(_csv_line(extra))
        out.defects["extra_column"] += 1
        out.raw_lines.append(_csv_line([str(template[c]) for c in columns[:-1]]))
        out.defects["missing_column"] += 1
        typed = next(
            (
                c
                for c in self.systems[out.system].entities[out.entity].columns
                if c.type in ("date", "timestamp", "integer")
            ),
            None,
        )
        if typed is not None:
            out.raw_lines.append(_csv_line([("31/02/2026" if c == typed.name else str(template[c])) for c in columns]))
            out.defects["bad_type"] += 1
        out.raw_lines.append(_csv_line(["" if c == columns[0] else str(template[c]) for c in columns]))
        out.defects["missing_key"] += 1


def _csv_line(values: list[str]) -> str:
    buffer = StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def write_demo_data(
    systems: dict[str, System], landing_root: Path, rows: int, seed: int, first_day: date
) -> dict[str, Any]:
    """Write two days of landing files under ``landing_root``; returns the manifest it also writes."""
    demo = DemoData(systems, rows, seed, first_day)
    files: list[dict[str, Any]] = []
    for out in demo.build():
        system = systems[out.system]
        entity = system.entities[out.entity]
        folder = landing_root / system.landing.path.format(
            system=out.system, entity=out.entity, date=out.day.isoformat()
        )
        folder.mkdir(parents=True, exist_ok=True)
        columns = [c.name for c in entity.columns]
        name = f"{out.system}_{out.entity}_{out.day:%Y%m%d}.{entity.format}"
        path = folder / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            if entity.format == "csv":
                writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(out.rows)
            else:
                for row in out.rows:
                    handle.write(json.dumps(row) + "\n")
            for line in out.raw_lines:
                handle.write(line + "\n")
        files.append(
            {
                "system": out.system,
                "entity": out.entity,
                "date": out.day.isoformat(),
                "path": str(path.relative_to(landing_root)),
                "lines": len(out.rows) + len(out.raw_lines),
                "parsable_lines": len(out.rows),
                "malformed_lines": len(out.raw_lines),
                "defects": dict(out.defects),
            }
        )
    manifest = {"rows": rows, "seed": seed, "dates": [d.isoformat() for d in demo.days], "files": files, **demo.truth}
    (landing_root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def demo_data_command(env: str | None, rows: int, seed: int, start: date, landing: Path | None) -> int:
    """``lakehouse demo-data``: two days of extracts under the environment's landing root."""
    config = load_config(env or selected_env())
    environment = config.require_environment()
    if config.system_issues:
        config.raise_for_issues()
    if landing is None:
        if not isinstance(environment, LocalEnvironment):
            raise SystemExit(f"'{config.env_name}' has no local landing root: give --landing-root")
        landing = locations.landing_root(environment)
    manifest = write_demo_data(dict(config.systems), landing, rows, seed, start)
    lines = sum(f["lines"] for f in manifest["files"])
    planted = sum(sum(f["defects"].values()) for f in manifest["files"])
    print(
        f"wrote {len(manifest['files'])} files, {lines} lines, {planted} planted defects, for "
        f"{', '.join(manifest['dates'])} under {landing}"
    )
    return 0
