-- Salesforce outbound tables (docs/outbound.md). The payload is VARIANT (Delta's variantType table
-- feature: Delta 4 locally, Databricks Runtime 15.3+ and SQL warehouses); payload_hash is the SHA-256
-- of the JSON text it was parsed from, as a variant cannot be compared.
CREATE TABLE IF NOT EXISTS {{ sfdc.outbound_input }} (
  batch_id STRING, request_id STRING, entity STRING, action STRING, external_id STRING,
  payload VARIANT, payload_hash STRING, logical_date DATE,
  requested_by STRING, requested_ts TIMESTAMP, target_env STRING
) USING DELTA PARTITIONED BY (entity);

-- The latest state of each request. status: SENDING (claimed for a call whose result is not yet
-- recorded), SUCCESS, FAILED (Salesforce rejected the record), RETRY (the call failed in transport)
-- or SUPERSEDED (a later request of the same contact is sent instead). via: claim, upsert, read_back,
-- transport or superseded: how the status was learned.
CREATE TABLE IF NOT EXISTS {{ sfdc.outbound_output }} (
  request_id STRING, status STRING, sfdc_id STRING, created BOOLEAN,
  error_code STRING, error_msg STRING, error_fields STRING,
  attempt INT, claim_id STRING, via STRING, processed_ts TIMESTAMP
) USING DELTA;

-- Every state of every request, append-only, in the order the worker recorded them.
CREATE TABLE IF NOT EXISTS {{ sfdc.outbound_output_hist }} (
  request_id STRING, status STRING, sfdc_id STRING, created BOOLEAN,
  error_code STRING, error_msg STRING, error_fields STRING,
  attempt INT, claim_id STRING, via STRING, processed_ts TIMESTAMP
) USING DELTA;

-- Interaction history (IH) of contacts, for engagement feeds back from Salesforce.
CREATE TABLE IF NOT EXISTS {{ sfdc.engagement_data }} (
  prty_id STRING, contact_id STRING, acct_id STRING, serv_id STRING,
  interaction_type STRING, interaction_ts TIMESTAMP, source STRING
) USING DELTA;
