"""The AEJ (arquivo eletrônico de jornada, Portaria MTP 671/2021 art. 83 and Anexo VI): what the timesheet
made of the record, one pipe-delimited line per record. The one module that knows its layout.

Source: the Ministry's "Leiaute do Arquivo Eletrônico de Jornada - AEJ" (gov.br, inspecao-do-trabalho/
fiscalizacao-do-trabalho/leiaute-do-arquivo-eletronico-de-jornada-aej.pdf), read through public
transcriptions of its tables and rules (its items 1 to 6 and every record's table, field by field) and
checked against public implementations (the ACBr library's ACBrPonto.AEJ, and generators that follow the
2026 edition). Its rules: ISO-8859-1 text; every line one record, ended by CR LF; a "|" after every field
but the last of its record (so a line neither starts nor ends with "|", unless its last field is empty);
no blank lines; N numeric, A alphanumeric, H "hhmm", D "AAAA-MM-dd", DH "AAAA-MM-ddThh:mm:00ZZZZZ"
(seconds always 00, the offset's sign and four digits, e.g. 2026-11-24T08:01:00-0300). The records in this
order: 01 header, 02 REPs used, 03 employment links (vínculos), 04 contractual schedules, 05 marks,
06 eSocial registration numbers, 07 absences and hour bank, 08 the timesheet program (PTRP), 99 trailer;
then the signature line, "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S" space-filled to 100 characters, the signature
itself being a detached CMS (CAdES) .p7s of the file, made elsewhere (ponto.record.signing).

Choices where the layout is silent or unclear:
- versaoAej: "002". The Anexo VI of 2021 said "001"; the layout the Ministry republished on gov.br in
  July 2026 says "002", with the same records and fields (LAYOUT_VERSION is the one place to change it).
- A field the layout lists is always written, empty when it has no value ("0 a N" sizes, caepf/cno "caso
  exista"): its item 4 says every line holds the fields of its record. So record 04 always carries
  hrEntrada02/hrSaida02 (empty for a one-pair schedule), and pairs 03, 04, ... follow when there are more.
- Variable sizes ("1 a 150") are written as they are, never padded; fixed numeric sizes are written with
  all their digits: seqEntSaida (size 3) is zero-filled, "001", as the AFD writes its counters.
- Free text (names, motivo, program data): NFC-normalised; "|", CR, LF and every other control character
  become a space, runs of spaces one space, ends stripped; a character ISO-8859-1 cannot encode becomes
  "?" (as the AFD does); then cut to the field's maximum size. A required text field left empty after
  that is a ValueError. A code (codHorContratual) is not free text: one empty, longer than 30, or with a
  character the rule above would change is a ValueError.
- idtVinculoAej and idRepAej are numbered 1, 2, ... in the order the employees and REPs are given.
- Marks are written by vínculo, then by time (stable: equal times keep the order given).
- codHorContratual is required on a journey's first entry (tpMarc E, seqEntSaida 1): the mark's own
  schedule code, else its employee's; it is left empty on every other mark.
- nrRep: the 17 digits of the INPI registration (REP-P), exactly as the AFD writes them; a mark with
  fonteMarc "O" must name a REP, others may.
- Record 06 is written for every employee given an eSocial registration (the layout wants it for
  employees with more than one vínculo in the file; which ones is the caller's knowledge).
- Times (dataHoraMarc, dataHoraGerAej) are written in the establishment's time zone (`zone`), as the AFD.
- emailDesenv is typed "N" in the layout, an evident slip: written as text.

A ValueError raised here is one line and names ids (an employee's id, a REP's or schedule's code, a
mark's position), never a CPF or a name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import BinaryIO, NamedTuple

from ponto.record.afd import ENCODING, EOL, SIGNATURE_LINE, d, dh

LAYOUT_VERSION = "002"
DELIMITER = "|"

# Codes of the layout.
CNPJ = 1  # tpIdtEmpregador, tpIdtDesenv
CPF = 2
REP_C, REP_A, REP_P = 1, 2, 3  # tpRep
ENTRY, EXIT, DISREGARDED = "E", "S", "D"  # tpMarc
TP_MARC = (ENTRY, EXIT, DISREGARDED)
ORIGINAL, INCLUDED, PRE_ASSIGNED, EXCEPTION, OTHER_SOURCE = "O", "I", "P", "X", "T"  # fonteMarc
FONTE_MARC = (ORIGINAL, INCLUDED, PRE_ASSIGNED, EXCEPTION, OTHER_SOURCE)
DSR, UNJUSTIFIED_ABSENCE, HOUR_BANK, HOLIDAY_TIME_OFF = 1, 2, 3, 4  # tipoAusenOuComp
BANK_CREDIT, BANK_DEBIT = 1, 2  # tipoMovBH: hours into the bank, hours compensated from it

MAX_ID = 999_999_999  # "1 a 9" digits
MAX_SEQ = 999  # seqEntSaida, 3 digits


class AejField(NamedTuple):
    """One field of a record as the layout's table gives it."""

    name: str
    size: str  # as the layout writes it: "2", "1 a 150", "0 a 9", "11 ou 14", "0 ou 4"
    kind: str  # N, A, H, D, DH
    required: bool  # False: "0 a N", "0 ou N", or "caso exista"/"obrigatório quando ..." in the layout


