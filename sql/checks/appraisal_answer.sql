-- appraisal_answer: answer must be yes, no, unclear or not applicable
-- File: appraisal.csv
-- Column: answer
SELECT _line, answer AS value FROM appraisal WHERE answer NOT IN ('yes', 'no', 'unclear', 'not applicable')
