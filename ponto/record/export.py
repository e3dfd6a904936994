"""Writing an AFD (layout 003, REP-P.md): the header, the records as stored, the trailer and the
signature line, streamed in ISO-8859-1 with CRLF, hashing the bytes as they go (for the detached
signature). Plain Python over an iterator of stored lines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

from ponto.errors import ConfigError
from ponto.record import afd
from ponto.record.registry import Establishment

_CHUNK_LINES = 2048


@dataclass(frozen=True)
class RepIdentity:
    """The REP-P's own identity, for the AFD header: its INPI registration and its developer."""

    inpi: str  # 17 digits
    developer_document: str  # the developer's CNPJ (14 digits) or CPF (11)

    def __post_init__(self) -> None:
        if len(self.inpi) != 17 or not self.inpi.isdigit():
            raise ConfigError("PONTO_REP_INPI: the REP-P's INPI registration number has 17 digits")
        if len(self.developer_document) not in (11, 14) or not self.developer_document.isdigit():
            raise ConfigError("PONTO_DEVELOPER_CNPJ: the developer's CNPJ has 14 digits")

    @property
    def developer_type(self) -> int:
        return afd.CNPJ if len(self.developer_document) == 14 else afd.CPF


@dataclass
class Written:
    """What an AFD holds: records by type, and the SHA-256 of its bytes (what the .p7s signs)."""

    counts: dict[str, int] = field(default_factory=dict)
    records: int = 0
    size: int = 0  # bytes
    sha256: bytes = b""


def write_afd(
    out: BinaryIO,
    *,
    establishment: Establishment,
    rep: RepIdentity,
    first_day: date,
    last_day: date,
    generated_at: datetime,
    records: Iterable[tuple[int, str]],
    progress: Callable[[int], None] | None = None,
) -> Written:
    """Write the AFD of `records` ((type, stored line) in NSR order) to `out`."""
    digest = hashlib.sha256()
    written = Written()

    def put(text: str) -> None:
        data = text.encode(afd.ENCODING)
        digest.update(data)
        out.write(data)
        written.size += len(data)

    header = afd.header(
        employer_type=establishment.document_type,
        employer_document=establishment.document,
        cno_caepf=establishment.cno_caepf,
        name=establishment.name,
        inpi=rep.inpi,
        first_day=first_day,
        last_day=last_day,
        generated_at=afd.dh(generated_at, establishment.zone),
        developer_type=rep.developer_type,
        developer_document=rep.developer_document,
    )
    put(header + afd.EOL)
    counts = dict.fromkeys(afd.TRAILER_COUNTED, 0)
    chunk: list[str] = []
    for record_type, line in records:
        counts[str(record_type)] += 1
        chunk.append(line)
        if len(chunk) == _CHUNK_LINES:
            put(afd.EOL.join(chunk) + afd.EOL)
            written.records += len(chunk)
            chunk.clear()
            if progress is not None:
                progress(_CHUNK_LINES)
    if chunk:
        put(afd.EOL.join(chunk) + afd.EOL)
        written.records += len(chunk)
        if progress is not None:
            progress(len(chunk))
    put(afd.trailer(counts) + afd.EOL)
    put(afd.SIGNATURE_LINE + afd.EOL)
    written.counts = counts
    written.sha256 = digest.digest()
    return written
