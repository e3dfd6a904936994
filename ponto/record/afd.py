"""The AFD (arquivo fonte de dados) of a REP-P, layout "003" (Portaria 671; REP-P.md): the one module that
knows its field positions, its CRC and the punch hash recipe.

Every builder returns one record without its CRLF. The punch path (punch_prefix, punch_hash,
punch_record) runs for every punch the worker seals, so it checks lengths only; the other builders check
what they are given more fully. A ValueError raised here names the field, never its value: CPFs and
names are personal data.
"""

from __future__ import annotations

import binascii
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import NamedTuple

ENCODING = "iso-8859-1"
EOL = "\r\n"
LAYOUT_VERSION = "003"
SIGNATURE_MARK = "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S"
SIGNATURE_LINE = f"{SIGNATURE_MARK:<100}"
COLLECTORS: dict[str, int] = {"mobile": 1, "browser": 2, "desktop": 3, "device": 4, "other": 5}
CNPJ = 1  # employer (and developer) id types
CPF = 2

MAX_NSR = 999_999_999  # nine digits
HEADER_NSR = "000000000"
TRAILER_NSR = "999999999"
TRAILER_END = "9"
DH_LENGTH = 24
PUNCH_PREFIX_LENGTH = 73  # positions 1-73 of a type-7 line: what its SHA-256 covers
HASH_LENGTH = 64
OPERATIONS = ("I", "A", "E")  # type 5: insert, change (alteração), delete (exclusão)

# Line lengths without the CRLF. Type 3 (a REP-C punch) is never written by a REP-P: not listed.
RECORD_LENGTHS: dict[str, int] = {"1": 302, "2": 331, "4": 73, "5": 118, "6": 36, "7": 137, "9": 64}
CRC_TYPES = frozenset({"1", "2", "4", "5"})
TRAILER_COUNTED = ("2", "3", "4", "5", "6", "7")  # the trailer counts these types, in this order


# --- the layout as data (for readers: the checker and the parser) -----------------------------------

# Field kinds. A "document" is a CPF/CNPJ/CNO written from the left, its unused positions spaces.
NUMERIC = "N"
DOCUMENT = "N<"
OPTIONAL_DOCUMENT = "N<?"
TEXT = "A"
DATE = "D"
DATETIME = "DH"
CRC = "CRC"
SHA256 = "SHA-256"


class Field(NamedTuple):
    """One field of a record: its 1-based first and last positions, as in the Ministry's tables."""

    name: str
    start: int
    end: int
    kind: str
    values: tuple[str, ...] = ()  # when not empty: the only values the field may hold

    @property
    def slice(self) -> slice:
        return slice(self.start - 1, self.end)


NSR = Field("NSR", 1, 9, NUMERIC)
TYPE = Field("record type", 10, 10, NUMERIC)


def _type_field(record_type: str) -> Field:
    return TYPE._replace(values=(record_type,))


_ID_TYPES = (str(CNPJ), str(CPF))

TRAILER_COUNTS: dict[str, Field] = {
    record_type: Field(f"type-{record_type} count", 10 + 9 * i, 18 + 9 * i, NUMERIC)
    for i, record_type in enumerate(TRAILER_COUNTED)
}

