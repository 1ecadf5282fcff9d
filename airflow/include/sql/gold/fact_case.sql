-- Case fact, one row per case with its latest state.
CREATE TABLE IF NOT EXISTS {{ this }} (
  case_sk STRING, case_id STRING, case_type STRING, status STRING, channel STRING,
  customer_sk STRING, prty_id STRING, service_sk STRING, serv_id STRING, account_sk STRING, acct_id STRING,
  created_ts TIMESTAMP, closed_ts TIMESTAMP, sla_due_ts TIMESTAMP, reopen_count INT, as_of_date DATE
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT sha2(case_id, 256) AS case_sk, case_id, case_type, status, channel,
         sha2(prty_id, 256) AS customer_sk, prty_id, sha2(serv_id, 256) AS service_sk, serv_id,
         sha2(acct_id, 256) AS account_sk, acct_id, created_ts, closed_ts, sla_due_ts, reopen_count,
         logical_date AS as_of_date
  FROM {{ silver.pega.case }}
) AS s
ON t.case_id = s.case_id
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
