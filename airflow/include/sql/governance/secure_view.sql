-- Masked columns keep their names; a reader outside the PII role gets the masked value.
CREATE OR REPLACE VIEW {{ this }}
COMMENT {{ comment }}
AS SELECT * EXCEPT ({{ masked_columns }}), {{ masked_values }}
FROM {{ source }}
WHERE {{ row_rules }};
