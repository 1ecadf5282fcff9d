"""Unity Catalog governance from config: the plan (``plan``) and how it is applied (``apply``)."""