def _f(name: str, size: str, kind: str, required: bool = True) -> AejField:
    return AejField(name, size, kind, required)


_TIPO_REG = _f("tipoReg", "2", "N")

# The layout in one place: record type -> its fields, in order.
LAYOUT: dict[str, tuple[AejField, ...]] = {
    "01": (  # cabeçalho
        _TIPO_REG,
        _f("tpIdtEmpregador", "1", "N"),  # 1 CNPJ, 2 CPF
        _f("idtEmpregador", "11 ou 14", "N"),
        _f("caepf", "14", "N", False),  # "caso exista"
        _f("cno", "12", "N", False),  # "caso exista"
        _f("razaoOuNome", "1 a 150", "A"),
        _f("dataInicialAej", "10", "D"),
        _f("dataFinalAej", "10", "D"),
        _f("dataHoraGerAej", "24", "DH"),
        _f("versaoAej", "3", "A"),
    ),
    "02": (  # REPs utilizados
        _TIPO_REG,
        _f("idRepAej", "1 a 9", "N"),
        _f("tpRep", "1", "N"),  # 1 REP-C, 2 REP-A, 3 REP-P
        _f("nrRep", "17", "N", False),  # required when a mark of this REP has fonteMarc "O"; REP-P: INPI number
    ),
    "03": (  # vínculos
        _TIPO_REG,
        _f("idtVinculoAej", "1 a 9", "N"),
        _f("cpf", "11", "N"),
        _f("nomeEmp", "1 a 150", "A"),
    ),
    "04": (  # horário contratual; pairs 03, 04, ... follow pair 02 when the schedule has them
        _TIPO_REG,
        _f("codHorContratual", "1 a 30", "A"),
        _f("durJornada", "1 a 12", "N"),  # minutes; a night schedule's counts the reduced night hour
        _f("hrEntrada01", "4", "H"),
        _f("hrSaida01", "4", "H"),
        _f("hrEntrada02", "0 ou 4", "H", False),
        _f("hrSaida02", "0 ou 4", "H", False),
    ),
    "05": (  # marcações
        _TIPO_REG,
        _f("idtVinculoAej", "1 a 9", "N"),
        _f("dataHoraMarc", "24", "DH"),
        _f("idRepAej", "0 a 9", "N", False),
        _f("tpMarc", "1", "A"),  # E entry, S exit, D disregarded
        _f("seqEntSaida", "3", "N"),  # the entry/exit pair's number in the journey
        _f("fonteMarc", "1", "A"),  # O original, I included by hand, P pre-assigned, X exception, T other
        _f("codHorContratual", "0 a 30", "A", False),  # required on tpMarc E with seqEntSaida 1
        _f("motivo", "0 a 150", "A", False),  # required when tpMarc is D or fonteMarc is I
    ),
    "06": (  # matrícula eSocial, for employees with more than one vínculo in the file
        _TIPO_REG,
        _f("idtVinculoAej", "1 a 9", "N"),
        _f("matEsocial", "1 a 30", "A"),
    ),
    "07": (  # ausências e banco de horas
        _TIPO_REG,
        _f("idtVinculoAej", "1 a 9", "N"),
        _f("tipoAusenOuComp", "1", "N"),  # 1 DSR, 2 unjustified absence, 3 hour bank, 4 holiday time off
        _f("data", "10", "D"),
        _f("qtMinutos", "0 a 12", "N", False),  # required when tipoAusenOuComp is 3
        _f("tipoMovBH", "0 ou 1", "N", False),  # 1 into the bank, 2 compensated; required when 3
    ),
    "08": (  # identificação do PTRP (programa de tratamento de registro de ponto)
        _TIPO_REG,
        _f("nomeProg", "1 a 150", "A"),
        _f("versaoProg", "1 a 8", "A"),
        _f("tpIdtDesenv", "1", "N"),  # 1 CNPJ, 2 CPF
        _f("idtDesenv", "11 ou 14", "N"),
        _f("razaoNomeDesenv", "1 a 150", "A"),
        _f("emailDesenv", "1 a 50", "N"),  # sic: an e-mail address, written as text
    ),
    "99": (  # trailer
        _TIPO_REG,
        *(_f(f"qtRegistrosTipo{n:02d}", "1 a 9", "N") for n in range(1, 9)),
    ),
}
RECORD_TYPES = tuple(LAYOUT)  # the order records appear in the file
COUNTED_TYPES = RECORD_TYPES[:-1]  # what the trailer counts: 01 to 08


