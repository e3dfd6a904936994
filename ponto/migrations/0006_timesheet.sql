-- The timesheet (espelho de ponto, art. 84; the AEJ, art. 83): what it needs beside the record.
--
-- * employees.schedule: the contractual schedule in its canonical text (ponto.timesheet.schedule), or
--   null when none is registered.
-- * establishments.state / city: where the establishment's state and city holidays come from
--   (ponto.timesheet.calendar: the `holidays` library). A city is named only with its state.
-- * holidays: the company's own days off (and the holidays of a city the library does not know).
-- * punch_treatments (art. 82-83): a manager's treatments of the record, each a record of its own:
--   a punch the employee forgot, included by hand ('include': its employee, time and kind), or a punch
--   disregarded ('disregard': the punch, sealed or itself included). Each says who (the responsible
--   person's CPF), when and why. The original punches and their seals never change: the timesheet and
--   the AEJ show originals and treatments side by side. Append-only, like afd_records.

ALTER TABLE employees
    ADD COLUMN schedule text CHECK (char_length(schedule) BETWEEN 1 AND 1000);

ALTER TABLE establishments
    ADD COLUMN state text CHECK (state ~ '^[A-Z]{2}$'),
    ADD COLUMN city  text CHECK (char_length(city) BETWEEN 1 AND 100),
    ADD CONSTRAINT establishments_city_has_state CHECK (city IS NULL OR state IS NOT NULL);

CREATE TABLE holidays (
    establishment_id integer NOT NULL REFERENCES establishments,
    day              date    NOT NULL,
    name             text    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    PRIMARY KEY (establishment_id, day)
);

CREATE TABLE punch_treatments (
    treatment_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    establishment_id integer     NOT NULL REFERENCES establishments,
    action           text        NOT NULL CHECK (action IN ('include', 'disregard')),
    -- include: the included punch's own id (new, never a clock's); disregard: the punch disregarded
    punch_id         text        NOT NULL,
    employee_id      text        NOT NULL,
    punched_at       timestamptz, -- include: the time of the forgotten punch
    kind             text        CHECK (kind IN ('in', 'out', 'break_start', 'break_end')), -- include only
    reason           text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 150), -- the AEJ's motivo
    responsible_cpf  text        NOT NULL CHECK (responsible_cpf ~ '^[0-9]{11}$'),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (establishment_id, employee_id) REFERENCES employees,
    CHECK ((action = 'include') = (punched_at IS NOT NULL)),
    CHECK ((action = 'include') = (kind IS NOT NULL))
);
-- An included punch has one id of its own; a punch is disregarded at most once.
CREATE UNIQUE INDEX punch_treatments_included ON punch_treatments (punch_id) WHERE action = 'include';
CREATE UNIQUE INDEX punch_treatments_disregarded ON punch_treatments (punch_id) WHERE action = 'disregard';
-- A month's included punches of an establishment.
CREATE INDEX punch_treatments_included_at ON punch_treatments (establishment_id, punched_at)
    WHERE action = 'include';

CREATE TRIGGER punch_treatments_append_only BEFORE UPDATE OR DELETE ON punch_treatments
    FOR EACH ROW EXECUTE FUNCTION ponto_refuse_change();
CREATE TRIGGER punch_treatments_no_truncate BEFORE TRUNCATE ON punch_treatments
    FOR EACH STATEMENT EXECUTE FUNCTION ponto_refuse_change();

-- The month of an espelho is found by punch time: a BRIN index (a few pages, next to nothing for the worker's
-- COPY to maintain: punches arrive roughly in time order) lets the timesheet read that month's block ranges
-- instead of every punch ever recorded.
CREATE INDEX punches_punched_at_brin ON punches USING brin (punched_at);

-- The worker needs nothing of these; the read function may read them (it can change nothing).
GRANT SELECT ON holidays, punch_treatments TO ponto_reader;
