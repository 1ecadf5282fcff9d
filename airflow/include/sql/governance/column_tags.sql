-- The contract marks the column x-pii.
ALTER TABLE {{ table }} ALTER COLUMN {{ column }} SET TAGS ({{ tags }});
