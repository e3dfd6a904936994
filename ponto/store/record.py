"""PostgreSQL side of the legal record: the heads, the seals, the registry's records, unsealed punches,
and the reads behind `ponto afd` and `ponto verify`.

Every function that appends takes a cursor inside the caller's transaction and locks the heads it
moves (SELECT ... FOR UPDATE, in establishment order, so two writers never deadlock): an NSR is
taken and written in one transaction, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import psycopg2.extensions
import psycopg2.extras

from ponto.record import afd
from ponto.record import seal as sealing
from ponto.record.seal import Head, SealedRecord
from ponto.store.copy_text import escape

Cursor = psycopg2.extensions.cursor
Connection = psycopg2.extensions.connection

# A record line is made of digits, ISO-8859-1 text without control characters, and hex: nothing COPY's
# text format escapes but a backslash, which a name may hold.
_RECORD_COPY = "COPY afd_records (establishment_id, nsr, record_type, recorded_at, punch_id, line) FROM STDIN"


class SealCandidate(Protocol):
    """A recorded punch, as the seal needs it (ponto.punch.Punch is one)."""

    @property
    def punch_id(self) -> str: ...
    @property
    def api_key_id(self) -> str | None: ...
    @property
    def employee_id(self) -> str: ...
    @property
    def punched_at(self) -> datetime | None: ...  # None: recorded without a time, never sealed
    @property
    def offline(self) -> bool: ...


@dataclass(frozen=True)
class SealCount:
    sealed: int
    unsealed: int


_HEADS = """
SELECT h.establishment_id, h.last_nsr, h.last_hash, h.last_recorded_at, s.timezone, h.registry_nsr
FROM record_heads h JOIN establishments s USING (establishment_id)
WHERE h.establishment_id = ANY(%s)
ORDER BY h.establishment_id
"""

_MOVE_HEADS = """
UPDATE record_heads AS h
SET last_nsr = v.nsr, last_hash = v.hash, last_recorded_at = v.recorded_at, registry_nsr = v.registry_nsr
FROM (VALUES %s) AS v (establishment_id, nsr, hash, recorded_at, registry_nsr)
WHERE h.establishment_id = v.establishment_id
"""


def clock() -> datetime:
    """The recording time of what is appended now (tests move it to record other days)."""
    return datetime.now(UTC)


def lock_heads(cur: Cursor, establishment_ids: Sequence[int]) -> dict[int, Head]:
    return _heads(cur, establishment_ids, " FOR UPDATE OF h")


def head(cur: Cursor, establishment_id: int) -> Head:
    """An establishment's head as it is now, unlocked (what `ponto verify` compares the record with)."""
    return _heads(cur, [establishment_id], "")[establishment_id]


def _heads(cur: Cursor, establishment_ids: Sequence[int], lock: str) -> dict[int, Head]:
    cur.execute(_HEADS + lock, (sorted(establishment_ids),))
    return {row[0]: Head(row[0], row[1], row[2], row[3], ZoneInfo(row[4]), row[5]) for row in cur.fetchall()}


def move_heads(cur: Cursor, heads: Sequence[Head]) -> None:
    if heads:
        psycopg2.extras.execute_values(
            cur,
            _MOVE_HEADS,
            [(h.establishment_id, h.last_nsr, h.last_hash, h.last_recorded_at, h.registry_nsr) for h in heads],
            template="(%s::integer, %s::bigint, %s::text, %s::timestamptz, %s::bigint)",
        )


_DEVICES = "SELECT api_key_id, establishment_id, kind FROM devices WHERE api_key_id = ANY(%s::text[])"
# The distinct (establishment, employee) pairs of a batch, each one probe of the employees' primary key:
# ~1.5 ms for 1,000 pairs at any registry size. Left to itself the planner hashes the whole table
# instead (20 ms a batch at 100,000 employees), so this transaction turns hash and merge joins off
# (SET LOCAL: until its commit; the rest of it is a COPY and an UPDATE of a few heads). Two ANY lists
# (establishments, employees) were worse still: every id tested against every row, 140 ms a batch.
_EMPLOYEES = (
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"
    " SELECT e.establishment_id, e.employee_id, e.cpf"
    " FROM unnest(%s::integer[], %s::text[]) AS b (establishment_id, employee_id)"
    " JOIN employees e USING (establishment_id, employee_id) WHERE e.active"
)


class RegistryCache:
    """What a warm worker keeps of the registry between batches. Devices: a device never moves to
    another establishment. Employees: per establishment, valid while its head's registry_nsr is the one
    they were looked up under (every change of its employees appends a type-5 record, which moves it)."""

    def __init__(self) -> None:
        self.devices: dict[str, tuple[int, int]] = {}  # api_key_id -> (establishment, collector)
        self.employees: dict[int, tuple[int, dict[str, str | None]]] = {}  # -> (registry_nsr, id -> CPF)

    def clear(self) -> None:
        self.devices.clear()
        self.employees.clear()


