"""PostgreSQL adapter: the only module that talks to the database driver."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from ponto.config import DatabaseConfig, IamDatabase, SecretDatabase, UrlDatabase
from ponto.errors import RowRejectedError, StoreError
from ponto.punch import Punch
from ponto.store.copy_text import NULL as _NULL
from ponto.store.copy_text import escape as _text
from ponto.store.record import RegistryCache, SealCount, seal_punches

Connection = psycopg2.extensions.connection
Connect = Callable[[], Connection]

# The columns the worker writes. kind, device_id and location are derived from raw by PostgreSQL
# (generated columns, migration 0002): body fields, stored exactly as the clock sent them.
# punched_at_problem (migration 0004): why punched_at is null, for a time that names no instant.
COLUMNS = (
    "punch_id", "employee_id", "punched_at", "format", "request_id", "message_id", "source_ip",
    "api_key_id", "received_at", "raw", "punched_at_problem",
)  # fmt: skip
_COLUMN_LIST = ", ".join(COLUMNS)

# One bulk, idempotent write per batch, in one transaction with the seal of the new punches:
# - most batches hold only new punches: COPY them straight into punches;
# - a batch with a punch recorded before (a redelivery, a clock's resend) fails that COPY as a whole
#   (unique violation) and is written again with INSERT ... ON CONFLICT DO NOTHING, which adds only
#   what is new and returns it.
COPY_SQL = f"COPY punches ({_COLUMN_LIST}) FROM STDIN"
_INSERT_NEW = f"INSERT INTO punches ({_COLUMN_LIST}) VALUES %s ON CONFLICT (punch_id) DO NOTHING RETURNING punch_id"

_CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
# Errors caused by the data of some row, not by the database's state: retrying the same batch would
# fail the same way, so the worker isolates the row instead.
_ROW_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError)


@dataclass(frozen=True)
class WriteResult:
    inserted: frozenset[str]
    written_at: datetime
    sealed: int = 0  # of the inserted punches, those sealed now (NSR, hash)
    unsealed: int = 0  # those whose device or employee is not registered yet


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
    elif isinstance(database, IamDatabase):
        from ponto.aws_secrets import iam_auth_token

        conn = psycopg2.connect(
            host=database.host, port=database.port, dbname=database.dbname, user=database.user,
            password=iam_auth_token(database), sslmode=database.sslmode, sslrootcert=database.sslrootcert, **options,
        )  # fmt: skip
    elif isinstance(database, SecretDatabase):
        from ponto.aws_secrets import database_credentials

        user, password = database_credentials(database.secret_arn)
        conn = psycopg2.connect(
            host=database.host, port=database.port, dbname=database.dbname, user=user,
            password=password, sslmode=database.sslmode, sslrootcert=database.sslrootcert, **options,
        )  # fmt: skip
    else:
        conn = psycopg2.connect(
            host=database.host, port=database.port, dbname=database.dbname, user=database.user,
            password=database.password, **options,
        )  # fmt: skip
    return conn


class PunchStore:
    """Records punches; keeps one connection across warm invocations and reconnects when it drops."""

    def __init__(self, connect: Connect, *, seal: bool = True) -> None:
        self._connect = connect
        self._conn: Connection | None = None
        self._seal = seal
        self._registry = RegistryCache()  # what this connection's batches looked up of the registry

    def record(self, punches: Iterable[Punch]) -> WriteResult:
        """Write the punches in one statement; return the ids that were new.

        `punches` may be a generator: the COPY streams it, so the database inserts one part of the
        batch while the caller still parses the next. A dropped connection (idle timeout, failover,
        auto-pause) is retried once on a fresh one: the write is idempotent, so a retry after an
        unknown outcome records nothing twice.
        """
        replay = _Replayable(punches)
        if replay.empty():
            return WriteResult(inserted=frozenset(), written_at=datetime.now(UTC))
        try:
            return self._write(replay)
        except _CONNECTION_ERRORS:
            self.close()
        except _ROW_ERRORS as exc:
            raise RowRejectedError("the database refused a row of the batch") from exc
        try:
            return self._write(replay)
        except _ROW_ERRORS as exc:
            raise RowRejectedError("the database refused a row of the batch") from exc
        except psycopg2.Error as exc:
            self.close()
            raise StoreError("could not record the batch") from exc

    def close(self) -> None:
        self._registry.clear()
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            conn = self._connect()
            conn.autocommit = True
            self._conn = conn
        return self._conn

    def _write(self, punches: _Replayable) -> WriteResult:
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                cur.execute("BEGIN")
                try:
                    cur.copy_expert(COPY_SQL, _CopyStream(punches.replay()))
                    new: list[Punch] = punches.seen
                except psycopg2.errors.UniqueViolation:
                    cur.execute("ROLLBACK")
                    cur.execute("BEGIN")
                    rows = [_row(p) for p in punches.replay()]
                    returned = psycopg2.extras.execute_values(cur, _INSERT_NEW, rows, page_size=len(rows), fetch=True)
                    new = _first_copies(punches.seen, {row[0] for row in returned})
                # The seal goes in the same transaction as the punches: a punch is recorded and sealed
                # together, or neither (a worker killed here leaves no NSR taken).
                counts = seal_punches(cur, new, self._registry) if self._seal else SealCount(0, len(new))
                cur.execute("COMMIT")
        except psycopg2.Error:
            if conn.closed:
                self._conn = None
            else:
                _abandon(conn)
            raise
        return WriteResult(
            inserted=frozenset(p.punch_id for p in new),
            written_at=datetime.now(UTC),
            sealed=counts.sealed,
            unsealed=counts.unsealed,
        )


def _first_copies(punches: Sequence[Punch], new_ids: set[str]) -> list[Punch]:
    """The punches whose id the database took as new; a second copy in the same batch is a duplicate."""
    first = []
    for punch in punches:
        if punch.punch_id in new_ids:
            new_ids.discard(punch.punch_id)
            first.append(punch)
    return first


def _abandon(conn: Connection) -> None:
    """End the failed transaction so the connection can be reused; drop it if even that fails."""
    try:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
    except psycopg2.Error:
        conn.close()


class _Replayable:
    """An iterable consumed once from its source and replayed from memory after that."""

    def __init__(self, source: Iterable[Punch]) -> None:
        self._source = iter(source)
        self.seen: list[Punch] = []

    def empty(self) -> bool:
        first = next(self._source, None)
        if first is None:
            return True
        self.seen.append(first)
        return False

    def replay(self) -> Iterator[Punch]:
        yield from list(self.seen)
        for punch in self._source:
            self.seen.append(punch)
            yield punch


def copy_text(punches: Iterable[Punch]) -> str:
    """The punches as the rows of COPY_SQL (COPY's text format)."""
    return "".join(map(_copy_line, punches))


class _CopyStream:
    """A file-like object that COPY reads: the next rows in COPY's text format, made on demand."""

    # ~8 KB of rows, what psycopg2 asks for per read: the database starts on a batch's first rows
    # sooner and has less left to do once the last are parsed (64 rows measured ~10% slower).
    _ROWS_PER_READ = 16

    def __init__(self, punches: Iterator[Punch]) -> None:
        self._punches = punches

    def read(self, size: int = -1, /) -> bytes:
        return copy_text(itertools.islice(self._punches, self._ROWS_PER_READ)).encode()

    def readline(self, size: int = -1, /) -> bytes:
        return self.read(size)


# Seconds since the epoch -> 'YYYY-MM-DDTHH:MM:SS' in UTC. A batch's requests arrived within a few
# seconds of each other, so most received_at texts reuse a prefix made for an earlier punch.
_SECOND_TEXTS: dict[int, str] = {}
_SECOND_TEXTS_MAX = 4096


def _epoch_ms_text(ms: int) -> str:
    """Epoch milliseconds as an ISO 8601 UTC timestamp, as PostgreSQL reads it."""
    seconds = ms // 1000
    prefix = _SECOND_TEXTS.get(seconds)
    if prefix is None:
        if len(_SECOND_TEXTS) >= _SECOND_TEXTS_MAX:
            _SECOND_TEXTS.clear()
        prefix = datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")[:19]
        _SECOND_TEXTS[seconds] = prefix
    return prefix + _MILLIS_TEXTS[ms - seconds * 1000]


_MILLIS_TEXTS = [f".{millis:03d}Z" for millis in range(1000)]


def _copy_line(p: Punch) -> str:
    # punch_id, request_id, message_id, source_ip, api_key_id and raw come from outside the schema's
    # patterns (message attributes, the body as sent): escaped when they hold one of COPY's special
    # characters (rarely: a body with a backslash or a line break). The others are pattern-checked.
    (punch_id, employee_id, _, punched_at_text, _, _, _, format_, request_id, message_id, source_ip, api_key_id,
     received_at_ms, raw, _, problem) = p  # fmt: skip
    outside = f"{punch_id}{request_id}{message_id}{source_ip}{api_key_id}{raw}"
    if "\\" in outside or "\t" in outside or "\n" in outside or "\r" in outside:
        punch_id, request_id, message_id = _text(punch_id), _text(request_id), _text(message_id)
        source_ip, api_key_id, raw = _text(source_ip), _text(api_key_id), _text(raw)
    return (
        f"{punch_id}\t{employee_id}\t{_NULL if punched_at_text is None else punched_at_text}\t{format_}\t"
        f"{_NULL if request_id is None else request_id}\t"
        f"{message_id}\t{_NULL if source_ip is None else source_ip}\t{_NULL if api_key_id is None else api_key_id}\t"
        f"{_NULL if received_at_ms is None else _epoch_ms_text(received_at_ms)}\t{raw}\t"
        f"{_NULL if problem is None else _text(problem)}\n"
    )


def _row(p: Punch) -> tuple[str | None, ...]:
    return (
        p.punch_id,
        p.employee_id,
        p.punched_at_text,
        p.format,
        p.request_id,
        p.message_id,
        p.source_ip,
        p.api_key_id,
        None if p.received_at_ms is None else _epoch_ms_text(p.received_at_ms),
        p.raw,
        p.punched_at_problem,
    )
