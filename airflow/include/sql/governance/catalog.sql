-- A zone of BLUEPRINT §4, named per environment (variables/<env>.yaml, catalogs).
CREATE CATALOG IF NOT EXISTS {{ catalog }} COMMENT {{ comment }};