def seal_punches(cur: Cursor, punches: Sequence[SealCandidate], cache: RegistryCache | None = None) -> SealCount:
    """Seal the punches whose device and employee are registered, in the order given; the rest stay
    unsealed (recorded, never lost) until `ponto seal` or their employee's registration."""
    cache = RegistryCache() if cache is None else cache
    known = _devices(cur, {p.api_key_id for p in punches if p.api_key_id is not None}, cache.devices)
    if not known:
        return SealCount(0, len(punches))
    heads = lock_heads(cur, sorted({establishment_id for establishment_id, _ in known.values()}))
    employees: dict[int, dict[str, str | None]] = {}
    for establishment_id, head in heads.items():
        kept = cache.employees.get(establishment_id)
        if kept is None or kept[0] != head.registry_nsr:
            kept = cache.employees[establishment_id] = (head.registry_nsr, {})
        employees[establishment_id] = kept[1]
    missing: set[tuple[int, str]] = set()
    for p in punches:
        device = known.get(p.api_key_id)  # type: ignore[arg-type]
        if device is not None and p.employee_id not in employees[device[0]]:
            missing.add((device[0], p.employee_id))
    if missing:
        cur.execute(_EMPLOYEES, ([e for e, _ in missing], text_array(employee for _, employee in missing)))
        for establishment_id, employee_id, cpf in cur.fetchall():
            employees[establishment_id][employee_id] = cpf
        for establishment_id, employee_id in missing:
            employees[establishment_id].setdefault(employee_id, None)  # not registered (yet)
    now = clock()  # after the lock: the time these records are really appended
    chains = {establishment_id: sealing.Chain(head, now) for establishment_id, head in heads.items()}
    sealed = 0

    def records() -> Iterator[SealedRecord]:
        nonlocal sealed
        for p in punches:
            device = known.get(p.api_key_id)  # type: ignore[arg-type]
            if device is None or p.punched_at is None:  # no time (punched_at_problem): the AFD cannot state it
                continue
            establishment_id, collector = device
            cpf = employees[establishment_id].get(p.employee_id)
            if cpf is not None:
                sealed += 1
                yield chains[establishment_id].seal(p.punch_id, p.punched_at, cpf, collector, p.offline)

    cur.copy_expert(_RECORD_COPY, _RecordStream(records()))
    move_heads(cur, [chain.head for chain in chains.values() if chain.sealed])
    return SealCount(sealed, len(punches) - sealed)


