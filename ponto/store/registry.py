"""PostgreSQL side of the registry: establishments, employees and devices, each change with its AFD
record (type 2 for the establishment, type 5 for employees) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from ponto.errors import InvalidInputError
from ponto.record import afd
from ponto.record.registry import Device, Employee, Establishment
from ponto.store import record

Connection = psycopg2.extensions.connection
Cursor = psycopg2.extensions.cursor

_ESTABLISHMENT_COLUMNS = "establishment_id, document_type, document, name, workplace, cno_caepf, timezone, state, city"
_EMPLOYEE_COLUMNS = "employee_id, cpf, name, active, schedule"


def _establishment(row: tuple[Any, ...]) -> Establishment:
    establishment_id, document_type, document, name, workplace, cno_caepf, timezone, state, city = row
    return Establishment(
        document_type, document, name, workplace, cno_caepf, timezone, establishment_id, state=state, city=city
    )


def _employer_builder(establishment: Establishment, responsible_cpf: str) -> record.RecordBuilder:
    def build(nsr: int, recorded_dh: str) -> str:
        return afd.employer_record(
            nsr=nsr,
            recorded_at=recorded_dh,
            responsible_cpf=responsible_cpf,
            employer_type=establishment.document_type,
            employer_document=establishment.document,
            cno_caepf=establishment.cno_caepf,
            name=establishment.name,
            workplace=establishment.workplace,
        )

    return build


def _employee_builder(operation: str, employee: Employee, responsible_cpf: str) -> record.RecordBuilder:
    return lambda nsr, recorded_dh: afd.employee_record(
        nsr=nsr,
        recorded_at=recorded_dh,
        operation=operation,
        cpf=employee.cpf,
        name=employee.name,
        responsible_cpf=responsible_cpf,
    )


# --- establishments -------------------------------------------------------------------------------


def add_establishment(conn: Connection, establishment: Establishment, responsible_cpf: str) -> Establishment:
    """Register the establishment and write its first record (type 2, NSR 1)."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO establishments (document_type, document, name, workplace, cno_caepf, timezone, state, city)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (document) DO NOTHING RETURNING establishment_id",
            (
                establishment.document_type,
                establishment.document,
                establishment.name,
                establishment.workplace,
                establishment.cno_caepf,
                establishment.timezone,
                establishment.state,
                establishment.city,
            ),
        )
        row = cur.fetchone()
        if row is None:
            raise InvalidInputError("an establishment with this CNPJ/CPF is already registered")
        added = replace(establishment, establishment_id=int(row[0]))
        cur.execute("INSERT INTO record_heads (establishment_id) VALUES (%s)", (added.establishment_id,))
        record.append_records(cur, row[0], 2, [_employer_builder(added, responsible_cpf)])
    return added


def update_establishment(conn: Connection, changed: Establishment, responsible_cpf: str) -> Establishment:
    """Change the establishment's data (not its CNPJ/CPF) and write a type-2 record of the change."""
    assert changed.establishment_id is not None
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE establishments SET name = %s, workplace = %s, cno_caepf = %s, timezone = %s, state = %s, city = %s"
            " WHERE establishment_id = %s",
            (
                changed.name,
                changed.workplace,
                changed.cno_caepf,
                changed.timezone,
                changed.state,
                changed.city,
                changed.establishment_id,
            ),
        )
        record.append_records(cur, changed.establishment_id, 2, [_employer_builder(changed, responsible_cpf)])
    return changed


def find_establishment(cur: Cursor, document: str) -> Establishment:
    cur.execute(f"SELECT {_ESTABLISHMENT_COLUMNS} FROM establishments WHERE document = %s", (document,))
    row = cur.fetchone()
    if row is None:
        raise InvalidInputError("unknown establishment (see `ponto employer list`)")
    return _establishment(row)


def list_establishments(cur: Cursor) -> list[Establishment]:
    cur.execute(f"SELECT {_ESTABLISHMENT_COLUMNS} FROM establishments ORDER BY establishment_id")
    return [_establishment(row) for row in cur.fetchall()]


# --- employees ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmployeeConflict:
    index: int  # position in the list given
    reason: str


def employee_conflicts(cur: Cursor, establishment_id: int, employees: Sequence[Employee]) -> list[EmployeeConflict]:
    """Why some of `employees` cannot be inserted: an id or a CPF already active, or repeated in the list."""
    conflicts: list[EmployeeConflict] = []
    cur.execute(
        "SELECT employee_id, cpf FROM employees WHERE establishment_id = %s AND active"
        " AND (employee_id = ANY(%s) OR cpf = ANY(%s))",
        (establishment_id, [e.employee_id for e in employees], [e.cpf for e in employees]),
    )
    taken_ids, taken_cpfs = set(), set()
    for employee_id, cpf in cur.fetchall():
        taken_ids.add(employee_id)
        taken_cpfs.add(cpf)
    seen_ids: dict[str, int] = {}
    seen_cpfs: dict[str, int] = {}
    for index, employee in enumerate(employees):
        if employee.employee_id in taken_ids:
            conflicts.append(EmployeeConflict(index, f"employee {employee.employee_id} is already registered"))
        elif employee.cpf in taken_cpfs:
            conflicts.append(
                EmployeeConflict(index, f"the CPF of employee {employee.employee_id} is already registered")
            )
        elif employee.employee_id in seen_ids:
            conflicts.append(EmployeeConflict(index, f"employee {employee.employee_id} appears twice"))
        elif employee.cpf in seen_cpfs:
            conflicts.append(EmployeeConflict(index, f"the CPF of employee {employee.employee_id} appears twice"))
        seen_ids.setdefault(employee.employee_id, index)
        seen_cpfs.setdefault(employee.cpf, index)
    return conflicts


