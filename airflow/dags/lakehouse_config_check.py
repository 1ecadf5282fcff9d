"""Airflow import error listing every lakehouse config problem (file, key, value, what is allowed).

It holds no DAG. A broken system or pipeline shows up here by name while every other DAG loads.
"""

from lakehouse.airflow.factory import raise_config_issues

raise_config_issues()