LAYOUT: dict[str, tuple[Field, ...]] = {
    "1": (
        Field("NSR", 1, 9, NUMERIC, (HEADER_NSR,)),
        _type_field("1"),
        Field("employer id type", 11, 11, NUMERIC, _ID_TYPES),
        Field("employer CNPJ/CPF", 12, 25, DOCUMENT),
        Field("CNO/CAEPF", 26, 39, OPTIONAL_DOCUMENT),
        Field("employer name", 40, 189, TEXT),
        Field("INPI number", 190, 206, NUMERIC),
        Field("first date", 207, 216, DATE),
        Field("last date", 217, 226, DATE),
        Field("generated at", 227, 250, DATETIME),
        Field("layout version", 251, 253, NUMERIC, (LAYOUT_VERSION,)),
        Field("developer id type", 254, 254, NUMERIC, _ID_TYPES),
        Field("developer CNPJ/CPF", 255, 268, DOCUMENT),
        Field("model", 269, 298, TEXT),
        Field("CRC", 299, 302, CRC),
    ),
    "2": (
        NSR,
        _type_field("2"),
        Field("recorded at", 11, 34, DATETIME),
        Field("responsible CPF", 35, 48, DOCUMENT),
        Field("employer id type", 49, 49, NUMERIC, _ID_TYPES),
        Field("employer CNPJ/CPF", 50, 63, DOCUMENT),
        Field("CNO/CAEPF", 64, 77, OPTIONAL_DOCUMENT),
        Field("employer name", 78, 227, TEXT),
        Field("workplace", 228, 327, TEXT),
        Field("CRC", 328, 331, CRC),
    ),
    "4": (
        NSR,
        _type_field("4"),
        Field("time before", 11, 34, DATETIME),
        Field("time after", 35, 58, DATETIME),
        Field("responsible CPF", 59, 69, NUMERIC),
        Field("CRC", 70, 73, CRC),
    ),
    "5": (
        NSR,
        _type_field("5"),
        Field("recorded at", 11, 34, DATETIME),
        Field("operation", 35, 35, TEXT, OPERATIONS),
        Field("employee CPF", 36, 47, DOCUMENT),
        Field("employee name", 48, 99, TEXT),
        Field("other data", 100, 103, TEXT),
        Field("responsible CPF", 104, 114, NUMERIC),
        Field("CRC", 115, 118, CRC),
    ),
    "6": (
        NSR,
        _type_field("6"),
        Field("event time", 11, 34, DATETIME),
        Field("event", 35, 36, NUMERIC),
    ),
    "7": (
        NSR,
        _type_field("7"),
        Field("punch time", 11, 34, DATETIME),
        Field("employee CPF", 35, 46, DOCUMENT),
        Field("recorded at", 47, 70, DATETIME),
        Field("collector", 71, 72, NUMERIC, tuple(f"{code:02d}" for code in COLLECTORS.values())),
        Field("online/offline", 73, 73, NUMERIC, ("0", "1")),
        Field("SHA-256", 74, 137, SHA256),
    ),
    "9": (
        Field("NSR", 1, 9, NUMERIC, (TRAILER_NSR,)),
        *TRAILER_COUNTS.values(),
        Field("end", 64, 64, NUMERIC, (TRAILER_END,)),
    ),
}


# --- CRC ------------------------------------------------------------------------------------------


def crc16_kermit(data: bytes) -> int:
    """CRC-16/KERMIT (what Ponto writes); check value of b"123456789": 0x2189."""
    # KERMIT is CRC-CCITT (polynomial 0x1021, init 0) with its input and output bit-reflected. The crc
    # package computes it in Python at ~2.6 µs a byte (a type-5 line: ~0.3 ms); the stdlib's C
    # CRC-CCITT (binascii.crc_hqx) over bit-reversed bytes, reflected back, gives the same value ~1000x
    # faster. The unit tests check it against the crc package's KERMIT on random data.
    register = binascii.crc_hqx(data.translate(_BIT_REVERSED), 0)
    return _BIT_REVERSED[register & 0xFF] << 8 | _BIT_REVERSED[register >> 8]


_BIT_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


