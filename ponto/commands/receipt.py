"""`ponto receipt PUNCH_ID [--pdf FILE]`: a sealed punch's receipt, for operators."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from ponto.commands.common import add_database_options, connection, emit, local_state
from ponto.commands.record import rep_identity, signing_identity
from ponto.errors import InvalidInputError, PontoError
from ponto.receipts.document import TITLE, lines, receipt
from ponto.store import receipts as store


def cmd_receipt(args: argparse.Namespace) -> int:
    inpi = os.environ.get("PONTO_REP_INPI") or _local_inpi(args) or rep_identity(args).inpi
    with connection(args) as conn, conn, conn.cursor() as cur:
        sealed = store.sealed_punch_anywhere(cur, args.punch_id)
    if sealed is None:
        raise InvalidInputError(f"punch {args.punch_id}: no receipt (unknown, or not sealed yet: see `ponto seal`)")
    document = receipt(sealed, inpi)
    if args.pdf is not None:
        from ponto.receipts import pdf

        identity = signing_identity(args)
        signer = pdf.PdfSigner.from_identity(identity) if identity is not None else None
        data = pdf.receipt_pdf(document, signer)
        try:
            args.pdf.write_bytes(data)
        except OSError as exc:
            raise PontoError(f"cannot write the PDF ({exc.strerror})") from None
        signed = "signed" if signer is not None else "unsigned (no signing certificate)"
        print(f"{args.pdf}: receipt NSR {document.nsr}, {signed}", file=sys.stderr)
    emit(args, document.as_json(), _text(document))
    return 0


def _local_inpi(args: argparse.Namespace) -> str | None:
    state = local_state(args)
    with contextlib.suppress(AttributeError):
        return str(state.rep_inpi) if state is not None and state.rep_inpi else None
    return None


def _text(document: Any) -> str:
    width = max(len(label) for label, _ in lines(document))
    return "\n".join([TITLE, *(f"{label:<{width}}  {value}" for label, value in lines(document))])


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser("receipt", help="print a sealed punch's receipt (comprovante), or write its PDF")
    parser.add_argument("punch_id")
    parser.add_argument("--pdf", type=Path, help="write the receipt as a PDF (signed PAdES when a certificate is set)")
    parser.add_argument("--certificate", help="PEM certificate to sign with (env PONTO_SIGNING_CERT)")
    parser.add_argument("--key", help="its PEM private key (env PONTO_SIGNING_KEY)")
    add_database_options(parser)
    parser.set_defaults(run=cmd_receipt)
