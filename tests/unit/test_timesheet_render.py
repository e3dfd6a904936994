"""The espelho de ponto renderers: CSV rows parsed back field by field, JSON round trip, the HTML espelho's
required elements and escaping, the PDF's pages and text, the terminal table's totals."""

import csv
import io
import json
import re
import zlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ponto.record import documents
from ponto.timesheet import render

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CNPJ = "11222333000181"
CPF_ANA = "01234567890"  # a leading zero that must survive
CPF_BRUNO = "52998224725"
HEADER = render.EspelhoHeader(
    employer_name="Padaria São João Ltda",
    employer_document=CNPJ,
    employer_document_type=render.CNPJ,
    workplace="Rua das Flores, 123 - São Paulo/SP",
    period_start=date(2026, 11, 1),
    period_end=date(2026, 11, 30),
    generated_at=datetime(2026, 12, 1, 9, 30, tzinfo=SAO_PAULO),
)
MINUTE_KEYS = [key for _, key in render.MINUTE_COLUMNS]


def mark(
    time: str, on: str, *, source: str = "original", disregarded: bool = False, reason: str | None = None
) -> dict[str, Any]:
    return {
        "time": time,
        "date": on,
        "punch_id": f"{on}-{time}",
        "kind": None,
        "source": source,
        "disregarded": disregarded,
        "reason": reason,
    }


def workday(on: str, **minutes: int) -> dict[str, Any]:
    marks = [mark(t, on) for t in ("08:02", "12:00", "13:01", "17:05")]
    minutes.setdefault("scheduled_minutes", 480)
    minutes.setdefault("worked_minutes", 482)
    return day(on, marks, (), **minutes)


def day(on: str, marks: list[dict[str, Any]], flags: tuple[str, ...] = (), **minutes: int) -> dict[str, Any]:
    return {
        "date": on,
        "punches": [m["time"] for m in marks if not m["disregarded"]],
        **{key: minutes.get(key, 0) for key in MINUTE_KEYS},
        "flags": list(flags),
        "marks": marks,
    }


