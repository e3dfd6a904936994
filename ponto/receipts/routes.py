"""The read routes (receipts), as plain logic: who asks, which route, what answer.

Kiosk routes come with a device's API key: the caller is the key's establishment, and any of its
employees' receipts may be read. Personal routes come with an employee's token: the caller is that
employee of that establishment, and only their own receipts may be read. Whatever is not the caller's
is answered as what does not exist (404), so nothing tells another establishment's punches apart from
ones not sealed yet.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg2

from ponto.contract import load_contract
from ponto.errors import ConfigError, InvalidPunchError, StoreError
from ponto.punch import parse_timestamp
from ponto.receipts.document import receipt
from ponto.store import receipts as store

if TYPE_CHECKING:  # the PDF side (fpdf2, pyHanko) is imported when a PDF is asked for: a layer on AWS
    from ponto.receipts.pdf import PdfSigner

logger = logging.getLogger("ponto.receipts")

KIOSK_RECEIPT = "/punches/{punch_id}/receipt"
KIOSK_RECEIPTS = "/employees/{employee_id}/receipts"
PERSONAL_RECEIPT = "/me/punches/{punch_id}/receipt"
PERSONAL_RECEIPTS = "/me/receipts"
ROUTES = (KIOSK_RECEIPT, KIOSK_RECEIPTS, PERSONAL_RECEIPT, PERSONAL_RECEIPTS)

WINDOW = timedelta(hours=48)  # art. 80: the last 48 hours of receipts, downloadable at any time
PDF_MEDIA_TYPE = "application/pdf"
JSON_MEDIA_TYPE = "application/json"
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PUNCH_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SINCE = re.compile(load_contract().punch_schema["oneOf"][0]["properties"]["punched_at"]["pattern"])


@dataclass(frozen=True)
class Caller:
    """Who asks. Kiosk: the API key's id. Personal: the token's establishment document and employee id."""

    api_key_id: str | None = None
    employer_document: str | None = None
    employee_id: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = JSON_MEDIA_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)


def _json(status: int, document: Any) -> Answer:
    # Receipts carry personal data: no cache on the way may keep them.
    return Answer(status, json.dumps(document, ensure_ascii=False).encode(), headers={"Cache-Control": "no-store"})


def _message(status: int, message: str) -> Answer:
    return _json(status, {"message": message})


NOT_FOUND_RECEIPT = "No receipt for this punch yet: it is not sealed yet, or it is not yours to read"
NOT_FOUND_EMPLOYEE = "Unknown employee id for this establishment"


class ReceiptService:
    """Answers the read routes over one database connection (one per execution environment)."""

    def __init__(
        self,
        connect: Callable[[], psycopg2.extensions.connection],
        inpi: str,
        signer: Callable[[], PdfSigner | None] | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`signer` makes the PDF signer when the first PDF is asked for: pyHanko's import is kept off
        the cold start of an environment that serves only JSON."""
        self._connect, self._inpi, self._make_signer, self._clock = connect, inpi, signer, clock
        self._signer: PdfSigner | None = None
        self._establishments: dict[tuple[str, str], int] = {}
        self._conn: psycopg2.extensions.connection | None = None

    def answer(
        self,
        route: str,
        path: Mapping[str, str],
        query: Mapping[str, str],
        accept: str | None,
        caller: Caller,
    ) -> Answer:
        try:
            return self._answer(route, path, query, accept, caller)
        except (StoreError, psycopg2.Error) as exc:
            self.close()  # a broken connection is opened afresh by the next request
            logger.warning("receipt read failed (%s)", type(exc).__name__)
            return _message(503, "Receipts unavailable, retry later")
        except ConfigError as exc:  # the signing certificate, read at the first PDF
            logger.error("receipt PDF signing is misconfigured: %s", exc)
            return _message(503, "Receipt PDFs unavailable, retry later")

    def _answer(
        self, route: str, path: Mapping[str, str], query: Mapping[str, str], accept: str | None, caller: Caller
    ) -> Answer:
        if route not in ROUTES:
            return _message(404, "Not found")
        personal = route in (PERSONAL_RECEIPT, PERSONAL_RECEIPTS)
        with self._cursor() as cur:
            establishment_id = self._establishment(cur, caller, personal=personal)
            if establishment_id is None:
                return _message(403, "Forbidden")
            if route in (KIOSK_RECEIPT, PERSONAL_RECEIPT):
                punch_id = path.get("punch_id", "")
                only = caller.employee_id if personal else None
                if not _PUNCH_ID.fullmatch(punch_id):
                    return _message(404, NOT_FOUND_RECEIPT)
                sealed = store.sealed_punch(cur, establishment_id, punch_id, only)
                if sealed is None:
                    return _message(404, NOT_FOUND_RECEIPT)
                document = receipt(sealed, self._inpi)
                if _wants_pdf(accept):
                    try:
                        from ponto.receipts import pdf
                    except ImportError:  # a deployment without the receipts' PDF layer
                        return _message(501, "Receipt PDFs are not available in this deployment: ask for JSON")
                    if self._signer is None and self._make_signer is not None:
                        self._signer = self._make_signer()
                    return Answer(
                        200, pdf.receipt_pdf(document, self._signer), PDF_MEDIA_TYPE, {"Cache-Control": "no-store"}
                    )
                return _json(200, document.as_json())
            employee_id = caller.employee_id if personal else path.get("employee_id", "")
            if (
                not employee_id
                or not _ID.fullmatch(employee_id)
                or not store.employee_known(cur, establishment_id, employee_id)
            ):
                return _message(404, NOT_FOUND_EMPLOYEE)
            since = self._since(query.get("since"))
            if since is None:
                return _message(400, "since must be an RFC 3339 date-time with its offset")
            found = store.sealed_since(cur, establishment_id, employee_id, since)
            listed = [receipt(sealed, self._inpi).as_json() for sealed in found]
            return _json(200, {"employee_id": employee_id, "since": since.isoformat(), "receipts": listed})

    def _establishment(self, cur: store.Cursor, caller: Caller, *, personal: bool) -> int | None:
        """The caller's establishment. Kept by the warm environment once found: a device never moves to
        another establishment, nor an establishment to another document (one query less a read, in a burst).
        What is not found is asked again: the device or establishment may be registered since."""
        find: Callable[[store.Cursor, str], int | None]
        if personal:
            if caller.employer_document is None or caller.employee_id is None:
                return None
            key, find = ("document", caller.employer_document), store.establishment_by_document
        else:
            if caller.api_key_id is None:
                return None
            key, find = ("key", caller.api_key_id), store.establishment_of_key
        found = self._establishments.get(key)
        if found is None:
            found = find(cur, key[1])
            if found is not None:
                self._establishments[key] = found
        return found

    def _since(self, text: str | None) -> datetime | None:
        """The window's start: `since` (the contract's punched_at pattern), never older than 48 hours;
        None when it is not such a date-time (400)."""
        oldest = self._clock() - WINDOW
        if text is None:
            return oldest
        if _SINCE.fullmatch(text) is None:
            return None
        try:
            since = parse_timestamp(text, UTC)
        except InvalidPunchError:  # the pattern's one gap: 29 February of a common year
            return oldest
        return max(since, oldest)

    def _cursor(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.set_session(readonly=True, autocommit=True)
        return self._conn.cursor()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _wants_pdf(accept: str | None) -> bool:
    return accept is not None and PDF_MEDIA_TYPE in accept.lower()