def _devices(cur: Cursor, keys: set[str], cache: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    missing = [key for key in keys if key not in cache]
    if missing:
        cur.execute(_DEVICES, (text_array(missing),))
        for key, establishment_id, kind in cur.fetchall():
            cache[key] = (establishment_id, afd.COLLECTORS[kind])
    return {key: cache[key] for key in keys if key in cache}


def text_array(values: Iterable[str]) -> str:
    """A text[] literal ('{"a","b"}'): PostgreSQL reads it faster than psycopg2's ARRAY[...] of literals."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


class _RecordStream:
    """Type-7 rows in COPY's text format, made as COPY reads them."""

    def __init__(self, records: Iterable[SealedRecord]) -> None:
        self._records = iter(records)
        self._times: dict[datetime, str] = {}

    def read(self, size: int = -1, /) -> bytes:
        parts = []
        for establishment_id, nsr, recorded_at, punch_id, line in self._records:
            at = self._times.get(recorded_at)
            if at is None:
                at = self._times[recorded_at] = recorded_at.isoformat()
            # A type-7 line is digits, DH texts and hex: nothing COPY escapes. A punch id may come from
            # outside (an old row's request id), so it is escaped when needed.
            parts.append(f"{establishment_id}\t{nsr}\t7\t{at}\t{escape(punch_id)}\t{line}\n")
            if len(parts) == 64:
                break
        return "".join(parts).encode()

    def readline(self, size: int = -1, /) -> bytes:
        return self.read(size)


# --- the registry's records (types 2 and 5) ------------------------------------------------------

RecordBuilder = Callable[[int, str], str]  # (nsr, DH recorded) -> the record's line


def append_records(cur: Cursor, establishment_id: int, record_type: int, builders: Sequence[RecordBuilder]) -> int:
    """Append one record per builder to the establishment's record; return the last NSR."""
    head = lock_heads(cur, [establishment_id])[establishment_id]
    recorded_at = sealing.recording_time(head, clock())
    recorded_dh = afd.dh(recorded_at, head.zone)
    nsr = head.last_nsr
    rows = []
    for build in builders:
        nsr += 1
        rows.append((establishment_id, nsr, record_type, recorded_at, None, build(nsr, recorded_dh)))
    if nsr > sealing.MAX_NSR:
        raise sealing.RecordFullError(f"establishment {establishment_id}: the NSR would pass {sealing.MAX_NSR}")
    psycopg2.extras.execute_values(
        cur,
        "INSERT INTO afd_records (establishment_id, nsr, record_type, recorded_at, punch_id, line) VALUES %s",
        rows,
        page_size=1000,
    )
    # Every record appended here is the registry's (the establishment's data, its employees): workers
    # that see registry_nsr move look their employees up again.
    move_heads(cur, [Head(establishment_id, nsr, head.last_hash, recorded_at, head.zone, registry_nsr=nsr)])
    return nsr


# --- unsealed punches ------------------------------------------------------------------------------

_PENDING = """
SELECT p.punch_id, p.api_key_id, p.employee_id, p.punched_at, coalesce((p.raw ->> 'offline')::boolean, false)
FROM punches p
JOIN devices d ON d.api_key_id = p.api_key_id
JOIN employees e ON e.establishment_id = d.establishment_id AND e.employee_id = p.employee_id AND e.active
WHERE d.establishment_id = %s AND (%s::text[] IS NULL OR p.employee_id = ANY(%s::text[]))
  AND NOT EXISTS (SELECT 1 FROM afd_records r WHERE r.punch_id = p.punch_id)
  AND p.punched_at IS NOT NULL -- recorded without a time (punched_at_problem): never sealed
ORDER BY p.recorded_at, p.received_at, p.punch_id
LIMIT %s
"""


@dataclass(frozen=True)
class PendingPunch:
    punch_id: str
    api_key_id: str | None
    employee_id: str
    punched_at: datetime
    offline: bool


def seal_pending(
    conn: Connection, establishment_id: int, employee_ids: Sequence[str] | None = None, *, chunk: int = 5000
) -> int:
    """Seal the establishment's sealable pending punches in recording order, a chunk per transaction."""
    total = 0
    while True:
        with conn, conn.cursor() as cur:
            lock_heads(cur, [establishment_id])  # first: what others sealed before is visible after it
            ids = list(employee_ids) if employee_ids is not None else None
            cur.execute(_PENDING, (establishment_id, ids, ids, chunk))
            pending = [PendingPunch(*row) for row in cur.fetchall()]
            if not pending:
                return total
            total += seal_punches(cur, pending).sealed
        if len(pending) < chunk:
            return total


def establishments_with_pending(cur: Cursor) -> list[int]:
    cur.execute(
        "SELECT DISTINCT d.establishment_id FROM punches p JOIN devices d ON d.api_key_id = p.api_key_id"
        " WHERE NOT EXISTS (SELECT 1 FROM afd_records r WHERE r.punch_id = p.punch_id) ORDER BY 1"
    )
    return [row[0] for row in cur.fetchall()]


def unsealed_count(cur: Cursor) -> int:
    cur.execute(
        "SELECT count(*) FROM punches p WHERE NOT EXISTS (SELECT 1 FROM afd_records r WHERE r.punch_id = p.punch_id)"
    )
    row = cur.fetchone()
    return int(row[0]) if row else 0


# --- reading the record ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The records of an establishment whose recording time falls in [start, end)."""

    count: int
    first_recorded_at: datetime | None
    last_recorded_at: datetime | None


def span(cur: Cursor, establishment_id: int, start: datetime | None, end: datetime | None) -> Span:
    cur.execute(
        "SELECT count(*), min(recorded_at), max(recorded_at) FROM afd_records"
        " WHERE establishment_id = %s AND (%s::timestamptz IS NULL OR recorded_at >= %s)"
        " AND (%s::timestamptz IS NULL OR recorded_at < %s)",
        (establishment_id, start, start, end, end),
    )
    row = cur.fetchone()
    assert row is not None
    return Span(int(row[0]), row[1], row[2])


def record_lines(
    conn: Connection, establishment_id: int, start: datetime | None, end: datetime | None, *, itersize: int = 20_000
) -> Iterator[tuple[int, str]]:
    """(record type, line) in NSR order, streamed with a server-side cursor (constant memory)."""
    with conn.cursor(name="ponto_afd_lines") as cur:
        cur.itersize = itersize
        cur.execute(
            "SELECT record_type, line FROM afd_records WHERE establishment_id = %s"
            " AND (%s::timestamptz IS NULL OR recorded_at >= %s) AND (%s::timestamptz IS NULL OR recorded_at < %s)"
            " ORDER BY nsr",
            (establishment_id, start, start, end, end),
        )
        yield from cur


def chain_rows(conn: Connection, establishment_id: int, *, itersize: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """What `ponto verify` checks, in NSR order: (nsr, record type, line, punch time in epoch seconds
    or None when the punch row is missing); streamed."""
    with conn.cursor(name="ponto_verify_rows") as cur:
        cur.itersize = itersize
        cur.execute(
            "SELECT r.nsr, r.record_type, r.line, floor(extract(epoch FROM p.punched_at))::bigint"
            " FROM afd_records r LEFT JOIN punches p ON p.punch_id = r.punch_id"
            " WHERE r.establishment_id = %s ORDER BY r.nsr",
            (establishment_id,),
        )
        yield from cur
