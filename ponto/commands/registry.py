"""`ponto employer|employee|device ...`: the registry, each change with its AFD record."""

from __future__ import annotations

import argparse
import csv
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ponto.commands.common import add_database_options, connection, emit, establishment_of
from ponto.errors import InvalidInputError
from ponto.record import registry as rules
from ponto.record.registry import Device, Employee, Establishment
from ponto.store import registry

MAX_IMPORT_ERRORS = 20  # lines reported by a refused import
CSV_HEADER = ("id", "cpf", "name", "schedule")  # the schedule column is optional


def _establishment_json(e: Establishment) -> dict[str, Any]:
    return {
        "document_type": "CNPJ" if e.document_type == 1 else "CPF",
        "document": e.document,
        "name": e.name,
        "workplace": e.workplace,
        "cno_caepf": e.cno_caepf,
        "timezone": e.timezone,
        "state": e.state,
        "city": e.city,
    }


def _employee_json(e: Employee) -> dict[str, Any]:
    return {"employee_id": e.employee_id, "cpf": e.cpf, "name": e.name, "active": e.active, "schedule": e.schedule}


def _device_json(d: Device) -> dict[str, Any]:
    return {"device_id": d.device_id, "kind": d.kind, "name": d.name, "api_key_id": d.api_key_id}


# --- employer -------------------------------------------------------------------------------------


def cmd_employer_add(args: argparse.Namespace) -> int:
    establishment = rules.establishment(
        cnpj=args.cnpj,
        cpf=args.cpf,
        name=args.name,
        workplace=args.workplace,
        cno=args.cno,
        timezone=args.timezone,
        state=args.state,
        city=args.city,
    )
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    with connection(args) as conn:
        added = registry.add_establishment(conn, establishment, responsible)
    emit(args, _establishment_json(added), f"establishment {added.document} registered (AFD record type 2, NSR 1)")
    return 0


def cmd_employer_update(args: argparse.Namespace) -> int:
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    with connection(args) as conn:
        current = establishment_of(conn, args.employer)
        changed = replace(
            current,
            name=current.name if args.name is None else rules.text("name", args.name, 150),
            workplace=current.workplace if args.workplace is None else rules.text("workplace", args.workplace, 100),
            cno_caepf=current.cno_caepf if args.cno is None else rules.cno_caepf(args.cno),
            timezone=current.timezone if args.timezone is None else rules.zone_name(args.timezone),
            state=current.state if args.state is None else rules.state_code(args.state),
            city=current.city if args.city is None else rules.city_name(args.city),
        ).checked_place()
        if changed == current:
            raise InvalidInputError("nothing to change: give --name, --workplace, --cno, --timezone, --state or --city")
        registry.update_establishment(conn, changed, responsible)
    emit(args, _establishment_json(changed), f"establishment {changed.document} changed (AFD record type 2)")
    return 0


def cmd_employer_list(args: argparse.Namespace) -> int:
    with connection(args) as conn, conn, conn.cursor() as cur:
        found = registry.list_establishments(cur)
    lines = [f"{e.document}  {e.timezone:<20}  {e.state or '--'}  {e.name}" for e in found]
    emit(args, [_establishment_json(e) for e in found], "\n".join(lines) or "no establishments registered")
    return 0


# --- employee -------------------------------------------------------------------------------------


def cmd_employee_add(args: argparse.Namespace) -> int:
    employee = rules.employee(args.id, args.cpf, args.name, args.schedule)
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        sealed = registry.add_employees(conn, establishment, [employee], responsible)
    emit(
        args,
        {**_employee_json(employee), "sealed_pending": sealed},
        f"employee {employee.employee_id} registered (AFD record type 5, I); {sealed} pending punches sealed",
    )
    return 0


def cmd_employee_update(args: argparse.Namespace) -> int:
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        assert establishment.establishment_id is not None
        with conn, conn.cursor() as cur:
            current = registry.find_employee(cur, establishment.establishment_id, rules.employee_key(args.id))
        schedule = current.schedule
        if args.no_schedule:
            schedule = None
        elif args.schedule is not None:
            schedule = rules.schedule_text(args.schedule)
        changed = replace(
            current,
            cpf=current.cpf if args.cpf is None else rules.person_cpf(args.cpf),
            name=current.name if args.name is None else rules.text("name", args.name, 150),
            schedule=schedule,
        )
        if changed == current:
            raise InvalidInputError("nothing to change: give --cpf, --name, --schedule or --no-schedule")
        if (changed.cpf, changed.name) != (current.cpf, current.name):
            registry.update_employee(conn, establishment, changed, responsible)
            done = "changed (AFD record type 5, A)"
        else:  # the schedule is not in the AFD's employee record: no record
            registry.update_schedule(conn, establishment, changed.employee_id, changed.schedule)
            done = "schedule changed"
    emit(args, _employee_json(changed), f"employee {changed.employee_id} {done}")
    return 0


