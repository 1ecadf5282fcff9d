"""``spark-submit spark_jobs/main.py --stage STAGE --env ENV --logical-date D [--arg NAME=VALUE ...]``.

The stage code lives in ``lakehouse.spark``; this file is the entry point by path that
``spark-submit`` takes, the same one the Databricks ``python_wheel_task`` reaches as ``lakehouse-stage``.
"""

from lakehouse.spark.main import main

if __name__ == "__main__":
    raise SystemExit(main())
