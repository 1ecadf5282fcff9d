"""The Salesforce client against the stand-in on 127.0.0.1: token, upsert, read-back, retries."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lakehouse.config.models import SfdcOutbound
from lakehouse.core.sfdc.client import SalesforceClient, SalesforceError
from lakehouse.core.sfdc.credentials import ClientCredentials
from tests.fakes.salesforce import SalesforceStandIn

SECRET = "s3cr3t-client-credential-9f2"
FIELD = "Mandos_Id__c"
SETTINGS = SfdcOutbound(connection="sf", max_retries=2, backoff_seconds=0.05, timeout_seconds=10)


@pytest.fixture
def standin() -> Iterator[SalesforceStandIn]:
    server = SalesforceStandIn("client-id", SECRET, FIELD, SETTINGS.api_version).start()
    yield server
    server.stop()


def client(standin: SalesforceStandIn, secret: str = SECRET) -> SalesforceClient:
    return SalesforceClient(ClientCredentials(standin.url, "client-id", secret), SETTINGS)


RECORD = {"attributes": {"type": "Contact"}, "LastName": "Lee", "Email": "p1@example.com", FIELD: "P1"}


def test_upsert_then_read_back_by_external_id(standin: SalesforceStandIn) -> None:
    salesforce = client(standin)
    (result,) = salesforce.upsert("Contact", FIELD, [RECORD])
    assert result["success"] and result["created"]
    assert salesforce.get_by_external_id("Contact", FIELD, "P1", ["LastName", "Email"]) == {
        "attributes": {"type": "Contact"}, "Id": result["id"], "LastName": "Lee", "Email": "p1@example.com",
    }  # fmt: skip
    assert salesforce.get_by_external_id("Contact", FIELD, "P404", ["LastName"]) is None
    assert standin.token_requests == 1


def test_a_401_gets_one_new_token(standin: SalesforceStandIn) -> None:
    salesforce = client(standin)
    salesforce.upsert("Contact", FIELD, [RECORD])
    standin.revoke_tokens()
    salesforce.upsert("Contact", FIELD, [RECORD])
    assert standin.token_requests == 2 and standin.upsert_calls == 2


def test_429_waits_for_retry_after_and_5xx_is_retried(standin: SalesforceStandIn) -> None:
    standin.plan = {1: "429", 2: "500"}
    started = time.monotonic()
    (result,) = client(standin).upsert("Contact", FIELD, [RECORD])
    assert result["success"] and standin.upsert_calls == 3
    assert time.monotonic() - started >= 1.0  # Retry-After: 1


def test_retries_are_bounded(standin: SalesforceStandIn) -> None:
    standin.plan = {1: "503-always"}
    with pytest.raises(SalesforceError, match="HTTP 503"):
        client(standin).upsert("Contact", FIELD, [RECORD])
    assert standin.upsert_calls == 3  # the first try and max_retries
    with pytest.raises(ValueError, match="1 to 200"):
        client(standin).upsert("Contact", FIELD, [RECORD] * 201)


def test_bad_credentials_fail_without_showing_the_secret(standin: SalesforceStandIn) -> None:
    with pytest.raises(SalesforceError, match="invalid_client") as failure:
        client(standin, "wrong-secret-value").upsert("Contact", FIELD, [RECORD])
    assert "wrong-secret-value" not in str(failure.value)
    assert SECRET not in repr(ClientCredentials(standin.url, "client-id", SECRET))
