-- sources_quote_length: a quote is a short verbatim extract: at most 2,000 characters
-- File: sources.csv
-- Column: quote
SELECT _line, quote AS value FROM sources WHERE length(quote) > 2000
