"""Local Delta tables read and appended without a JVM, through delta-rs (the ``deltalake`` package),
for commands that must answer quickly: ``lakehouse ask`` reads a 160-chunk index in milliseconds
where starting Spark takes ten seconds. Both engines commit by the same protocol
(a put-if-absent of the next log entry), so an append here and a stage's write do not lose each
other's commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from lakehouse.core.rag.answers import FieldType

_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    # Spark's TIMESTAMP is an instant; Delta stores it as microseconds since the epoch, in UTC.
    "timestamp": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "double": pa.float64(),
    "array<string>": pa.list_(pa.string()),
}


def read_rows(
    folder: Path, columns: Sequence[str], where_in: tuple[str, Collection[str]], order_by: str
) -> list[dict[str, Any]] | None:
    """The rows of the table at ``folder`` whose ``where_in[0]`` is one of ``where_in[1]``, only
    ``columns``, sorted by ``order_by``; ``None`` when there is no Delta table there."""
    try:
        table = DeltaTable(str(folder))
    except TableNotFoundError:
        return None
    column, values = where_in
    data = table.to_pyarrow_table(columns=list(columns), filters=[(column, "in", list(values))])
    return data.sort_by(order_by).to_pylist()


def append_row(folder: Path, row: Mapping[str, Any], fields: Sequence[tuple[str, FieldType]]) -> None:
    """Append ``row`` to the table at ``folder`` (created with ``fields`` when absent)."""
    schema = pa.schema([pa.field(name, _ARROW_TYPES[kind]) for name, kind in fields])
    data = pa.Table.from_pylist([{name: row[name] for name, _ in fields}], schema=schema)
    write_deltalake(str(folder), data, mode="append")
