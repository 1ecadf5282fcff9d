-- Address dimension; updated only when the standardised address changed.
CREATE TABLE IF NOT EXISTS {{ this }} (
  address_sk STRING, amdm_addr_id STRING, addr_line_1_txt STRING, addr_line_2_txt STRING, sbrb_nm STRING,
  state STRING, postcode STRING, full_address STRING, gcc_cd STRING, gcc_nm STRING, mb_cd STRING,
  address_hash STRING, updated_date DATE
) USING DELTA;

MERGE INTO {{ this }} AS t
USING (
  SELECT sha2(amdm_addr_id, 256) AS address_sk, amdm_addr_id, addr_line_1_txt, addr_line_2_txt, sbrb_nm, state,
         postcode, full_address, gcc_cd, gcc_nm, mb_cd, address_hash, logical_date AS updated_date
  FROM {{ silver.amdm.address }}
) AS s
ON t.amdm_addr_id = s.amdm_addr_id
WHEN MATCHED AND t.address_hash <> s.address_hash THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
