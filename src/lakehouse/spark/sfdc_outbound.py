"""Salesforce outbound: the Spark side of the worker. Reads requests with their latest state,
records claims and results, and drives ``lakehouse.core.sfdc.outbound``'s rules with an HTTP client.

Each state change is appended to ``outbound_output_hist`` first and MERGEd into ``outbound_output``
second: a run that dies in between leaves the output one state behind, which the next run repairs
(a claim it reads back, a result it reads back), never the history without a state."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from pyspark.sql import SparkSession

from lakehouse.config.models import SfdcOutbound
from lakehouse.core.naming import OutboundTables
from lakehouse.core.sfdc.client import SalesforceError
from lakehouse.core.sfdc.outbound import (
    Outcome,
    Request,
    batches,
    claims,
    decide_claimed,
    results,
    to_record,
    to_send,
    transport_failures,
)
from lakehouse.spark import delta_io

log = logging.getLogger(__name__)

SOBJECT = "Contact"

OUTPUT_SCHEMA = (
    "request_id STRING, status STRING, sfdc_id STRING, created BOOLEAN, error_code STRING, error_msg STRING, "
    "error_fields STRING, attempt INT, claim_id STRING, via STRING, processed_ts TIMESTAMP"
)


class Salesforce(Protocol):
    def upsert(self, sobject: str, external_id_field: str, records: Sequence[Any]) -> list[Any]: ...

    def get_by_external_id(
        self, sobject: str, external_id_field: str, external_id: str, fields: Sequence[str]
    ) -> dict[str, Any] | None: ...


class OutboundIncomplete(RuntimeError):
    """Salesforce could not be reached for some requests; they are retryable and the next run sends
    them. ``counts`` is what the run did."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


def _requests(spark: SparkSession, locations: dict[str, str]) -> list[Request]:
    """Requests not final yet, with the latest request of each of their contacts (to supersede
    older ones)."""
    rows = spark.sql(
        f"""
        WITH r AS (
          SELECT i.request_id, i.external_id, to_json(i.payload) AS payload, i.requested_ts,
                 o.status, coalesce(o.attempt, 0) AS attempt, o.via, o.claim_id,
                 row_number() OVER (PARTITION BY i.external_id
                                    ORDER BY i.requested_ts DESC, i.request_id DESC) = 1 AS is_latest
          FROM {delta_io.sql_name(locations["input"])} AS i
          LEFT JOIN {delta_io.sql_name(locations["output"])} AS o ON o.request_id = i.request_id
          WHERE i.entity = '{SOBJECT}'
        ),
        open AS (SELECT * FROM r WHERE status IS NULL OR status NOT IN ('SUCCESS', 'FAILED', 'SUPERSEDED'))
        SELECT * FROM open
        UNION
        SELECT * FROM r WHERE is_latest AND external_id IN (SELECT external_id FROM open)
        """
    ).collect()
    return [
        Request(
            row["request_id"],
            row["external_id"],
            row["payload"],
            row["requested_ts"],
            row["status"],
            row["attempt"],
            row["via"],
            row["claim_id"],
        )
        for row in rows
    ]


def record(spark: SparkSession, locations: dict[str, str], outcomes: Sequence[Outcome], now: datetime) -> None:
    if not outcomes:
        return
    frame = spark.createDataFrame([outcome.row(now) for outcome in outcomes], OUTPUT_SCHEMA)
    delta_io.save(frame.write.format("delta").mode("append"), locations["history"])
    delta_io.merge(spark, frame, locations["output"], "t.request_id = s.request_id")


def run(
    spark: SparkSession,
    tables: OutboundTables,
    location: Callable[[Any], str],
    salesforce: Salesforce,
    settings: SfdcOutbound,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, int]:
    """Read back what a dead run left uncertain, then send every pending request, batch by batch."""
    locations = {
        "input": location(tables.input),
        "output": location(tables.output),
        "history": location(tables.history),
    }
    field = settings.external_id_field
    counts: Counter[str] = Counter()

    # Claimed by a run that died, or a call that failed in transport: Salesforce may have applied it.
    uncertain = [r for r in _requests(spark, locations) if r.uncertain]
    checked = []
    for request in uncertain:
        found = salesforce.get_by_external_id(SOBJECT, field, request.external_id, list(request.fields))
        checked.append(decide_claimed(request, found, request.claim_id))
    record(spark, locations, checked, now())
    counts["read_back_applied"] = sum(outcome.status == "SUCCESS" for outcome in checked)
    counts["read_back_not_applied"] = len(checked) - counts["read_back_applied"]

    send, superseded = to_send(_requests(spark, locations))
    record(spark, locations, superseded, now())
    counts["superseded"] = len(superseded)
    for batch in batches(send, settings.batch_size):
        claim_id = uuid.uuid4().hex
        record(spark, locations, claims(batch, claim_id), now())
        counts["batches"] += 1
        try:
            answer = salesforce.upsert(SOBJECT, field, [to_record(r, SOBJECT, field) for r in batch])
            outcomes = results(batch, answer, claim_id)
        except (SalesforceError, requests.RequestException, ValueError) as exc:
            # Retries are spent: Salesforce is down or answers nonsense. Later batches wait too.
            record(spark, locations, transport_failures(batch, claim_id, f"{type(exc).__name__}: {exc}"), now())
            counts["retryable"] += len(batch)
            raise OutboundIncomplete(
                f"{len(batch)} request(s) of claim {claim_id} are retryable: {exc}", dict(counts)
            ) from exc
        record(spark, locations, outcomes, now())
        for outcome in outcomes:
            counts["succeeded" if outcome.status == "SUCCESS" else "failed"] += 1
    return dict(counts)
