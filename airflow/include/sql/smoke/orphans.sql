-- BLUEPRINT §33: referential integrity. One row per orphan: the check it breaks and the offending key.
SELECT 'fact_case.prty_id without a current customer' AS check_name, fc.case_id AS orphan_key
FROM {{ gold.fact_case }} fc
LEFT ANTI JOIN {{ gold.dim_customer_scd2 }} dc ON fc.prty_id = dc.customer_id AND dc.is_current
WHERE fc.prty_id IS NOT NULL
UNION ALL
SELECT 'fact_service_status.prty_id without a current customer', fs.serv_id
FROM {{ gold.fact_service_status }} fs
LEFT ANTI JOIN {{ gold.dim_customer_scd2 }} dc ON fs.prty_id = dc.customer_id AND dc.is_current
WHERE fs.prty_id IS NOT NULL AND fs.is_current
UNION ALL
SELECT 'bridge_customer_address.amdm_addr_id without an address', b.amdm_addr_id
FROM {{ gold.bridge_customer_address }} b
LEFT ANTI JOIN {{ gold.dim_address }} a ON a.address_sk = b.address_sk
WHERE b.is_current
