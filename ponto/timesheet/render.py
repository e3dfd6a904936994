"""The espelho de ponto (Portaria MTP 671/2021, art. 84) rendered from computed months: JSON, CSV, a terminal
table, HTML and PDF. Rendering only: every number comes computed, in the shape `MonthResult.as_json()` gives,
plus the employee's schedule text:

    {"employee_id", "cpf", "name", "month": "YYYY-MM", "schedule": str | None,
     "days": [{"date", "punches": ["HH:MM"], "scheduled_minutes", "worked_minutes", "night_minutes",
               "night_reduced_minutes", "overtime_50_minutes", "overtime_100_minutes", "undertime_minutes",
               "flags": [...], "marks": [{"time", "date", "punch_id", "kind", "source": "original" | "included",
                                          "disregarded", "reason"}]}],
     "totals": {the same minute keys, "flags": {flag: count}}}

Per day the espelho shows the original marks (those the clock recorded; a disregarded one struck through, or
"(D)" where striking cannot be drawn) beside the treated marks (those the journey counts; an included one
"(I)"), each treatment's reason in the day's remarks, so that nothing recorded is hidden (art. 83: originals
never change, a treatment only adds). A mark on a later date than its day (a journey across midnight) shows
"(+1)". A day without `marks` shows its `punches` on both sides. A day may also carry "holiday" (its name),
shown in its remarks. Minutes are H:MM on paper and integers in
JSON and CSV; on paper a day's zero is left blank but for the scheduled and worked columns.

Each function returns its document (`render_json`, `render_text`, `render_html` a str, `render_pdf` bytes),
but `render_csv`, which writes rows to a text stream opened with newline="" and returns how many.
"""

from __future__ import annotations

import csv
import functools
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from ponto.record.documents import format_cnpj, format_cpf

if TYPE_CHECKING:
    from fpdf import FPDF

EmployeeMonth = Mapping[str, Any]  # the shape in the module docstring

TITLE = "Espelho de Ponto"
NORM = "Portaria MTP nº 671/2021, art. 84"
CNPJ, CPF = 1, 2  # employer_document_type, as in the AFD and the AEJ

# (label, key) of the minute columns, in the order every renderer shows them.
MINUTE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Previsto", "scheduled_minutes"),
    ("Trabalhado", "worked_minutes"),
    ("Noturno", "night_minutes"),
    ("Not. reduzido", "night_reduced_minutes"),
    ("HE 50%", "overtime_50_minutes"),
    ("HE 100%", "overtime_100_minutes"),
    ("Faltas/atrasos", "undertime_minutes"),
)
ALWAYS_SHOWN = frozenset({"scheduled_minutes", "worked_minutes"})  # a day's other zero minutes print blank

FLAG_LABELS: dict[str, str] = {
    "missing_punch": "marcação faltante (número ímpar de marcações)",
    "short_break": "intervalo intrajornada insuficiente (CLT art. 71)",
    "short_rest": "descanso entre jornadas inferior a 11 horas (CLT art. 66)",
}
WEEKDAYS = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")
LEGEND = (
    "Marcações originais: as registradas pelo REP-P, nenhuma alterada ou suprimida; (D) = desconsiderada no "
    "tratamento. Marcações tratadas: as consideradas na jornada; (I) = incluída no tratamento. Os motivos "
    "estão nas observações do dia. (+1) = marcação do dia seguinte, na mesma jornada. Horas em H:MM; noturno "
    "reduzido = horas noturnas em hora reduzida (CLT art. 73)."
)


@dataclass(frozen=True)
class EspelhoHeader:
    """Who and when: the establishment and the period the espelho covers."""

    employer_name: str
    employer_document: str  # CNPJ (14 digits) or CPF (11)
    employer_document_type: int  # CNPJ (1) or CPF (2)
    workplace: str
    period_start: date
    period_end: date
    generated_at: datetime


# --- values ---------------------------------------------------------------------------------------


def employer_document(header: EspelhoHeader) -> tuple[str, str]:
    """('CNPJ' or 'CPF', the document formatted)."""
    if header.employer_document_type == CPF:
        return "CPF", format_cpf(header.employer_document)
    return "CNPJ", format_cnpj(header.employer_document)


