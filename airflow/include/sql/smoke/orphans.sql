-- Smoke check: referential integrity. One row per check: how many rows it looked at, how many of
-- them have no parent, and up to ten of their keys.
SELECT 'fact_case.prty_id has a current customer' AS check_name, count(*) AS checked,
       count_if(dc.customer_id IS NULL) AS orphans,
       slice(collect_list(CASE WHEN dc.customer_id IS NULL THEN fc.case_id END), 1, 10) AS sample_keys
FROM {{ gold.fact_case }} fc
LEFT JOIN (SELECT customer_id FROM {{ gold.dim_customer_scd2 }} WHERE is_current) dc ON fc.prty_id = dc.customer_id
WHERE fc.prty_id IS NOT NULL
UNION ALL
SELECT 'fact_service_status.prty_id has a current customer', count(*), count_if(dc.customer_id IS NULL),
       slice(collect_list(CASE WHEN dc.customer_id IS NULL THEN fs.serv_id END), 1, 10)
FROM {{ gold.fact_service_status }} fs
LEFT JOIN (SELECT customer_id FROM {{ gold.dim_customer_scd2 }} WHERE is_current) dc ON fs.prty_id = dc.customer_id
WHERE fs.prty_id IS NOT NULL AND fs.is_current
UNION ALL
SELECT 'bridge_customer_address.amdm_addr_id has an address', count(*), count_if(a.address_sk IS NULL),
       slice(collect_list(CASE WHEN a.address_sk IS NULL THEN b.amdm_addr_id END), 1, 10)
FROM {{ gold.bridge_customer_address }} b
LEFT JOIN {{ gold.dim_address }} a ON a.address_sk = b.address_sk
WHERE b.is_current