def field_names(record_type: str, field_count: int | None = None) -> tuple[str, ...]:
    """The names of a record's fields; for a type-04 record of `field_count` fields, with its pairs
    hrEntradaNN/hrSaidaNN beyond the second."""
    names = tuple(field.name for field in LAYOUT[record_type])
    if record_type != "04" or field_count is None or field_count <= len(names):
        return names
    extra = range(3, 3 + (field_count - len(names) + 1) // 2)
    return names + tuple(name for n in extra for name in (f"hrEntrada{n:02d}", f"hrSaida{n:02d}"))


def read_record(line: str) -> tuple[str, dict[str, str]]:
    """A line of an AEJ (its CRLF optional) as its record type and its fields by name. ValueError when
    its record type is unknown or its field count is not its record's."""
    values = line.removesuffix(EOL).split(DELIMITER)
    record_type = values[0]
    if record_type not in LAYOUT:
        raise ValueError("AEJ: not a record line of a known type")
    names = field_names(record_type, len(values))
    if len(values) != len(names) or (record_type == "04" and len(values) % 2 == 0):
        raise ValueError(f"AEJ record {record_type}: {len(values)} fields, the layout has {len(names)}")
    return record_type, dict(zip(names, values, strict=True))


# --- input ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AejEmployer:
    """The establishment (record 01)."""

    id_type: int  # CNPJ (1) or CPF (2)
    document: str  # 14 or 11 digits
    name: str
    caepf: str | None = None  # 14 digits
    cno: str | None = None  # 12 digits


@dataclass(frozen=True)
class AejRep:
    """A REP whose marks the file holds (record 02). `id` is the caller's; the file numbers REPs 1, 2, ..."""

    id: str
    number: str  # nrRep: 17 digits (a REP-P's INPI registration number)
    kind: int = REP_P


@dataclass(frozen=True)
class AejEmployee:
    """An employment link (record 03; 06 when `esocial_registration` is given). `id` is the caller's."""

    id: str
    cpf: str  # 11 digits
    name: str
    schedule_code: str | None = None  # default codHorContratual of the employee's first entries
    esocial_registration: str | None = None  # matEsocial


@dataclass(frozen=True)
class AejSchedule:
    """A contractual schedule (record 04): `pairs` of ("hhmm", "hhmm") entry/exit times."""

    code: str
    duration_minutes: int  # durJornada; a night schedule's counts the reduced night hour
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AejMark:
    """A treated mark (record 05)."""

    employee_id: str
    at: datetime  # aware
    tp_marc: str  # E, S or D
    seq: int  # seqEntSaida, 1 to 999 (see number_pairs)
    fonte_marc: str = ORIGINAL  # O, I, P, X or T
    rep_id: str | None = None  # an AejRep's id; required when fonte_marc is O
    schedule_code: str | None = None  # codHorContratual (first entry only; else the employee's)
    motivo: str | None = None  # required when tp_marc is D or fonte_marc is I


@dataclass(frozen=True)
class AejAbsence:
    """An absence or an hour-bank movement (record 07)."""

    employee_id: str
    kind: int  # tipoAusenOuComp: DSR, UNJUSTIFIED_ABSENCE, HOUR_BANK or HOLIDAY_TIME_OFF
    day: date
    minutes: int | None = None  # qtMinutos; required for HOUR_BANK
    bank_movement: int | None = None  # tipoMovBH: BANK_CREDIT or BANK_DEBIT; HOUR_BANK only, and required


@dataclass(frozen=True)
class AejProgram:
    """The timesheet program and its developer (record 08)."""

    name: str
    version: str  # up to 8 characters
    developer_id_type: int  # CNPJ (1) or CPF (2)
    developer_document: str
    developer_name: str
    developer_email: str


# --- field values ---------------------------------------------------------------------------------

# C0 and C1 control characters, DEL and the delimiter would break the line into other fields or lines.
_BREAKERS = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0), ord(DELIMITER))}


