"""Receipts on a real PostgreSQL: the receipts function's handler over sealed punches, kiosk and personal."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from ponto.config import UrlDatabase
from ponto.local.gateway import api_key_id
from ponto.local.stack import READER_ROLE, role_url
from ponto.receipts.routes import Caller, ReceiptService
from ponto.record import afd, signing
from ponto.store import connector
from tests.events import LambdaContext, sqs_event
from tests.integration.conftest import import_handler
from tests.integration.test_record import CNPJ, KEY, OTHER_CNPJ, OTHER_KEY, record, registered, seals

pytestmark = pytest.mark.integration
__all__ = ["registered"]  # the fixture, imported for these tests

INPI = "99999000000000001"


@pytest.fixture
def identity(tmp_path: Path) -> signing.SigningIdentity:
    made = signing.self_signed_identity("Ponto receipts test signer")
    signing.write_identity(made, tmp_path / "cert.pem", tmp_path / "key.pem")
    return made


@pytest.fixture
def receipts(
    registered: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, identity: signing.SigningIdentity
) -> Iterator[Callable[..., dict[str, Any]]]:
    """The receipts function's real handler, as the reader role, signing with a test certificate."""
    env = {
        "PONTO_DATABASE_URL": role_url(registered, READER_ROLE) or registered,
        "PONTO_REP_INPI": INPI,
        "PONTO_SIGNING_CERT": str(tmp_path / "cert.pem"),
        "PONTO_SIGNING_KEY": str(tmp_path / "key.pem"),
        "POWERTOOLS_SERVICE_NAME": "ponto",
    }
    handler = import_handler("receipts", env, monkeypatch)

    def call(
        resource: str,
        *,
        key: str | None = None,
        claims: dict[str, str] | None = None,
        accept: str | None = None,
        query: dict[str, str] | None = None,
        **path: str,
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"identity": {"apiKeyId": api_key_id(key) if key else None}}
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        event = {
            "resource": resource,
            "pathParameters": path or None,
            "queryStringParameters": query,
            "headers": {"Accept": accept} if accept else {},
            "requestContext": context,
        }
        response: dict[str, Any] = handler(event, LambdaContext())
        return response

    yield call
    sys.modules[handler.__module__].service.close()


def body(response: dict[str, Any]) -> Any:
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def sealed(worker: Callable[..., Any], key: str, **punch: Any) -> str:
    punch.setdefault("punched_at", datetime.now(UTC).replace(microsecond=0).isoformat())
    item = record(key, **punch)
    assert worker(sqs_event([item]), LambdaContext()) == {"batchItemFailures": []}
    return str(json.loads(item["body"])["punch_id"])


def test_a_kiosk_reads_its_punch_receipt_with_every_field_of_its_afd_line(
    receipts: Callable[..., dict[str, Any]], worker: Callable[..., Any], db: Any
) -> None:
    # Given a punch sealed by the worker
    punch_id = sealed(worker, KEY, employee_id="e1", punched_at="2026-11-24T08:00:37-03:00", kind="in", offline=True)
    ((nsr, _, line),) = seals(db, CNPJ)
    fields = afd.parse_punch_line(line)
    # When the kiosk of its establishment asks for the receipt
    response = receipts("/punches/{punch_id}/receipt", key=KEY, punch_id=punch_id)
    # Then every field of art. 79 is there, the record's own from its AFD line
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    assert body(response) == {
        "title": "Comprovante de Registro de Ponto do Trabalhador",
        "punch_id": punch_id,
        "nsr": nsr,
        "employer": {"name": "Padaria São João", "document_type": "CNPJ", "document": CNPJ, "cno_caepf": None,
                     "workplace": "Rua A, 1"},
        "employee": {"employee_id": "e1", "name": "Empregado 1", "cpf": fields.cpf},
        "punched_at": "2026-11-24T08:00:00-03:00",
        "recorded_at": datetime.strptime(fields.recorded_at, "%Y-%m-%dT%H:%M:%S%z").isoformat(),
        "kind": "in",
        "offline": True,
        "inpi": INPI,
        "hash": fields.hash,
    }  # fmt: skip


def test_another_establishment_or_a_punch_not_sealed_is_404_and_a_bad_key_403(
    receipts: Callable[..., dict[str, Any]], worker: Callable[..., Any]
) -> None:
    punch_id = sealed(worker, KEY, employee_id="e1")
    theirs = receipts("/punches/{punch_id}/receipt", key=OTHER_KEY, punch_id=punch_id)
    pending = receipts("/punches/{punch_id}/receipt", key=KEY, punch_id="7b0e6a43-0000-4000-8000-000000000000")
    assert theirs["statusCode"] == pending["statusCode"] == 404
    assert theirs["body"] == pending["body"]  # nothing tells another establishment's punch apart
    assert receipts("/punches/{punch_id}/receipt", key="no-device", punch_id=punch_id)["statusCode"] == 403
    assert receipts("/punches/{punch_id}/receipt", punch_id=punch_id)["statusCode"] == 403


