"""The receipt as a PDF (fpdf2), signed PAdES (pyHanko) when a signing identity is configured.

The signature is PAdES baseline B-B: an incremental update with a /Sig field whose CMS is detached
(ETSI.CAdES.detached) and signed with the configured certificate (the local stack's self-signed test
certificate; on AWS the one in Secrets Manager; ICP-Brasil in production).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from fpdf import FPDF
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ponto.receipts.document import TITLE, Receipt, lines
from ponto.record.signing import SigningIdentity

SIGNATURE_FIELD = "AssinaturaREP"


def render(receipt: Receipt) -> bytes:
    """One A6-sized page with every field of art. 79 (core font, Latin-1 text)."""
    pdf = FPDF(orientation="portrait", unit="mm", format=(105, 170))
    pdf.set_title(TITLE)
    pdf.set_author(receipt.employer_name)
    pdf.set_creator("Ponto (REP-P)")
    pdf.set_creation_date(receipt.recorded_at)
    pdf.set_margins(8, 8, 8)
    pdf.set_auto_page_break(auto=True, margin=8)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 5, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in lines(receipt):
        pdf.set_font("Helvetica", "B", 7)
        pdf.cell(0, 3.5, _latin1(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier" if label.startswith("Código hash") else "Helvetica", "", 8)
        pdf.multi_cell(0, 4, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.8)
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core fonts are Latin-1; a name with another script's letters prints '?' rather than failing.
    return text.encode("latin-1", errors="replace").decode("latin-1")


@dataclass(frozen=True)
class PdfSigner:
    """A pyHanko signer built once from a signing identity (PEM certificate chain and key)."""

    signer: signers.SimpleSigner

    @classmethod
    def from_identity(cls, identity: SigningIdentity) -> PdfSigner:
        certificates = list(load_certs_from_pemder_data(identity.certificate_pem))
        key = load_private_key_from_pemder_data(identity.private_key_pem, passphrase=None)
        registry = SimpleCertificateStore.from_certs(certificates)  # type: ignore[no-untyped-call]
        return cls(signers.SimpleSigner(signing_cert=certificates[0], signing_key=key, cert_registry=registry))

    def sign(self, pdf: bytes) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason="Comprovante de Registro de Ponto do Trabalhador (Portaria MTP 671/2021, art. 79)",
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        signed: io.BytesIO = signers.sign_pdf(writer, meta, signer=self.signer)
        return signed.getvalue()


def receipt_pdf(receipt: Receipt, signer: PdfSigner | None) -> bytes:
    document = render(receipt)
    return signer.sign(document) if signer is not None else document
