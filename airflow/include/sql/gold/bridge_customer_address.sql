-- Customer ↔ address bridge from the CMDM party-address links.
CREATE TABLE IF NOT EXISTS {{ this }} (
  customer_sk STRING, address_sk STRING, prty_id STRING, amdm_addr_id STRING,
  valid_from DATE, valid_to DATE, is_current BOOLEAN
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT sha2(prty_id, 256) AS customer_sk, sha2(amdm_addr_id, 256) AS address_sk, prty_id, amdm_addr_id,
         valid_from, coalesce(valid_to, DATE'9999-12-31') AS valid_to,
         valid_to IS NULL OR valid_to > {{ logical_date }} AS is_current
  FROM {{ silver.cmdm.party_address }}
) AS s
ON t.customer_sk = s.customer_sk AND t.address_sk = s.address_sk AND t.valid_from = s.valid_from
WHEN MATCHED THEN UPDATE SET t.valid_to = s.valid_to, t.is_current = s.is_current
WHEN NOT MATCHED THEN INSERT *;