def test_an_employees_receipts_of_the_last_48_hours_in_nsr_order(
    receipts: Callable[..., dict[str, Any]], worker: Callable[..., Any]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old = sealed(worker, KEY, employee_id="e1", punched_at=(now - timedelta(hours=49)).isoformat())
    first = sealed(worker, KEY, employee_id="e1", punched_at=(now - timedelta(hours=2)).isoformat())
    second = sealed(worker, KEY, employee_id="e1", punched_at=(now - timedelta(hours=1)).isoformat())
    sealed(worker, KEY, employee_id="e2", punched_at=now.isoformat())
    listed = body(receipts("/employees/{employee_id}/receipts", key=KEY, employee_id="e1"))
    assert [r["punch_id"] for r in listed["receipts"]] == [first, second]
    assert old not in {r["punch_id"] for r in listed["receipts"]}
    # since narrows the window, and never widens it past 48 hours
    since = (now - timedelta(minutes=90)).isoformat()
    narrowed = body(receipts("/employees/{employee_id}/receipts", key=KEY, employee_id="e1", query={"since": since}))
    assert [r["punch_id"] for r in narrowed["receipts"]] == [second]
    wide = (now - timedelta(days=30)).isoformat()
    widened = body(receipts("/employees/{employee_id}/receipts", key=KEY, employee_id="e1", query={"since": wide}))
    assert [r["punch_id"] for r in widened["receipts"]] == [first, second]
    bad = receipts("/employees/{employee_id}/receipts", key=KEY, employee_id="e1", query={"since": "yesterday"})
    assert bad["statusCode"] == 400
    # The other establishment's e1 is another person: none of these are theirs
    other = body(receipts("/employees/{employee_id}/receipts", key=OTHER_KEY, employee_id="e1"))
    assert other["receipts"] == []
    unknown = receipts("/employees/{employee_id}/receipts", key=KEY, employee_id="e99")
    assert unknown["statusCode"] == 404
    assert "e99" not in unknown["body"]


def test_personal_mode_reads_only_the_signed_in_employees_receipts(
    receipts: Callable[..., dict[str, Any]], worker: Callable[..., Any]
) -> None:
    mine = sealed(worker, KEY, employee_id="e1")
    theirs = sealed(worker, KEY, employee_id="e2")
    me = {"custom:employer": CNPJ, "custom:employee_id": "e1"}
    assert receipts("/me/punches/{punch_id}/receipt", claims=me, punch_id=mine)["statusCode"] == 200
    assert receipts("/me/punches/{punch_id}/receipt", claims=me, punch_id=theirs)["statusCode"] == 404
    listed = body(receipts("/me/receipts", claims=me))
    assert [r["punch_id"] for r in listed["receipts"]] == [mine]
    # The same employee id at another establishment is someone else
    elsewhere = {"custom:employer": OTHER_CNPJ, "custom:employee_id": "e1"}
    assert receipts("/me/punches/{punch_id}/receipt", claims=elsewhere, punch_id=mine)["statusCode"] == 404
    # No claims (a route reached without the authorizer) is refused
    assert receipts("/me/receipts")["statusCode"] == 403


def test_the_pdf_is_signed_pades_and_validates_against_its_certificate(
    receipts: Callable[..., dict[str, Any]], worker: Callable[..., Any], identity: signing.SigningIdentity
) -> None:
    punch_id = sealed(worker, KEY, employee_id="e3")
    response = receipts("/punches/{punch_id}/receipt", key=KEY, accept="application/pdf", punch_id=punch_id)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/pdf"
    assert response["isBase64Encoded"] is True
    data = base64.b64decode(response["body"])
    assert data.startswith(b"%PDF-")
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    from pyhanko.keys import load_cert_from_pemder

    trust = ValidationContext(trust_roots=[_certificate(identity, load_cert_from_pemder)], allow_fetching=False)
    status = validate_pdf_signature(signature, trust)
    assert status.intact and status.valid and status.trusted
    assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"


def _certificate(identity: signing.SigningIdentity, load: Callable[[str], Any]) -> Any:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pem") as handle:
        handle.write(identity.certificate_pem)
        handle.flush()
        return load(handle.name)


def test_the_reader_role_cannot_change_anything(registered: str) -> None:
    url = role_url(registered, READER_ROLE)
    assert url is not None
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM afd_records")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id)"
                            " VALUES ('x', 1, 'device', 'x', 'x')")  # fmt: skip
    finally:
        conn.close()


def test_a_database_failure_is_503_without_details(caplog: pytest.LogCaptureFixture) -> None:
    # Given a service whose database cannot be reached (nothing listens on port 1)
    service = ReceiptService(connector(UrlDatabase("postgresql://ponto@127.0.0.1:1/ponto")), INPI, None)
    answer = service.answer("/punches/{punch_id}/receipt", {"punch_id": "p-1"}, {}, None, Caller(api_key_id="k"))
    assert answer.status == 503
    assert json.loads(answer.body) == {"message": "Receipts unavailable, retry later"}
    assert "127.0.0.1" not in caplog.text
