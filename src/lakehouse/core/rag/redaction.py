"""PII redaction for everything the RAG index stores or returns: email addresses, phone numbers and
the identifiers that config names (customer, account and contact ids)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers

# Local part and domain as mail systems accept them in practice; deliberately wider than RFC 5322's
# common subset so that "m.nguyen+billing@example.net" and "o'brien@example.com" are caught too.
EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class Redacted:
    text: str
    counts: Mapping[str, int] = field(default_factory=dict)
    """How many values of each label were replaced."""

    @property
    def changed(self) -> bool:
        return bool(self.counts)


class Redactor:
    """Replaces PII with ``[EMAIL]``, ``[PHONE]`` and ``[<LABEL>]`` of each configured identifier.

    Phone numbers are found by libphonenumber for the default region (national and international
    formats, spaces, brackets, dashes), which a hand-written pattern gets wrong in both directions.
    """

    def __init__(self, identifiers: Mapping[str, str], region: str = "AU") -> None:
        self.identifiers = dict(identifiers)
        """Label -> pattern, as configured."""
        self._identifiers = {label: re.compile(pattern) for label, pattern in identifiers.items()}
        self._region = region

    @property
    def labels(self) -> tuple[str, ...]:
        return (*self._identifiers, "EMAIL", "PHONE")

    def __call__(self, text: str) -> Redacted:
        counts: Counter[str] = Counter()
        # Identifiers first: their digits must not be read as phone numbers.
        for label, pattern in [*self._identifiers.items(), ("EMAIL", EMAIL)]:
            text, replaced = pattern.subn(f"[{label}]", text)
            if replaced:
                counts[label] += replaced
        matches = list(phonenumbers.PhoneNumberMatcher(text, self._region, leniency=phonenumbers.Leniency.VALID))
        for match in reversed(matches):
            text = text[: match.start] + "[PHONE]" + text[match.end :]
        if matches:
            counts["PHONE"] = len(matches)
        return Redacted(text, dict(counts))
