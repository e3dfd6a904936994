"""PostgreSQL side of receipts: a sealed punch of one establishment (and, in personal mode, of one
employee), an employee's receipts since a time, and whose key a read came with.

Every query is scoped by the establishment the caller belongs to: a punch of another establishment is
simply not found, so the read routes answer it as they answer a punch not sealed yet (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.extensions

from ponto.receipts.document import SealedPunch

Cursor = psycopg2.extensions.cursor

_SEALED = """
SELECT r.punch_id, r.line, p.employee_id, e.name, p.kind,
       s.document_type, s.document, s.name, s.workplace, s.cno_caepf
FROM afd_records r
JOIN punches p ON p.punch_id = r.punch_id
JOIN establishments s ON s.establishment_id = r.establishment_id
LEFT JOIN employees e ON e.establishment_id = r.establishment_id AND e.employee_id = p.employee_id
"""


def _sealed(row: tuple[Any, ...]) -> SealedPunch:
    punch_id, line, employee_id, employee_name, kind, document_type, document, name, workplace, cno_caepf = row
    return SealedPunch(
        punch_id, line, employee_id, employee_name, kind, document_type, document, name, workplace, cno_caepf
    )


def sealed_punch(cur: Cursor, establishment_id: int, punch_id: str, employee_id: str | None) -> SealedPunch | None:
    """The punch's seal if it is sealed, of this establishment and (when given) of this employee."""
    query = _SEALED + " WHERE r.punch_id = %s AND r.establishment_id = %s AND r.record_type = 7"
    params: tuple[Any, ...] = (punch_id, establishment_id)
    if employee_id is not None:
        query += " AND p.employee_id = %s"
        params += (employee_id,)
    cur.execute(query, params)
    row = cur.fetchone()
    return _sealed(row) if row is not None else None


def sealed_punch_anywhere(cur: Cursor, punch_id: str) -> SealedPunch | None:
    """The punch's seal whatever its establishment (operators, `ponto receipt`)."""
    cur.execute(_SEALED + " WHERE r.punch_id = %s AND r.record_type = 7", (punch_id,))
    row = cur.fetchone()
    return _sealed(row) if row is not None else None


def sealed_since(cur: Cursor, establishment_id: int, employee_id: str, since: datetime) -> list[SealedPunch]:
    """The employee's sealed punches taken at or after `since`, in NSR order (the punches' index on
    employee and time finds them; the seal's establishment scopes them)."""
    cur.execute(
        _SEALED + " WHERE p.employee_id = %s AND p.punched_at >= %s AND r.establishment_id = %s ORDER BY r.nsr",
        (employee_id, since, establishment_id),
    )
    return [_sealed(row) for row in cur.fetchall()]


def employee_known(cur: Cursor, establishment_id: int, employee_id: str) -> bool:
    cur.execute(
        "SELECT 1 FROM employees WHERE establishment_id = %s AND employee_id = %s", (establishment_id, employee_id)
    )
    return cur.fetchone() is not None


def establishment_of_key(cur: Cursor, api_key_id: str) -> int | None:
    """The establishment of the device whose API key this is; None for a key of no device."""
    cur.execute("SELECT establishment_id FROM devices WHERE api_key_id = %s", (api_key_id,))
    row = cur.fetchone()
    return int(row[0]) if row is not None else None


def establishment_by_document(cur: Cursor, document: str) -> int | None:
    cur.execute("SELECT establishment_id FROM establishments WHERE document = %s", (document,))
    row = cur.fetchone()
    return int(row[0]) if row is not None else None
