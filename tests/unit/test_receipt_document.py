"""A receipt's content from a sealed punch's AFD line: every field art. 79 lists, and its PDF."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.reader import PdfFileReader

from ponto.receipts import pdf
from ponto.receipts.document import SealedPunch, formatted_document, lines, receipt
from ponto.record import afd, documents

ZONE = ZoneInfo("America/Sao_Paulo")
CNPJ = documents.make_cnpj(11_222_333)
CPF = documents.make_cpf(101)
INPI = "99999000000000001"


def sealed_line(*, offline: bool = False) -> str:
    prefix = afd.punch_prefix(
        nsr=123,
        punched_at=afd.dh(datetime(2026, 11, 24, 8, 0, 37, tzinfo=ZONE), ZONE),
        cpf=CPF,
        recorded_at=afd.dh(datetime(2026, 11, 24, 8, 1, 2, tzinfo=ZONE), ZONE),
        collector=2,
        offline=offline,
    )
    return afd.punch_record(prefix, afd.punch_hash(prefix, None))


def sealed_punch(**overrides: object) -> SealedPunch:
    values: dict[str, object] = {
        "punch_id": "p-1",
        "line": sealed_line(),
        "employee_id": "e1",
        "employee_name": "Maria da Conceição",
        "kind": "in",
        "employer_document_type": afd.CNPJ,
        "employer_document": CNPJ,
        "employer_name": "Padaria São João Ltda",
        "workplace": "Rua A, 1",
        "cno_caepf": None,
    }
    values.update(overrides)
    return SealedPunch(**values)  # type: ignore[arg-type]


def test_the_receipt_states_the_afd_lines_fields_and_the_registry() -> None:
    line = sealed_line(offline=True)
    document = receipt(sealed_punch(line=line), INPI).as_json()
    parsed = afd.parse_punch_line(line)
    assert document["nsr"] == 123
    assert document["employee"] == {"employee_id": "e1", "name": "Maria da Conceição", "cpf": CPF}
    assert document["punched_at"] == "2026-11-24T08:00:00-03:00"  # the AFD's minute, as the record states it
    assert document["recorded_at"] == "2026-11-24T08:01:00-03:00"
    assert document["offline"] is True
    assert document["hash"] == parsed.hash
    assert document["inpi"] == INPI
    assert document["employer"] == {
        "name": "Padaria São João Ltda", "document_type": "CNPJ", "document": CNPJ, "cno_caepf": None,
        "workplace": "Rua A, 1",
    }  # fmt: skip


def test_the_printed_lines_follow_art_79_and_show_cno_only_when_there_is_one() -> None:
    labels = [label for label, _ in lines(receipt(sealed_punch(), INPI))]
    assert labels[0] == "NSR"
    assert "CNO/CAEPF" not in labels
    assert labels[-2:] == ["Registro INPI do REP-P", "Código hash (SHA-256)"]
    with_cno = dict(lines(receipt(sealed_punch(cno_caepf="123456789012"), INPI)))
    assert with_cno["CNO/CAEPF"] == "123456789012"
    assert formatted_document(afd.CNPJ, CNPJ) == f"{CNPJ[:2]}.{CNPJ[2:5]}.{CNPJ[5:8]}/{CNPJ[8:12]}-{CNPJ[12:]}"


def test_an_unsigned_pdf_is_one_page_with_the_receipts_text() -> None:
    data = pdf.receipt_pdf(receipt(sealed_punch(), INPI), None)
    reader = PdfFileReader(io.BytesIO(data))
    assert data.startswith(b"%PDF-")
    assert len(reader.root["/Pages"]["/Kids"]) == 1
    assert reader.embedded_signatures == []
    assert reader.document_meta_view.title == "Comprovante de Registro de Ponto do Trabalhador"
