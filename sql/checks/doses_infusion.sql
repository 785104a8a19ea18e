-- doses_infusion: infusion numbers start at 1
-- File: doses.csv
-- Column: infusion
SELECT _line, CAST(infusion AS VARCHAR) AS value FROM doses WHERE infusion < 1
