"""Salesforce outbound (docs/outbound.md): the pure rules of the worker (``outbound``), its HTTP client
(``client``) and where its credentials come from (``credentials``). The Spark side is
``lakehouse.spark.sfdc_outbound``."""
