"""PostgreSQL adapter: the only module that talks to the database driver."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
import psycopg2.extensions

from ponto.config import DatabaseConfig, SecretDatabase, UrlDatabase
from ponto.errors import RowRejectedError, StoreError
from ponto.punch import Punch

Connection = psycopg2.extensions.connection
Connect = Callable[[], Connection]

COLUMNS = (
    "punch_id", "employee_id", "punched_at", "kind", "device_id", "location", "format",
    "request_id", "message_id", "source_ip", "api_key_id", "received_at", "raw",
)  # fmt: skip
_COLUMN_LIST = ", ".join(COLUMNS)

# One bulk, idempotent write per batch: COPY the batch into a per-connection staging table, then
# insert what is new. A punch id seen before (in this batch or an earlier one) adds no row.
_CREATE_STAGING = (
    f"CREATE TEMP TABLE punches_incoming ON COMMIT DELETE ROWS AS SELECT {_COLUMN_LIST} FROM punches WITH NO DATA"
)
_COPY_STAGING = f"COPY punches_incoming ({_COLUMN_LIST}) FROM STDIN WITH (FORMAT csv)"
_INSERT_NEW = (
    f"INSERT INTO punches ({_COLUMN_LIST}) "
    f"SELECT DISTINCT ON (punch_id) {_COLUMN_LIST} FROM punches_incoming ORDER BY punch_id "
    "ON CONFLICT (punch_id) DO NOTHING RETURNING punch_id"
)

_CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
# Errors caused by the data of some row, not by the database's state: retrying the same batch would
# fail the same way, so the worker isolates the row instead.
_ROW_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError)


@dataclass(frozen=True)
class WriteResult:
    inserted: frozenset[str]
    written_at: datetime


def connector(database: DatabaseConfig, *, application_name: str = "ponto") -> Connect:
    """A function that opens a new connection to the configured database."""
    options: dict[str, Any] = {
        "application_name": application_name,
        "connect_timeout": 15,
        "keepalives": 1,
        "keepalives_idle": 30,
        # A statement must end well before the Lambda does (its timeout is a minute).
        "options": "-c statement_timeout=30000",
    }

    def connect() -> Connection:
        try:
            return _open(database, options)
        except psycopg2.Error as exc:
            raise StoreError("could not connect to the database") from exc

    return connect


def _open(database: DatabaseConfig, options: dict[str, Any]) -> Connection:
    conn: Connection
    if isinstance(database, UrlDatabase):
        conn = psycopg2.connect(database.url, **options)
    elif isinstance(database, SecretDatabase):
        from ponto.aws_secrets import database_credentials

        user, password = database_credentials(database.secret_arn)
        conn = psycopg2.connect(
            host=database.host, port=database.port, dbname=database.dbname, user=user,
            password=password, sslmode=database.sslmode, **options,
        )  # fmt: skip
    else:
        conn = psycopg2.connect(
            host=database.host, port=database.port, dbname=database.dbname, user=database.user,
            password=database.password, **options,
        )  # fmt: skip
    return conn


class PunchStore:
    """Records punches; keeps one connection across warm invocations and reconnects when it drops."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._conn: Connection | None = None

    def record(self, punches: Sequence[Punch]) -> WriteResult:
        """Write the punches in one transaction; return the ids that were new.

        A dropped connection (idle timeout, failover, auto-pause) is retried once on a fresh one:
        the write is idempotent, so a retry after an unknown outcome records nothing twice.
        """
        try:
            return self._write(punches)
        except _CONNECTION_ERRORS:
            self.close()
        except _ROW_ERRORS as exc:
            raise RowRejectedError("the database refused a row of the batch") from exc
        try:
            return self._write(punches)
        except _ROW_ERRORS as exc:
            raise RowRejectedError("the database refused a row of the batch") from exc
        except psycopg2.Error as exc:
            self.close()
            raise StoreError("could not record the batch") from exc

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            conn = self._connect()
            with conn, conn.cursor() as cur:
                cur.execute(_CREATE_STAGING)
            self._conn = conn
        return self._conn

    def _write(self, punches: Sequence[Punch]) -> WriteResult:
        conn = self._connection()
        try:
            with conn, conn.cursor() as cur:
                cur.copy_expert(_COPY_STAGING, _csv_rows(punches))
                cur.execute(_INSERT_NEW)
                inserted = frozenset(row[0] for row in cur.fetchall())
        except psycopg2.Error:
            if conn.closed:
                self._conn = None
            raise
        return WriteResult(inserted=inserted, written_at=datetime.now(UTC))


def _csv_rows(punches: Sequence[Punch]) -> io.StringIO:
    buffer = io.StringIO()
    # QUOTE_NOTNULL: every value quoted, None left bare, which COPY's csv format reads as NULL.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NOTNULL, lineterminator="\n")
    writer.writerows(
        (
            p.punch_id,
            p.employee_id,
            p.punched_at.isoformat(),
            p.kind,
            p.device_id,
            None if p.location is None else json.dumps(p.location),
            p.format,
            p.request_id,
            p.message_id,
            p.source_ip,
            p.api_key_id,
            None if p.received_at is None else p.received_at.isoformat(),
            p.raw,
        )
        for p in punches
    )
    buffer.seek(0)
    return buffer