def aej_text(value: str, max_length: int) -> str:
    """A free-text (A) field: NFC, the delimiter and control characters as spaces, spaces collapsed and
    stripped, characters ISO-8859-1 lacks as '?', cut to `max_length`. Never raises."""
    text = " ".join(unicodedata.normalize("NFC", value).translate(_BREAKERS).split())
    return text.encode(ENCODING, "replace").decode(ENCODING)[:max_length].rstrip()


def _required_text(value: str, max_length: int, what: str) -> str:
    text = aej_text(value, max_length)
    if not text:
        raise ValueError(f"{what}: required (1 to {max_length} characters)")
    return text


def _code(value: str, what: str) -> str:
    if not value or len(value) > 30 or aej_text(value, 30) != value:
        raise ValueError(f"{what}: a code of 1 to 30 ISO-8859-1 characters, no '|', spaces only inside")
    return value


def _digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    # isascii: str.isdigit() also takes "²" and other scripts' digits.
    if len(value) not in lengths or not (value.isascii() and value.isdigit()):
        raise ValueError(f"{what}: {' or '.join(map(str, lengths))} digits")
    return value


def _id_document(id_type: int, document: str, what: str) -> str:
    if id_type == CNPJ:
        return _digits(document, (14,), f"{what} (CNPJ)")
    if id_type == CPF:
        return _digits(document, (11,), f"{what} (CPF)")
    raise ValueError(f"{what}: id type {CNPJ} (CNPJ) or {CPF} (CPF)")


def _hhmm(value: str, what: str) -> str:
    if len(value) != 4 or not (value.isascii() and value.isdigit()) or int(value[:2]) > 23 or int(value[2:]) > 59:
        raise ValueError(f"{what}: a time 'hhmm' (0000 to 2359)")
    return value


def _line(*fields: str | int) -> str:
    return DELIMITER.join(str(field) for field in fields)


# --- records --------------------------------------------------------------------------------------


def header_record(
    employer: AejEmployer, period_start: date, period_end: date, generated_at: datetime, zone: tzinfo
) -> str:
    """Record 01."""
    if period_end < period_start:
        raise ValueError("AEJ header: dataFinalAej is before dataInicialAej")
    return _line(
        "01",
        employer.id_type,
        _id_document(employer.id_type, employer.document, "AEJ header: idtEmpregador"),
        _digits(employer.caepf, (14,), "AEJ header: caepf") if employer.caepf else "",
        _digits(employer.cno, (12,), "AEJ header: cno") if employer.cno else "",
        _required_text(employer.name, 150, "AEJ header: razaoOuNome"),
        d(period_start),
        d(period_end),
        dh(generated_at, zone),
        LAYOUT_VERSION,
    )


def rep_record(number: int, rep: AejRep) -> str:
    """Record 02: the REP numbered `number` in this file."""
    if rep.kind not in (REP_C, REP_A, REP_P):
        raise ValueError(f"AEJ REP {rep.id}: tpRep is {REP_C} (REP-C), {REP_A} (REP-A) or {REP_P} (REP-P)")
    return _line("02", number, rep.kind, _digits(rep.number, (17,), f"AEJ REP {rep.id}: nrRep"))


def employee_record(number: int, employee: AejEmployee) -> str:
    """Record 03: the vínculo numbered `number` in this file."""
    where = f"AEJ employee {employee.id}"
    return _line(
        "03",
        number,
        _digits(employee.cpf, (11,), f"{where}: cpf"),
        _required_text(employee.name, 150, f"{where}: nomeEmp"),
    )


def schedule_record(schedule: AejSchedule) -> str:
    """Record 04; a schedule of one pair still carries the empty fields of pair 02."""
    where = f"AEJ schedule {schedule.code}"
    _code(schedule.code, "AEJ schedule: codHorContratual")
    if not 0 < schedule.duration_minutes < 10**12:
        raise ValueError(f"{where}: durJornada is 1 to 12 digits of minutes")
    if not schedule.pairs:
        raise ValueError(f"{where}: at least one entry/exit pair")
    times = [_hhmm(time, f"{where}: pair {n}") for n, pair in enumerate(schedule.pairs, start=1) for time in pair]
    if len(times) != 2 * len(schedule.pairs):
        raise ValueError(f"{where}: every pair is an entry and an exit")
    if len(schedule.pairs) == 1:
        times += ["", ""]
    return _line("04", schedule.code, schedule.duration_minutes, *times)


