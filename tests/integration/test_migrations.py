"""Migrations: `ponto migrate` and the migrate Lambda apply the same files, once."""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest

from ponto import migrations
from ponto.cli import main
from tests.events import LambdaContext
from tests.integration.conftest import import_handler

pytestmark = pytest.mark.integration


def test_the_cli_migrates_a_fresh_database_and_a_second_run_changes_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE ponto_migrate_test")
    fresh = database_url.replace("/postgres?", "/ponto_migrate_test?")
    try:
        assert main(["migrate", "--database-url", fresh]) == 0
        assert "applied: 0001_create_punches" in capsys.readouterr().out
        assert main(["migrate", "--database-url", fresh]) == 0
        assert "nothing (up to date)" in capsys.readouterr().out
        check = psycopg2.connect(fresh)
        with check.cursor() as cur:
            cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'punches'")
            indexes = " ".join(row[0] for row in cur.fetchall())
        check.close()
        assert "(employee_id, punched_at)" in indexes and "(punch_id)" in indexes
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE ponto_migrate_test WITH (FORCE)")
        conn.close()


def test_the_migrate_lambda_applies_nothing_on_a_migrated_database(
    migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = import_handler("migrate", {"PONTO_DATABASE_URL": migrated}, monkeypatch)
    assert handler({}, LambdaContext(function_name="ponto-test-migrate")) == {
        "applied": [],
        "current": migrations.available()[-1].version,
    }


def test_an_applied_migration_that_changed_is_refused(migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = migrations.available()
    edited = [migrations.Migration(m.version, m.sql + "\n-- edited") for m in original]
    monkeypatch.setattr(migrations, "available", lambda: edited)
    conn: Any = psycopg2.connect(migrated)
    try:
        with pytest.raises(migrations.MigrationError, match="changed"):
            migrations.apply(conn)
    finally:
        conn.close()


def test_rows_written_before_0002_keep_their_body_fields_derived_from_raw(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE ponto_migrate_0002")
    conn: Any = psycopg2.connect(database_url, dbname="ponto_migrate_0002")
    try:
        every = migrations.available()
        assert [m.version[:4] for m in every[:2]] == ["0001", "0002"]
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "available", lambda: every[:1])
            assert migrations.apply(conn) == ["0001_create_punches"]
        with conn, conn.cursor() as cur:
            raw = '{"employee_id": "e-1", "punched_at": "2026-11-22T08:00:00Z", "kind": "out",'
            raw += ' "device_id": "kiosk-9", "location": {"lat": -23.50, "lon": -46.6}}'
            cur.execute(
                "INSERT INTO punches (punch_id, employee_id, punched_at, kind, device_id, location, format,"
                " message_id, raw) VALUES ('p-1', 'e-1', now(), 'out', 'kiosk-9', %s, 'v1', 'm-1', %s),"
                " ('p-2', '7', now(), NULL, NULL, NULL, 'legacy', 'm-2', %s)",
                ('{"lat": -23.5, "lon": -46.6}', raw, '{"usuarioId": 7, "ponto": "2026-11-22 08:00:00"}'),
            )
        assert migrations.apply(conn) == [m.version for m in every[1:]]
        with conn, conn.cursor() as cur:
            cur.execute("SELECT punch_id, kind, device_id, location::text FROM punches ORDER BY punch_id")
            assert cur.fetchall() == [
                ("p-1", "out", "kiosk-9", '{"lat": -23.50, "lon": -46.6}'),
                ("p-2", None, None, None),
            ]
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE ponto_migrate_0002 WITH (FORCE)")
        admin.close()
