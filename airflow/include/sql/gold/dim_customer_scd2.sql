-- Customer dimension with SCD2 history; customer_sk is sha2(prty_id, 256), as in every Gold table.
-- A version starts at the updated_ts of the CMDM record that created it, so history does not depend
-- on when the pipeline ran. A change of name, email or phone (nulls equal to nulls) closes the
-- current row at the new version's effective_from and inserts the new version in the same MERGE.
CREATE TABLE IF NOT EXISTS {{ this }} (
  customer_sk STRING, customer_id STRING, first_name STRING, last_name STRING, email STRING, phone STRING,
  row_hash STRING, effective_from TIMESTAMP, effective_to TIMESTAMP, is_current BOOLEAN
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  WITH src AS (
    SELECT
      sha2(prty_id, 256) AS customer_sk,
      prty_id AS customer_id,
      first_name, last_name, email, phone,
      sha2(concat_ws('|', coalesce(first_name, '\u0000'), coalesce(last_name, '\u0000'),
                          coalesce(email, '\u0000'), coalesce(phone, '\u0000')), 256) AS row_hash,
      updated_ts AS effective_from
    FROM {{ silver.cmdm.customer }}
  )
  -- Every customer once, keyed to find its current row (closes it when changed, inserts when new) ...
  SELECT customer_id AS merge_key, src.* FROM src
  UNION ALL
  -- ... and changed customers once more, unkeyed, to insert their new current version.
  SELECT NULL AS merge_key, src.*
  FROM src JOIN {{ this }} AS cur ON cur.customer_id = src.customer_id AND cur.is_current
  WHERE cur.row_hash <> src.row_hash AND src.effective_from > cur.effective_from
) AS u
ON t.customer_id = u.merge_key AND t.is_current
WHEN MATCHED AND t.row_hash <> u.row_hash AND u.effective_from > t.effective_from THEN
  UPDATE SET t.is_current = false, t.effective_to = u.effective_from
WHEN NOT MATCHED THEN
  INSERT (customer_sk, customer_id, first_name, last_name, email, phone, row_hash, effective_from, effective_to, is_current)
  VALUES (u.customer_sk, u.customer_id, u.first_name, u.last_name, u.email, u.phone, u.row_hash, u.effective_from,
          TIMESTAMP'9999-12-31 00:00:00', true);