def crc16_kermit_reference(data: bytes) -> int:
    """CRC-16/KERMIT by the crc package (the reference the fast one is tested against)."""
    from crc import Calculator, Crc16  # here: the worker never needs the package (a cold start pays ~5 ms)

    return Calculator(Crc16.KERMIT.value, optimized=True).checksum(data)


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (what REP-C clocks in the field also write); check value of b"123456789": 0x4B37."""
    from crc import Calculator, Crc16

    return Calculator(Crc16.MODBUS.value, optimized=True).checksum(data)


def _with_crc(body: str) -> str:
    return f"{body}{crc16_kermit(body.encode(ENCODING)):04X}"


# --- field values ---------------------------------------------------------------------------------


def dh(moment: datetime, zone: tzinfo) -> str:
    """A DH field, 'AAAA-MM-ddThh:mm:00-0300': `moment` (aware) in `zone`, its seconds dropped."""
    if moment.utcoffset() is None:
        raise ValueError("dh: the moment must be an aware datetime")
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    if offset is None:
        raise ValueError("dh: the zone gives no UTC offset")
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:00"
        f"{sign}{hours:02d}{rest // 60:02d}"
    )


def d(day: date) -> str:
    """A D field, 'AAAA-MM-dd'."""
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def is_dh(text: str) -> bool:
    """Whether `text` is a DH field that names a real moment ('2026-11-24T08:01:00-0300')."""
    if len(text) != DH_LENGTH or not text.isascii():
        return False
    if text[4] + text[7] + text[10] + text[13] + text[16] + text[17:19] != "--T::00" or text[19] not in "+-":
        return False
    if not (text[11:13] + text[14:16] + text[20:24]).isdigit() or not is_d(text[:10]):
        return False
    return int(text[11:13]) < 24 and int(text[14:16]) < 60 and int(text[22:24]) < 60


def is_d(text: str) -> bool:
    """Whether `text` is a D field that names a real day ('2026-11-24')."""
    if len(text) != 10 or not text.isascii() or text[4] + text[7] != "--":
        return False
    if not (text[:4] + text[5:7] + text[8:10]).isdigit():
        return False
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


# C0 and C1 control characters and DEL (CR, LF and TAB among them) would break the fixed-width line.
_CONTROLS_TO_SPACES = {code: " " for code in (*range(0x20), *range(0x7F, 0xA0))}


def latin1_text(value: str, width: int) -> str:
    """An alphanumeric (A) field: `value` left-aligned, space-filled and cut to `width`. Characters
    ISO-8859-1 cannot encode become '?', control characters spaces; never raises."""
    # NFC first: a decomposed "a" + U+0303 is the one ISO-8859-1 character "ã".
    text = unicodedata.normalize("NFC", value)[:width].translate(_CONTROLS_TO_SPACES)
    return text.encode(ENCODING, "replace").decode(ENCODING).ljust(width)


def _nsr(nsr: int) -> str:
    if not 0 < nsr <= MAX_NSR:
        raise ValueError(f"NSR: 1 to {MAX_NSR}")
    return f"{nsr:09d}"


def _digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    # isascii: str.isdigit() also takes "²" and other scripts' digits.
    if len(value) not in lengths or not (value.isascii() and value.isdigit()):
        raise ValueError(f"{what}: {' or '.join(map(str, lengths))} digits")
    return value


def _cpf(value: str, what: str) -> str:
    return _digits(value, (11,), what)


def _id_document(id_type: int, document: str, what: str) -> str:
    """A 14-position CNPJ/CPF field: 14 digits of a CNPJ, or 11 of a CPF and three spaces."""
    if id_type == CNPJ:
        return _digits(document, (14,), f"{what} (CNPJ)")
    if id_type == CPF:
        return f"{_digits(document, (11,), f'{what} (CPF)'):<14}"
    raise ValueError(f"{what}: id type {CNPJ} (CNPJ) or {CPF} (CPF)")


def _cno_caepf(value: str | None) -> str:
    if not value:
        return " " * 14
    return f"{_digits(value, (12, 14), 'CNO/CAEPF'):<14}"


def _dh_field(value: str, what: str) -> str:
    if not is_dh(value):
        raise ValueError(f"{what}: a DH 'AAAA-MM-ddThh:mm:00-0300' (24 characters)")
    return value


# --- records --------------------------------------------------------------------------------------


def header(
    *,
    employer_type: int,
    employer_document: str,
    cno_caepf: str | None,
    name: str,
    inpi: str,
    first_day: date,
    last_day: date,
    generated_at: str,
    developer_type: int,
    developer_document: str,
) -> str:
    """Type 1, the file's first line (302 characters, CRC included)."""
    if first_day > last_day:
        raise ValueError("header: the first day is after the last day")
    line = _with_crc(
        f"{HEADER_NSR}1{employer_type}{_id_document(employer_type, employer_document, 'employer')}"
        f"{_cno_caepf(cno_caepf)}{latin1_text(name, 150)}{_digits(inpi, (17,), 'INPI number')}"
        f"{d(first_day)}{d(last_day)}{_dh_field(generated_at, 'generated at')}{LAYOUT_VERSION}"
        f"{developer_type}{_id_document(developer_type, developer_document, 'developer')}{' ' * 30}"
    )
    assert len(line) == RECORD_LENGTHS["1"]
    return line


