-- reported_statistic: statistic must be n, percent, value, median, mean, min, max, sd, q1 or q3
-- File: reported_aggregates.csv
-- Column: statistic
SELECT _line, statistic AS value FROM reported_aggregates
WHERE statistic NOT IN ('n', 'percent', 'value', 'median', 'mean', 'min', 'max', 'sd', 'q1', 'q3')
