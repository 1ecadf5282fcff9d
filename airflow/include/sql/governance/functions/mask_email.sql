-- The first two characters and the domain, e.g. jo***@example.com; anything not shaped like an
-- email is masked whole, so that a malformed value never shows in clear.
CREATE OR REPLACE FUNCTION {{ this }}(email STRING)
RETURNS STRING
COMMENT {{ comment }}
RETURN CASE
  WHEN {{ is_pii_reader }} THEN email
  WHEN email IS NULL THEN NULL
  WHEN email RLIKE '^[^@]{2,}@[^@]+$' THEN regexp_replace(email, '^([^@]{2})[^@]*(@[^@]+)$', '$1***$2')
  ELSE '***'
END;
