"""The stack's PostgreSQL for real: it starts where its folder's name would trip pg_ctl's shell or
PostgreSQL's list of socket folders, refuses the names the shell would misread, and says why it did
not start."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg2
import pytest

from lakehouse.ops.postgres import Postgres, PostgresError


def test_a_database_that_cannot_start_says_why(searchable_folder: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        postgres = Postgres(searchable_folder / "postgres", port=taken.getsockname()[1])
        with pytest.raises(PostgresError, match=r"postgres.log ends:(.|\n)*Address already in use"):
            postgres.start()


# A space reaches pg_ctl's shell; a comma would split PostgreSQL's list of socket folders.
@pytest.mark.parametrize("name", ["a stack", "stack, shared"])
def test_a_database_starts_in_a_folder_named_with_a_space_or_comma(searchable_folder: Path, name: str) -> None:
    postgres = Postgres(searchable_folder / name)
    postgres.start()
    try:
        with psycopg2.connect(host="127.0.0.1", port=postgres.port, user="airflow", dbname="airflow") as connection:
            assert connection.server_version > 0
    finally:
        postgres.stop()


@pytest.mark.parametrize("name", ['a "stack"', "$HOME", "`id`", "a\\b"])
def test_a_folder_pg_ctl_s_shell_would_misread_is_refused_before_it_starts(searchable_folder: Path, name: str) -> None:
    with pytest.raises(PostgresError, match="shell would misread"):
        Postgres(searchable_folder / name).start()
    assert not (searchable_folder / name / "data").exists()
