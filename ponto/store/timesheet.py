"""PostgreSQL side of the timesheet: the company's days off, the treatments of the record (art. 82-83:
punches included by hand and punches disregarded, append-only), and the reads behind `ponto timesheet`
and `ponto aej` (an establishment's employees and their marks of a period, in one query)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import psycopg2.errors
import psycopg2.extensions

from ponto.errors import InvalidInputError
from ponto.timesheet.compute import Mark
from ponto.timesheet.espelho import SheetPerson

Connection = psycopg2.extensions.connection
Cursor = psycopg2.extensions.cursor

INCLUDE, DISREGARD = "include", "disregard"


# --- holidays (the company's days off) ------------------------------------------------------------


def add_holiday(conn: Connection, establishment_id: int, day: date, name: str) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO holidays (establishment_id, day, name) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (establishment_id, day, name),
        )
        if cur.rowcount != 1:
            raise InvalidInputError(f"{day.isoformat()} is already a day off of this establishment")


def remove_holiday(conn: Connection, establishment_id: int, day: date) -> None:
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM holidays WHERE establishment_id = %s AND day = %s", (establishment_id, day))
        if cur.rowcount != 1:
            raise InvalidInputError(f"{day.isoformat()} is not a day off of this establishment")


def list_holidays(cur: Cursor, establishment_id: int, year: int | None = None) -> list[tuple[date, str]]:
    """The establishment's own days off, in date order (of `year` only, when given)."""
    cur.execute(
        "SELECT day, name FROM holidays WHERE establishment_id = %s"
        " AND (%s::integer IS NULL OR extract(year FROM day) = %s) ORDER BY day",
        (establishment_id, year, year),
    )
    return [(row[0], row[1]) for row in cur.fetchall()]


# --- treatments (art. 82-83) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Treatment:
    treatment_id: int
    action: str  # INCLUDE or DISREGARD
    punch_id: str  # the included punch's own id, or the punch disregarded
    employee_id: str
    recorded_at: datetime


def include_punch(
    conn: Connection,
    establishment_id: int,
    employee_id: str,
    at: datetime,
    kind: str,
    reason: str,
    responsible_cpf: str,
) -> Treatment:
    """Record a punch the employee forgot, included by hand with its reason; it gets an id of its own."""
    punch_id = str(uuid.uuid4())
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM employees WHERE establishment_id = %s AND employee_id = %s", (establishment_id, employee_id)
        )
        if cur.fetchone() is None:
            raise InvalidInputError(f"employee {employee_id} is not registered at this establishment")
        cur.execute(
            "INSERT INTO punch_treatments (establishment_id, action, punch_id, employee_id, punched_at, kind, reason,"
            " responsible_cpf) VALUES (%s, 'include', %s, %s, %s, %s, %s, %s) RETURNING treatment_id, recorded_at",
            (establishment_id, punch_id, employee_id, at, kind, reason, responsible_cpf),
        )
        row = cur.fetchone()
        assert row is not None
    return Treatment(int(row[0]), INCLUDE, punch_id, employee_id, row[1])


_PUNCH_OWNER = """
SELECT r.establishment_id, p.employee_id FROM afd_records r JOIN punches p ON p.punch_id = r.punch_id
WHERE r.punch_id = %(punch)s AND r.record_type = 7
UNION ALL
SELECT establishment_id, employee_id FROM punch_treatments WHERE action = 'include' AND punch_id = %(punch)s
"""


def disregard_punch(
    conn: Connection, establishment_id: int | None, punch_id: str, reason: str, responsible_cpf: str
) -> tuple[int, Treatment]:
    """Mark a sealed (or included) punch as disregarded, with its reason; the punch and its seal stay as
    they are. `establishment_id`: the punch must be that establishment's (None: whichever sealed it).
    Returns the punch's establishment and the treatment."""
    with conn, conn.cursor() as cur:
        cur.execute(_PUNCH_OWNER, {"punch": punch_id})
        owner = cur.fetchone()
        if owner is None:
            cur.execute("SELECT 1 FROM punches WHERE punch_id = %s", (punch_id,))
            if cur.fetchone() is None:
                raise InvalidInputError(f"punch {punch_id}: no such punch")
            raise InvalidInputError(
                f"punch {punch_id} is not sealed (its device or employee is not registered): only a sealed"
                " or included punch can be disregarded"
            )
        owner_id, employee_id = int(owner[0]), str(owner[1])
        if establishment_id is not None and owner_id != establishment_id:
            raise InvalidInputError(f"punch {punch_id} is not a punch of this establishment")
        try:
            cur.execute(
                "INSERT INTO punch_treatments (establishment_id, action, punch_id, employee_id, reason,"
                " responsible_cpf) VALUES (%s, 'disregard', %s, %s, %s, %s) RETURNING treatment_id, recorded_at",
                (owner_id, punch_id, employee_id, reason, responsible_cpf),
            )
        except psycopg2.errors.UniqueViolation:
            raise InvalidInputError(f"punch {punch_id} is already disregarded") from None
        row = cur.fetchone()
        assert row is not None
    return owner_id, Treatment(int(row[0]), DISREGARD, punch_id, employee_id, row[1])


