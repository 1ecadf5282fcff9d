-- SFDC contact <-> CMDM customer <-> account cross-reference with history.
-- A version is valid from the last_modified_ts of the contact record that created it; a change of the
-- customer, the account or the primary flag closes the open version there and opens a new one in the
-- same MERGE. Name or email changes are not mapping changes and leave the XREF alone.
CREATE TABLE IF NOT EXISTS {{ this }} (
  contact_id STRING, prty_id STRING, acct_id STRING, primary_ind STRING,
  valid_from TIMESTAMP, valid_to TIMESTAMP
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  WITH src AS (
    SELECT contact_id, prty_id, acct_id, primary_ind, last_modified_ts AS valid_from
    FROM {{ silver.sfdc.contact }}
  )
  -- Every contact once, keyed to its open version (closes it when the mapping changed, inserts when new) ...
  SELECT contact_id AS merge_key, src.* FROM src
  UNION ALL
  -- ... and contacts whose mapping changed once more, unkeyed, to open their new version.
  SELECT NULL AS merge_key, src.*
  FROM src JOIN {{ this }} AS cur ON cur.contact_id = src.contact_id AND cur.valid_to = TIMESTAMP'9999-12-31 00:00:00'
  WHERE NOT (cur.prty_id <=> src.prty_id AND cur.acct_id <=> src.acct_id AND cur.primary_ind <=> src.primary_ind)
    AND src.valid_from > cur.valid_from
) AS u
ON t.contact_id = u.merge_key AND t.valid_to = TIMESTAMP'9999-12-31 00:00:00'
WHEN MATCHED AND NOT (t.prty_id <=> u.prty_id AND t.acct_id <=> u.acct_id AND t.primary_ind <=> u.primary_ind)
     AND u.valid_from > t.valid_from THEN
  UPDATE SET t.valid_to = u.valid_from
WHEN NOT MATCHED THEN
  INSERT (contact_id, prty_id, acct_id, primary_ind, valid_from, valid_to)
  VALUES (u.contact_id, u.prty_id, u.acct_id, u.primary_ind, u.valid_from, TIMESTAMP'9999-12-31 00:00:00');
