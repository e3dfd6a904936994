"""The AEJ (Anexo VI): a small file with every record type, each line split on "|" and every field checked
by name against the module's layout table; ISO-8859-1 bytes and CRLF; the trailer's counts; the rules
that make a field required; seqEntSaida numbering; free text that cannot break a line."""

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ponto.timesheet import aej

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CNPJ = "11222333000181"
CAEPF = "12345678901234"
CNO = "123456789012"
INPI = "12345678901234567"
CPF_ANA = "11144477735"
CPF_BRUNO = "52998224725"
DEVELOPER = "11444777000161"

EMPLOYER = aej.AejEmployer(aej.CNPJ, CNPJ, "Padaria São João Ltda", caepf=CAEPF, cno=CNO)
REPS = (aej.AejRep("web-clock", INPI),)
EMPLOYEES = (
    aej.AejEmployee("ana", CPF_ANA, "Ana Conceição", schedule_code="ADM", esocial_registration="MAT-001"),
    aej.AejEmployee("bruno", CPF_BRUNO, "Bruno Araújo", schedule_code="NOITE"),
)
SCHEDULES = (
    aej.AejSchedule("ADM", 480, (("0800", "1200"), ("1300", "1700"))),
    aej.AejSchedule("NOITE", 420, (("2200", "0500"),)),
    aej.AejSchedule("TURNO3", 480, (("0600", "0800"), ("0815", "1000"), ("1100", "1500"))),
)
PROGRAM = aej.AejProgram("Ponto", "0.1.0", aej.CNPJ, DEVELOPER, "Ponto Desenvolvimento Ltda", "dev@ponto.example")


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SAO_PAULO)


MARKS = (
    # Bruno first in the input: the file still writes Ana's marks (vínculo 1) first, each by time.
    aej.AejMark("bruno", at(3, 22, 1), "E", 1, rep_id="web-clock"),
    aej.AejMark("bruno", at(4, 5, 2), "S", 1, rep_id="web-clock"),
    aej.AejMark("ana", at(3, 13, 0), "E", 2, rep_id="web-clock"),
    aej.AejMark("ana", at(3, 8, 2), "E", 1, rep_id="web-clock"),
    aej.AejMark("ana", at(3, 12, 0), "S", 1, aej.INCLUDED, motivo="Esqueceu | de marcar\r\na saída"),
    aej.AejMark("ana", at(3, 12, 5), "D", 1, rep_id="web-clock", motivo="Marcação em duplicidade"),
    aej.AejMark("ana", at(3, 17, 0), "S", 2, rep_id="web-clock"),
)
ABSENCES = (
    aej.AejAbsence("ana", aej.DSR, date(2026, 11, 1)),
    aej.AejAbsence("bruno", aej.HOUR_BANK, date(2026, 11, 4), minutes=30, bank_movement=aej.BANK_CREDIT),
)


def make_lines(**changes: object) -> list[str]:
    arguments: dict[str, object] = {
        "employer": EMPLOYER,
        "period_start": date(2026, 11, 1),
        "period_end": date(2026, 11, 30),
        "generated_at": datetime(2026, 12, 1, 12, 30, 45, tzinfo=UTC),
        "zone": SAO_PAULO,
        "reps": REPS,
        "employees": EMPLOYEES,
        "schedules": SCHEDULES,
        "marks": MARKS,
        "program": PROGRAM,
        "absences": ABSENCES,
    }
    arguments.update(changes)
    return aej.aej_lines(**arguments)  # type: ignore[arg-type]


