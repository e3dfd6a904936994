-- kind, device_id and location are fields of the body, which raw keeps as received: PostgreSQL
-- derives them from raw, so they can never disagree with the record (a number keeps the digits the
-- clock sent) and the worker no longer formats them for every row. Legacy bodies have none of them.
-- The values of existing rows are re-derived from their raw body (the table is rewritten once).
ALTER TABLE punches
    DROP COLUMN kind,
    DROP COLUMN device_id,
    DROP COLUMN location;

ALTER TABLE punches
    ADD COLUMN kind text GENERATED ALWAYS AS (raw ->> 'kind') STORED
        CHECK (kind IN ('in', 'out', 'break_start', 'break_end')),
    ADD COLUMN device_id text GENERATED ALWAYS AS (raw ->> 'device_id') STORED,
    ADD COLUMN location jsonb GENERATED ALWAYS AS (raw -> 'location') STORED;
