"""Spark entry points by path, for ``spark-submit``. The code itself is ``lakehouse.spark``."""