def cmd_employee_remove(args: argparse.Namespace) -> int:
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    employee_id = rules.employee_key(args.id)
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        registry.remove_employee(conn, establishment, employee_id, responsible)
    emit(args, {"employee_id": employee_id, "active": False}, f"employee {employee_id} removed (AFD record type 5, E)")
    return 0


def cmd_employee_list(args: argparse.Namespace) -> int:
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        assert establishment.establishment_id is not None
        with conn, conn.cursor() as cur:
            found = registry.list_employees(cur, establishment.establishment_id, include_removed=args.all)
    lines = [f"{e.employee_id:<16} {e.cpf}  {e.name}{'' if e.active else '  (removed)'}" for e in found]
    emit(args, [_employee_json(e) for e in found], "\n".join(lines) or "no employees registered")
    return 0


def read_employee_csv(path: Path) -> list[tuple[int, Employee]]:
    """(line number, employee) for every row of an `id,cpf,name[,schedule]` file, or InvalidInputError
    naming the bad lines (nothing is imported then). An empty schedule cell: no schedule."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path.name} ({type(exc).__name__})") from None
    employees: list[tuple[int, Employee]] = []
    errors: list[str] = []
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            columns = None if header is None else [h.strip().lower() for h in header]
            if columns not in (list(CSV_HEADER[:3]), list(CSV_HEADER)):
                raise InvalidInputError(f"{path.name}: the first line must be the header id,cpf,name[,schedule]")
            assert columns is not None
            for row in reader:
                if not row or row == [""]:
                    continue
                line = reader.line_num
                if len(row) != len(columns):
                    errors.append(
                        f"line {line}: expected {len(columns)} columns ({','.join(columns)}), found {len(row)}"
                    )
                    continue
                schedule = row[3] if len(row) > 3 and row[3].strip() else None
                try:
                    employees.append((line, rules.employee(row[0].strip(), row[1], row[2], schedule)))
                except InvalidInputError as exc:
                    errors.append(f"line {line}: {exc}")
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InvalidInputError(f"{path.name}: not a UTF-8 CSV file ({type(exc).__name__})") from None
    if errors:
        raise _import_error(errors)
    if not employees:
        raise InvalidInputError(f"{path.name}: no employees in the file")
    return employees


def _import_error(errors: list[str]) -> InvalidInputError:
    shown = errors[:MAX_IMPORT_ERRORS]
    more = f"; and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    return InvalidInputError(f"nothing imported: {len(errors)} bad rows: " + "; ".join(shown) + more)


def cmd_employee_import(args: argparse.Namespace) -> int:
    responsible = rules.person_cpf(args.responsible_cpf, "--responsible-cpf")
    rows = read_employee_csv(args.file)
    lines = [line for line, _ in rows]
    employees = [employee for _, employee in rows]
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        assert establishment.establishment_id is not None
        with conn, conn.cursor() as cur:
            conflicts = registry.employee_conflicts(cur, establishment.establishment_id, employees)
        if conflicts:
            raise _import_error([f"line {lines[c.index]}: {c.reason}" for c in conflicts])
        sealed = registry.add_employees(conn, establishment, employees, responsible)
    emit(
        args,
        {"imported": len(employees), "sealed_pending": sealed},
        f"{len(employees)} employees imported (AFD records type 5, I); {sealed} pending punches sealed",
    )
    return 0


# --- device ---------------------------------------------------------------------------------------


def cmd_device_add(args: argparse.Namespace) -> int:
    kind = rules.device_kind(args.kind)
    name = rules.text("name", args.name or f"{kind} clock", 100)
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        usage_plan = args.usage_plan_id or os.environ.get("PONTO_USAGE_PLAN_ID")
        if usage_plan:
            from ponto.aws_api_keys import create_api_key

            api_key, api_key_id = create_api_key(usage_plan, f"ponto-{establishment.document}-{kind}", args.region)
        else:
            from ponto.local.keys import add_key
            from ponto.local.state import new_api_key

            api_key = new_api_key()
            api_key_id = add_key(args.data_dir, api_key)
        device = registry.add_device(conn, establishment, kind, name, api_key_id)
    emit(
        args,
        {**_device_json(device), "api_key": api_key},
        f"device {device.device_id} ({kind}) registered\n  api key (shown once): {api_key}",
    )
    return 0


def cmd_device_list(args: argparse.Namespace) -> int:
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        assert establishment.establishment_id is not None
        with conn, conn.cursor() as cur:
            found = registry.list_devices(cur, establishment.establishment_id)
    lines = [f"{d.device_id}  {d.kind:<8} {d.api_key_id}  {d.name}" for d in found]
    emit(args, [_device_json(d) for d in found], "\n".join(lines) or "no devices registered")
    return 0


# --- the parsers ----------------------------------------------------------------------------------


def _responsible(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--responsible-cpf", required=True, help="CPF of the person responsible for the change (in the AFD record)"
    )


SCHEDULE_HELP = 'contractual schedule, e.g. "mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00"'


def _place(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", help="two-letter state (SP, RJ, ...): the state's holidays on the timesheet")
    parser.add_argument("--city", help="the city (with --state): its holidays, where the calendar knows them")


def add_parsers(commands: Any) -> None:
    employer = commands.add_parser("employer", help="establishments (the employer as the law sees it)")
    actions = employer.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register an establishment (AFD record type 2)")
    document = add.add_mutually_exclusive_group(required=True)
    document.add_argument("--cnpj", help="the establishment's CNPJ (14 digits)")
    document.add_argument("--cpf", help="the employer's CPF, for an employer that is a person")
    add.add_argument("--name", required=True, help="name or company name (up to 150 characters)")
    add.add_argument("--workplace", required=True, help="workplace address (up to 100 characters)")
    add.add_argument("--cno", help="CNO or CAEPF, when there is one")
    add.add_argument("--timezone", help=f"IANA time zone of the AFD's times (default {rules.DEFAULT_TIMEZONE})")
    _place(add)
    _responsible(add)
    add_database_options(add)
    add.set_defaults(run=cmd_employer_add)
    update = actions.add_parser("update", help="change an establishment's data (AFD record type 2)")
    update.add_argument("--employer", "--cnpj", dest="employer", required=True, help="the establishment's CNPJ or CPF")
    update.add_argument("--name")
    update.add_argument("--workplace")
    update.add_argument("--cno")
    update.add_argument("--timezone")
    _place(update)
    _responsible(update)
    add_database_options(update)
    update.set_defaults(run=cmd_employer_update)
    listing = actions.add_parser("list", help="the registered establishments")
    add_database_options(listing)
    listing.set_defaults(run=cmd_employer_list)

    employee = commands.add_parser("employee", help="employees of an establishment")
    actions = employee.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register an employee (AFD record type 5, I); seals their pending punches")
    add.add_argument("--employer", required=True, help="the establishment's CNPJ or CPF")
    add.add_argument("--id", required=True, help="the employee id the clocks send")
    add.add_argument("--cpf", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--schedule", help=SCHEDULE_HELP)
    _responsible(add)
    add_database_options(add)
    add.set_defaults(run=cmd_employee_add)
    update = actions.add_parser(
        "update", help="change an employee's CPF or name (AFD record type 5, A) or schedule (no AFD record)"
    )
    update.add_argument("--employer", required=True)
    update.add_argument("--id", required=True)
    update.add_argument("--cpf")
    update.add_argument("--name")
    schedule = update.add_mutually_exclusive_group()
    schedule.add_argument("--schedule", help=SCHEDULE_HELP)
    schedule.add_argument("--no-schedule", action="store_true", help="the employee has no contractual schedule")
    _responsible(update)
    add_database_options(update)
    update.set_defaults(run=cmd_employee_update)
    remove = actions.add_parser("remove", help="an employee leaves (AFD record type 5, E)")
    remove.add_argument("--employer", required=True)
    remove.add_argument("--id", required=True)
    _responsible(remove)
    add_database_options(remove)
    remove.set_defaults(run=cmd_employee_remove)
    listing = actions.add_parser("list", help="an establishment's employees")
    listing.add_argument("--employer", required=True)
    listing.add_argument("--all", action="store_true", help="removed employees too")
    add_database_options(listing)
    listing.set_defaults(run=cmd_employee_list)
    imports = actions.add_parser(
        "import", help="register employees from a CSV file (header id,cpf,name[,schedule]): all or none"
    )
    imports.add_argument("--employer", required=True)
    imports.add_argument("file", type=Path, metavar="FILE.csv")
    _responsible(imports)
    add_database_options(imports)
    imports.set_defaults(run=cmd_employee_import)
    from ponto.commands.identity import add_employee_actions

    add_employee_actions(actions)

    device = commands.add_parser("device", help="clocks of an establishment and their API keys")
    actions = device.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a clock; prints its API key once")
    add.add_argument("--employer", required=True)
    add.add_argument("--kind", required=True, choices=rules.DEVICE_KINDS, help="collector kind (AFD codes 01-05)")
    add.add_argument("--name", help="a name for people (default: '<kind> clock')")
    add.add_argument(
        "--usage-plan-id",
        help="a deployed stack's usage plan (env PONTO_USAGE_PLAN_ID): the key is made in API Gateway;"
        " without it, in the local gateway's key store (--data-dir)",
    )
    add.add_argument("--region", help="AWS region (env AWS_REGION)")
    add_database_options(add)
    add.set_defaults(run=cmd_device_add)
    listing = actions.add_parser("list", help="an establishment's clocks")
    listing.add_argument("--employer", required=True)
    add_database_options(listing)
    listing.set_defaults(run=cmd_device_list)
