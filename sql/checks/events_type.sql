-- events_type: event must be a code of the event_types catalog (registry sql "FROM event_types")
-- File: events.csv
-- Column: event
SELECT e._line, e.event AS value
FROM events e
WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.event = e.event)
