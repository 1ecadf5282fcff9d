-- Smoke check: every published table has rows. One row per table: its name and row count.
SELECT 'dim_customer_scd2 (current)' AS table_name, count(*) AS row_count FROM {{ gold.dim_customer_scd2 }} WHERE is_current
UNION ALL SELECT 'dim_address', count(*) FROM {{ gold.dim_address }}
UNION ALL SELECT 'fact_service_status', count(*) FROM {{ gold.fact_service_status }}
UNION ALL SELECT 'fact_case', count(*) FROM {{ gold.fact_case }}
UNION ALL SELECT 'bridge_customer_address', count(*) FROM {{ gold.bridge_customer_address }}
UNION ALL SELECT 'bridge_customer_account', count(*) FROM {{ gold.bridge_customer_account }}
