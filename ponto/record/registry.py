"""The registry's rules (art. 74-75): establishments, employees and devices as plain data, and the
checks an operator's input must pass before anything is written. No database here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ponto.errors import InvalidInputError
from ponto.record import afd, documents

DEFAULT_TIMEZONE = "America/Sao_Paulo"
EMPLOYEE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # what clocks send: the contract's employee_id
DEVICE_KINDS = tuple(afd.COLLECTORS)
MAX_SCHEDULE_LENGTH = 1000  # characters of a schedule's canonical text (the column's limit)


@dataclass(frozen=True)
class Establishment:
    document_type: int  # afd.CNPJ or afd.CPF
    document: str
    name: str
    workplace: str
    cno_caepf: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    establishment_id: int | None = None
    state: str | None = None  # two letters (SP): the state's holidays on the timesheet
    city: str | None = None  # its city, for the city's holidays

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def checked_place(self) -> Establishment:
        """Itself, when its city comes with its state (InvalidInputError otherwise)."""
        if self.city is not None and self.state is None:
            raise InvalidInputError("--city: give the establishment's --state too")
        return self


@dataclass(frozen=True)
class Employee:
    employee_id: str
    cpf: str
    name: str
    active: bool = True
    schedule: str | None = None  # the contractual schedule's canonical text (ponto.timesheet.schedule)


@dataclass(frozen=True)
class Device:
    device_id: str
    kind: str
    name: str
    api_key_id: str

    @property
    def collector(self) -> int:
        return afd.COLLECTORS[self.kind]


def establishment(
    *,
    cnpj: str | None,
    cpf: str | None,
    name: str,
    workplace: str,
    cno: str | None = None,
    timezone: str | None = None,
    state: str | None = None,
    city: str | None = None,
) -> Establishment:
    if (cnpj is None) == (cpf is None):
        raise InvalidInputError("give the establishment's CNPJ or its CPF (one of them)")
    if cnpj is not None:
        document_type, document = afd.CNPJ, _document(documents.cnpj, cnpj)
    else:
        document_type, document = afd.CPF, _document(documents.cpf, cpf or "")
    return Establishment(
        document_type=document_type,
        document=document,
        name=text("name", name, 150),
        workplace=text("workplace", workplace, 100),
        cno_caepf=None if cno is None else cno_caepf(cno),
        timezone=zone_name(timezone or DEFAULT_TIMEZONE),
        state=None if state is None else state_code(state),
        city=None if city is None else city_name(city),
    ).checked_place()


def employer_document(value: str) -> str:
    """The --employer of a command: an establishment's CNPJ or CPF, digits only."""
    digits = re.sub(r"[.\-/\s]", "", value)
    if len(digits) == 14:
        return _document(documents.cnpj, digits)
    if len(digits) == 11:
        return _document(documents.cpf, digits)
    raise InvalidInputError("--employer: an establishment's CNPJ (14 digits) or CPF (11 digits)")


def cno_caepf(value: str) -> str:
    """An establishment's CNO (12 digits) or CAEPF (14)."""
    return _document(documents.cno, value)


def employee(employee_id: str, cpf: str, name: str, schedule: str | None = None) -> Employee:
    return Employee(
        employee_id=employee_key(employee_id),
        cpf=person_cpf(cpf),
        name=text("name", name, 150),
        schedule=None if schedule is None else schedule_text(schedule),
    )


def schedule_text(value: str) -> str:
    """A contractual schedule (`mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00`) in its canonical text; a
    malformed one is an InvalidInputError naming the bad part."""
    from ponto.timesheet.schedule import ScheduleError, parse_schedule

    try:
        canonical = parse_schedule(value).text
    except ScheduleError as exc:
        raise InvalidInputError(str(exc)) from None
    if len(canonical) > MAX_SCHEDULE_LENGTH:
        raise InvalidInputError(f"schedule: more than {MAX_SCHEDULE_LENGTH} characters")
    return canonical


def state_code(value: str) -> str:
    """A Brazilian state (federative unit) as its two-letter code, as the holiday calendar knows them."""
    from ponto.timesheet.calendar import STATES

    code = value.strip().upper()
    if code not in STATES:
        raise InvalidInputError(f"--state: a Brazilian state's two letters ({' '.join(sorted(STATES))})")
    return code


def city_name(value: str) -> str:
    return text("city", value, 100)


def employee_key(value: str) -> str:
    if EMPLOYEE_ID.fullmatch(value) is None:
        raise InvalidInputError("employee id: 1 to 64 of A-Z a-z 0-9 . _ - (what the clocks send)")
    return value


def person_cpf(value: str, what: str = "CPF") -> str:
    try:
        return documents.cpf(value)
    except documents.InvalidDocumentError as exc:
        raise InvalidInputError(f"{what}: {_reason(exc).removeprefix('CPF: ')}") from None


def device_kind(value: str) -> str:
    if value not in afd.COLLECTORS:
        raise InvalidInputError(f"device kind: one of {', '.join(DEVICE_KINDS)}")
    return value


def text(what: str, value: str, limit: int) -> str:
    """A name or address: trimmed, 1..limit characters, printable, representable in ISO-8859-1 (the
    AFD's encoding), so the record prints exactly what was registered."""
    value = " ".join(value.split())
    if not 1 <= len(value) <= limit:
        raise InvalidInputError(f"{what}: 1 to {limit} characters")
    try:
        value.encode(afd.ENCODING)
    except UnicodeEncodeError:
        raise InvalidInputError(f"{what}: only characters of ISO-8859-1 (the AFD's encoding)") from None
    if not value.isprintable():
        raise InvalidInputError(f"{what}: printable characters only")
    return value


def zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError("time zone: an IANA name such as America/Sao_Paulo") from None
    return value


def _document(parse: Callable[[str], str], value: str) -> str:
    try:
        return parse(value)
    except documents.InvalidDocumentError as exc:
        raise InvalidInputError(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