def records(lines: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Every record line split on '|' and named by the layout table (the signature line left out)."""
    out = []
    for line in lines[:-1]:
        values = line.split("|")
        names = aej.field_names(values[0], len(values))
        assert len(values) == len(names), line
        out.append((values[0], dict(zip(names, values, strict=True))))
    return out


def of_type(lines: list[str], record_type: str) -> list[dict[str, str]]:
    return [fields for kind, fields in records(lines) if kind == record_type]


# --- the layout table -----------------------------------------------------------------------------


def test_the_table_has_every_record_type_in_file_order() -> None:
    assert aej.RECORD_TYPES == ("01", "02", "03", "04", "05", "06", "07", "08", "99")
    assert all(fields[0].name == "tipoReg" for fields in aej.LAYOUT.values())


def test_the_table_names_the_fields_of_the_layout() -> None:
    assert aej.field_names("01") == (
        "tipoReg",
        "tpIdtEmpregador",
        "idtEmpregador",
        "caepf",
        "cno",
        "razaoOuNome",
        "dataInicialAej",
        "dataFinalAej",
        "dataHoraGerAej",
        "versaoAej",
    )
    assert aej.field_names("02") == ("tipoReg", "idRepAej", "tpRep", "nrRep")
    assert aej.field_names("03") == ("tipoReg", "idtVinculoAej", "cpf", "nomeEmp")
    assert aej.field_names("04") == (
        "tipoReg",
        "codHorContratual",
        "durJornada",
        "hrEntrada01",
        "hrSaida01",
        "hrEntrada02",
        "hrSaida02",
    )
    assert aej.field_names("05") == (
        "tipoReg",
        "idtVinculoAej",
        "dataHoraMarc",
        "idRepAej",
        "tpMarc",
        "seqEntSaida",
        "fonteMarc",
        "codHorContratual",
        "motivo",
    )
    assert aej.field_names("06") == ("tipoReg", "idtVinculoAej", "matEsocial")
    assert aej.field_names("07") == ("tipoReg", "idtVinculoAej", "tipoAusenOuComp", "data", "qtMinutos", "tipoMovBH")
    assert aej.field_names("08") == (
        "tipoReg",
        "nomeProg",
        "versaoProg",
        "tpIdtDesenv",
        "idtDesenv",
        "razaoNomeDesenv",
        "emailDesenv",
    )
    assert aej.field_names("99") == ("tipoReg", *(f"qtRegistrosTipo0{n}" for n in range(1, 9)))


def test_a_schedule_of_more_pairs_names_them_in_sequence() -> None:
    assert aej.field_names("04", 11)[-4:] == ("hrEntrada03", "hrSaida03", "hrEntrada04", "hrSaida04")


# --- the whole file, field by field ---------------------------------------------------------------


def test_records_come_in_layout_order_and_the_signature_line_last() -> None:
    lines = make_lines()
    assert [line[:2] for line in lines[:-1]] == [
        "01",
        "02",
        "03",
        "03",
        "04",
        "04",
        "04",
        *["05"] * 7,
        "06",
        "07",
        "07",
        "08",
        "99",
    ]
    assert lines[-1] == "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S" + " " * 67
    assert len(lines[-1]) == 100
    assert all(line and not line.startswith("|") for line in lines)


def test_header_fields() -> None:
    (header,) = of_type(make_lines(), "01")
    assert header == {
        "tipoReg": "01",
        "tpIdtEmpregador": "1",
        "idtEmpregador": CNPJ,
        "caepf": CAEPF,
        "cno": CNO,
        "razaoOuNome": "Padaria São João Ltda",
        "dataInicialAej": "2026-11-01",
        "dataFinalAej": "2026-11-30",
        "dataHoraGerAej": "2026-12-01T09:30:00-0300",  # in the establishment's zone, seconds 00
        "versaoAej": aej.LAYOUT_VERSION,
    }


def test_header_without_caepf_and_cno_keeps_their_empty_fields() -> None:
    lines = make_lines(employer=aej.AejEmployer(aej.CPF, CPF_BRUNO, "Bruno Araújo"))
    assert lines[0].startswith(f"01|2|{CPF_BRUNO}|||Bruno Araújo|")


def test_rep_and_employee_fields() -> None:
    lines = make_lines()
    assert of_type(lines, "02") == [{"tipoReg": "02", "idRepAej": "1", "tpRep": "3", "nrRep": INPI}]
    assert of_type(lines, "03") == [
        {"tipoReg": "03", "idtVinculoAej": "1", "cpf": CPF_ANA, "nomeEmp": "Ana Conceição"},
        {"tipoReg": "03", "idtVinculoAej": "2", "cpf": CPF_BRUNO, "nomeEmp": "Bruno Araújo"},
    ]
    assert of_type(lines, "06") == [{"tipoReg": "06", "idtVinculoAej": "1", "matEsocial": "MAT-001"}]


def test_schedule_fields_one_two_and_three_pairs() -> None:
    adm, night, three = of_type(make_lines(), "04")
    assert adm == {
        "tipoReg": "04",
        "codHorContratual": "ADM",
        "durJornada": "480",
        "hrEntrada01": "0800",
        "hrSaida01": "1200",
        "hrEntrada02": "1300",
        "hrSaida02": "1700",
    }
    assert night["hrEntrada01"] == "2200" and night["hrSaida01"] == "0500"
    assert night["hrEntrada02"] == "" and night["hrSaida02"] == ""  # the layout's "0 ou 4" fields stay
    assert (three["hrEntrada03"], three["hrSaida03"]) == ("1100", "1500")


def test_mark_fields() -> None:
    marks = of_type(make_lines(), "05")
    assert marks[0] == {
        "tipoReg": "05",
        "idtVinculoAej": "1",
        "dataHoraMarc": "2026-11-03T08:02:00-0300",
        "idRepAej": "1",
        "tpMarc": "E",
        "seqEntSaida": "001",
        "fonteMarc": "O",
        "codHorContratual": "ADM",  # the employee's schedule, on the journey's first entry
        "motivo": "",
    }
    included, disregarded = marks[1], marks[2]
    assert included["idRepAej"] == "" and included["fonteMarc"] == "I" and included["tpMarc"] == "S"
    assert included["motivo"] == "Esqueceu de marcar a saída"  # the "|" and the line break are gone
    assert disregarded["tpMarc"] == "D" and disregarded["motivo"] == "Marcação em duplicidade"
    assert all(mark["codHorContratual"] == "" for mark in marks[1:4])


def test_marks_are_by_vinculo_then_time_and_cross_midnight_keeps_their_dates() -> None:
    marks = of_type(make_lines(), "05")
    assert [(m["idtVinculoAej"], m["dataHoraMarc"][:16], m["seqEntSaida"]) for m in marks] == [
        ("1", "2026-11-03T08:02", "001"),
        ("1", "2026-11-03T12:00", "001"),
        ("1", "2026-11-03T12:05", "001"),
        ("1", "2026-11-03T13:00", "002"),
        ("1", "2026-11-03T17:00", "002"),
        ("2", "2026-11-03T22:01", "001"),
        ("2", "2026-11-04T05:02", "001"),
    ]
    assert marks[5]["codHorContratual"] == "NOITE"


def test_a_mark_in_another_offset_is_written_in_the_establishment_zone() -> None:
    mark = aej.AejMark("ana", datetime(2026, 11, 3, 11, 2, 59, tzinfo=UTC), "E", 1, rep_id="web-clock")
    (line,) = of_type(make_lines(marks=[mark]), "05")
    assert line["dataHoraMarc"] == "2026-11-03T08:02:00-0300"


def test_absence_and_program_fields() -> None:
    lines = make_lines()
    assert of_type(lines, "07") == [
        {
            "tipoReg": "07",
            "idtVinculoAej": "1",
            "tipoAusenOuComp": "1",
            "data": "2026-11-01",
            "qtMinutos": "",
            "tipoMovBH": "",
        },
        {
            "tipoReg": "07",
            "idtVinculoAej": "2",
            "tipoAusenOuComp": "3",
            "data": "2026-11-04",
            "qtMinutos": "30",
            "tipoMovBH": "1",
        },
    ]
    assert of_type(lines, "08") == [
        {
            "tipoReg": "08",
            "nomeProg": "Ponto",
            "versaoProg": "0.1.0",
            "tpIdtDesenv": "1",
            "idtDesenv": DEVELOPER,
            "razaoNomeDesenv": "Ponto Desenvolvimento Ltda",
            "emailDesenv": "dev@ponto.example",
        }
    ]


def test_trailer_counts_every_record_type_01_to_08() -> None:
    (trailer,) = of_type(make_lines(), "99")
    assert trailer == {
        "tipoReg": "99",
        "qtRegistrosTipo01": "1",
        "qtRegistrosTipo02": "1",
        "qtRegistrosTipo03": "2",
        "qtRegistrosTipo04": "3",
        "qtRegistrosTipo05": "7",
        "qtRegistrosTipo06": "1",
        "qtRegistrosTipo07": "2",
        "qtRegistrosTipo08": "1",
    }


def test_trailer_counts_zero_for_absent_types() -> None:
    lines = make_lines(marks=[], absences=[], employees=[replace(EMPLOYEES[0], esocial_registration=None)])
    assert lines[-2] == "99|1|1|1|3|0|0|0|1"


def test_read_record_names_the_fields_of_a_line() -> None:
    lines = make_lines()
    assert aej.read_record(lines[1] + "\r\n") == ("02", {"tipoReg": "02", "idRepAej": "1", "tpRep": "3", "nrRep": INPI})
    with pytest.raises(ValueError, match="fields"):
        aej.read_record("03|1|12345678909")
    with pytest.raises(ValueError, match="known type"):
        aej.read_record(lines[-1])


# --- bytes ----------------------------------------------------------------------------------------


def test_bytes_are_iso_8859_1_with_crlf_and_no_blank_line() -> None:
    lines = make_lines()
    out = io.BytesIO()
    written = aej.write_aej(out, lines)
    data = out.getvalue()
    assert written == len(data)
    assert data == aej.aej_bytes(lines)
    assert data.endswith(b"P7S" + b" " * 67 + b"\r\n")
    assert data.count(b"\r\n") == len(lines) and b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r\n\r\n" not in data
    assert "Ana Conceição".encode("iso-8859-1") in data  # ç and ã one byte each
    assert b"Concei\xe7\xe3o" in data
    assert "Conceição".encode() not in data  # not UTF-8


def test_text_outside_iso_8859_1_becomes_a_question_mark() -> None:
    employee = replace(EMPLOYEES[0], name="Zoë 王 “Ana”")
    lines = make_lines(employees=[employee, EMPLOYEES[1]])
    assert of_type(lines, "03")[0]["nomeEmp"] == "Zoë ? ?Ana?"
    aej.aej_bytes(lines)  # encodes


def test_free_text_is_cut_to_its_maximum() -> None:
    mark = aej.AejMark("ana", at(3, 12, 0), "S", 1, aej.INCLUDED, motivo="x" * 200)
    (line,) = of_type(make_lines(marks=[MARKS[3], mark]), "05")[1:]
    assert line["motivo"] == "x" * 150
    assert aej.aej_text("  a \t b\x00c  ", 10) == "a b c"


# --- seqEntSaida ----------------------------------------------------------------------------------


def test_number_pairs() -> None:
    assert aej.number_pairs(["E", "S", "E", "S"]) == [1, 1, 2, 2]
    assert aej.number_pairs(["E", "S", "D", "E", "S", "E", "S"]) == [1, 1, 1, 2, 2, 3, 3]
    assert aej.number_pairs(["S", "E", "S"]) == [1, 1, 1]  # a journey that starts with an exit
    assert aej.number_pairs(["D", "E"]) == [1, 1]
    with pytest.raises(ValueError):
        aej.number_pairs(["X"])


def test_seq_ent_saida_is_three_digits() -> None:
    marks = [
        aej.AejMark("ana", at(3, 8, n), "E" if n % 2 == 0 else "S", n // 2 + 1, rep_id="web-clock") for n in range(24)
    ]
    seqs = [fields["seqEntSaida"] for fields in of_type(make_lines(marks=marks), "05")]
    assert seqs[:3] == ["001", "001", "002"] and seqs[-1] == "012"
    with pytest.raises(ValueError, match="seqEntSaida is 1 to 999"):
        make_lines(marks=[replace(MARKS[3], seq=1000)])


# --- what the layout requires ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "mark",
    [
        aej.AejMark("ana", at(3, 12, 0), "D", 1, rep_id="web-clock"),
        aej.AejMark("ana", at(3, 12, 0), "S", 1, aej.INCLUDED),
        aej.AejMark("ana", at(3, 12, 0), "S", 1, aej.INCLUDED, motivo=" | \r\n "),
    ],
)
def test_motivo_is_required_when_disregarded_or_included(mark: aej.AejMark) -> None:
    with pytest.raises(ValueError, match="motivo is required") as caught:
        make_lines(marks=[mark])
    message = str(caught.value)
    assert "\n" not in message and "employee ana" in message
    assert CPF_ANA not in message and "Ana" not in message


def test_the_first_entry_needs_a_schedule_code() -> None:
    employee = replace(EMPLOYEES[0], schedule_code=None)
    with pytest.raises(ValueError, match="codHorContratual is required"):
        make_lines(employees=[employee, EMPLOYEES[1]])
    with pytest.raises(ValueError, match="schedule NONE is not among"):
        make_lines(marks=[replace(MARKS[3], schedule_code="NONE")])


def test_an_original_mark_names_a_known_rep() -> None:
    with pytest.raises(ValueError, match="names its REP"):
        make_lines(marks=[replace(MARKS[3], rep_id=None)])
    with pytest.raises(ValueError, match="REP other is not among"):
        make_lines(marks=[replace(MARKS[3], rep_id="other")])


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"marks": [replace(MARKS[3], employee_id="carla")]}, "employee carla is not among"),
        ({"marks": [replace(MARKS[3], tp_marc="X")]}, "tpMarc"),
        ({"marks": [replace(MARKS[3], fonte_marc="Z")]}, "fonteMarc"),
        ({"marks": [replace(MARKS[3], at=datetime(2026, 11, 3, 8, 2))]}, "aware"),
        ({"employer": aej.AejEmployer(aej.CNPJ, CPF_ANA, "X")}, "idtEmpregador"),
        ({"employer": replace(EMPLOYER, cno="123")}, "cno"),
        ({"employer": replace(EMPLOYER, name=" | ")}, "razaoOuNome: required"),
        ({"reps": [aej.AejRep("web-clock", "123")]}, "nrRep"),
        ({"employees": [replace(EMPLOYEES[0], cpf="1114447773X"), EMPLOYEES[1]]}, "employee ana: cpf"),
        ({"employees": [EMPLOYEES[0], EMPLOYEES[0]]}, "same id"),
        ({"schedules": [*SCHEDULES, aej.AejSchedule("A|B", 60, (("0800", "0900"),))]}, "codHorContratual"),
        ({"schedules": [aej.AejSchedule("ADM", 480, (("0800", "2400"),)), SCHEDULES[1]]}, "hhmm"),
        ({"schedules": [aej.AejSchedule("ADM", 0, (("0800", "1200"),)), SCHEDULES[1]]}, "durJornada"),
        ({"absences": [aej.AejAbsence("ana", aej.HOUR_BANK, date(2026, 11, 4))]}, "qtMinutos and tipoMovBH"),
        ({"absences": [aej.AejAbsence("ana", aej.DSR, date(2026, 11, 4), bank_movement=1)]}, "tipoMovBH"),
        ({"period_end": date(2026, 10, 31)}, "before"),
    ],
)
def test_invalid_input_is_a_one_line_value_error_naming_ids_only(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as caught:
        make_lines(**changes)
    message = str(caught.value)
    assert "\n" not in message
    for personal in (CPF_ANA, CPF_BRUNO, "Conceição", "Araújo"):
        assert personal not in message
