"""Shared fixtures. Airflow reads its settings at import, so they are set here, before any test imports it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "config"
DAGS_FOLDER = ROOT / "airflow" / "dags"
_TARGETS = {path.stem: yaml.safe_load(path.read_text())["target"] for path in (CONFIG_DIR / "variables").glob("*.yaml")}
ENVIRONMENTS = tuple(sorted(_TARGETS))
"""The shipped config's environments; ``DATABRICKS_ENVIRONMENTS`` those on the Databricks target."""
DATABRICKS_ENVIRONMENTS = tuple(env for env in ENVIRONMENTS if _TARGETS[env] == "databricks")

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="lakehouse-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.pop("LAKEHOUSE_ENV", None)
os.environ.pop("LAKEHOUSE_CONFIG_DIR", None)
os.environ.pop("LAKEHOUSE_SQL_DIR", None)
from lakehouse.ops.airflow_home import airflow_environ  # noqa: E402
from tests.fakes.receivers import HttpReceiver, SmtpInbox, pagerduty_answer  # noqa: E402

os.environ.update(airflow_environ())


SLOWEST_FILES = 25


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Time per test file (setup, call and teardown of its tests), slowest first: where CI's minutes
    go. A session fixture's setup counts for the file of the first test that needs it."""
    seconds: defaultdict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if isinstance(report, pytest.TestReport):
                seconds[report.nodeid.split("::")[0]] += report.duration
    if not seconds:
        return
    terminalreporter.write_sep("=", f"time per test file, the slowest {SLOWEST_FILES}")
    for path, total in sorted(seconds.items(), key=lambda item: -item[1])[:SLOWEST_FILES]:
        terminalreporter.write_line(f"{total:9.2f}s {path}")


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata database, as ``dag.test()`` needs."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return _AIRFLOW_HOME


@pytest.fixture
def env_var(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def select(env: str) -> None:
        monkeypatch.setenv("LAKEHOUSE_ENV", env)

    return select


class ConfigCopy:
    """A writable copy of config/ for breaking one thing at a time."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder

    def path(self, relative: str) -> Path:
        return self.dir / relative

    def read(self, relative: str) -> Any:
        return yaml.safe_load(self.path(relative).read_text())

    def write(self, relative: str, data: Any) -> None:
        path = self.path(relative)
        path.write_text(json.dumps(data, indent=2) if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False))

    def edit(self, relative: str, change: Callable[[Any], None]) -> None:
        data = self.read(relative)
        change(data)
        self.write(relative, data)


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfigCopy]:
    """A writable copy of the shipped config/, selected: for end-to-end tests of the shipped project."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    monkeypatch.setenv("LAKEHOUSE_CONFIG_DIR", str(folder))
    yield ConfigCopy(folder)


PROJECT_DIR = ROOT / "tests" / "fixtures" / "project"
"""A small project of its own (two systems, three Gold tables, environments local and dev): the unit
tests' config, so that a change to the shipped config/ breaks none of them."""


def select_project(folder: Path, monkeypatch: pytest.MonkeyPatch) -> ConfigCopy:
    """Copy the test project to ``folder`` and select it: its config/, its own SQL and knowledge."""
    shutil.copytree(PROJECT_DIR, folder)
    monkeypatch.setenv("LAKEHOUSE_CONFIG_DIR", str(folder / "config"))
    monkeypatch.setenv("LAKEHOUSE_SQL_DIR", str(folder / "sql"))
    monkeypatch.setenv("LAKEHOUSE_KNOWLEDGE_ROOT", str(folder / "knowledge"))
    return ConfigCopy(folder / "config")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConfigCopy:
    """A writable copy of the test project, selected."""
    return select_project(tmp_path / "project", monkeypatch)


SPARK_MODE_VAR = "LAKEHOUSE_TEST_SPARK"
"""``connect``: the tests' Spark is a client of a Spark Connect server started for the run, and so is
every stage the tests run; unset or ``classic``: a Spark in this process."""


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Spark session with Delta for the whole run; stages reuse it through getOrCreate."""
    from lakehouse.spark.session import build_session

    if os.environ.get(SPARK_MODE_VAR, "classic") == "connect":
        yield from _connect_session(tmp_path_factory.mktemp("spark-connect") / "server.log")
        return
    # py4j logs its connection shutdown at interpreter exit, after pytest closed the captured streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = build_session("lakehouse-tests", master="local[2]", shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _connect_session(log: Path) -> Iterator[Any]:
    from lakehouse.config.models import LocalSettings
    from lakehouse.core.locations import SPARK_REMOTE_VAR
    from lakehouse.ops.spark_connect import running_server
    from lakehouse.spark.session import remote_session

    settings = LocalSettings(landing_root="", warehouse_root="", spark_master="local[2]", driver_memory="2g")
    with running_server(log, settings) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv(SPARK_REMOTE_VAR, server.url)
        session = remote_session(server.url)
        session.conf.set("spark.sql.shuffle.partitions", "2")
        yield session
        session.stop()


TEAMS_WEBHOOK_SECRET = "sig-4f7c1e9a2b"
"""The signature part of the test Teams webhook URL: a secret that must never show up anywhere."""
PAGERDUTY_ROUTING_KEY = "R0UT1NG-K3Y-5ecret"


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpInbox]:
    """A real SMTP server behind ``smtp_default``."""
    inbox = SmtpInbox().start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", inbox.connection())
    yield inbox
    inbox.stop()


@pytest.fixture
def teams_webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    """An HTTP receiver behind ``teams_default``, as a Teams incoming webhook answers."""
    receiver = HttpReceiver().start()
    url = f"{receiver.url}/webhookb2/{TEAMS_WEBHOOK_SECRET}"
    monkeypatch.setenv("AIRFLOW_CONN_TEAMS_DEFAULT", json.dumps({"conn_type": "http", "password": url}))
    yield receiver
    receiver.stop()


@pytest.fixture
def pagerduty_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    """An HTTP receiver behind ``pagerduty_default``, answering as the Events API v2 does."""
    receiver = HttpReceiver(pagerduty_answer).start()
    connection = {"conn_type": "pagerduty_events", "host": receiver.url, "password": PAGERDUTY_ROUTING_KEY}
    monkeypatch.setenv("AIRFLOW_CONN_PAGERDUTY_DEFAULT", json.dumps(connection))
    yield receiver
    receiver.stop()


@pytest.fixture
def searchable_folder() -> Iterator[Path]:
    """A folder the postgres user can reach when the tests run as root (pytest's are private)."""
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-stack-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: scripts/test.sh installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # The machine may have no internet: nothing in the background may try to reach it.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()
