-- doses_amount: a dose amount must be more than 0
-- File: doses.csv
-- Column: amount
SELECT _line, CAST(amount AS VARCHAR) AS value FROM doses WHERE amount <= 0
