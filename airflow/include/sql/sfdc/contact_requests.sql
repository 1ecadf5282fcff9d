-- Contact upsert requests (docs/outbound.md) from the current rows of the customer dimension, with
-- the customer's current mailing address (bridge_customer_address → dim_address; of several current
-- links, the latest valid_from). A contact gets a request only when its payload differs from that of
-- its latest request: a re-run of the date adds nothing, an unchanged contact is not sent again, and
-- one whose data went A → B → A gets a request for A again. request_id is a hash of the contact, its
-- payload and the business date, so the same build always produces the same ids.
MERGE INTO {{ sfdc.outbound_input }} AS t
USING (
  WITH address AS (
    SELECT b.prty_id, a.amdm_addr_id,
           concat_ws(', ', a.addr_line_1_txt, a.addr_line_2_txt) AS street, a.sbrb_nm, a.state, a.postcode,
           row_number() OVER (PARTITION BY b.prty_id ORDER BY b.valid_from DESC, b.amdm_addr_id) AS rank
    FROM {{ gold.bridge_customer_address }} AS b
    JOIN {{ gold.dim_address }} AS a ON a.amdm_addr_id = b.amdm_addr_id
    WHERE b.is_current
  ),
  contact AS (
    SELECT d.customer_id AS external_id,
           -- Nulls stay in the JSON: Salesforce clears a field sent as null, and leaves an absent one.
           to_json(named_struct(
             'FirstName', d.first_name, 'LastName', d.last_name, 'Email', d.email, 'Phone', d.phone,
             'MailingStreet', a.street, 'MailingCity', a.sbrb_nm, 'MailingState', a.state,
             'MailingPostalCode', a.postcode, 'MailingAddressId__c', a.amdm_addr_id
           ), map('ignoreNullFields', 'false')) AS payload
    FROM {{ gold.dim_customer_scd2 }} AS d
    LEFT JOIN address AS a ON a.prty_id = d.customer_id AND a.rank = 1
    WHERE d.is_current
  ),
  latest AS (
    SELECT external_id, payload_hash FROM (
      SELECT external_id, payload_hash,
             row_number() OVER (PARTITION BY external_id ORDER BY requested_ts DESC, request_id DESC) AS rank
      FROM {{ sfdc.outbound_input }}
      WHERE entity = 'Contact'
    ) WHERE rank = 1
  )
  SELECT concat('Contact:', CAST({{ logical_date }} AS STRING)) AS batch_id,
         sha2(concat_ws('|', 'Contact', c.external_id, sha2(c.payload, 256), CAST({{ logical_date }} AS STRING)), 256)
           AS request_id,
         'Contact' AS entity, 'UPSERT' AS action, c.external_id, parse_json(c.payload) AS payload,
         sha2(c.payload, 256) AS payload_hash,
         {{ logical_date }} AS logical_date, current_user() AS requested_by, current_timestamp() AS requested_ts,
         {{ env }} AS target_env
  FROM contact AS c
  LEFT JOIN latest AS l ON l.external_id = c.external_id
  WHERE l.payload_hash IS NULL OR l.payload_hash <> sha2(c.payload, 256)
) AS s
ON t.entity = 'Contact' AND t.request_id = s.request_id
WHEN NOT MATCHED THEN INSERT *;
