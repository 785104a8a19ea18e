-- doses_unit: a dose unit must be cells/kg or cells
-- File: doses.csv
-- Column: unit
SELECT _line, unit AS value FROM doses WHERE unit NOT IN ('cells/kg', 'cells')
