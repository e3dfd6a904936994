"""Versioned SQL migrations, applied the same way by `ponto migrate` and the migrate Lambda."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg2.extensions

# Serialises concurrent runs (two deploys, a CLI and a Lambda) on one database.
_LOCK_KEY = 0x504F4E544F  # "PONTO"


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    files = resources.files("ponto.migrations")
    return sorted(
        (
            Migration(version=entry.name.removesuffix(".sql"), sql=entry.read_text(encoding="utf-8"))
            for entry in files.iterdir()
            if entry.name.endswith(".sql")
        ),
        key=lambda m: m.version,
    )


class MigrationError(Exception):
    """An applied migration was changed after the fact."""


def apply(conn: psycopg2.extensions.connection) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; return their versions."""
    applied_now: list[str] = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version, checksum FROM schema_migrations")
            done = dict(cur.fetchall())
        for migration in available():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(f"migration {migration.version} changed after it was applied")
                continue
            with conn, conn.cursor() as cur:
                cur.execute(migration.sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                    (migration.version, migration.checksum),
                )
            applied_now.append(migration.version)
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