def esocial_record(number: int, employee: AejEmployee) -> str:
    """Record 06 of the vínculo numbered `number`."""
    registration = employee.esocial_registration or ""
    return _line("06", number, _required_text(registration, 30, f"AEJ employee {employee.id}: matEsocial"))


def absence_record(number: int, absence: AejAbsence) -> str:
    """Record 07 of the vínculo numbered `number`."""
    where = f"AEJ absence of employee {absence.employee_id} on {d(absence.day)}"
    if absence.kind not in (DSR, UNJUSTIFIED_ABSENCE, HOUR_BANK, HOLIDAY_TIME_OFF):
        raise ValueError(f"{where}: tipoAusenOuComp is 1 to 4")
    if absence.minutes is not None and not 0 <= absence.minutes < 10**12:
        raise ValueError(f"{where}: qtMinutos is 0 to 12 digits")
    if absence.kind == HOUR_BANK:
        if absence.minutes is None or absence.bank_movement not in (BANK_CREDIT, BANK_DEBIT):
            raise ValueError(f"{where}: an hour-bank movement needs qtMinutos and tipoMovBH (1 or 2)")
    elif absence.bank_movement is not None:
        raise ValueError(f"{where}: tipoMovBH is for hour-bank movements (tipoAusenOuComp 3) only")
    minutes = "" if absence.minutes is None else absence.minutes
    movement = "" if absence.bank_movement is None else absence.bank_movement
    return _line("07", number, absence.kind, d(absence.day), minutes, movement)


def program_record(program: AejProgram) -> str:
    """Record 08."""
    return _line(
        "08",
        _required_text(program.name, 150, "AEJ program: nomeProg"),
        _required_text(program.version, 8, "AEJ program: versaoProg"),
        program.developer_id_type,
        _id_document(program.developer_id_type, program.developer_document, "AEJ program: idtDesenv"),
        _required_text(program.developer_name, 150, "AEJ program: razaoNomeDesenv"),
        _required_text(program.developer_email, 50, "AEJ program: emailDesenv"),
    )


def trailer_record(counts: dict[str, int]) -> str:
    """Record 99: how many records of types 01 to 08 the file holds."""
    values = [counts.get(record_type, 0) for record_type in COUNTED_TYPES]
    if not all(0 <= value <= MAX_ID for value in values):
        raise ValueError(f"AEJ trailer: counts are 0 to {MAX_ID}")
    return _line("99", *values)


def number_pairs(tp_marcs: Sequence[str]) -> list[int]:
    """seqEntSaida for the marks of one journey, in time order: every entry opens the next pair; an exit,
    and a disregarded mark, take the number of the pair open at that point (1 before any entry)."""
    numbers: list[int] = []
    pair = 0
    for tp_marc in tp_marcs:
        if tp_marc not in TP_MARC:
            raise ValueError("number_pairs: tpMarc is E, S or D")
        if tp_marc == ENTRY:
            pair += 1
        numbers.append(max(pair, 1))
    return numbers


# --- the file -------------------------------------------------------------------------------------


