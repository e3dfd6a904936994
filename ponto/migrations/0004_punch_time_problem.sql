-- A punch whose time names no instant is recorded, never dropped (issue 11).
--
-- The contract's pattern admits only times that can be recorded (years 1960-9998, the days each
-- month has, offsets -12:00..+14:00), but no pattern of it excludes 29 February of a year that is not
-- a leap year. The clock said it, the gateway answered 202, and the raw body is the evidence of the
-- punch: the worker records it with punched_at null and the reason in punched_at_problem (datetime's
-- words, e.g. "'2027-02-29T08:00:00-03:00' is not a valid date-time (day is out of range for month)").
--
-- Why null rather than a guess (1 March, 28 February): a time the clock never said would reach the
-- timesheet and, once sealed, the AFD's type-7 line and its hash chain, where no correction can take it
-- back out (the record is append-only). A punch without a time is never sealed (the seal needs a real
-- time): it stays in `ponto status`'s unsealed count, its raw body holding what the clock sent, until
-- the employer treats it (a treatment is a new record, never an edit of this one).
--
-- Exactly one of the two is set: a time, or the reason there is none.
ALTER TABLE punches
    ALTER COLUMN punched_at DROP NOT NULL,
    ADD COLUMN punched_at_problem text,
    ADD CONSTRAINT punches_time_or_problem CHECK ((punched_at IS NULL) = (punched_at_problem IS NOT NULL));
