"""Spark entry points of the lakehouse: pure DataFrame transformations with thin ``main(argv)`` wrappers.

The same code runs under ``spark-submit`` on the local target and as a ``python_wheel_task`` on
Databricks; only the session and the table locations differ.
"""
