"""The worker's rules: which requests go, in what batches, as what records, and what each answer means."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lakehouse.core.sfdc.outbound import (
    Request,
    batches,
    claims,
    decide_claimed,
    holds,
    results,
    to_record,
    to_send,
    transport_failures,
)

PAYLOAD = json.dumps({"LastName": "Lee", "Email": "p1@example.com", "Phone": None})


def request(rid: str, external: str = "P1", hour: int = 1, **kwargs: object) -> Request:
    return Request(rid, external, PAYLOAD, datetime(2026, 3, 1, hour), **kwargs)  # type: ignore[arg-type]


def test_only_the_latest_request_of_a_contact_is_sent_older_pending_ones_are_superseded() -> None:
    old = request("r1", hour=1)
    new = request("r2", hour=2)
    other = request("r3", "P2", hour=0, status="RETRY", via="read_back", attempt=1)
    done = request("r4", "P3", hour=3, status="SUCCESS")
    send, superseded = to_send([new, old, other, done])
    assert [r.request_id for r in send] == ["r3", "r2"]  # oldest first
    assert [(o.request_id, o.status, o.error_msg) for o in superseded] == [("r1", "SUPERSEDED", "superseded by r2")]


def test_a_pending_request_older_than_a_sent_one_is_superseded_not_sent() -> None:
    send, superseded = to_send(
        [request("r1", hour=1, status="RETRY", via="read_back"), request("r2", hour=2, status="SUCCESS")]
    )
    assert send == [] and [o.request_id for o in superseded] == ["r1"]


def test_uncertain_requests_are_never_sent_before_they_are_read_back() -> None:
    claimed = request("r1", status="SENDING", attempt=1, via="claim")
    lost = request("r2", "P2", status="RETRY", attempt=1, via="transport")
    assert claimed.uncertain and lost.uncertain
    assert to_send([claimed, lost]) == ([], [])


def test_batches_of_at_most_the_size() -> None:
    items = [request(f"r{n}", f"P{n}") for n in range(5)]
    assert [len(b) for b in batches(items, 2)] == [2, 2, 1]
    with pytest.raises(ValueError):
        list(batches(items, 0))


def test_record_is_the_payload_with_type_and_external_id() -> None:
    assert to_record(request("r1"), "Contact", "Mandos_Id__c") == {
        "attributes": {"type": "Contact"}, "LastName": "Lee", "Email": "p1@example.com", "Phone": None,
        "Mandos_Id__c": "P1",
    }  # fmt: skip


def test_results_map_in_order_with_field_errors_and_attempts() -> None:
    batch = [request("r1", attempt=0), request("r2", "P2", attempt=1)]
    assert [(o.status, o.attempt, o.claim_id) for o in claims(batch, "c1")] == [
        ("SENDING", 1, "c1"),
        ("SENDING", 2, "c1"),
    ]
    answer = [
        {"id": "003A", "success": True, "created": True, "errors": []},
        {"success": False, "errors": [
            {"statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid", "fields": ["Email"]},
            {"statusCode": "REQUIRED_FIELD_MISSING", "message": "LastName", "fields": ["LastName"]},
        ]},
    ]  # fmt: skip
    ok, failed = results(batch, answer, "c1")
    assert (ok.status, ok.sfdc_id, ok.created, ok.attempt) == ("SUCCESS", "003A", True, 1)
    assert (failed.status, failed.attempt) == ("FAILED", 2)
    assert failed.error_code == "INVALID_EMAIL_ADDRESS;REQUIRED_FIELD_MISSING"
    assert failed.error_fields == '["Email", "LastName"]'
    with pytest.raises(ValueError, match="2 results"):
        results(batch, answer[:1], "c1")


def test_transport_failures_are_retryable() -> None:
    (outcome,) = transport_failures([request("r1")], "c1", "HTTP 503")
    assert (outcome.status, outcome.via, outcome.attempt, outcome.error_msg) == ("RETRY", "transport", 1, "HTTP 503")


def test_read_back_decides_applied_or_not() -> None:
    claimed = request("r1", status="SENDING", attempt=1)
    record = {"Id": "003A", "LastName": "Lee", "Email": "p1@example.com", "Phone": None}
    applied = decide_claimed(claimed, record, "c1")
    assert (applied.status, applied.via, applied.sfdc_id, applied.attempt) == ("SUCCESS", "read_back", "003A", 1)
    stale = decide_claimed(claimed, {**record, "Email": "old@example.com"}, "c1")
    assert (stale.status, stale.error_msg) == ("RETRY", "not applied: the record does not hold the payload")
    assert decide_claimed(claimed, None, "c1").error_msg == "not applied: no record with this external id"
    assert not holds(None, {}) and holds({"A": 1}, {})
