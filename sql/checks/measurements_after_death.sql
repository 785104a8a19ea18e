-- measurements_after_death: measured on a day after the patient's death
-- File: measurements.csv
-- Column: day
WITH deaths AS (
    SELECT patient_id, min(coalesce(day, day_max)) AS death_day
    FROM events WHERE event = 'death' GROUP BY patient_id
)
SELECT m._line, CAST(m.day AS VARCHAR) AS value, 'death on day ' || d.death_day AS detail
FROM measurements m
JOIN deaths d USING (patient_id)
WHERE m.day > d.death_day
