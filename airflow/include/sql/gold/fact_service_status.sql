-- Service status fact: one row per service, status and start date; a service whose
-- status changes gets a new row, and is_current marks the status it has now.
CREATE TABLE IF NOT EXISTS {{ this }} (
  service_sk STRING, serv_id STRING, account_sk STRING, acct_id STRING, customer_sk STRING, prty_id STRING,
  status STRING, plan_cd STRING, start_dt DATE, end_dt DATE, first_seen_date DATE, last_seen_date DATE,
  is_current BOOLEAN
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT sha2(serv_id, 256) AS service_sk, serv_id, sha2(acct_id, 256) AS account_sk, acct_id,
         sha2(prty_id, 256) AS customer_sk, prty_id, status, plan_cd, start_dt,
         coalesce(end_dt, DATE'9999-12-31') AS end_dt, logical_date
  FROM {{ silver.jarvis.service }}
) AS s
ON t.serv_id = s.serv_id AND t.status = s.status AND t.start_dt = s.start_dt
WHEN MATCHED THEN UPDATE SET t.end_dt = s.end_dt, t.plan_cd = s.plan_cd, t.last_seen_date = s.logical_date
WHEN NOT MATCHED THEN INSERT (service_sk, serv_id, account_sk, acct_id, customer_sk, prty_id, status, plan_cd, start_dt,
                              end_dt, first_seen_date, last_seen_date, is_current)
  VALUES (s.service_sk, s.serv_id, s.account_sk, s.acct_id, s.customer_sk, s.prty_id, s.status, s.plan_cd, s.start_dt,
          s.end_dt, s.logical_date, s.logical_date, true);

MERGE INTO {{ this }} AS t
USING (SELECT serv_id, status, start_dt FROM {{ silver.jarvis.service }}) AS s
ON t.serv_id = s.serv_id
WHEN MATCHED AND t.is_current <> (t.status = s.status AND t.start_dt = s.start_dt) THEN
  UPDATE SET t.is_current = (t.status = s.status AND t.start_dt = s.start_dt);
