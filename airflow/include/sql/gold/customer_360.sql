-- One row per current customer: identity, primary address, accounts, services and open cases.
SELECT
  c.customer_sk,
  c.customer_id,
  c.first_name,
  c.last_name,
  c.email,
  c.phone,
  a.full_address,
  a.state,
  a.postcode,
  coalesce(acc.accounts, 0) AS accounts,
  coalesce(svc.active_services, 0) AS active_services,
  coalesce(svc.services, 0) AS services,
  coalesce(cs.open_cases, 0) AS open_cases,
  ct.contact_id AS sfdc_contact_id
FROM {{ gold.dim_customer_scd2 }} AS c
LEFT JOIN (
  SELECT customer_sk, max_by(address_sk, valid_from) AS address_sk
  FROM {{ gold.bridge_customer_address }} WHERE is_current GROUP BY customer_sk
) AS ba ON ba.customer_sk = c.customer_sk
LEFT JOIN {{ gold.dim_address }} AS a ON a.address_sk = ba.address_sk
LEFT JOIN (
  SELECT customer_sk, count(DISTINCT account_sk) AS accounts
  FROM {{ gold.bridge_customer_account }} WHERE is_current GROUP BY customer_sk
) AS acc ON acc.customer_sk = c.customer_sk
LEFT JOIN (
  SELECT customer_sk, count(*) AS services, count_if(status = 'ACTIVE') AS active_services
  FROM {{ gold.fact_service_status }} WHERE is_current GROUP BY customer_sk
) AS svc ON svc.customer_sk = c.customer_sk
LEFT JOIN (
  SELECT customer_sk, count_if(status IN ('OPEN', 'IN_PROGRESS')) AS open_cases
  FROM {{ gold.fact_case }} GROUP BY customer_sk
) AS cs ON cs.customer_sk = c.customer_sk
LEFT JOIN (
  SELECT customer_sk, max_by(contact_id, primary_ind = 'Y') AS contact_id
  FROM {{ gold.bridge_contact }} GROUP BY customer_sk
) AS ct ON ct.customer_sk = c.customer_sk
WHERE c.is_current
