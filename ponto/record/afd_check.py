"""`ponto afd verify FILE`: check any AFD (layout 003; ours or a REP-C's) line by line, in constant memory.

What it checks: CRLF line ends and no blank lines; a type-1 header on line 1; every record's type, length
and fields (digits where the layout says N, real dates in D and DH fields); the CRCs of types 1, 2, 4 and
5 (CRC-16/KERMIT, or CRC-16/MODBUS as REP-C clocks write it, but one variant per file); NSRs rising by
exactly 1 from the first record's; the trailer's counts; nothing after the signature line; and each
punch's SHA-256 chained to the file's previous punch (the file's first punch is taken as given: the
punch before it may belong to an earlier period). Problems name lines, NSRs and fields, never values.
Field positions come from `afd`; nothing here knows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ponto.record import afd

MAX_PROBLEMS = 1000
_MAX_LINE = 64 * 1024  # an overlong line is checked by its first 64 KiB (records have at most 331 bytes)
_CACHE_LIMIT = 100_000  # distinct D/DH values remembered as valid (a burst of punches shares its minutes)
_CRLF = b"\r\n"
_SIGNATURE = afd.SIGNATURE_LINE.encode(afd.ENCODING)
_SIGNATURE_MARK = afd.SIGNATURE_MARK.encode(afd.ENCODING)
_HEX_DIGITS = b"0123456789abcdef"
_CRC_VARIANTS: dict[str, Callable[[bytes], int]] = {"KERMIT": afd.crc16_kermit, "MODBUS": afd.crc16_modbus}

# Positions, from the layout.
_NSR = afd.NSR.slice
_TYPE = afd.TYPE.slice
_PUNCH_LENGTH = afd.RECORD_LENGTHS["7"]
_PUNCH_HASH = next(f for f in afd.LAYOUT["7"] if f.kind == afd.SHA256).slice
_PUNCH_PREFIX = slice(0, _PUNCH_HASH.start)
_CRC = {t: next(f for f in afd.LAYOUT[t] if f.kind == afd.CRC).slice for t in afd.CRC_TYPES}
_TYPE_NAMES = {t.encode(): t for t in afd.RECORD_LENGTHS if t != "9"}
_TRAILER_NSR = afd.TRAILER_NSR.encode()


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based; 0 for the file as a whole
    message: str  # one line, no personal data


@dataclass
class CheckResult:
    problems: list[Problem]
    records: int  # the NSR-numbered records (between the header and the trailer)
    counts: dict[str, int]  # those records by type ("2".."7", and any unknown type seen)
    crc_variant: str | None  # "KERMIT" or "MODBUS": what the file's CRCs use; None if none matched

    @property
    def ok(self) -> bool:
        return not self.problems


def check_afd(lines: Iterable[bytes]) -> CheckResult:
    """Check an AFD given as its raw lines, as read in binary mode (each with its line end)."""
    checker = _Checker()
    feed = checker.feed
    for raw in lines:
        feed(raw)
    return checker.finish()


def check_afd_file(path: Path) -> CheckResult:
    """Check the AFD at `path`, streaming it."""
    with path.open("rb") as stream:
        return check_afd(_lines(stream))


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's lines with their ends; a line longer than _MAX_LINE is cut there, keeping its end,
    so that a file without line ends is never held whole in memory."""
    readline = stream.readline
    while line := readline(_MAX_LINE):
        if len(line) == _MAX_LINE and not line.endswith(b"\n"):
            rest = line
            while rest and not rest.endswith(b"\n"):
                rest = readline(_MAX_LINE)
            line += _CRLF if rest.endswith(_CRLF) else rest[-1:]
        yield line


# --- field tests (on bytes: bytes.isdigit() is ASCII only) -----------------------------------------

FieldTest = Callable[[bytes], bool]


def _is_numeric(value: bytes) -> bool:
    return value.isdigit()


def _is_document(value: bytes) -> bool:
    return value.rstrip(b" ").isdigit()


def _is_optional_document(value: bytes) -> bool:
    digits = value.rstrip(b" ")
    return not digits or digits.isdigit()


def _is_sha256(value: bytes) -> bool:
    return len(value) == afd.HASH_LENGTH and not value.translate(None, _HEX_DIGITS)


def _remembering(test: Callable[[str], bool]) -> FieldTest:
    valid: set[bytes] = set()

    def remembered(value: bytes) -> bool:
        if value in valid:
            return True
        if not test(value.decode(afd.ENCODING)):
            return False
        if len(valid) >= _CACHE_LIMIT:
            valid.clear()
        valid.add(value)
        return True

    return remembered


