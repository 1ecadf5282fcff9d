"""The environment's ``lineage`` section: off unless set, and a bad value is named with its file and key."""

from __future__ import annotations

from typing import Any

import pytest

from lakehouse.config import load_config
from tests.conftest import ConfigCopy


def _lineage_issues(project: ConfigCopy, lineage: dict[str, Any]) -> list[str]:
    project.edit("variables/local.yaml", lambda data: data.update(lineage=lineage))
    return [str(issue) for issue in load_config("local", project.dir).issues]


def test_a_valid_section_loads_with_its_defaults(project: ConfigCopy) -> None:
    assert _lineage_issues(project, {"url": "https://lineage.example.com:8443/"}) == []
    lineage = load_config("local", project.dir).require_environment().lineage
    assert lineage.enabled and lineage.endpoint == "api/v1/lineage"
    assert lineage.namespace is None and lineage.api_key_connection is None


@pytest.mark.parametrize(
    ("lineage", "key", "expected"),
    [
        ({"url": "marquez:5000"}, "lineage.url", "not an http(s) URL with a host"),
        ({"url": "ftp://marquez"}, "lineage.url", "not an http(s) URL with a host"),
        ({"url": "http://"}, "lineage.url", "not an http(s) URL with a host"),
        ({"url": "http://user:pw@marquez:5000"}, "lineage.url", "must not hold credentials"),
        ({"url": "http://marquez:5000/?key=1"}, "lineage.url", "the API path goes in 'endpoint'"),
        ({"url": "http://marquez:5000/api/v1/lineage"}, "lineage.url", "the API path goes in 'endpoint'"),
        ({"url": "http://marquez", "api_key_connection": ""}, "lineage.api_key_connection", "at least 1"),
        ({"url": "http://marquez:99999"}, "lineage.url", "has an invalid port"),
        ({"url": "http://marquez", "endpoint": "http://other/api"}, "lineage.endpoint", "should match pattern"),
        ({"url": "http://marquez", "namespace": "has space"}, "lineage.namespace", "should match pattern"),
        ({"uri": "http://marquez"}, "lineage.uri", "did you mean 'url'?"),
    ],
)
def test_a_bad_value_is_named(project: ConfigCopy, lineage: dict[str, Any], key: str, expected: str) -> None:
    (message,) = _lineage_issues(project, lineage)
    assert message.startswith(f"{project.dir}/variables/local.yaml: {key}: "), message
    assert expected in message
