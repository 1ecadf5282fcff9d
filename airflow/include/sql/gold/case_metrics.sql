-- Case metrics: volumes, SLA breach percentage and reopen rate per type and
-- channel, as of the logical date. Rebuilt whole each run.
CREATE TABLE IF NOT EXISTS {{ this }} (
  case_type STRING, channel STRING, cases BIGINT, open_cases BIGINT, sla_breached BIGINT,
  sla_breach_pct DOUBLE, reopened BIGINT, reopen_rate_pct DOUBLE, as_of_date DATE
) USING DELTA;

INSERT OVERWRITE {{ this }}
SELECT
  case_type,
  channel,
  count(*) AS cases,
  count_if(status IN ('OPEN', 'IN_PROGRESS')) AS open_cases,
  count_if(sla_due_ts IS NOT NULL AND coalesce(closed_ts, CAST({{ logical_date }} + 1 AS TIMESTAMP)) > sla_due_ts)
    AS sla_breached,
  round(100.0 * count_if(sla_due_ts IS NOT NULL
        AND coalesce(closed_ts, CAST({{ logical_date }} + 1 AS TIMESTAMP)) > sla_due_ts) / count(*), 2) AS sla_breach_pct,
  count_if(reopen_count > 0) AS reopened,
  round(100.0 * count_if(reopen_count > 0) / count(*), 2) AS reopen_rate_pct,
  {{ logical_date }} AS as_of_date
FROM {{ gold.fact_case }}
GROUP BY case_type, channel;