def aej_lines(
    *,
    employer: AejEmployer,
    period_start: date,
    period_end: date,
    generated_at: datetime,
    zone: tzinfo,
    reps: Sequence[AejRep],
    employees: Sequence[AejEmployee],
    schedules: Sequence[AejSchedule],
    marks: Iterable[AejMark],
    program: AejProgram,
    absences: Iterable[AejAbsence] = (),
) -> list[str]:
    """Every line of the AEJ, without line ends: records 01 to 08, the trailer 99 and the signature line.
    Everything is checked before the first line is returned (a ValueError leaves nothing half-written)."""
    rep_numbers = _numbering([rep.id for rep in reps], "REP")
    link_numbers = _numbering([employee.id for employee in employees], "employee")
    schedule_codes = {_code(schedule.code, "AEJ schedule: codHorContratual") for schedule in schedules}
    if len(schedule_codes) != len(schedules):
        raise ValueError("AEJ: two schedules have the same codHorContratual")
    by_id = {employee.id: employee for employee in employees}

    records: dict[str, list[str]] = {record_type: [] for record_type in RECORD_TYPES}
    records["01"].append(header_record(employer, period_start, period_end, generated_at, zone))
    records["02"] = [rep_record(number, rep) for number, rep in zip(rep_numbers.values(), reps, strict=True)]
    records["03"] = [
        employee_record(number, employee) for number, employee in zip(link_numbers.values(), employees, strict=True)
    ]
    records["04"] = [schedule_record(schedule) for schedule in schedules]

    numbered: list[tuple[int, int, AejMark]] = []
    for position, mark in enumerate(marks, start=1):
        if mark.employee_id not in link_numbers:
            raise ValueError(f"AEJ mark {position}: employee {mark.employee_id} is not among the employees")
        numbered.append((link_numbers[mark.employee_id], position, mark))
    numbered.sort(key=lambda item: (item[0], item[2].at))
    for number, position, mark in numbered:
        records["05"].append(
            _mark_record(number, position, mark, by_id[mark.employee_id], rep_numbers, schedule_codes, zone)
        )

    records["06"] = [
        esocial_record(link_numbers[employee.id], employee) for employee in employees if employee.esocial_registration
    ]
    for absence in absences:
        if absence.employee_id not in link_numbers:
            raise ValueError(f"AEJ absence: employee {absence.employee_id} is not among the employees")
        records["07"].append(absence_record(link_numbers[absence.employee_id], absence))
    records["08"].append(program_record(program))
    records["99"].append(trailer_record({record_type: len(records[record_type]) for record_type in COUNTED_TYPES}))
    return [line for record_type in RECORD_TYPES for line in records[record_type]] + [SIGNATURE_LINE]


def _numbering(ids: list[str], what: str) -> dict[str, int]:
    numbers = {identifier: number for number, identifier in enumerate(ids, start=1)}
    if len(numbers) != len(ids):
        raise ValueError(f"AEJ: two {what}s have the same id")
    if len(numbers) > MAX_ID:
        raise ValueError(f"AEJ: more than {MAX_ID} {what}s")
    return numbers


def _mark_record(
    link: int,
    position: int,
    mark: AejMark,
    employee: AejEmployee,
    rep_numbers: dict[str, int],
    schedule_codes: set[str],
    zone: tzinfo,
) -> str:
    where = f"AEJ mark {position} (employee {mark.employee_id})"
    if mark.tp_marc not in TP_MARC:
        raise ValueError(f"{where}: tpMarc is E, S or D")
    if mark.fonte_marc not in FONTE_MARC:
        raise ValueError(f"{where}: fonteMarc is O, I, P, X or T")
    if not 1 <= mark.seq <= MAX_SEQ:
        raise ValueError(f"{where}: seqEntSaida is 1 to {MAX_SEQ}")
    if mark.at.utcoffset() is None:
        raise ValueError(f"{where}: dataHoraMarc needs an aware datetime")
    rep = ""
    if mark.rep_id is not None:
        if mark.rep_id not in rep_numbers:
            raise ValueError(f"{where}: REP {mark.rep_id} is not among the REPs")
        rep = str(rep_numbers[mark.rep_id])
    elif mark.fonte_marc == ORIGINAL:
        raise ValueError(f"{where}: an original mark (fonteMarc O) names its REP")
    schedule = ""
    if mark.tp_marc == ENTRY and mark.seq == 1:
        schedule = mark.schedule_code or employee.schedule_code or ""
        if not schedule:
            raise ValueError(f"{where}: codHorContratual is required on the first entry (tpMarc E, seqEntSaida 1)")
        if schedule not in schedule_codes:
            raise ValueError(f"{where}: schedule {schedule} is not among the schedules")
    motivo = aej_text(mark.motivo or "", 150)
    if not motivo and (mark.tp_marc == DISREGARDED or mark.fonte_marc == INCLUDED):
        raise ValueError(f"{where}: motivo is required when tpMarc is D or fonteMarc is I")
    return _line("05", link, dh(mark.at, zone), rep, mark.tp_marc, f"{mark.seq:03d}", mark.fonte_marc, schedule, motivo)


def aej_bytes(lines: Iterable[str]) -> bytes:
    """The file's bytes: every line ISO-8859-1 and ended by CR LF."""
    return "".join(line + EOL for line in lines).encode(ENCODING)


def write_aej(out: BinaryIO, lines: Iterable[str]) -> int:
    """Writes the lines to a binary stream, ISO-8859-1 with CR LF; returns the bytes written. A character
    ISO-8859-1 lacks in a line not made here is a UnicodeEncodeError (every field made here encodes)."""
    written = 0
    for line in lines:
        written += out.write((line + EOL).encode(ENCODING))
    return written
