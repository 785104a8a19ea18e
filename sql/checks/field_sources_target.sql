-- field_sources_target: table_name and field must name a column of a package table
-- File: field_sources.csv
-- Column: field
SELECT f._line, f.table_name || '.' || f.field AS value
FROM field_sources f
WHERE NOT EXISTS (
    SELECT 1 FROM duckdb_columns() c
    WHERE c.schema_name = 'main' AND c.table_name = f.table_name AND c.column_name = f.field
      AND c.table_name IN ('studies', 'documents', 'products', 'arms', 'patients', 'doses', 'measurements',
                           'events', 'durations', 'adverse_events', 'comorbidities', 'treatments', 'findings')
)