def employee_month(employee_id: str, cpf: str, name: str, days: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {key: sum(d[key] for d in days) for key in MINUTE_KEYS}
    flags: dict[str, int] = {}
    for d in days:
        for flag in d["flags"]:
            flags[flag] = flags.get(flag, 0) + 1
    totals["flags"] = flags
    return {
        "employee_id": employee_id,
        "cpf": cpf,
        "name": name,
        "month": "2026-11",
        "schedule": "mon-fri 08:00-12:00 13:00-17:00",
        "days": days,
        "totals": totals,
    }


TREATED_DAY = day(
    "2026-11-03",
    [
        mark("08:02", "2026-11-03"),
        mark("12:00", "2026-11-03", source="included", reason="Esqueceu de marcar a saída"),
        mark("12:05", "2026-11-03", disregarded=True, reason="Marcação em duplicidade"),
        mark("13:01", "2026-11-03"),
    ],
    flags=("missing_punch", "short_break"),
    scheduled_minutes=480,
    worked_minutes=239,
    undertime_minutes=241,
)
NIGHT_DAY = day(
    "2026-11-04",
    [mark("22:00", "2026-11-04"), mark("05:10", "2026-11-05")],
    scheduled_minutes=480,
    worked_minutes=430,
    night_minutes=420,
    night_reduced_minutes=480,
    overtime_50_minutes=5,
)
ANA = employee_month("ana", CPF_ANA, "Ana Conceição", [workday("2026-11-02"), TREATED_DAY, NIGHT_DAY])
BRUNO = employee_month("bruno", CPF_BRUNO, "Bruno Araújo", [workday("2026-11-02", overtime_100_minutes=60)])


def full_month(employee_id: str, cpf: str, name: str) -> dict[str, Any]:
    days = []
    for n in range(30):
        on = (date(2026, 11, 1) + timedelta(days=n)).isoformat()
        days.append(workday(on) if date.fromisoformat(on).weekday() < 5 else day(on, []))
    days[2] = {**TREATED_DAY, "date": days[2]["date"]}
    return employee_month(employee_id, cpf, name, days)


# --- values ---------------------------------------------------------------------------------------


def test_values() -> None:
    assert render.hm(0) == "0:00" and render.hm(485) == "8:05" and render.hm(10560) == "176:00"
    assert render.hm(-5) == "-0:05"
    assert documents.format_cnpj(CNPJ) == "11.222.333/0001-81"
    assert documents.format_cpf(CPF_ANA) == "012.345.678-90"
    assert documents.format_cpf("123") == "123"


def test_day_view_shows_originals_beside_treated_marks() -> None:
    view = render.day_view(TREATED_DAY)
    assert [m.text for m in view.originals] == ["08:02", "12:05(D)", "13:01"]
    assert [m.text for m in view.treated] == ["08:02", "12:00(I)", "13:01"]
    assert view.notes[:2] == (
        "Incluída 12:00: Esqueceu de marcar a saída",
        "Desconsiderada 12:05: Marcação em duplicidade",
    )
    assert view.label == "03/11 ter"


def test_day_view_marks_a_next_day_mark_and_falls_back_to_punches() -> None:
    assert [m.text for m in render.day_view(NIGHT_DAY).treated] == ["22:00", "05:10 (+1)"]
    assert render.day_view({**day("2026-11-02", []), "holiday": "Finados"}).notes == ("Feriado: Finados",)
    bare = {**workday("2026-11-02"), "marks": []}
    view = render.day_view(bare)
    assert [m.text for m in view.originals] == [m.text for m in view.treated] == ["08:02", "12:00", "13:01", "17:05"]


# --- JSON -----------------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    assert json.loads(render.render_json([ANA, BRUNO])) == [ANA, BRUNO]
    assert json.loads(render.render_json([ANA], single=True)) == ANA
    assert json.loads(render.render_json([ANA])) == [ANA]
    assert "Conceição" in render.render_json([ANA])


def test_json_single_wants_one_month() -> None:
    with pytest.raises(ValueError, match="one employee month"):
        render.render_json([ANA, BRUNO], single=True)


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_rows_parse_back_field_by_field() -> None:
    out = io.StringIO(newline="")
    assert render.render_csv([ANA, BRUNO], out) == 4
    text = out.getvalue()
    assert f'"{CPF_ANA}"' in text  # quoted: the CPF stays text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(render.CSV_COLUMNS)
    assert [(row["employee_id"], row["date"]) for row in rows] == [
        ("ana", "2026-11-02"),
        ("ana", "2026-11-03"),
        ("ana", "2026-11-04"),
        ("bruno", "2026-11-02"),
    ]
    assert rows[1] == {
        "employee_id": "ana",
        "cpf": CPF_ANA,
        "name": "Ana Conceição",
        "month": "2026-11",
        "date": "2026-11-03",
        "punches": "08:02 12:00 13:01",
        "included": "12:00",
        "disregarded": "12:05",
        "scheduled_minutes": "480",
        "worked_minutes": "239",
        "night_minutes": "0",
        "night_reduced_minutes": "0",
        "overtime_50_minutes": "0",
        "overtime_100_minutes": "0",
        "undertime_minutes": "241",
        "flags": "missing_punch;short_break",
    }
    assert rows[3]["overtime_100_minutes"] == "60"
    assert text.endswith("\r\n")


def test_csv_keeps_a_formula_like_name_text() -> None:
    out = io.StringIO(newline="")
    render.render_csv([{**BRUNO, "name": "=HYPERLINK(1)"}], out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert row["name"] == "'=HYPERLINK(1)"


# --- the terminal table ---------------------------------------------------------------------------


def test_text_table_has_each_day_and_the_totals() -> None:
    text = render.render_text([ANA, BRUNO])
    assert "Ana Conceição  CPF 012.345.678-90" in text
    totals = next(line for line in text.splitlines() if line.startswith("Totais"))
    assert totals.split() == ["Totais", "24:00", "19:11", "7:00", "8:00", "0:05", "0:00", "4:01"]
    assert "03/11 ter  08:02 12:00(I) 13:01" in text
    assert "05:10 (+1)" in text
    assert "Ocorrências no mês: marcação faltante" in text
    assert text.count("Totais") == 2


# --- HTML -----------------------------------------------------------------------------------------


def test_html_has_every_element_of_the_espelho() -> None:
    page = render.render_html(HEADER, [ANA, BRUNO])
    assert page.startswith("<!DOCTYPE html>") and '<html lang="pt-BR">' in page
    for required in (
        "Padaria São João Ltda",
        "11.222.333/0001-81",
        "Rua das Flores, 123 - São Paulo/SP",
        "012.345.678-90",
        "529.982.247-25",
        "01/11/2026 a 30/11/2026",
        "mon-fri 08:00-12:00 13:00-17:00",
        "Marcações originais",
        "Marcações tratadas",
        '12:00<span class="tag">(I)</span>',
        "Incluída 12:00: Esqueceu de marcar a saída",
        '<del>12:05</del><span class="tag">(D)</span>',
        "Desconsiderada 12:05: Marcação em duplicidade",
        "Totais do período",
        '<td class="num">19:11</td>',
        "marcação faltante (número ímpar de marcações): 1",
        "Empregado: Ana Conceição",
        "Empregador: Padaria São João Ltda",
        "Portaria MTP nº 671/2021, art. 84",
        "Emitido em 01/12/2026 09:30",
    ):
        assert required in page, required
    assert page.count('<section class="espelho">') == 2
    assert "page-break-after: always" in page


def test_html_escapes_names_and_reasons() -> None:
    hostile = {**ANA, "name": "<script>alert(1)</script>", "employee_id": 'x" onload="y'}
    page = render.render_html(HEADER, [hostile])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x&quot; onload=&quot;y" in page


def test_html_formats_an_employer_cpf() -> None:
    header = render.EspelhoHeader(
        "Bruno Araújo", CPF_BRUNO, render.CPF, "Sítio", date(2026, 11, 1), date(2026, 11, 30), HEADER.generated_at
    )
    page = render.render_html(header, [ANA])
    assert "<th>CPF</th><td>529.982.247-25</td>" in page


# --- PDF ------------------------------------------------------------------------------------------


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def shown(text: str) -> bytes:
    """`text` as a PDF string shows it: Latin-1, its backslashes and parentheses escaped."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")


def page_text(pdf: bytes) -> bytes:
    """The content streams, inflated: the text shown by Tj operators, Latin-1."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            texts.append(zlib.decompress(stream))
        except zlib.error:
            texts.append(stream)
    return b"\n".join(texts)


def test_pdf_has_one_page_per_employee_for_a_full_month() -> None:
    pdf = render.render_pdf(
        HEADER, [full_month("ana", CPF_ANA, "Ana Conceição"), full_month("bruno", CPF_BRUNO, "Bruno Araújo")]
    )
    assert pdf.startswith(b"%PDF-")
    assert pages(pdf) == 2
    text = page_text(pdf)
    for required in (
        "Espelho de Ponto",
        "11.222.333/0001-81",
        "012.345.678-90",
        "Ana Concei\xe7\xe3o",
        "Bruno Ara\xfajo",
        "01/11/2026 a 30/11/2026",
        "08:02 12:05(D) 13:01",
        "08:02 12:00(I) 13:01",
        "Totais do per\xedodo",
        "Empregado: Ana Concei\xe7\xe3o",
    ):
        assert shown(required) in text, required
    for number in (1, 2):  # fpdf2 writes the page count (its {nb} alias) as a string of its own
        assert shown(f"Página {number} de ") + b") Tj (2) Tj" in text


def test_pdf_a_month_that_does_not_fit_takes_more_pages() -> None:
    long_reason = "Justificativa apresentada pelo empregado e aceita pela gestão " * 4
    days = [
        day(
            (date(2026, 11, 1) + timedelta(days=n)).isoformat(),
            [mark("08:00", "2026-11-01", source="included", reason=long_reason)],
        )
        for n in range(30)
    ]
    pdf = render.render_pdf(HEADER, [employee_month("ana", CPF_ANA, "Ana", days), BRUNO])
    assert pages(pdf) >= 3
    assert page_text(pdf).count(b"(" + shown("Marcações originais") + b") Tj") == pages(pdf)  # headings on every page


def test_pdf_prints_text_outside_latin1_as_a_question_mark() -> None:
    pdf = render.render_pdf(HEADER, [{**BRUNO, "name": "Zoë 王"}])
    assert pages(pdf) == 1
    assert shown("Zoë ?") in page_text(pdf)
