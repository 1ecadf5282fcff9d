"""A Spark Connect server with Delta on 127.0.0.1, for the stages of the local target to share:
one JVM that stays warm, instead of one started by every task (about 10 s each on a laptop)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.config.models import LocalEnvironment, LocalSettings
from lakehouse.ops.environment import valid_config
from lakehouse.spark.session import server_command, session_conf


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def server_conf(settings: LocalSettings) -> dict[str, str]:
    # Without the tasks' JIT flags (driver_java_options), which suit short-lived drivers: a server
    # that stays up gains from the full JIT.
    return session_conf(settings.spark_master, driver_memory=settings.driver_memory)


def _python_environ(python: str = sys.executable) -> dict[str, str]:
    # The server's Python workers (a streaming batch function, Python UDFs) run this interpreter, so
    # they import the same ``lakehouse`` package as the clients.
    return {"PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python}


class SparkConnectError(RuntimeError):
    """The server did not come up; the message holds the end of its log."""


@dataclass
class SparkConnectServer:
    """``spark-submit`` of pyspark's own ``SparkConnectServer`` in the background, logging to ``log``."""

    log: Path
    settings: LocalSettings
    port: int = field(default_factory=free_port)
    python: str = sys.executable
    """The interpreter of the server's Python workers."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        command = server_command(self.port, server_conf(self.settings))
        self.log.parent.mkdir(parents=True, exist_ok=True)
        environ = {**os.environ, **_python_environ(self.python)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SparkConnectError(f"the Spark Connect server exited ({self.process.returncode}):\n{self.tail()}")
            if answers(self.port):
                return
            time.sleep(0.5)
        self.stop()
        raise SparkConnectError(f"no Spark Connect server on {self.port} after {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def running_server(log: Path, settings: LocalSettings, port: int | None = None) -> Iterator[SparkConnectServer]:
    server = SparkConnectServer(log, settings, port or free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve_command(env: str | None, host: str, port: int) -> int:
    """``lakehouse spark-connect``: the server in the foreground with the environment's local Spark
    settings, until it is stopped (the compose file's ``spark-connect`` service)."""
    environment = valid_config(env).require_environment()
    if not isinstance(environment, LocalEnvironment):
        print(f"the {environment.target} target runs its stages on Databricks, not on a local server", file=sys.stderr)
        return 2
    local = environment.local
    print(f"Spark Connect with Delta on sc://{host}:{port} ({local.spark_master}, {local.driver_memory})", flush=True)
    command = server_command(port, server_conf(local), host)
    # The JVM takes this process's place, so a stop signal (``docker compose stop``, Ctrl-C) reaches it.
    os.execve(command[0], command, {**os.environ, **_python_environ()})