def _one_of(values: tuple[str, ...]) -> FieldTest:
    allowed = frozenset(value.encode(afd.ENCODING) for value in values)
    return allowed.__contains__


_KIND_WORDS = {
    afd.NUMERIC: "digits",
    afd.DOCUMENT: "digits from the left, then spaces",
    afd.OPTIONAL_DOCUMENT: "blank, or digits from the left then spaces",
    afd.DATE: "a date AAAA-MM-dd",
    afd.DATETIME: "a date-time AAAA-MM-ddThh:mm:00-0300",
    afd.SHA256: "64 lowercase hex characters",
}

Plan = tuple[tuple[slice, FieldTest, str], ...]


def _plans() -> dict[str, Plan]:
    """Per record type, the tests of its fields other than the NSR, the type and the CRC (checked
    apart), and the SHA-256 of a punch (checked with the chain)."""
    kind_tests: dict[str, FieldTest] = {
        afd.NUMERIC: _is_numeric,
        afd.DOCUMENT: _is_document,
        afd.OPTIONAL_DOCUMENT: _is_optional_document,
        afd.DATE: _remembering(afd.is_d),
        afd.DATETIME: _remembering(afd.is_dh),
    }
    plans: dict[str, Plan] = {}
    for record_type, fields in afd.LAYOUT.items():
        plan = []
        for f in fields:
            if (f.end <= afd.TYPE.end and record_type not in ("1", "9")) or f.kind in (afd.CRC, afd.SHA256):
                continue
            if f.values:
                test, words = _one_of(f.values), f"one of {', '.join(f.values)}"
            elif f.kind in kind_tests:
                test, words = kind_tests[f.kind], _KIND_WORDS[f.kind]
            else:
                continue  # text (A): any ISO-8859-1 characters
            plan.append((f.slice, test, f"type {record_type}: {f.name} is not {words}"))
        plans[record_type] = tuple(plan)
    return plans


# --- the checker ----------------------------------------------------------------------------------