# --- reads: the employees and their marks of a period ---------------------------------------------


def sheet_employees(cur: Cursor, establishment_id: int, employee_id: str | None = None) -> list[SheetPerson]:
    """The establishment's employees (removed ones too), in the order `marks` streams them."""
    cur.execute(
        "SELECT employee_id, cpf, name, schedule, active FROM employees WHERE establishment_id = %s"
        ' AND (%s::text IS NULL OR employee_id = %s) ORDER BY employee_id COLLATE "C"',
        (establishment_id, employee_id, employee_id),
    )
    return [SheetPerson(*row) for row in cur.fetchall()]


def establishment_holidays(cur: Cursor, establishment_id: int) -> dict[date, str]:
    return dict(list_holidays(cur, establishment_id))


# The originals are the establishment's SEALED punches (those with a type-7 record of the establishment), of its
# employees, in the period (the BRIN index on punched_at: the period's block ranges only); the included punches
# are treatments; each with the reason it was disregarded, if it was. One query for every employee, in employee
# order ("C": as Python compares the ids, which are ASCII).
_MARKS = """
SELECT * FROM (
    SELECT p.employee_id, p.punch_id, p.punched_at, p.kind, 'original' AS source, d.reason AS disregarded, NULL
    FROM employees e
    JOIN punches p ON p.employee_id = e.employee_id AND p.punched_at >= %(start)s AND p.punched_at < %(end)s
    JOIN afd_records r ON r.punch_id = p.punch_id AND r.establishment_id = e.establishment_id AND r.record_type = 7
    LEFT JOIN punch_treatments d ON d.action = 'disregard' AND d.punch_id = p.punch_id
    WHERE e.establishment_id = %(establishment)s AND (%(employee)s::text IS NULL OR e.employee_id = %(employee)s)
    UNION ALL
    SELECT i.employee_id, i.punch_id, i.punched_at, i.kind, 'included', d.reason, i.reason
    FROM punch_treatments i
    LEFT JOIN punch_treatments d ON d.action = 'disregard' AND d.punch_id = i.punch_id
    WHERE i.establishment_id = %(establishment)s AND i.action = 'include'
      AND i.punched_at >= %(start)s AND i.punched_at < %(end)s
      AND (%(employee)s::text IS NULL OR i.employee_id = %(employee)s)
) m
ORDER BY m.employee_id COLLATE "C", m.punched_at, m.punch_id
"""


def mark_reason(included: str | None, disregarded: str | None) -> str | None:
    """A mark's reason: its inclusion's, its disregard's, or both when an included punch was disregarded."""
    if included is not None and disregarded is not None:
        return f"inclusão: {included}; desconsideração: {disregarded}"
    return disregarded if disregarded is not None else included


def marks(
    conn: Connection, establishment_id: int, start: datetime, end: datetime, employee_id: str | None = None
) -> Iterator[tuple[str, list[Mark]]]:
    """(employee id, their marks in time order) for every employee with a mark in [start, end), in the
    order of `sheet_employees`, in the caller's transaction. Times come back in UTC.

    One query, its rows read into Python objects an employee at a time. Not a server-side cursor: PostgreSQL
    runs a cursor's query without parallel workers, and the join with the establishment's seals is a scan that
    two workers halve (1,000 employees with two years of record: 0.55 s against 1.0 s). What the client holds
    is bounded by the period (a month of 1,000 employees: ~90,000 short rows)."""
    with conn.cursor() as cur:
        cur.execute("SET LOCAL TimeZone = 'UTC'")  # one tzinfo for every row parsed
        cur.execute(_MARKS, {"establishment": establishment_id, "start": start, "end": end, "employee": employee_id})
        for employee, rows in itertools.groupby(cur, key=_first):
            yield (
                employee,
                [
                    Mark(punch_id, at, kind, source)
                    if disregarded is None and included is None
                    else Mark(punch_id, at, kind, source, disregarded is not None, mark_reason(included, disregarded))
                    for _, punch_id, at, kind, source, disregarded, included in rows
                ],
            )


def _first(row: tuple[str, ...]) -> str:
    return row[0]
