-- events_extubation_order: extubation before the patient's first intubation
-- File: events.csv
-- Column: day
-- Notes:
--   Compares the latest possible day of the first extubation with the earliest possible day of
--   the first intubation, so only an order the rows make certain is refused.
WITH first_intubation AS (
    SELECT patient_id, min(coalesce(day, day_min)) AS earliest
    FROM events WHERE event = 'intubation' GROUP BY patient_id
)
SELECT e._line, CAST(coalesce(e.day, e.day_max) AS VARCHAR) AS value,
       'intubated on day ' || i.earliest || ' at the earliest' AS detail
FROM events e
JOIN first_intubation i USING (patient_id)
WHERE e.event = 'extubation' AND coalesce(e.day, e.day_max) < i.earliest
