"""`ponto timesheet`, `ponto aej`, `ponto holiday ...` and `ponto punch add|disregard`: the timesheet side of
the record (the espelho de ponto, art. 84; the AEJ, art. 83; treatments, art. 82-83)."""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ponto.commands.common import add_database_options, connection, emit, establishment_of, local_state
from ponto.commands.record import _atomic, _day, _target, rep_identity, signing_identity
from ponto.errors import ConfigError, InvalidInputError
from ponto.record import registry as rules
from ponto.record import signing
from ponto.record.registry import Establishment

# The timesheet's modules (the holiday calendar, the renderers, the store's reads) are imported by the commands
# that use them: every other `ponto` command starts without them.
if TYPE_CHECKING:
    from ponto.timesheet import aej, render
    from ponto.timesheet.calendar import HolidayCalendar

FORMATS = ("text", "csv", "json", "html", "pdf")
KINDS = ("in", "out", "break_start", "break_end")
MAX_PUNCH_ID = 200
PROGRAM_NAME = "Ponto"
# Record 08 of an AEJ made against the local stack (its REP identity is a demo one too).
DEMO_DEVELOPER = ("Ponto (demonstração)", "ponto@example.invalid")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


# --- values ---------------------------------------------------------------------------------------


def parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1960:
        raise InvalidInputError("--month: a month as YYYY-MM")
    return int(match[1]), int(match[2])


