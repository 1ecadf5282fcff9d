"""The "Lakehouse health" page in the Airflow UI (``lakehouse.airflow.health_view``)."""

from lakehouse.airflow.health_view import LakehouseHealthPlugin

__all__ = ["LakehouseHealthPlugin"]
