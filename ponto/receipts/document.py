"""A receipt's content: every field art. 79 lists, read from the sealed punch (its AFD type-7 line).

The legal record is the AFD line, so the receipt takes from it what it states (NSR, the punch time as
the AFD writes it, the employee's CPF, the recording time, online or offline, the SHA-256); the
establishment and the employee's name come from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ponto.record import afd
from ponto.record.afd import parse_punch_line
from ponto.record.documents import format_cnpj, format_cpf

TITLE = "Comprovante de Registro de Ponto do Trabalhador"
_DOCUMENT_TYPES = {afd.CNPJ: "CNPJ", afd.CPF: "CPF"}
KIND_LABELS = {"in": "Entrada", "out": "Saída", "break_start": "Início de intervalo", "break_end": "Fim de intervalo"}


@dataclass(frozen=True)
class SealedPunch:
    """What the store reads for one receipt: the seal's line and who and where it belongs to."""

    punch_id: str
    line: str  # the type-7 line, as the AFD prints it
    employee_id: str
    employee_name: str | None  # None: the employee was never registered under this id (cannot happen for a seal)
    kind: str | None
    employer_document_type: int
    employer_document: str
    employer_name: str
    workplace: str
    cno_caepf: str | None


@dataclass(frozen=True)
class Receipt:
    punch_id: str
    nsr: int
    employer_name: str
    employer_document_type: int
    employer_document: str
    cno_caepf: str | None
    workplace: str
    employee_id: str
    employee_name: str
    employee_cpf: str
    punched_at: datetime
    recorded_at: datetime
    kind: str | None
    offline: bool
    inpi: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "title": TITLE,
            "punch_id": self.punch_id,
            "nsr": self.nsr,
            "employer": {
                "name": self.employer_name,
                "document_type": _DOCUMENT_TYPES[self.employer_document_type],
                "document": self.employer_document,
                "cno_caepf": self.cno_caepf,
                "workplace": self.workplace,
            },
            "employee": {"employee_id": self.employee_id, "name": self.employee_name, "cpf": self.employee_cpf},
            "punched_at": self.punched_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "kind": self.kind,
            "offline": self.offline,
            "inpi": self.inpi,
            "hash": self.hash,
        }


def receipt(sealed: SealedPunch, inpi: str) -> Receipt:
    """The receipt of a sealed punch; ValueError if its line is not a well-formed type-7 line."""
    line = parse_punch_line(sealed.line)
    return Receipt(
        punch_id=sealed.punch_id,
        nsr=line.nsr,
        employer_name=sealed.employer_name,
        employer_document_type=sealed.employer_document_type,
        employer_document=sealed.employer_document,
        cno_caepf=sealed.cno_caepf,
        workplace=sealed.workplace,
        employee_id=sealed.employee_id,
        employee_name=sealed.employee_name or "",
        employee_cpf=line.cpf,
        punched_at=_from_dh(line.punched_at),
        recorded_at=_from_dh(line.recorded_at),
        kind=sealed.kind,
        offline=line.offline,
        inpi=inpi,
        hash=line.hash,
    )


def _from_dh(text: str) -> datetime:
    """An AFD DH (`AAAA-MM-ddThh:mm:00-0300`) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def formatted_document(document_type: int, document: str) -> str:
    """12.345.678/0001-95 for a CNPJ, 123.456.789-09 for a CPF."""
    return format_cnpj(document) if document_type == afd.CNPJ else format_cpf(document)


def lines(receipt: Receipt) -> list[tuple[str, str]]:
    """The receipt as (label, value) lines, in art. 79's order: what the PDF prints."""
    rows = [
        ("NSR", f"{receipt.nsr:09d}"),
        ("Empregador", receipt.employer_name),
        (
            _DOCUMENT_TYPES[receipt.employer_document_type],
            formatted_document(receipt.employer_document_type, receipt.employer_document),
        ),
    ]
    if receipt.cno_caepf:
        rows.append(("CNO/CAEPF", receipt.cno_caepf))
    rows += [
        ("Local de trabalho", receipt.workplace),
        ("Trabalhador", receipt.employee_name),
        ("CPF do trabalhador", format_cpf(receipt.employee_cpf)),
        ("Data e hora da marcação", receipt.punched_at.strftime("%d/%m/%Y %H:%M (UTC%z)")),
    ]
    if receipt.kind:
        rows.append(("Tipo", KIND_LABELS.get(receipt.kind, receipt.kind)))
    rows += [
        ("Registrada em", receipt.recorded_at.strftime("%d/%m/%Y %H:%M (UTC%z)")),
        ("Coleta", "offline (enviada depois)" if receipt.offline else "online"),
        ("Registro INPI do REP-P", receipt.inpi),
        ("Código hash (SHA-256)", receipt.hash),
    ]
    return rows
