-- after_death: recorded on a day after the patient's death
-- File: events.csv
-- Column: day
WITH deaths AS (
    SELECT patient_id, min(coalesce(day, day_max)) AS death_day
    FROM events WHERE event = 'death' GROUP BY patient_id
)
SELECT e._line, e.event || ' on day ' || coalesce(e.day, e.day_min) AS value,
       'death on day ' || d.death_day AS detail
FROM events e
JOIN deaths d USING (patient_id)
WHERE e.event <> 'death' AND coalesce(e.day, e.day_min) > d.death_day
