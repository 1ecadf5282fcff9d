"""The Salesforce REST API, as the outbound worker uses it: an OAuth 2.0 client-credentials token,
sObject Collections upserts by external id, and reading a record back by its external id.

Retries are urllib3's: on 429 and 5xx answers and on connection errors, with exponential backoff,
honouring ``Retry-After``, bounded by ``max_retries``. An upsert by external id may be repeated: the
record ends the same. A 401 (the token expired or was revoked) gets one new token and one more try."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lakehouse.config.models import SfdcOutbound
from lakehouse.core.sfdc.credentials import ClientCredentials

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)


class SalesforceError(RuntimeError):
    """A call failed for good: retries exhausted, or an answer the worker cannot use."""


def session(settings: SfdcOutbound) -> requests.Session:
    retry = Retry(
        total=settings.max_retries,
        backoff_factor=settings.backoff_seconds,
        backoff_max=settings.max_backoff_seconds,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "POST", "PATCH"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    http = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


class SalesforceClient:
    def __init__(
        self, credentials: ClientCredentials, settings: SfdcOutbound, http: requests.Session | None = None
    ) -> None:
        self._credentials = credentials
        self._settings = settings
        self._http = http or session(settings)
        self._token: str | None = None
        self._instance_url: str | None = None

    def _authenticate(self) -> None:
        response = self._http.post(
            f"{self._credentials.login_url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
            },
            timeout=self._settings.timeout_seconds,
        )
        if response.status_code != 200:
            # Salesforce's error body names the problem (invalid_client...), never the secret.
            raise SalesforceError(f"token request failed: HTTP {response.status_code} {response.text[:300]}")
        body = response.json()
        self._token, self._instance_url = body["access_token"], body["instance_url"].rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self._token is None:
            self._authenticate()
        for first in (True, False):
            response = self._http.request(
                method,
                f"{self._instance_url}/services/data/v{self._settings.api_version}{path}",
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._settings.timeout_seconds,
                **kwargs,
            )
            if response.status_code == 401 and first:
                log.info("Salesforce answered 401 to %s %s: getting a new token", method, path)
                self._authenticate()
                continue
            return response
        raise AssertionError("unreachable")

    def upsert(self, sobject: str, external_id_field: str, records: Sequence[Mapping[str, Any]]) -> list[Any]:
        """One sObject Collections upsert; ``allOrNone: false`` so that one bad record does not
        reject the others. Returns the per-record results, in the order of ``records``."""
        if not 1 <= len(records) <= 200:
            raise ValueError(f"an sObject Collections call takes 1 to 200 records, not {len(records)}")
        response = self._call(
            "PATCH",
            f"/composite/sobjects/{sobject}/{external_id_field}",
            json={"allOrNone": False, "records": list(records)},
        )
        if response.status_code != 200:
            raise SalesforceError(
                f"upsert of {len(records)} {sobject} record(s) failed: HTTP "
                f"{response.status_code} {response.text[:300]}"
            )
        results = response.json()
        if not isinstance(results, list):
            raise SalesforceError(f"upsert answered {str(results)[:300]}, not a list of results")
        return results

    def get_by_external_id(
        self, sobject: str, external_id_field: str, external_id: str, fields: Sequence[str]
    ) -> dict[str, Any] | None:
        """The record with this external id (its ``Id`` and ``fields``), or ``None`` if none has it."""
        response = self._call(
            "GET",
            f"/sobjects/{sobject}/{external_id_field}/{quote(external_id, safe='')}",
            params={"fields": ",".join(["Id", *fields])},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SalesforceError(
                f"reading {sobject} {external_id_field}={external_id} failed: HTTP "
                f"{response.status_code} {response.text[:300]}"
            )
        record = response.json()
        if not isinstance(record, dict):
            raise SalesforceError(f"reading {sobject} answered {str(record)[:300]}, not a record")
        return record
