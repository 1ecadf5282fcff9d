-- Every published table has rows: one row, the Gold table's name and its row count (of its current
-- rows where pipelines.yaml names its current_flag). The smoke check runs one per Gold table.
SELECT {{ table_name }} AS table_name, count(*) AS row_count FROM {{ this }}{{ current_only }}
