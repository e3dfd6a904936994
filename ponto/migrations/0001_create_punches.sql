-- Punches as recorded by the worker. The raw body is kept as received (storage first);
-- the other columns are what the worker parsed from it and from the SQS message attributes.
CREATE TABLE punches (
    punch_id    text        PRIMARY KEY,
    employee_id text        NOT NULL,
    punched_at  timestamptz NOT NULL,
    kind        text        CHECK (kind IN ('in', 'out', 'break_start', 'break_end')),
    device_id   text,
    location    jsonb,
    format      text        NOT NULL CHECK (format IN ('v1', 'legacy')),
    request_id  text,
    message_id  text        NOT NULL,
    source_ip   text,
    api_key_id  text,
    received_at timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    raw         jsonb       NOT NULL
);

CREATE INDEX punches_employee_punched_at ON punches (employee_id, punched_at);
CREATE INDEX punches_recorded_at ON punches (recorded_at);