def employer_record(
    *,
    nsr: int,
    recorded_at: str,
    responsible_cpf: str,
    employer_type: int,
    employer_document: str,
    cno_caepf: str | None,
    name: str,
    workplace: str,
) -> str:
    """Type 2, the employer's data as inserted or changed (331 characters, CRC included)."""
    line = _with_crc(
        f"{_nsr(nsr)}2{_dh_field(recorded_at, 'recorded at')}{_cpf(responsible_cpf, 'responsible CPF'):<14}"
        f"{employer_type}{_id_document(employer_type, employer_document, 'employer')}{_cno_caepf(cno_caepf)}"
        f"{latin1_text(name, 150)}{latin1_text(workplace, 100)}"
    )
    assert len(line) == RECORD_LENGTHS["2"]
    return line


def clock_adjustment_record(*, nsr: int, before: str, after: str, responsible_cpf: str) -> str:
    """Type 4, the clock set from `before` to `after` (73 characters, CRC included)."""
    line = _with_crc(
        f"{_nsr(nsr)}4{_dh_field(before, 'time before')}{_dh_field(after, 'time after')}"
        f"{_cpf(responsible_cpf, 'responsible CPF')}"
    )
    assert len(line) == RECORD_LENGTHS["4"]
    return line


def employee_record(*, nsr: int, recorded_at: str, operation: str, cpf: str, name: str, responsible_cpf: str) -> str:
    """Type 5, an employee inserted (I), changed (A) or deleted (E) (118 characters, CRC included)."""
    if operation not in OPERATIONS:
        raise ValueError("operation: I (insert), A (change) or E (delete)")
    line = _with_crc(
        f"{_nsr(nsr)}5{_dh_field(recorded_at, 'recorded at')}{operation}{_cpf(cpf, 'employee CPF'):<12}"
        f"{latin1_text(name, 52)}{' ' * 4}{_cpf(responsible_cpf, 'responsible CPF')}"
    )
    assert len(line) == RECORD_LENGTHS["5"]
    return line


def event_record(*, nsr: int, at: str, event: int) -> str:
    """Type 6, a sensitive event (REP-P: 02 power back, 07 service available, 08 unavailable); no CRC."""
    if not 0 < event < 100:
        raise ValueError("event: 1 to 99")
    line = f"{_nsr(nsr)}6{_dh_field(at, 'event time')}{event:02d}"
    assert len(line) == RECORD_LENGTHS["6"]
    return line


_COLLECTOR_CODES = frozenset(COLLECTORS.values())


def punch_prefix(*, nsr: int, punched_at: str, cpf: str, recorded_at: str, collector: int, offline: bool) -> str:
    """Positions 1-73 of a type-7 line: what its SHA-256 covers. `punched_at` and `recorded_at` are DH
    fields, `cpf` the employee's 11 digits. Lean: the worker calls it for every punch it seals."""
    if not 0 < nsr <= MAX_NSR:
        raise ValueError(f"NSR: 1 to {MAX_NSR}")
    if collector not in _COLLECTOR_CODES:
        raise ValueError("collector: one of afd.COLLECTORS")
    prefix = f"{nsr:09d}7{punched_at}{cpf} {recorded_at}{collector:02d}{1 if offline else 0}"
    if len(prefix) != PUNCH_PREFIX_LENGTH:
        raise ValueError("punch: each DH has 24 characters and the CPF 11 digits")
    return prefix


