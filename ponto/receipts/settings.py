"""The read function's configuration, read once from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ponto.config import DEFAULT_SERVICE, DatabaseConfig, database_from_env
from ponto.errors import ConfigError
from ponto.record.signing import SigningError, SigningIdentity

if TYPE_CHECKING:
    from ponto.receipts.pdf import PdfSigner

_INPI = re.compile(r"[0-9]{17}")


@dataclass(frozen=True)
class ReceiptSettings:
    database: DatabaseConfig
    inpi: str  # the REP-P's INPI registration number, printed on every receipt
    certificate: Path | None  # PEM files (local stack, operators)
    key: Path | None
    signing_secret_arn: str | None  # or a Secrets Manager secret {"certificate", "private_key"} (AWS)
    service: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReceiptSettings:
        inpi = env.get("PONTO_REP_INPI") or ""
        if not _INPI.fullmatch(inpi):
            raise ConfigError("PONTO_REP_INPI must be the REP-P's INPI registration number (17 digits)")
        certificate, key = env.get("PONTO_SIGNING_CERT"), env.get("PONTO_SIGNING_KEY")
        if bool(certificate) != bool(key):
            raise ConfigError("PONTO_SIGNING_CERT and PONTO_SIGNING_KEY go together")
        return cls(
            database=database_from_env(env),
            inpi=inpi,
            certificate=Path(certificate) if certificate else None,
            key=Path(key) if key else None,
            signing_secret_arn=env.get("PONTO_SIGNING_SECRET_ARN") or None,
            service=env.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE,
        )

    def signer(self) -> PdfSigner | None:
        """The PAdES signer, or None: receipts are then unsigned PDFs (no certificate configured)."""
        if self.certificate is None and not self.signing_secret_arn:
            return None
        from ponto.receipts.pdf import PdfSigner

        try:
            if self.certificate is not None and self.key is not None:
                return PdfSigner.from_identity(SigningIdentity.from_files(self.certificate, self.key))
        except SigningError as exc:
            raise ConfigError(f"receipt signing certificate: {exc}") from None
        if self.signing_secret_arn:
            from ponto.aws_secrets import signing_pem

            certificate_pem, key_pem = signing_pem(self.signing_secret_arn)
            return PdfSigner.from_identity(SigningIdentity(certificate_pem, key_pem))
        return None