@dataclass
class _Checker:
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(afd.TRAILER_COUNTED, 0))
    crc_variant: str | None = None
    line_no: int = 0
    started: bool = False  # a line other than a blank one was seen: the header's place is taken
    last_nsr: int | None = None
    previous_hash: str | None = None  # the last punch's, to check the next one against
    trailer_line: int = 0
    signature_line: int = 0
    extra_reported: bool = False
    plans: dict[str, Plan] = field(default_factory=_plans)

    def problem(self, line: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, message))
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(Problem(0, f"... more problems (only the first {MAX_PROBLEMS} are listed)"))

    def feed(self, raw: bytes) -> None:
        self.line_no = n = self.line_no + 1
        if raw.endswith(_CRLF):
            body = raw[:-2]
        elif raw.endswith(b"\n"):
            self.problem(n, "line ends in LF, not CRLF")
            body = raw[:-1]
        else:
            self.problem(n, "line has no CRLF at its end")
            body = raw
        if not body or body.isspace():
            self.problem(n, "blank line")
            return
        if self.trailer_line:
            self.after_trailer(n, body)
            return
        first, self.started = not self.started, True
        if body[_NSR] == _TRAILER_NSR:  # the trailer has no type field: its position 10 is a count
            if first:
                self.problem(n, "no header (type 1) before this line")
            self.trailer(n, body)
            return
        record_type = _TYPE_NAMES.get(body[_TYPE])
        if record_type == "7" and not first:
            self.punch(n, body)
        elif first:
            self.header(n, body, record_type)
        elif record_type == "1":
            self.problem(n, "a header (type 1) after the first line")
        else:
            self.record(n, body, record_type)

    def finish(self) -> CheckResult:
        if self.line_no == 0:
            self.problem(0, "empty file")
        elif not self.trailer_line:
            self.problem(0, "no trailer (type 9)")
        return CheckResult(self.problems, self.records, self.counts, self.crc_variant)

    # --- records ----------------------------------------------------------------------------------

    def header(self, n: int, body: bytes, record_type: str | None) -> None:
        if record_type != "1":
            self.problem(n, "no header (type 1) before this line")
            if record_type == "7":
                self.punch(n, body)
            else:
                self.record(n, body, record_type)
            return
        if self.length_ok(n, body, "1"):
            self.fields(n, body, "1")
            self.crc(n, body, "1")

    def record(self, n: int, body: bytes, record_type: str | None) -> None:
        label = record_type or _label(body[_TYPE])
        self.records += 1
        self.counts[label] = self.counts.get(label, 0) + 1
        nsr = self.nsr(n, body)
        if record_type is None:
            self.problem(n, f"NSR {nsr:09d}: unknown record type {label}" if nsr else f"unknown record type {label}")
            return
        if self.length_ok(n, body, record_type):
            self.fields(n, body, record_type)
            if record_type in afd.CRC_TYPES:
                self.crc(n, body, record_type)

    def punch(self, n: int, body: bytes) -> None:
        """Type 7, the bulk of a file: kept lean."""
        self.records += 1
        self.counts["7"] += 1
        nsr = self.nsr(n, body)
        if len(body) != _PUNCH_LENGTH:
            self.problem(n, f"type 7: length {len(body)}, expected {_PUNCH_LENGTH}")
            self.previous_hash = None  # the next punch is taken as given
            return
        for where, test, message in self.plans["7"]:
            if not test(body[where]):
                self.problem(n, message)
        stored = body[_PUNCH_HASH].decode(afd.ENCODING)
        previous, self.previous_hash = self.previous_hash, stored
        if previous is not None:
            if afd.punch_hash(body[_PUNCH_PREFIX].decode(afd.ENCODING), previous) == stored:
                return
            self.problem(n, f"hash chain broken at NSR {nsr:09d}" if nsr else "hash chain broken")
        if not _is_sha256(body[_PUNCH_HASH]):
            self.problem(n, f"type 7: SHA-256 is not {_KIND_WORDS[afd.SHA256]}")
            self.previous_hash = None

    def trailer(self, n: int, body: bytes) -> None:
        self.trailer_line = n
        if not self.length_ok(n, body, "9"):
            return
        self.fields(n, body, "9")
        for record_type, count_field in afd.TRAILER_COUNTS.items():
            written = body[count_field.slice]
            present = self.counts.get(record_type, 0)
            if written.isdigit() and int(written) != present:
                self.problem(n, f"trailer: {int(written)} records of type {record_type}, the file has {present}")

    def after_trailer(self, n: int, body: bytes) -> None:
        if self.signature_line or not body.startswith(_SIGNATURE_MARK):
            if not self.extra_reported:
                where = "signature line" if self.signature_line else "trailer"
                self.problem(n, f"text after the {where}")
                self.extra_reported = True
            return
        self.signature_line = n
        if body != _SIGNATURE:
            self.problem(n, f"signature line: length {len(body)}, expected 100 ({afd.SIGNATURE_MARK} and spaces)")

    # --- parts ------------------------------------------------------------------------------------

    def nsr(self, n: int, body: bytes) -> int:
        """The record's NSR (0 if it has none), checked against the one before."""
        digits = body[_NSR]
        if not digits.isdigit() or len(digits) != 9:
            self.problem(n, "NSR is not 9 digits")
            return 0
        nsr = int(digits)
        last, self.last_nsr = self.last_nsr, nsr
        if last is None:
            if nsr == 0:
                self.problem(n, "NSR 000000000: NSRs start at 1")
        elif nsr != last + 1:
            why = "gap" if nsr > last else "repeated" if nsr == last else "out of order"
            self.problem(n, f"NSR {nsr:09d} follows {last:09d} ({why})")
        return nsr

    def length_ok(self, n: int, body: bytes, record_type: str) -> bool:
        expected = afd.RECORD_LENGTHS[record_type]
        if len(body) == expected:
            return True
        self.problem(n, f"type {record_type}: length {len(body)}, expected {expected}")
        return False

    def fields(self, n: int, body: bytes, record_type: str) -> None:
        for where, test, message in self.plans[record_type]:
            if not test(body[where]):
                self.problem(n, message)

    def crc(self, n: int, body: bytes, record_type: str) -> None:
        where = _CRC[record_type]
        data, written = body[: where.start], body[where]
        expected = self.crc_variant or "KERMIT"
        if _crc_text(expected, data) == written:
            self.crc_variant = expected
            return
        other = "MODBUS" if expected == "KERMIT" else "KERMIT"
        if _crc_text(other, data) != written:
            self.problem(n, f"type {record_type}: CRC mismatch")
        elif self.crc_variant is None:
            self.crc_variant = other
        else:
            self.problem(n, f"type {record_type}: CRC is {other}, earlier records use {expected} (mixed variants)")


def _crc_text(variant: str, data: bytes) -> bytes:
    return b"%04X" % _CRC_VARIANTS[variant](data)


def _label(type_byte: bytes) -> str:
    """An unknown record type as printable text (it is one byte of the layout, not personal data)."""
    return type_byte.decode(afd.ENCODING) if type_byte.isalnum() else "?"
