-- Customer ↔ account bridge from the CMDM party-account links.
CREATE TABLE IF NOT EXISTS {{ this }} (
  customer_sk STRING, account_sk STRING, prty_id STRING, acct_id STRING, relationship_cd STRING,
  valid_from DATE, valid_to DATE, is_current BOOLEAN
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT sha2(prty_id, 256) AS customer_sk, sha2(acct_id, 256) AS account_sk, prty_id, acct_id, relationship_cd,
         valid_from, coalesce(valid_to, DATE'9999-12-31') AS valid_to,
         valid_to IS NULL OR valid_to > {{ logical_date }} AS is_current
  FROM {{ silver.cmdm.party_account }}
) AS s
ON t.customer_sk = s.customer_sk AND t.account_sk = s.account_sk AND t.valid_from = s.valid_from
WHEN MATCHED THEN UPDATE SET t.relationship_cd = s.relationship_cd, t.valid_to = s.valid_to, t.is_current = s.is_current
WHEN NOT MATCHED THEN INSERT *;
