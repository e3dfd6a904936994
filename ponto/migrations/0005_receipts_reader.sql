-- The read function's role: it serves receipts (art. 79-80), so it reads the record and the registry
-- and can change nothing. On RDS it signs in with IAM database authentication (rds_iam); elsewhere as
-- the server's authentication allows. Its connections are capped by the function's reserved concurrency.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ponto_reader') THEN
        CREATE ROLE ponto_reader LOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO ponto_reader;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO ponto_reader;
GRANT SELECT ON punches, afd_records, establishments, employees, devices TO ponto_reader;
