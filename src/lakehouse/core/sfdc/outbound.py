"""The outbound worker's rules, without Spark or HTTP: which requests to send, how a request becomes
a Salesforce record, and what each answer (or its absence) means for a request's status.

A request is sent at most once unless Salesforce shows it was not applied. The worker claims a batch
(status ``SENDING``, committed to Delta) before the call and records the results right after it. A
request still ``SENDING`` when the worker starts was claimed by a run that died in between (and one
``RETRY`` after a call that failed in transport may have lost only its answer), so nobody knows
whether Salesforce applied it: the worker reads the contact back by its external id
(``decide_claimed``). If the record holds every value of the payload, the request is recorded as a
success without a send; otherwise it was not applied, and it is sent like any pending request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Status = Literal["SENDING", "SUCCESS", "FAILED", "RETRY", "SUPERSEDED"]
Via = Literal["claim", "upsert", "read_back", "transport", "superseded"]

FINAL: frozenset[str] = frozenset({"SUCCESS", "FAILED", "SUPERSEDED"})
"""Statuses after which a request is never sent again."""


@dataclass(frozen=True)
class Request:
    """A row of ``outbound_input`` with its latest output, if any."""

    request_id: str
    external_id: str
    payload: str
    """The record's fields as a JSON object; the external id field is added when it is sent."""
    requested_ts: datetime
    status: str | None = None
    attempt: int = 0
    via: str | None = None
    claim_id: str | None = None

    @property
    def uncertain(self) -> bool:
        """Whether Salesforce may have applied it without its result being recorded: claimed by a
        run that died, or sent in a call that failed in transport (a lost answer looks the same)."""
        return self.status == "SENDING" or (self.status == "RETRY" and self.via == "transport")

    @property
    def fields(self) -> dict[str, Any]:
        value = json.loads(self.payload)
        if not isinstance(value, dict):
            raise ValueError(f"request {self.request_id}: payload is not a JSON object")
        return value


@dataclass(frozen=True)
class Outcome:
    """One row for ``outbound_output`` (MERGEd by request id) and ``outbound_output_hist`` (appended)."""

    request_id: str
    status: Status
    via: Via
    attempt: int
    claim_id: str | None = None
    sfdc_id: str | None = None
    created: bool | None = None
    error_code: str | None = None
    error_msg: str | None = None
    error_fields: str | None = None

    def row(self, processed_ts: datetime) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "sfdc_id": self.sfdc_id,
            "created": self.created,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "error_fields": self.error_fields,
            "attempt": self.attempt,
            "claim_id": self.claim_id,
            "via": self.via,
            "processed_ts": processed_ts,
        }


def to_send(requests: Iterable[Request]) -> tuple[list[Request], list[Outcome]]:
    """Requests to send, oldest first, and the pending ones to mark superseded. Of a contact's
    requests only the latest is ever sent: an older one still pending would overwrite newer data
    (and two records with one external id in a call are rejected)."""
    everything = list(requests)
    latest: dict[str, Request] = {}
    for request in everything:
        current = latest.get(request.external_id)
        if current is None or (request.requested_ts, request.request_id) > (current.requested_ts, current.request_id):
            latest[request.external_id] = request
    # Uncertain ones are read back first (decide_claimed); sending them now could apply them twice.
    pending = [r for r in everything if r.status not in FINAL and not r.uncertain]
    send = [r for r in pending if latest[r.external_id] is r]
    superseded = [
        Outcome(
            r.request_id,
            "SUPERSEDED",
            "superseded",
            r.attempt,
            error_msg=f"superseded by {latest[r.external_id].request_id}",
        )
        for r in pending
        if latest[r.external_id] is not r
    ]
    return sorted(send, key=lambda r: (r.requested_ts, r.request_id)), superseded


def batches(requests: Sequence[Request], size: int) -> Iterator[list[Request]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(requests), size):
        yield list(requests[start : start + size])


def to_record(request: Request, sobject: str, external_id_field: str) -> dict[str, Any]:
    """The sObject Collections record of a request: its payload plus type and external id."""
    return {"attributes": {"type": sobject}, **request.fields, external_id_field: request.external_id}


def claims(batch: Sequence[Request], claim_id: str) -> list[Outcome]:
    return [Outcome(r.request_id, "SENDING", "claim", r.attempt + 1, claim_id) for r in batch]


def results(batch: Sequence[Request], response: Any, claim_id: str) -> list[Outcome]:
    """The outcome of each record of an sObject Collections answer, which lists one result per
    record in the order sent: ``{"id", "success", "created", "errors": [{"statusCode", "message",
    "fields"}]}``."""
    if not isinstance(response, list) or len(response) != len(batch):
        raise ValueError(f"expected a list of {len(batch)} results, got {str(response)[:200]}")
    outcomes = []
    for request, result in zip(batch, response, strict=True):
        attempt = request.attempt + 1
        if result.get("success"):
            outcomes.append(
                Outcome(
                    request.request_id, "SUCCESS", "upsert", attempt, claim_id, result.get("id"), result.get("created")
                )
            )
            continue
        errors = result.get("errors") or [{"statusCode": "UNKNOWN", "message": "no error given", "fields": []}]
        outcomes.append(
            Outcome(
                request.request_id,
                "FAILED",
                "upsert",
                attempt,
                claim_id,
                result.get("id"),
                error_code=";".join(str(e.get("statusCode")) for e in errors),
                error_msg="; ".join(str(e.get("message")) for e in errors),
                error_fields=json.dumps(sorted({f for e in errors for f in e.get("fields") or []})),
            )
        )
    return outcomes


def transport_failures(batch: Sequence[Request], claim_id: str, error: str) -> list[Outcome]:
    """The call failed after its retries: nothing is known to be applied, so each request may be
    sent again (by the next run, or the next try of the task)."""
    return [Outcome(r.request_id, "RETRY", "transport", r.attempt + 1, claim_id, error_msg=error[:2000]) for r in batch]


def holds(record: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> bool:
    """Whether a record read back from Salesforce has every value of the payload."""
    return record is not None and all(record.get(name) == value for name, value in fields.items())


def decide_claimed(request: Request, record: Mapping[str, Any] | None, claim_id: str | None) -> Outcome:
    """An uncertain request (see ``Request.uncertain``), given the record read back by its external
    id: a success if that record holds the payload; otherwise it was not applied, and is retryable
    (``via`` ``read_back``), so this run sends it."""
    if record is not None and holds(record, request.fields):
        return Outcome(request.request_id, "SUCCESS", "read_back", request.attempt, claim_id, record.get("Id"))
    reason = "no record with this external id" if record is None else "the record does not hold the payload"
    return Outcome(
        request.request_id, "RETRY", "read_back", request.attempt, claim_id, error_msg=f"not applied: {reason}"
    )
