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
