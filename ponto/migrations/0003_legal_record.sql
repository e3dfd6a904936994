-- The legal record (Portaria MTP 671/2021, REP-P): establishments, employees and devices; every
-- record of an establishment's AFD (types 2, 4, 5, 6 and 7) with its gap-free NSR; the head of each
-- establishment's sequence; the worker's least-privilege role; append-only triggers.

-- An establishment: the employer as the law sees it (a CNPJ, or a person's CPF). Master data: its
-- current state; every insert and change is also a type-2 record of its AFD.
CREATE TABLE establishments (
    establishment_id integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_type    smallint    NOT NULL CHECK (document_type IN (1, 2)), -- 1 CNPJ, 2 CPF (the AFD's codes)
    document         text        NOT NULL UNIQUE,
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 150),
    workplace        text        NOT NULL CHECK (char_length(workplace) BETWEEN 1 AND 100),
    cno_caepf        text        CHECK (cno_caepf ~ '^[0-9]{12}([0-9]{2})?$'),
    timezone         text        NOT NULL DEFAULT 'America/Sao_Paulo',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((document_type = 1 AND document ~ '^[0-9]{14}$') OR (document_type = 2 AND document ~ '^[0-9]{11}$'))
);

-- The head of an establishment's record: its last NSR, the hash of its last punch (null before the
-- first) and the recording time of its last record. Whoever appends a record locks this row
-- (SELECT ... FOR UPDATE) in the same transaction, so NSRs are gap-free and strictly increasing, and
-- recording times never go backwards in NSR order (a period of the AFD is a contiguous NSR range).
-- registry_nsr is the NSR of its last registry record (type 2 or 5): every change of its employees
-- moves it, so a worker that has seen it unchanged may keep the employees it looked up.
CREATE TABLE record_heads (
    establishment_id integer     PRIMARY KEY REFERENCES establishments,
    last_nsr         bigint      NOT NULL DEFAULT 0 CHECK (last_nsr BETWEEN 0 AND 999999999),
    last_hash        text        CHECK (last_hash ~ '^[0-9a-f]{64}$'),
    last_recorded_at timestamptz,
    registry_nsr     bigint      NOT NULL DEFAULT 0
);

-- Employees: what clocks send (employee_id, unique per establishment) and who that is (CPF, name).
-- Insert, change and removal are also type-5 records. A removed employee stays (inactive): the record
-- refers to them.
CREATE TABLE employees (
    establishment_id integer NOT NULL REFERENCES establishments,
    employee_id      text    NOT NULL CHECK (employee_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    cpf              text    NOT NULL CHECK (cpf ~ '^[0-9]{11}$'),
    name             text    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 150),
    active           boolean NOT NULL DEFAULT true,
    PRIMARY KEY (establishment_id, employee_id)
);
CREATE UNIQUE INDEX employees_active_cpf ON employees (establishment_id, cpf) WHERE active;

-- Devices (clocks): every API key belongs to exactly one device; a punch's establishment is the
-- establishment of the device whose key sent it (the apiKeyId message attribute), never the body.
-- On AWS api_key_id is the API Gateway key's id (its value is never stored); locally, the local key's id.
CREATE TABLE devices (
    device_id        text        PRIMARY KEY,
    establishment_id integer     NOT NULL REFERENCES establishments,
    kind             text        NOT NULL CHECK (kind IN ('mobile', 'browser', 'desktop', 'device', 'other')),
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    api_key_id       text        NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The record itself: one row per AFD record of an establishment, the line exactly as the AFD prints
-- it (without CRLF). Type 7 rows are punch seals (punch_id refers to punches; the line ends with the
-- punch's SHA-256, chained to the establishment's previous punch). Append-only.
CREATE TABLE afd_records (
    establishment_id integer     NOT NULL,
    nsr              bigint      NOT NULL CHECK (nsr BETWEEN 1 AND 999999999),
    record_type      smallint    NOT NULL CHECK (record_type IN (2, 4, 5, 6, 7)),
    recorded_at      timestamptz NOT NULL,
    punch_id         text        UNIQUE,
    line             text        NOT NULL,
    PRIMARY KEY (establishment_id, nsr),
    CHECK ((record_type = 7) = (punch_id IS NOT NULL))
);

-- Legal records are never altered or deleted (art. 78-83): fixes are new records. The triggers refuse
-- it for everyone, the tables' owner included.
CREATE FUNCTION ponto_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ponto: % is an append-only legal record; % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER punches_append_only BEFORE UPDATE OR DELETE ON punches
    FOR EACH ROW EXECUTE FUNCTION ponto_refuse_change();
CREATE TRIGGER punches_no_truncate BEFORE TRUNCATE ON punches
    FOR EACH STATEMENT EXECUTE FUNCTION ponto_refuse_change();
CREATE TRIGGER afd_records_append_only BEFORE UPDATE OR DELETE ON afd_records
    FOR EACH ROW EXECUTE FUNCTION ponto_refuse_change();
CREATE TRIGGER afd_records_no_truncate BEFORE TRUNCATE ON afd_records
    FOR EACH STATEMENT EXECUTE FUNCTION ponto_refuse_change();

-- The worker's role: it records and seals punches. It reads the registry, inserts into the record
-- tables and moves the heads; it cannot update, delete or truncate the record. On RDS it signs in with
-- IAM database authentication (rds_iam); elsewhere as the server's authentication allows.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ponto_worker') THEN
        CREATE ROLE ponto_worker LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO ponto_worker;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO ponto_worker;
GRANT SELECT, INSERT ON punches, afd_records TO ponto_worker;
GRANT SELECT ON establishments, employees, devices TO ponto_worker;
GRANT SELECT, UPDATE ON record_heads TO ponto_worker;
