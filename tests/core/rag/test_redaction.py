from __future__ import annotations

import pytest

from lakehouse.config import load_config
from lakehouse.core.rag.redaction import Redactor


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(load_config("local").require_pipelines().rag.identifiers)


@pytest.mark.parametrize(
    ("text", "expected", "counts"),
    [
        ("write to jane.citizen@example.com today", "write to [EMAIL] today", {"EMAIL": 1}),
        ("cc m.nguyen+billing@example.net, o'brien@mail.example.org.", "cc [EMAIL], [EMAIL].", {"EMAIL": 2}),
        ("mobile 0412 345 678", "mobile [PHONE]", {"PHONE": 1}),
        ("intl +61 412 345 678 or +61412345678", "intl [PHONE] or [PHONE]", {"PHONE": 2}),
        ("landline (02) 9876 5432, 02-9876-5432 and 0298765432", "landline [PHONE], [PHONE] and [PHONE]", {"PHONE": 3}),
        ("customer P00012345 on account AC00012345", "customer [CUSTOMER_ID] on account [ACCOUNT_ID]", None),
        ("SFDC contact 00300012345 synced", "SFDC contact [CONTACT_ID] synced", {"CONTACT_ID": 1}),
        ("P00012345,jane@example.com,0412345678", "[CUSTOMER_ID],[EMAIL],[PHONE]", None),
    ],
)
def test_pii_is_replaced_by_its_label(
    redactor: Redactor, text: str, expected: str, counts: dict[str, int] | None
) -> None:
    result = redactor(text)
    assert result.text == expected
    assert result.changed
    if counts is not None:
        assert dict(result.counts) == counts


@pytest.mark.parametrize(
    "text",
    [
        "postcode 2000 in NSW; 4-digit postcodes only",
        "status ACTIVE since 2026-03-01T04:00:00+11:00",
        "retain for 7 years; deadline PT2H; cron 0 4 * * *",
        "the DQ pass rate must be at least 99.5% over 1000000 rows",
        "serv_id S00012345 and case C-2026-000123 are not personal data",
        "sha2(prty_id, 256) gives customer_sk",
    ],
)
def test_ordinary_numbers_dates_and_keys_are_left_alone(redactor: Redactor, text: str) -> None:
    result = redactor(text)
    assert result.text == text
    assert not result.changed


def test_redacting_twice_changes_nothing_more(redactor: Redactor) -> None:
    once = redactor("P00012345 jane@example.com 0412 345 678")
    assert redactor(once.text).text == once.text
    assert not redactor(once.text).changed