def add_employees(
    conn: Connection, establishment: Establishment, employees: Sequence[Employee], responsible_cpf: str
) -> int:
    """Insert the employees (all or none: InvalidInputError names the first conflicts) with one type-5
    record each; then seal their pending punches. Returns how many punches that sealed."""
    assert establishment.establishment_id is not None
    establishment_id = establishment.establishment_id
    with conn, conn.cursor() as cur:
        record.lock_heads(cur, [establishment_id])  # serialises registrations of this establishment
        conflicts = employee_conflicts(cur, establishment_id, employees)
        if conflicts:
            raise InvalidInputError(conflicts[0].reason)
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO employees AS e (establishment_id, employee_id, cpf, name, schedule) VALUES %s"
            " ON CONFLICT (establishment_id, employee_id) DO UPDATE"
            " SET cpf = excluded.cpf, name = excluded.name, schedule = excluded.schedule, active = true"
            " WHERE NOT e.active",
            [(establishment_id, e.employee_id, e.cpf, e.name, e.schedule) for e in employees],
            page_size=1000,
        )
        record.append_records(cur, establishment_id, 5, [_employee_builder("I", e, responsible_cpf) for e in employees])
    return record.seal_pending(conn, establishment_id, [e.employee_id for e in employees])


def find_employee(cur: Cursor, establishment_id: int, employee_id: str) -> Employee:
    cur.execute(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM employees WHERE establishment_id = %s AND employee_id = %s",
        (establishment_id, employee_id),
    )
    row = cur.fetchone()
    if row is None or not row[3]:
        raise InvalidInputError(f"employee {employee_id} is not registered at this establishment")
    return Employee(*row)


def update_employee(conn: Connection, establishment: Establishment, changed: Employee, responsible_cpf: str) -> None:
    """Change the employee's CPF or name (and schedule) with a type-5 record (A) of the change."""
    assert establishment.establishment_id is not None
    with conn, conn.cursor() as cur:
        record.lock_heads(cur, [establishment.establishment_id])
        cur.execute(
            "SELECT 1 FROM employees WHERE establishment_id = %s AND cpf = %s AND active AND employee_id <> %s",
            (establishment.establishment_id, changed.cpf, changed.employee_id),
        )
        if cur.fetchone() is not None:
            raise InvalidInputError(f"the CPF of employee {changed.employee_id} is registered to another employee")
        cur.execute(
            "UPDATE employees SET cpf = %s, name = %s, schedule = %s"
            " WHERE establishment_id = %s AND employee_id = %s AND active",
            (changed.cpf, changed.name, changed.schedule, establishment.establishment_id, changed.employee_id),
        )
        if cur.rowcount != 1:
            raise InvalidInputError(f"employee {changed.employee_id} is not registered at this establishment")
        record.append_records(
            cur, establishment.establishment_id, 5, [_employee_builder("A", changed, responsible_cpf)]
        )


def update_schedule(conn: Connection, establishment: Establishment, employee_id: str, schedule: str | None) -> None:
    """Change only the employee's contractual schedule: not a field of the AFD's type-5 record, so no record."""
    assert establishment.establishment_id is not None
    with conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE employees SET schedule = %s WHERE establishment_id = %s AND employee_id = %s AND active",
            (schedule, establishment.establishment_id, employee_id),
        )
        if cur.rowcount != 1:
            raise InvalidInputError(f"employee {employee_id} is not registered at this establishment")


def remove_employee(conn: Connection, establishment: Establishment, employee_id: str, responsible_cpf: str) -> None:
    """The employee leaves (type 5, E): kept, inactive; their punches from now on stay unsealed."""
    assert establishment.establishment_id is not None
    with conn, conn.cursor() as cur:
        record.lock_heads(cur, [establishment.establishment_id])
        removed = find_employee(cur, establishment.establishment_id, employee_id)
        cur.execute(
            "UPDATE employees SET active = false WHERE establishment_id = %s AND employee_id = %s",
            (establishment.establishment_id, employee_id),
        )
        record.append_records(
            cur, establishment.establishment_id, 5, [_employee_builder("E", removed, responsible_cpf)]
        )


def list_employees(cur: Cursor, establishment_id: int, *, include_removed: bool = False) -> list[Employee]:
    cur.execute(
        f"SELECT {_EMPLOYEE_COLUMNS} FROM employees WHERE establishment_id = %s"
        " AND (active OR %s) ORDER BY employee_id",
        (establishment_id, include_removed),
    )
    return [Employee(*row) for row in cur.fetchall()]


# --- devices --------------------------------------------------------------------------------------


def add_device(conn: Connection, establishment: Establishment, kind: str, name: str, api_key_id: str) -> Device:
    device = Device(device_id=str(uuid.uuid4()), kind=kind, name=name, api_key_id=api_key_id)
    with conn, conn.cursor() as cur:
        try:
            cur.execute(
                "INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id) VALUES (%s, %s, %s, %s, %s)",
                (device.device_id, establishment.establishment_id, kind, name, api_key_id),
            )
        except psycopg2.errors.UniqueViolation:
            raise InvalidInputError("this API key already belongs to a device") from None
    return device


def list_devices(cur: Cursor, establishment_id: int) -> list[Device]:
    cur.execute(
        "SELECT device_id, kind, name, api_key_id FROM devices WHERE establishment_id = %s ORDER BY created_at",
        (establishment_id,),
    )
    return [Device(*row) for row in cur.fetchall()]


def device_for_key(cur: Cursor, api_key_id: str) -> tuple[Device, int] | None:
    cur.execute(
        "SELECT device_id, kind, name, api_key_id, establishment_id FROM devices WHERE api_key_id = %s",
        (api_key_id,),
    )
    row = cur.fetchone()
    return None if row is None else (Device(*row[:4]), int(row[4]))