def punch_hash(prefix: str, previous: str | None) -> str:
    """THE punch hash recipe (REP-P.md): the lowercase hex SHA-256 of the line's first 73 characters
    (ISO-8859-1 bytes) followed by the 64 hex characters of the establishment's previous punch hash,
    or by nothing for its first punch."""
    if len(prefix) != PUNCH_PREFIX_LENGTH:
        raise ValueError("punch hash: the prefix has 73 characters")
    if previous is None:
        return hashlib.sha256(prefix.encode(ENCODING)).hexdigest()
    if len(previous) != HASH_LENGTH:
        raise ValueError("punch hash: the previous hash has 64 hex characters")
    return hashlib.sha256((prefix + previous).encode(ENCODING)).hexdigest()


def punch_record(prefix: str, hash_hex: str) -> str:
    """Type 7, a punch (137 characters, no CRC): its prefix and its hash."""
    if len(prefix) != PUNCH_PREFIX_LENGTH or len(hash_hex) != HASH_LENGTH:
        raise ValueError("punch: a 73-character prefix and a 64-character hash")
    return prefix + hash_hex


def trailer(counts: Mapping[str, int]) -> str:
    """Type 9, the last record (64 characters): how many records of types 2, 3, 4, 5, 6 and 7 the file
    holds; a type missing from `counts` counts 0."""
    unknown = set(counts) - set(TRAILER_COUNTED)
    if unknown:
        raise ValueError(f"trailer: counts only types {', '.join(TRAILER_COUNTED)}")
    values = [counts.get(record_type, 0) for record_type in TRAILER_COUNTED]
    if not all(0 <= value <= MAX_NSR for value in values):
        raise ValueError(f"trailer: counts are 0 to {MAX_NSR}")
    line = f"{TRAILER_NSR}{''.join(f'{value:09d}' for value in values)}{TRAILER_END}"
    assert len(line) == RECORD_LENGTHS["9"]
    return line


def file_name(inpi: str, employer_document: str) -> str:
    """The AFD's legal name: 'AFD' + INPI number (17) + CNPJ/CPF (14) + 'REP_P.txt'."""
    # The name's CNPJ/CPF part has 14 positions. Inside a record a CPF is followed by spaces, but a
    # file name with spaces in its middle breaks shells and upload forms: a CPF is zero-padded on the
    # left here, as a 14-digit number.
    return f"AFD{_digits(inpi, (17,), 'INPI number')}{_digits(employer_document, (11, 14), 'CNPJ/CPF'):0>14}REP_P.txt"


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PunchLine:
    """A type-7 line read back."""

    nsr: int
    punched_at: str  # DH
    cpf: str  # 11 digits
    recorded_at: str  # DH
    collector: int
    offline: bool
    hash: str


_HEX = frozenset("0123456789abcdef")


def parse_punch_line(line: str) -> PunchLine:
    """A type-7 line (its CRLF optional) as its fields; ValueError when it is not a well-formed one."""
    line = line.removesuffix(EOL)
    if len(line) != RECORD_LENGTHS["7"] or line[9] != "7":
        raise ValueError("not a type-7 line of 137 characters")
    field = {f.name: line[f.slice] for f in LAYOUT["7"]}
    nsr, cpf, collector, online, hash_hex = (
        field["NSR"],
        field["employee CPF"],
        field["collector"],
        field["online/offline"],
        field["SHA-256"],
    )
    punched_at, recorded_at = field["punch time"], field["recorded at"]
    if not (nsr.isascii() and nsr.isdigit()) or int(nsr) == 0:
        raise ValueError("type 7: NSR is not 9 digits from 000000001")
    if not is_dh(punched_at) or not is_dh(recorded_at):
        raise ValueError("type 7: a DH field is malformed")
    if cpf[11] != " ":
        raise ValueError("type 7: employee CPF is not 11 digits and a space")
    _cpf(cpf[:11], "type 7: employee CPF")
    if not (collector.isascii() and collector.isdigit()) or int(collector) not in _COLLECTOR_CODES:
        raise ValueError("type 7: collector is not 01 to 05")
    if online not in ("0", "1"):
        raise ValueError("type 7: online/offline is not 0 or 1")
    if not _HEX.issuperset(hash_hex):
        raise ValueError("type 7: SHA-256 is not 64 lowercase hex characters")
    return PunchLine(int(nsr), punched_at, cpf[:11], recorded_at, int(collector), online == "1", hash_hex)
