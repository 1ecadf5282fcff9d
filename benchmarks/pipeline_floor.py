"""The floor of ``benchmarks/pipeline.py``: the Gold tables of the demo days from the same landing
files, as a plain PySpark script would build them, with nothing the package adds.

Per day, each entity's files are read in one batch with the contract's types (lines that do not
parse are dropped), cleaned by the same Silver rule expressions, unioned with the entity's table and
cut to the latest row per natural key, and the table overwritten. Then the same SQL builds the XREF
and the Gold tables. What the package adds and this leaves out: Airflow, the checkpointed file
streams, the quarantine, the DQ rules, the Silver MERGE, the run metrics and the smoke checks.

    .venv/bin/python benchmarks/pipeline_floor.py --landing DIR --warehouse DIR [--driver-memory 8g]

Prints one JSON line: seconds and rows per stage, each Gold table's rows after the last day, total
seconds after the session started, and the driver JVM's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.config import LakehouseConfig, load_config
from lakehouse.config.models import Entity
from lakehouse.core import sql_files
from lakehouse.core.naming import gold_table, silver_table, xref_table
from lakehouse.resources import sql_file
from lakehouse.spark.contracts import contract_schema
from lakehouse.spark.session import build_session
from lakehouse.spark.silver import clean
from lakehouse.spark.tables import Tables

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmHWM for process {pid}")


def _child_jvm() -> int:
    """This process's driver JVM: its child whose command is java."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and fields.get("Name", "").strip() == "java":
            return int(status.parent.name)
    raise LookupError("no driver JVM among this process's children")


def _landed(spark: SparkSession, folder: Path, entity: Entity) -> DataFrame:
    schema = contract_schema(entity)
    if entity.format == "csv":
        return spark.read.csv(str(folder), schema=schema, header=True, mode="DROPMALFORMED")
    return spark.read.json(str(folder), schema=schema, mode="DROPMALFORMED")


def _latest(frame: DataFrame, entity: Entity) -> DataFrame:
    order = [F.col(entity.survivorship.order_by).desc_nulls_last()] if entity.survivorship else []
    order.append(F.col("logical_date").desc())  # else the later day's row
    window = Window.partitionBy(*entity.natural_key).orderBy(*order)
    return frame.withColumn("_n", F.row_number().over(window)).where("_n = 1").drop("_n")


def silver(spark: SparkSession, config: LakehouseConfig, tables: Tables, landing: Path, day: date) -> int:
    """Every entity's table with ``day``'s files; the rows read."""
    environment = config.require_environment()
    read = 0
    for system_name, system in config.systems.items():
        for entity_name, entity in system.entities.items():
            folder = landing / system.landing.path.format(system=system_name, entity=entity_name, date=day.isoformat())
            new = clean(_landed(spark, folder, entity), entity).withColumn("logical_date", F.lit(day)).cache()
            read += new.count()
            location = tables.location(silver_table(environment, system_name, system, entity_name))
            held = spark.read.format("delta").load(location) if day != DAYS[0] else None
            rows = _latest(new if held is None else held.unionByName(new), entity)
            # Overwriting the table it reads: the query reads the snapshot it started from.
            rows.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(location)
            new.unpersist()
    return read


def gold(spark: SparkSession, config: LakehouseConfig, tables: Tables, day: date) -> dict[str, int]:
    """The XREFs and every Gold table for ``day``, by the package's SQL; each Gold table's rows after."""
    environment = config.require_environment()
    day_sql = sql_files.sql_date(day)
    for system in config.systems.values():
        for xref in system.xrefs:
            resolve = sql_files.resolver(config, tables.sql, day_sql, xref_table(environment, xref))
            text = sql_file(f"silver/{xref.table}.sql").read_text(encoding="utf-8")
            for statement in sql_files.statements(sql_files.render(text, resolve)):
                spark.sql(statement).collect()
    rows = {}
    for table in config.require_pipelines().gold.tables:
        for statement in sql_files.gold_statements(config, table.name, tables.sql, day_sql, materialise_views=True):
            spark.sql(statement).collect()
        target = gold_table(environment, table)
        rows[str(target)] = spark.read.format("delta").load(tables.location(target)).count()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args()
    config = load_config("local")
    tables = Tables(args.warehouse)
    spark = build_session("pipeline-floor", driver_memory=args.driver_memory)
    started = time.monotonic()
    seconds: dict[str, float] = defaultdict(float)
    rows: dict[str, int] = defaultdict(int)
    for day in DAYS:
        begun = time.monotonic()
        rows["silver"] += silver(spark, config, tables, args.landing, day)
        seconds["silver"] += time.monotonic() - begun
        begun = time.monotonic()
        gold_rows = gold(spark, config, tables, day)
        rows["gold"] += sum(gold_rows.values())
        seconds["gold"] += time.monotonic() - begun
    result = {"seconds": seconds, "rows": rows, "gold_rows": gold_rows, "total_s": time.monotonic() - started}
    print(json.dumps(result | {"peak_rss_mib": peak_rss_mib(_child_jvm())}))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