def parse_instant(text: str, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """--at: an ISO 8601 date and time, with an offset or in the establishment's zone; not in the future."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            "--at: a date and time as YYYY-MM-DDTHH:MM (the establishment's zone or +-HH:MM)"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    if at.year < 1960:
        raise InvalidInputError("--at: a time from 1960 on")
    if at > (now or datetime.now(UTC)) + timedelta(minutes=1):
        raise InvalidInputError("--at: a punch the employee forgot is in the past, not in the future")
    return at


def punch_key(text: str) -> str:
    value = text.strip()
    if not 1 <= len(value) <= MAX_PUNCH_ID or not value.isprintable():
        raise InvalidInputError(f"punch id: 1 to {MAX_PUNCH_ID} printable characters (see the timesheet's marks)")
    return value


def reason_text(text: str) -> str:
    """A treatment's reason: required, as the AEJ's motivo (1 to 150 characters of ISO-8859-1)."""
    return rules.text("--reason", text, 150)


def _establishment_id(establishment: Establishment) -> int:
    assert establishment.establishment_id is not None
    return establishment.establishment_id


def _calendar(cur: Any, establishment: Establishment) -> HolidayCalendar:
    from ponto.store import timesheet as store
    from ponto.timesheet.calendar import HolidayCalendar

    return HolidayCalendar(
        establishment.state, establishment.city, store.establishment_holidays(cur, _establishment_id(establishment))
    )


# --- holiday --------------------------------------------------------------------------------------


def cmd_holiday_add(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store

    day = _required_day(args.date, "DATE")
    name = rules.text("NAME", args.name, 100)
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        store.add_holiday(conn, _establishment_id(establishment), day, name)
    emit(args, {"date": day.isoformat(), "name": name}, f"{day.isoformat()} is a day off of {establishment.document}")
    return 0


def cmd_holiday_remove(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store

    day = _required_day(args.date, "DATE")
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        store.remove_holiday(conn, _establishment_id(establishment), day)
    emit(args, {"date": day.isoformat(), "removed": True}, f"{day.isoformat()} is no longer a company day off")
    return 0


def cmd_holiday_list(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store
    from ponto.timesheet.calendar import HolidayCalendar

    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        with conn, conn.cursor() as cur:
            own = store.list_holidays(cur, _establishment_id(establishment), args.year)
    found = [{"date": day.isoformat(), "name": name, "source": "company"} for day, name in own]
    if args.year is not None:  # every holiday the timesheet counts that year
        legal = HolidayCalendar(establishment.state, establishment.city)
        first = date(args.year, 1, 1)
        for offset in range((date(args.year + 1, 1, 1) - first).days):
            day = first + timedelta(days=offset)
            name = legal.name(day)
            if name is not None:
                found.append({"date": day.isoformat(), "name": name, "source": "law"})
        found.sort(key=lambda item: (item["date"], item["source"] != "law"))
    lines = [f"{item['date']}  {item['source']:<7}  {item['name']}" for item in found]
    emit(args, found, "\n".join(lines) or "no company days off registered")
    return 0


def _required_day(text: str, what: str) -> date:
    day = _day(text, what)
    assert day is not None
    return day


# --- punch add | disregard (treatments) -----------------------------------------------------------


def cmd_punch_add(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store

    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    reason = reason_text(args.reason)
    employee_id = rules.employee_key(args.employee)
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        at = parse_instant(args.at, establishment.zone)
        treatment = store.include_punch(
            conn, _establishment_id(establishment), employee_id, at, args.kind, reason, responsible
        )
    local = at.astimezone(establishment.zone).isoformat(timespec="minutes")
    emit(
        args,
        {
            "treatment_id": treatment.treatment_id,
            "action": treatment.action,
            "punch_id": treatment.punch_id,
            "employee_id": employee_id,
            "at": local,
            "kind": args.kind,
            "reason": reason,
        },
        f"punch {treatment.punch_id} included for employee {employee_id} at {local}"
        f" (treatment {treatment.treatment_id})",
    )
    return 0


def cmd_punch_disregard(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store

    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    reason = reason_text(args.reason)
    punch_id = punch_key(args.punch_id)
    with connection(args) as conn:
        establishment_id = None if args.employer is None else _establishment_id(establishment_of(conn, args.employer))
        _, treatment = store.disregard_punch(conn, establishment_id, punch_id, reason, responsible)
    emit(
        args,
        {
            "treatment_id": treatment.treatment_id,
            "action": treatment.action,
            "punch_id": punch_id,
            "employee_id": treatment.employee_id,
            "reason": reason,
        },
        f"punch {punch_id} of employee {treatment.employee_id} disregarded (treatment {treatment.treatment_id});"
        " the punch and its seal are unchanged",
    )
    return 0


# --- timesheet ------------------------------------------------------------------------------------


def espelho_name(document: str, month: tuple[int, int], employee_id: str | None, extension: str) -> str:
    """The default file name: espelho_<CNPJ or CPF>_<YYYY-MM>[_<employee id>].<format>."""
    year, number = month
    who = "" if employee_id is None else f"_{employee_id}"
    return f"espelho_{document}_{year:04d}-{number:02d}{who}.{extension}"


def cmd_timesheet(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store
    from ponto.timesheet import render
    from ponto.timesheet.espelho import csv_document, employee_months, fetch_window, month_bounds, month_document

    output = _format(args)
    month = parse_month(args.month)
    employee_id = None if args.employee is None else rules.employee_key(args.employee)
    if output == "pdf" and args.out is None and sys.stdout.isatty():
        raise InvalidInputError("--format pdf: give --out PATH (or redirect the output)")
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        establishment_id = _establishment_id(establishment)
        zone = establishment.zone
        first, last = month_bounds(month)
        start, end = fetch_window(first, last, zone)
        with conn, conn.cursor() as cur:
            people = store.sheet_employees(cur, establishment_id, employee_id)
            calendar = _calendar(cur, establishment)
        if employee_id is not None and not people:
            raise InvalidInputError(f"employee {employee_id} is not registered at this establishment")
        target = (
            None
            if args.out is None
            else _target(args.out, espelho_name(establishment.document, month, employee_id, output))
        )
        with conn:
            marks = store.marks(conn, establishment_id, start, end, employee_id)
            document = csv_document if output == "csv" else month_document
            documents = (
                document(person, result)
                for person, result in employee_months(
                    people,
                    marks,
                    month,
                    zone,
                    calendar,
                    everyone=employee_id is not None,
                    today=datetime.now(zone).date(),
                )
            )
            header = render.EspelhoHeader(
                employer_name=establishment.name,
                employer_document=establishment.document,
                employer_document_type=establishment.document_type,
                workplace=establishment.workplace,
                period_start=first,
                period_end=last,
                generated_at=datetime.now(UTC).astimezone(zone),
            )
            employees = _write_espelho(output, documents, header, target, single=employee_id is not None)
    if target is not None:
        print(
            f"{target}: espelho de ponto of {employees} employee{'' if employees == 1 else 's'}, {args.month}, {output}"
        )
    return 0


def _format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise InvalidInputError("--json is --format json: give one of them")
    return "json" if args.json else args.format or "text"


def _write_espelho(
    output: str, documents: Iterator[dict[str, Any]], header: render.EspelhoHeader, target: Path | None, *, single: bool
) -> int:
    """Write the espelho in `output` format to `target` (None: stdout); returns how many employees it holds."""
    from ponto.timesheet import render

    if output == "csv":  # written as computed: the documents of one employee at a time
        counted = _Counted(documents)
        if target is None:
            render.render_csv(counted, sys.stdout)
        else:
            with _atomic(target) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                render.render_csv(counted, text)
                text.flush()
                text.detach()  # the file is _atomic's to close
        return counted.count
    months = list(documents)
    content: str | bytes
    if output == "json":
        content = render.render_json(months, single=single) + "\n"
    elif output == "text":
        content = render.render_text(months)
    elif output == "html":
        content = render.render_html(header, months)
    else:
        content = render.render_pdf(header, months)
    if target is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(content)
    else:
        with _atomic(target) as raw:
            raw.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return len(months)


class _Counted:
    """The documents, counted as they go by."""

    def __init__(self, documents: Iterator[dict[str, Any]]) -> None:
        self._documents = documents
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for document in self._documents:
            self.count += 1
            yield document


# --- aej ------------------------------------------------------------------------------------------


def aej_name(document: str, first: date, last: date) -> str:
    """The default file name: AEJ_<CNPJ or CPF>_<first day>_<last day>.txt (days as YYYYMMDD)."""
    return f"AEJ_{document}_{first:%Y%m%d}_{last:%Y%m%d}.txt"


def program_identity(args: argparse.Namespace, developer_type: int, developer_document: str) -> aej.AejProgram:
    """Record 08: Ponto, its version, and its developer (PONTO_DEVELOPER_CNPJ, PONTO_DEVELOPER_NAME,
    PONTO_DEVELOPER_EMAIL; the local stack's demo values)."""
    from ponto.timesheet import aej

    name = os.environ.get("PONTO_DEVELOPER_NAME")
    email = os.environ.get("PONTO_DEVELOPER_EMAIL")
    if not (name and email) and local_state(args) is not None:
        name, email = name or DEMO_DEVELOPER[0], email or DEMO_DEVELOPER[1]
    if not name or not email:
        raise ConfigError("set PONTO_DEVELOPER_NAME and PONTO_DEVELOPER_EMAIL for the AEJ's record 08 (the program)")
    try:
        version = metadata.version("ponto")
    except metadata.PackageNotFoundError:
        version = "dev"
    return aej.AejProgram(PROGRAM_NAME, version[:8], developer_type, developer_document, name, email)


def cmd_aej(args: argparse.Namespace) -> int:
    from ponto.store import timesheet as store
    from ponto.timesheet import aej
    from ponto.timesheet.aej_marks import aej_file_lines
    from ponto.timesheet.espelho import SheetPerson, fetch_window

    first, last = _required_day(args.date_from, "--from"), _required_day(args.date_to, "--to")
    if first > last:
        raise InvalidInputError("--from is after --to")
    rep = rep_identity(args)
    program = program_identity(args, rep.developer_type, rep.developer_document)
    identity = signing_identity(args)
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        establishment_id = _establishment_id(establishment)
        zone = establishment.zone
        start, end = fetch_window(first, last, zone)
        with conn, conn.cursor() as cur:
            people: Sequence[SheetPerson] = store.sheet_employees(cur, establishment_id)
        with conn:
            marks = list(store.marks(conn, establishment_id, start, end))
    cno_caepf = establishment.cno_caepf
    employer = aej.AejEmployer(
        id_type=establishment.document_type,
        document=establishment.document,
        name=establishment.name,
        caepf=cno_caepf if cno_caepf is not None and len(cno_caepf) == 14 else None,
        cno=cno_caepf if cno_caepf is not None and len(cno_caepf) == 12 else None,
    )
    try:
        lines = aej_file_lines(
            employer=employer,
            first=first,
            last=last,
            generated_at=datetime.now(UTC),
            zone=zone,
            rep_number=rep.inpi,
            people=people,
            marks=marks,
            program=program,
        )
    except ValueError as exc:  # one line, ids only (aej.py's and aej_marks' rule)
        raise InvalidInputError(str(exc)) from None
    target = _target(args.out, aej_name(establishment.document, first, last))
    with _atomic(target) as out:
        size = aej.write_aej(out, lines)
    signature = None if identity is None else signing.sign_file(target, identity)
    counts = _aej_counts(lines)
    emit(
        args,
        {
            "file": str(target),
            "signature": None if signature is None else str(signature),
            "records": counts["records"],
            "marks": counts["marks"],
            "bytes": size,
        },
        f"{target}: {sum(counts['records'].values())} records ({counts['marks']['total']} marks: "
        f"{counts['marks']['included']} included, {counts['marks']['disregarded']} disregarded), {size:,} bytes"
        + ("" if signature is None else f"; signed: {signature.name}"),
    )
    return 0


def _aej_counts(lines: Sequence[str]) -> dict[str, dict[str, int]]:
    from ponto.timesheet import aej

    records: dict[str, int] = {}
    marks = {"total": 0, "original": 0, "included": 0, "disregarded": 0}
    for line in lines[:-1]:  # the signature line is no record
        record_type = line[:2]
        records[record_type] = records.get(record_type, 0) + 1
        if record_type == "05":
            _, fields = aej.read_record(line)
            marks["total"] += 1
            marks["original" if fields["fonteMarc"] == aej.ORIGINAL else "included"] += 1
            marks["disregarded"] += fields["tpMarc"] == aej.DISREGARDED
    return {"records": records, "marks": marks}


# --- the parsers ----------------------------------------------------------------------------------


def _responsible(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--responsible-cpf", required=True, help="CPF of the person responsible for the treatment")


def add_punch_actions(punch: argparse.ArgumentParser) -> None:
    """`ponto punch add|disregard`, beside `ponto punch --employee ID` (which sends a punch)."""
    actions = punch.add_subparsers(dest="action", required=False, metavar="{add,disregard}")
    add = actions.add_parser(
        "add", help="include a punch the employee forgot (a treatment: fonteMarc I, with its reason)"
    )
    add.add_argument("--employer", required=True, help="the establishment's CNPJ or CPF")
    add.add_argument("--employee", required=True, help="the employee id")
    add.add_argument(
        "--at", required=True, help="when: YYYY-MM-DDTHH:MM, in the establishment's zone unless it has an offset"
    )
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--reason", required=True, help="why (up to 150 characters; the AEJ's motivo)")
    _responsible(add)
    add_database_options(add)
    add.set_defaults(run=cmd_punch_add)
    disregard = actions.add_parser(
        "disregard", help="mark a sealed or included punch as disregarded (a treatment: tpMarc D, with its reason)"
    )
    disregard.add_argument("punch_id", metavar="PUNCH_ID", help="the punch's id (the timesheet's marks show it)")
    disregard.add_argument("--employer", help="the establishment's CNPJ or CPF (the punch must be its own)")
    disregard.add_argument("--reason", required=True, help="why (up to 150 characters; the AEJ's motivo)")
    _responsible(disregard)
    add_database_options(disregard)
    disregard.set_defaults(run=cmd_punch_disregard)


def add_parsers(commands: Any) -> None:
    timesheet = commands.add_parser("timesheet", help="the espelho de ponto of a month (art. 84)")
    timesheet.add_argument("--employer", required=True, help="the establishment's CNPJ or CPF")
    timesheet.add_argument("--employee", help="one employee (default: every employee)")
    timesheet.add_argument("--month", required=True, help="YYYY-MM")
    timesheet.add_argument("--format", choices=FORMATS, help="text (default), csv, json, html or pdf")
    timesheet.add_argument(
        "--out", type=Path, help="file or folder (default: stdout; in a folder: espelho_<CNPJ>_<YYYY-MM>.<format>)"
    )
    add_database_options(timesheet, json_output=False)
    timesheet.add_argument("--json", action="store_true", help="the same as --format json")
    timesheet.set_defaults(run=cmd_timesheet)

    aej_parser = commands.add_parser("aej", help="write an establishment's AEJ (arquivo eletrônico de jornada)")
    aej_parser.add_argument("--employer", required=True, help="the establishment's CNPJ or CPF")
    aej_parser.add_argument("--from", dest="date_from", required=True, help="first day (YYYY-MM-DD)")
    aej_parser.add_argument("--to", dest="date_to", required=True, help="last day (inclusive)")
    aej_parser.add_argument(
        "--out", type=Path, help="file or folder (default: AEJ_<CNPJ>_<YYYYMMDD>_<YYYYMMDD>.txt, here)"
    )
    aej_parser.add_argument("--certificate", help="PEM certificate to sign with (env PONTO_SIGNING_CERT)")
    aej_parser.add_argument("--key", help="its PEM private key (env PONTO_SIGNING_KEY)")
    add_database_options(aej_parser)
    aej_parser.set_defaults(run=cmd_aej)

    holiday = commands.add_parser("holiday", help="an establishment's own days off (beside the legal holidays)")
    actions = holiday.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a company day off (or a holiday of a city the calendar does not know)")
    add.add_argument("--employer", required=True)
    add.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    add.add_argument("name", metavar="NAME", help="what it is (up to 100 characters)")
    add_database_options(add)
    add.set_defaults(run=cmd_holiday_add)
    listing = actions.add_parser("list", help="the company's days off; with --year, every holiday of that year")
    listing.add_argument("--employer", required=True)
    listing.add_argument("--year", type=int, help="also the national, state and city holidays of this year")
    add_database_options(listing)
    listing.set_defaults(run=cmd_holiday_list)
    remove = actions.add_parser("remove", help="a company day off that is not one")
    remove.add_argument("--employer", required=True)
    remove.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    add_database_options(remove)
    remove.set_defaults(run=cmd_holiday_remove)
