-- SFDC contact ↔ customer and account (the contact_map XREF of BLUEPRINT §28).
CREATE TABLE IF NOT EXISTS {{ this }} (
  contact_id STRING, customer_sk STRING, account_sk STRING, prty_id STRING, acct_id STRING, primary_ind STRING,
  last_modified_ts TIMESTAMP
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT contact_id, sha2(prty_id, 256) AS customer_sk, sha2(acct_id, 256) AS account_sk, prty_id, acct_id,
         primary_ind, last_modified_ts
  FROM {{ silver.sfdc.contact }}
) AS s
ON t.contact_id = s.contact_id
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