def hm(minutes: int) -> str:
    """Minutes as H:MM (hours unbounded): 0 -> '0:00', 485 -> '8:05', 10560 -> '176:00', -5 -> '-0:05'."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag)


def period_text(header: EspelhoHeader) -> str:
    return f"{header.period_start:%d/%m/%Y} a {header.period_end:%d/%m/%Y}"


# --- one view of a day for every paper renderer ---------------------------------------------------


@dataclass(frozen=True)
class MarkView:
    time: str  # "HH:MM", with " (+1)" when on a later date than its day
    tag: str  # "", "I" (included) or "D" (disregarded)

    @property
    def text(self) -> str:
        return f"{self.time}({self.tag})" if self.tag else self.time


@dataclass(frozen=True)
class DayView:
    label: str  # "03/11 ter"
    originals: tuple[MarkView, ...]
    treated: tuple[MarkView, ...]
    minutes: tuple[str, ...]  # MINUTE_COLUMNS as H:MM (blank zeros)
    notes: tuple[str, ...]  # the holiday, the treatments with their reasons, the day's flags


def _mark_time(mark: Mapping[str, Any], day: date) -> str:
    later = (date.fromisoformat(mark.get("date") or day.isoformat()) - day).days
    return f"{mark['time']} (+{later})" if later > 0 else str(mark["time"])


def day_view(day: Mapping[str, Any]) -> DayView:
    on = date.fromisoformat(day["date"])
    marks = sorted(day.get("marks") or [], key=lambda m: (m.get("date") or day["date"], m["time"]))
    if marks:
        originals = tuple(
            MarkView(_mark_time(m, on), "D" if m.get("disregarded") else "")
            for m in marks
            if m.get("source") != "included"
        )
        treated = tuple(
            MarkView(_mark_time(m, on), "I" if m.get("source") == "included" else "")
            for m in marks
            if not m.get("disregarded")
        )
    else:
        originals = treated = tuple(MarkView(str(time), "") for time in day.get("punches") or [])
    notes = [f"Feriado: {day['holiday']}"] if day.get("holiday") else []
    for m in marks:
        treatment = " e ".join(
            word
            for word, applies in (("Incluída", m.get("source") == "included"), ("Desconsiderada", m.get("disregarded")))
            if applies
        )
        if treatment:
            notes.append(f"{treatment.capitalize()} {_mark_time(m, on)}: {m.get('reason') or 'sem motivo informado'}")
    notes += [flag_label(flag) for flag in day.get("flags") or []]
    minutes = tuple(hm(day[key]) if day[key] or key in ALWAYS_SHOWN else "" for _, key in MINUTE_COLUMNS)
    return DayView(f"{on:%d/%m} {WEEKDAYS[on.weekday()]}", originals, treated, minutes, tuple(notes))


def total_minutes(month: EmployeeMonth) -> tuple[str, ...]:
    return tuple(hm(month["totals"][key]) for _, key in MINUTE_COLUMNS)


def flags_summary(month: EmployeeMonth) -> str:
    flags: Mapping[str, int] = month["totals"].get("flags") or {}
    counted = [f"{flag_label(flag)}: {count}" for flag, count in flags.items() if count]
    return "; ".join(counted) if counted else "nenhuma"


def _marks_text(marks: Sequence[MarkView]) -> str:
    return " ".join(mark.text for mark in marks)


# --- JSON -----------------------------------------------------------------------------------------


def render_json(months: Sequence[EmployeeMonth], *, single: bool = False) -> str:
    """The months as JSON: an array, or with `single` the one employee's object (ValueError unless exactly
    one month is given). Keys and values as computed; text in UTF-8 (not escaped)."""
    if single:
        if len(months) != 1:
            raise ValueError(f"render_json: single wants one employee month, not {len(months)}")
        return json.dumps(dict(months[0]), ensure_ascii=False, indent=2)
    return json.dumps([dict(month) for month in months], ensure_ascii=False, indent=2)


# --- CSV ------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "employee_id",
    "cpf",
    "name",
    "month",
    "date",
    "punches",
    "included",
    "disregarded",
    *(key for _, key in MINUTE_COLUMNS),
    "flags",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str) -> str:
    # A cell starting like a formula is run by spreadsheets (CSV injection): a leading apostrophe keeps it text.
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def render_csv(months: Iterable[EmployeeMonth], out: TextIO) -> int:
    """One row per employee-day after a header row (CSV_COLUMNS), written to `out` (opened with newline="");
    returns the rows written, the header not counted. Text is quoted (the CPF stays text, its leading zeros
    kept) and minutes are integers; punches, included and disregarded times are joined by spaces, flags by
    ';'. `months` may be a generator: it is read once, each month written as it comes."""
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for month in months:
        for day in month["days"]:
            marks = day.get("marks") or []
            writer.writerow(
                [
                    str(month["employee_id"]),
                    str(month["cpf"]),
                    _spreadsheet_safe(str(month["name"])),
                    str(month["month"]),
                    str(day["date"]),
                    " ".join(day.get("punches") or []),
                    " ".join(str(m["time"]) for m in marks if m.get("source") == "included"),
                    " ".join(str(m["time"]) for m in marks if m.get("disregarded")),
                    *(int(day[key]) for _, key in MINUTE_COLUMNS),
                    ";".join(day.get("flags") or []),
                ]
            )
            rows += 1
    return rows


# --- the terminal table ---------------------------------------------------------------------------


def render_text(months: Sequence[EmployeeMonth]) -> str:
    """A plain-text table per employee: the treated marks, minutes as H:MM, the day's treatments and flags,
    and the totals."""
    blocks = [_text_block(month) for month in months]
    return "\n".join(blocks)


def _text_block(month: EmployeeMonth) -> str:
    views = [day_view(day) for day in month["days"]]
    heads = ("Data", "Marcações tratadas", *(label for label, _ in MINUTE_COLUMNS), "Observações")
    rows = [(view.label, _marks_text(view.treated), *view.minutes, "; ".join(view.notes)) for view in views]
    totals = ("Totais", "", *total_minutes(month), "")
    widths = [max(len(row[i]) for row in (heads, *rows, totals)) for i in range(len(heads) - 1)]

    def line(cells: Sequence[str]) -> str:
        left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        numbers = [cell.rjust(width) for cell, width in zip(cells[2:-1], widths[2:], strict=True)]
        return "  ".join([*left, *numbers, cells[-1]]).rstrip()

    rule = "-" * (sum(widths) + 2 * len(widths))
    schedule = month.get("schedule") or "sem horário contratual cadastrado"
    out = [
        f"{month['name']}  CPF {format_cpf(str(month['cpf']))}  ({month['employee_id']})  {month['month']}",
        f"Horário contratual: {schedule}",
        line(heads),
        rule,
        *(line(row) for row in rows),
        rule,
        line(totals),
        f"Ocorrências no mês: {flags_summary(month)}",
        "",
    ]
    return "\n".join(out)


# --- HTML -----------------------------------------------------------------------------------------

_CSS = """
@page { size: A4 landscape; margin: 8mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 8.5pt; color: #000; background: #fff; margin: 0; }
section.espelho { page-break-after: always; break-after: page; }
section.espelho:last-of-type { page-break-after: auto; break-after: auto; }
h1 { font-size: 13pt; margin: 0; }
p.norma { margin: 0 0 3px 0; font-size: 7.5pt; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3px; }
th, td { border: 1px solid #000; padding: 0 3px; vertical-align: top; text-align: left; line-height: 1.2; }
table.ident th { width: 12%; background: #eee; }
table.dias { font-size: 7.5pt; }
table.dias thead { display: table-header-group; }
table.dias tfoot { display: table-row-group; }
table.dias th { background: #eee; white-space: nowrap; }
table.dias tr { page-break-inside: avoid; break-inside: avoid; }
table.dias td.day, table.dias td.marks, table.dias td.num { white-space: nowrap; }
table.dias td.num { text-align: right; }
table.dias tfoot th, table.dias tfoot td { font-weight: bold; background: #eee; }
del { text-decoration: line-through; }
.tag { font-weight: bold; }
p.legenda, p.emissao { font-size: 7pt; margin: 2px 0; }
div.assinaturas { display: flex; gap: 25mm; margin-top: 12mm; }
div.assinaturas div { flex: 1; border-top: 1px solid #000; text-align: center; padding-top: 2px; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _html_marks(marks: Sequence[MarkView]) -> str:
    parts = []
    for mark in marks:
        time = f"<del>{_e(mark.time)}</del>" if mark.tag == "D" else _e(mark.time)
        parts.append(f'{time}<span class="tag">({_e(mark.tag)})</span>' if mark.tag else time)
    return " ".join(parts)


def render_html(header: EspelhoHeader, months: Sequence[EmployeeMonth]) -> str:
    """One HTML document, one section per employee, each its own printed page (page-break-after); every
    value escaped."""
    kind, document = employer_document(header)
    title = f"{TITLE} - {header.employer_name} - {period_text(header)}"
    sections = [_html_section(header, kind, document, month) for month in months]
    return (
        '<!DOCTYPE html>\n<html lang="pt-BR">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _html_section(header: EspelhoHeader, kind: str, document: str, month: EmployeeMonth) -> str:
    schedule = month.get("schedule") or "sem horário contratual cadastrado"
    heads = "".join(f"<th>{_e(label)}</th>" for label, _ in MINUTE_COLUMNS)
    rows = []
    for day in month["days"]:
        view = day_view(day)
        minutes = "".join(f'<td class="num">{_e(value)}</td>' for value in view.minutes)
        notes = "<br>".join(_e(note) for note in view.notes)
        rows.append(
            f'<tr><td class="day">{_e(view.label)}</td><td class="marks">{_html_marks(view.originals)}</td>'
            f'<td class="marks">{_html_marks(view.treated)}</td>{minutes}<td>{notes}</td></tr>'
        )
    totals = "".join(f'<td class="num">{_e(value)}</td>' for value in total_minutes(month))
    return f"""<section class="espelho">
<h1>{_e(TITLE)}</h1>
<p class="norma">{_e(NORM)}</p>
<table class="ident">
<tr><th>Empregador</th><td>{_e(header.employer_name)}</td><th>{_e(kind)}</th><td>{_e(document)}</td></tr>
<tr><th>Local de trabalho</th><td colspan="3">{_e(header.workplace)}</td></tr>
<tr><th>Empregado</th><td>{_e(month["name"])}</td><th>CPF</th><td>{_e(format_cpf(str(month["cpf"])))}</td></tr>
<tr><th>Identificador</th><td>{_e(month["employee_id"])}</td><th>Período</th><td>{_e(period_text(header))}</td></tr>
<tr><th>Horário contratual</th><td colspan="3">{_e(schedule)}</td></tr>
</table>
<table class="dias">
<thead><tr><th>Data</th><th>Marcações originais</th><th>Marcações tratadas</th>{heads}<th>Observações</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
<tfoot><tr><th colspan="3">Totais do período</th>{totals}<td>Ocorrências: {_e(flags_summary(month))}</td></tr></tfoot>
</table>
<p class="legenda">{_e(LEGEND)}</p>
<div class="assinaturas"><div>Empregado: {_e(month["name"])}</div>
<div>Empregador: {_e(header.employer_name)}</div></div>
<p class="emissao">Emitido em {_e(f"{header.generated_at:%d/%m/%Y %H:%M}")}</p>
</section>"""


# --- PDF ------------------------------------------------------------------------------------------

_PAGE_MARGIN = 8.0  # mm; A4 landscape leaves 281 x 194
# Data, originals, treated, the seven minute columns, remarks: widths in mm (281 in all).
_PDF_WIDTHS = (15.0, 41.0, 41.0, 12.0, 16.0, 12.0, 19.0, 11.0, 13.0, 20.0, 81.0)
_SIGNATURES_HEIGHT = 19.0  # the space above the lines, the lines and their names, the emission time


def _latin1(text: str) -> str:
    # The core fonts are Latin-1: a character outside it prints '?' rather than failing.
    return text.encode("latin-1", errors="replace").decode("latin-1")


@functools.cache
def _espelho_pdf() -> Callable[[str], FPDF]:
    # fpdf2 is imported when a PDF is made (a third of a second): the other formats, CSV above all, go without it.
    from fpdf import FPDF

    class EspelhoPdf(FPDF):
        def __init__(self, footer: str) -> None:
            super().__init__(orientation="landscape", unit="mm", format="A4")
            self._footer = footer

        def footer(self) -> None:
            self.set_y(-7)
            self.set_font("Helvetica", "", 6.5)
            text, room = self._footer, self.w - self.l_margin - self.r_margin - 25
            while self.get_string_width(text) > room:
                text = text[:-4] + "..."
            self.cell(0, 3, text, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 3, f"Página {self.page_no()} de {{nb}}", align="R")

    return EspelhoPdf


def render_pdf(header: EspelhoHeader, months: Sequence[EmployeeMonth]) -> bytes:
    """A4 landscape, core font (Latin-1 text): each employee from a new page, one page for a month of
    single-line days, more when a month does not fit (the table's headings repeated); page numbers."""
    kind, document = employer_document(header)
    footer = _latin1(f"{TITLE} - {header.employer_name} - {kind} {document} - {period_text(header)}")
    pdf = _espelho_pdf()(footer)
    pdf.set_title(_latin1(f"{TITLE} - {header.employer_name} - {period_text(header)}"))
    pdf.set_author(_latin1(header.employer_name))
    pdf.set_creator("Ponto (REP-P)")
    pdf.set_creation_date(header.generated_at)
    pdf.set_margins(_PAGE_MARGIN, _PAGE_MARGIN, _PAGE_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_PAGE_MARGIN + 3)
    for month in months:
        pdf.add_page()
        _pdf_employee(pdf, header, kind, document, month)
    if not months:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, "Nenhum empregado no período.")
    return bytes(pdf.output())


def _pdf_employee(pdf: FPDF, header: EspelhoHeader, kind: str, document: str, month: EmployeeMonth) -> None:
    from fpdf.fonts import FontFace

    width = pdf.w - 2 * _PAGE_MARGIN
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width / 2, 6, TITLE)
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(width / 2, 6, _latin1(NORM), align="R", new_x="LMARGIN", new_y="NEXT")
    schedule = month.get("schedule") or "sem horário contratual cadastrado"
    identification = (
        (("Empregador", header.employer_name), (kind, document)),
        (("Local de trabalho", header.workplace), ("Período", period_text(header))),
        (("Empregado", str(month["name"])), ("CPF", format_cpf(str(month["cpf"])))),
        (("Horário contratual", str(schedule)), ("Identificador", str(month["employee_id"]))),
    )
    label_style = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    pdf.set_font("Helvetica", "", 7.5)
    with pdf.table(
        col_widths=(26, width * 0.72 - 26, 20, width * 0.28 - 20),
        width=width,
        align="LEFT",
        v_align="TOP",
        line_height=3.4,
        padding=0.5,
        first_row_as_headings=False,
        text_align="LEFT",
    ) as table:
        for (left_label, left), (right_label, right) in identification:
            row = table.row()
            row.cell(_latin1(left_label), style=label_style)
            row.cell(_latin1(left))
            row.cell(_latin1(right_label), style=label_style)
            row.cell(_latin1(right))
    pdf.ln(1.5)

    bold = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    pdf.set_font("Helvetica", "", 7.5)
    with pdf.table(
        col_widths=_PDF_WIDTHS,
        width=width,
        align="LEFT",
        v_align="TOP",
        line_height=3.1,
        padding=0.35,
        headings_style=bold,
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for label in ("Data", "Marcações originais", "Marcações tratadas", *(lab for lab, _ in MINUTE_COLUMNS)):
            heading.cell(_latin1(label))
        heading.cell("Observações")
        for day in month["days"]:
            view = day_view(day)
            row = table.row()
            row.cell(_latin1(view.label))
            row.cell(_latin1(_marks_text(view.originals)))
            row.cell(_latin1(_marks_text(view.treated)))
            for value in view.minutes:
                row.cell(value, align="RIGHT")
            row.cell(_latin1("; ".join(view.notes)))
        totals = table.row()
        totals.cell("Totais do período", colspan=3, style=bold)
        for value in total_minutes(month):
            totals.cell(value, align="RIGHT", style=bold)
        totals.cell(_latin1(f"Ocorrências: {flags_summary(month)}"), style=bold)

    pdf.ln(1)
    pdf.set_font("Helvetica", "", 6)
    pdf.multi_cell(width, 2.6, _latin1(LEGEND), new_x="LMARGIN", new_y="NEXT")
    if pdf.get_y() + _SIGNATURES_HEIGHT > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(10)
    y = pdf.get_y()
    half = (width - 30) / 2
    for x, label in (
        (_PAGE_MARGIN, f"Empregado: {month['name']}"),
        (_PAGE_MARGIN + half + 30, f"Empregador: {header.employer_name}"),
    ):
        pdf.line(x, y, x + half, y)
        pdf.set_xy(x, y + 0.5)
        pdf.set_font("Helvetica", "", 7)
        pdf.cell(half, 3.5, _latin1(label), align="C")
    pdf.set_xy(_PAGE_MARGIN, y + 5)
    pdf.set_font("Helvetica", "", 6)
    pdf.cell(width, 3, f"Emitido em {header.generated_at:%d/%m/%Y %H:%M}")
