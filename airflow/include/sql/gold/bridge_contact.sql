-- SFDC contact ↔ customer and account: the open versions of the contact_map XREF, with surrogate keys.
CREATE TABLE IF NOT EXISTS {{ this }} (
  contact_id STRING, customer_sk STRING, account_sk STRING, prty_id STRING, acct_id STRING, primary_ind STRING,
  valid_from TIMESTAMP
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT contact_id, sha2(prty_id, 256) AS customer_sk, sha2(acct_id, 256) AS account_sk, prty_id, acct_id,
         primary_ind, valid_from
  FROM {{ xref.contact_map }}
  WHERE valid_to = TIMESTAMP'9999-12-31 00:00:00'
) AS s
ON t.contact_id = s.contact_id
WHEN MATCHED AND NOT (t.prty_id <=> s.prty_id AND t.acct_id <=> s.acct_id AND t.primary_ind <=> s.primary_ind
                      AND t.valid_from <=> s.valid_from) THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
