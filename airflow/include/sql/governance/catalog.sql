-- A zone (bronze, silver, gold, ai: docs/governance.md), named per environment (variables/<env>.yaml, catalogs).
CREATE CATALOG IF NOT EXISTS {{ catalog }} COMMENT {{ comment }};
