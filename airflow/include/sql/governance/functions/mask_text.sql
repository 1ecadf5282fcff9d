CREATE OR REPLACE FUNCTION {{ this }}(value STRING)
RETURNS STRING
COMMENT {{ comment }}
RETURN CASE WHEN {{ is_pii_reader }} OR value IS NULL THEN value ELSE '***' END;
