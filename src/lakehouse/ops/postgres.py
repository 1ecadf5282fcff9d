"""A PostgreSQL cluster of our own on 127.0.0.1, the stack's metadata database.

PostgreSQL comes from the operating system's packages (Debian: ``postgresql``). It refuses to run
as root, so under root the cluster belongs to the ``postgres`` user and lives in a folder that user
can reach."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from lakehouse.ops.spark_connect import free_port

_SHELL_SPECIAL = '"$`\\'
"""Characters a shell reads inside double quotes."""


class PostgresError(RuntimeError):
    """PostgreSQL is missing or did not start; the message says why, with the end of its log."""


def postgres_bin() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's versioned folder."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise PostgresError("PostgreSQL server not found (no pg_ctl): install it, e.g. 'apt-get install postgresql'")
    return versions[-1].parent


@dataclass
class Postgres:
    """A PostgreSQL cluster of our own on 127.0.0.1, trusting local connections only."""

    folder: Path
    port: int = field(default_factory=free_port)
    database: str = "airflow"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresError(f"{' '.join(command[:2])} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        bin_dir = postgres_bin()
        data = self.folder / "data"
        # pg_ctl runs the server through a shell, its paths inside double quotes.
        misread = sorted(set(str(self.folder.resolve())) & set(_SHELL_SPECIAL))
        if misread:
            raise PostgresError(f"pg_ctl's shell would misread {' '.join(misread)} in the stack folder {self.folder}")
        if os.geteuid() == 0:
            closed = [p for p in self.folder.resolve().parents if p.exists() and not p.stat().st_mode & 0o001]
            if closed:
                unreachable = f"{closed[0]} is not world-searchable"
                raise PostgresError(f"the postgres user cannot reach {self.folder}: {unreachable}")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.folder.chmod(0o755)
            shutil.chown(self.folder, "postgres")
        if not (data / "PG_VERSION").exists():
            self._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8")
        # TCP on loopback only: no Unix socket, whose folder could be too long for one or, holding a
        # comma, be read as a list of folders.
        options = f"-p {self.port} -k '' -c listen_addresses=127.0.0.1"
        log = str(self.folder / "postgres.log")
        try:
            self._run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
        except PostgresError as error:
            # pg_ctl only says "Examine the log output": the reason is in the server's log.
            tail = Path(log).read_text(errors="replace").splitlines()[-10:] if Path(log).exists() else []
            raise PostgresError("\n".join([str(error).rstrip(), f"{log} ends:", *tail])) from None
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="airflow", dbname="postgres")
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            connection.close()

    def stop(self) -> None:
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            self._run(str(postgres_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
