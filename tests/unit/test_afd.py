"""The AFD layout 003 (REP-P.md): every field of every record at its position, the CRC, DH/D fields, text
fields, and the punch hash recipe. Slices are written from the layout's 1-based positions: positions
35-46 are line[34:46]."""

import hashlib
import itertools
import random
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ponto.record import afd

CNPJ = "11222333000181"
EMPLOYER_CPF = "12345678909"
CPF = "11144477735"
RESPONSIBLE = "52998224725"
CNO = "123456789012"  # 12 digits
CAEPF = "12345678901234"
INPI = "12345678901234567"
DEVELOPER = "11444777000161"
WHEN = "2026-11-24T08:01:00-0300"
LATER = "2026-11-24T08:02:00-0300"


def kermit_hex(text: str) -> str:
    return f"{afd.crc16_kermit(text.encode('iso-8859-1')):04X}"


# --- CRC ------------------------------------------------------------------------------------------


def test_crc_check_values() -> None:
    assert afd.crc16_kermit(b"123456789") == 0x2189
    assert afd.crc16_modbus(b"123456789") == 0x4B37


# --- the layout as data ---------------------------------------------------------------------------


def test_record_lengths_are_the_rep_p_types_of_the_table() -> None:
    assert afd.RECORD_LENGTHS == {"1": 302, "2": 331, "4": 73, "5": 118, "6": 36, "7": 137, "9": 64}


@pytest.mark.parametrize("record_type", sorted(afd.LAYOUT))
def test_layout_fields_tile_the_whole_line(record_type: str) -> None:
    fields = afd.LAYOUT[record_type]
    assert fields[0].start == 1
    for before, after in itertools.pairwise(fields):
        assert after.start == before.end + 1
    assert fields[-1].end == afd.RECORD_LENGTHS[record_type]


# --- header (type 1) ------------------------------------------------------------------------------


def make_header(**changes: object) -> str:
    arguments: dict[str, object] = {
        "employer_type": afd.CNPJ,
        "employer_document": CNPJ,
        "cno_caepf": None,
        "name": "Padaria São João Ltda",
        "inpi": INPI,
        "first_day": date(2026, 11, 1),
        "last_day": date(2026, 11, 30),
        "generated_at": WHEN,
        "developer_type": afd.CNPJ,
        "developer_document": DEVELOPER,
    }
    arguments.update(changes)
    return afd.header(**arguments)  # type: ignore[arg-type]


def test_header_fields_at_their_positions() -> None:
    line = make_header()

    assert len(line) == 302
    assert line[0:9] == "000000000"
    assert line[9] == "1"
    assert line[10] == "1"  # CNPJ
    assert line[11:25] == CNPJ
    assert line[25:39] == " " * 14  # no CNO/CAEPF
    assert line[39:189] == "Padaria São João Ltda".ljust(150)
    assert line[189:206] == INPI
    assert line[206:216] == "2026-11-01"
    assert line[216:226] == "2026-11-30"
    assert line[226:250] == WHEN
    assert line[250:253] == "003"
    assert line[253] == "1"
    assert line[254:268] == DEVELOPER
    assert line[268:298] == " " * 30  # the model: blank for a REP-P
    assert line[298:302] == kermit_hex(line[:298])
    assert len(line.encode(afd.ENCODING)) == 302  # one byte per character, accents included


def test_header_of_a_cpf_employer_with_a_cno_and_a_cpf_developer() -> None:
    line = make_header(
        employer_type=afd.CPF,
        employer_document=EMPLOYER_CPF,
        cno_caepf=CNO,
        developer_type=afd.CPF,
        developer_document=RESPONSIBLE,
    )

    assert line[10] == "2"
    assert line[11:25] == EMPLOYER_CPF + "   "  # 11 digits from the left, then spaces
    assert line[25:39] == CNO + "  "
    assert line[253] == "2"
    assert line[254:268] == RESPONSIBLE + "   "
    assert line[298:302] == kermit_hex(line[:298])


@pytest.mark.parametrize(
    "changes",
    [
        {"employer_type": 3},
        {"employer_document": EMPLOYER_CPF},  # a CPF given as a CNPJ
        {"employer_document": "1122233300018X"},
        {"inpi": "1234"},
        {"cno_caepf": "12345"},
        {"generated_at": "2026-11-24T08:01:00-03:00"},
        {"generated_at": "2026-11-24T08:01:30-0300"},  # seconds are always 00
        {"first_day": date(2026, 12, 1)},  # after the last day
    ],
)
def test_header_rejects_what_the_layout_cannot_hold(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_header(**changes)


# --- employer (type 2) ----------------------------------------------------------------------------


def test_employer_record_fields_at_their_positions() -> None:
    line = afd.employer_record(
        nsr=1,
        recorded_at=WHEN,
        responsible_cpf=RESPONSIBLE,
        employer_type=afd.CNPJ,
        employer_document=CNPJ,
        cno_caepf=CAEPF,
        name="Padaria São João Ltda",
        workplace="Rua das Flores, 123 - Centro, Florianópolis/SC",
    )

    assert len(line) == 331
    assert line[0:9] == "000000001"
    assert line[9] == "2"
    assert line[10:34] == WHEN
    assert line[34:48] == RESPONSIBLE + "   "
    assert line[48] == "1"
    assert line[49:63] == CNPJ
    assert line[63:77] == CAEPF
    assert line[77:227] == "Padaria São João Ltda".ljust(150)
    assert line[227:327] == "Rua das Flores, 123 - Centro, Florianópolis/SC".ljust(100)
    assert line[327:331] == kermit_hex(line[:327])


def test_employer_record_of_a_cpf_employer_without_cno() -> None:
    line = afd.employer_record(
        nsr=42,
        recorded_at=WHEN,
        responsible_cpf=RESPONSIBLE,
        employer_type=afd.CPF,
        employer_document=EMPLOYER_CPF,
        cno_caepf=None,
        name="Maria",
        workplace="Sítio",
    )

    assert line[0:9] == "000000042"
    assert line[48] == "2"
    assert line[49:63] == EMPLOYER_CPF + "   "
    assert line[63:77] == " " * 14


# --- clock adjustment (type 4) --------------------------------------------------------------------


def test_clock_adjustment_record_fields_at_their_positions() -> None:
    line = afd.clock_adjustment_record(nsr=7, before=WHEN, after=LATER, responsible_cpf=RESPONSIBLE)

    assert len(line) == 73
    assert line[0:9] == "000000007"
    assert line[9] == "4"
    assert line[10:34] == WHEN
    assert line[34:58] == LATER
    assert line[58:69] == RESPONSIBLE
    assert line[69:73] == kermit_hex(line[:69])


# --- employee (type 5) ----------------------------------------------------------------------------


def test_employee_record_fields_at_their_positions() -> None:
    line = afd.employee_record(
        nsr=3, recorded_at=WHEN, operation="I", cpf=CPF, name="Conceição Araújo", responsible_cpf=RESPONSIBLE
    )

    assert len(line) == 118
    assert line[0:9] == "000000003"
    assert line[9] == "5"
    assert line[10:34] == WHEN
    assert line[34] == "I"
    assert line[35:47] == CPF + " "
    assert line[47:99] == "Conceição Araújo".ljust(52)
    assert line[99:103] == "    "  # other data: blank
    assert line[103:114] == RESPONSIBLE
    assert line[114:118] == kermit_hex(line[:114])


def test_employee_record_cuts_the_name_to_52() -> None:
    name = "Maria " + "da Silva " * 10
    line = afd.employee_record(nsr=3, recorded_at=WHEN, operation="A", cpf=CPF, name=name, responsible_cpf=RESPONSIBLE)

    assert line[34] == "A"
    assert line[47:99] == name[:52]
    assert len(line) == 118


@pytest.mark.parametrize("operation", ["X", "i", "", "IA"])
def test_employee_record_rejects_other_operations(operation: str) -> None:
    with pytest.raises(ValueError):
        afd.employee_record(
            nsr=3, recorded_at=WHEN, operation=operation, cpf=CPF, name="Ana", responsible_cpf=RESPONSIBLE
        )


@pytest.mark.parametrize("cpf", ["1114447773", "111444777351", "1114447773X", "١١١٤٤٤٧٧٧٣٥"])
def test_a_bad_cpf_is_rejected_without_repeating_it(cpf: str) -> None:
    with pytest.raises(ValueError) as raised:
        afd.employee_record(nsr=3, recorded_at=WHEN, operation="E", cpf=cpf, name="Ana", responsible_cpf=RESPONSIBLE)

    assert cpf not in str(raised.value)
    assert "CPF" in str(raised.value)


@pytest.mark.parametrize("nsr", [0, -1, 1_000_000_000])
def test_an_nsr_outside_nine_digits_is_rejected(nsr: int) -> None:
    with pytest.raises(ValueError):
        afd.event_record(nsr=nsr, at=WHEN, event=7)
    with pytest.raises(ValueError):
        afd.punch_prefix(nsr=nsr, punched_at=WHEN, cpf=CPF, recorded_at=WHEN, collector=1, offline=False)


def test_the_largest_nsr_fits() -> None:
    assert afd.event_record(nsr=999_999_999, at=WHEN, event=2)[0:9] == "999999999"


# --- sensitive event (type 6) ---------------------------------------------------------------------


def test_event_record_fields_at_their_positions() -> None:
    line = afd.event_record(nsr=5, at=WHEN, event=8)

    assert len(line) == 36
    assert line[0:9] == "000000005"
    assert line[9] == "6"
    assert line[10:34] == WHEN
    assert line[34:36] == "08"  # no CRC: the line ends with the event


# --- punch (type 7) and the hash recipe -----------------------------------------------------------


def test_punch_fields_at_their_positions() -> None:
    prefix = afd.punch_prefix(nsr=12, punched_at=WHEN, cpf=CPF, recorded_at=LATER, collector=2, offline=True)
    digest = afd.punch_hash(prefix, None)
    line = afd.punch_record(prefix, digest)

    assert len(prefix) == 73
    assert len(line) == 137
    assert line[0:9] == "000000012"
    assert line[9] == "7"
    assert line[10:34] == WHEN
    assert line[34:46] == CPF + " "
    assert line[46:70] == LATER
    assert line[70:72] == "02"
    assert line[72] == "1"  # offline
    assert line[73:137] == digest
    assert line[:73] == prefix


def test_punch_online_is_0() -> None:
    prefix = afd.punch_prefix(nsr=1, punched_at=WHEN, cpf=CPF, recorded_at=WHEN, collector=4, offline=False)
    assert prefix[70:73] == "040"


def test_the_hash_recipe_on_a_hand_written_example() -> None:
    # Given two punches, written out as the layout has them (NSR, 7, DH, CPF + space, DH, collector, 0/1)
    first = "00000000172026-11-24T08:01:00-030011144477735 2026-11-24T08:02:00-0300010"
    second = "00000000272026-11-24T17:59:00-030011144477735 2026-11-24T18:00:00-0300051"
    assert len(first) == len(second) == 73

    # When the AFD module builds and seals them
    built_first = afd.punch_prefix(
        nsr=1,
        punched_at="2026-11-24T08:01:00-0300",
        cpf="11144477735",
        recorded_at="2026-11-24T08:02:00-0300",
        collector=1,
        offline=False,
    )
    built_second = afd.punch_prefix(
        nsr=2,
        punched_at="2026-11-24T17:59:00-0300",
        cpf="11144477735",
        recorded_at="2026-11-24T18:00:00-0300",
        collector=5,
        offline=True,
    )
    first_hash = afd.punch_hash(built_first, None)
    second_hash = afd.punch_hash(built_second, first_hash)

    # Then the first punch hashes its 73 characters alone, the next one its own followed by the first's hash
    assert built_first == first
    assert built_second == second
    assert first_hash == hashlib.sha256(first.encode("iso-8859-1")).hexdigest()
    assert second_hash == hashlib.sha256((second + first_hash).encode("iso-8859-1")).hexdigest()
    assert second_hash == second_hash.lower()
    assert len(second_hash) == 64


def test_the_first_punch_has_no_predecessor_and_an_empty_one_is_refused() -> None:
    prefix = afd.punch_prefix(nsr=1, punched_at=WHEN, cpf=CPF, recorded_at=WHEN, collector=1, offline=False)

    assert afd.punch_hash(prefix, None) != afd.punch_hash(prefix, "0" * 64)
    with pytest.raises(ValueError):
        afd.punch_hash(prefix, "")


@pytest.mark.parametrize(
    "changes",
    [
        {"punched_at": "2026-11-24T08:01-0300"},
        {"recorded_at": WHEN + "Z"},
        {"cpf": "1114447773"},
        {"collector": 0},
        {"collector": 6},
    ],
)
def test_punch_prefix_rejects_wrong_lengths_and_collectors(changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "nsr": 1,
        "punched_at": WHEN,
        "cpf": CPF,
        "recorded_at": WHEN,
        "collector": 1,
        "offline": False,
    }
    arguments.update(changes)
    with pytest.raises(ValueError):
        afd.punch_prefix(**arguments)  # type: ignore[arg-type]


def test_punch_record_rejects_a_short_hash() -> None:
    prefix = afd.punch_prefix(nsr=1, punched_at=WHEN, cpf=CPF, recorded_at=WHEN, collector=1, offline=False)
    with pytest.raises(ValueError):
        afd.punch_record(prefix, "ab" * 31)


def test_parse_punch_line_reads_back_what_was_built() -> None:
    prefix = afd.punch_prefix(nsr=77, punched_at=WHEN, cpf=CPF, recorded_at=LATER, collector=3, offline=True)
    digest = afd.punch_hash(prefix, "f" * 64)
    line = afd.punch_record(prefix, digest)

    assert afd.parse_punch_line(line) == afd.PunchLine(77, WHEN, CPF, LATER, 3, True, digest)
    assert afd.parse_punch_line(line + afd.EOL) == afd.parse_punch_line(line)


@pytest.mark.parametrize(
    ("start", "replacement"),
    [
        (0, "00000000A"),  # NSR not digits
        (0, "000000000"),  # NSR 0
        (9, "6"),  # not a punch
        (15, "13"),  # month 13
        (45, "X"),  # CPF not followed by a space
        (70, "09"),  # no such collector
        (72, "2"),  # neither online nor offline
        (73, "A"),  # uppercase hex
    ],
)
def test_parse_punch_line_rejects_malformed_lines(start: int, replacement: str) -> None:
    prefix = afd.punch_prefix(nsr=77, punched_at=WHEN, cpf=CPF, recorded_at=LATER, collector=3, offline=True)
    line = afd.punch_record(prefix, afd.punch_hash(prefix, None))
    broken = line[:start] + replacement + line[start + len(replacement) :]

    with pytest.raises(ValueError):
        afd.parse_punch_line(broken)
    with pytest.raises(ValueError):
        afd.parse_punch_line(line[:-1])


# --- trailer (type 9), signature line, file name --------------------------------------------------


def test_trailer_counts_types_2_to_7_in_order() -> None:
    line = afd.trailer({"2": 1, "5": 3, "7": 1234, "6": 2})

    assert len(line) == 64
    assert line[0:9] == "999999999"
    assert line[9:18] == "000000001"  # type 2
    assert line[18:27] == "000000000"  # type 3: missing, so 0
    assert line[27:36] == "000000000"  # type 4
    assert line[36:45] == "000000003"  # type 5
    assert line[45:54] == "000000002"  # type 6
    assert line[54:63] == "000001234"  # type 7
    assert line[63] == "9"


@pytest.mark.parametrize("counts", [{"8": 1}, {"7": -1}, {"7": 1_000_000_000}])
def test_trailer_rejects_unknown_types_and_counts_outside_nine_digits(counts: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        afd.trailer(counts)


def test_signature_line() -> None:
    assert len(afd.SIGNATURE_LINE) == 100
    assert afd.SIGNATURE_LINE == "ASSINATURA_DIGITAL_EM_ARQUIVO_P7S" + " " * 67


def test_file_name_of_a_cnpj_and_of_a_zero_padded_cpf() -> None:
    assert afd.file_name(INPI, CNPJ) == f"AFD{INPI}{CNPJ}REP_P.txt"
    assert afd.file_name(INPI, EMPLOYER_CPF) == f"AFD{INPI}000{EMPLOYER_CPF}REP_P.txt"
    assert len(afd.file_name(INPI, EMPLOYER_CPF)) == 3 + 17 + 14 + len("REP_P.txt")
    with pytest.raises(ValueError):
        afd.file_name("123", CNPJ)


# --- DH and D -------------------------------------------------------------------------------------

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Brazil's last DST began at local midnight of 2018-11-04 (clocks to 01:00, -0200) ...
        (datetime(2018, 11, 4, 2, 59, tzinfo=UTC), "2018-11-03T23:59:00-0300"),
        (datetime(2018, 11, 4, 3, 0, tzinfo=UTC), "2018-11-04T01:00:00-0200"),
        # ... and ended at local midnight of 2019-02-17 (clocks back to 23:00 of the 16th, -0300).
        (datetime(2019, 2, 17, 1, 59, tzinfo=UTC), "2019-02-16T23:59:00-0200"),
        (datetime(2019, 2, 17, 2, 0, tzinfo=UTC), "2019-02-16T23:00:00-0300"),
        (datetime(2026, 11, 24, 11, 1, 59, 999_999, tzinfo=UTC), "2026-11-24T08:01:00-0300"),  # truncated
    ],
)
def test_dh_in_sao_paulo_across_dst(utc: datetime, expected: str) -> None:
    assert afd.dh(utc, SAO_PAULO) == expected


def test_dh_in_other_zones() -> None:
    moment = datetime(2026, 11, 24, 2, 31, 59, tzinfo=UTC)

    assert afd.dh(moment, ZoneInfo("Asia/Kolkata")) == "2026-11-24T08:01:00+0530"
    assert afd.dh(moment, UTC) == "2026-11-24T02:31:00+0000"
    assert afd.dh(moment, timezone(timedelta(hours=-3, minutes=-30))) == "2026-11-23T23:01:00-0330"
    assert len(afd.dh(moment, SAO_PAULO)) == 24


def test_dh_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError):
        afd.dh(datetime(2026, 11, 24, 8, 1), SAO_PAULO)


def test_d() -> None:
    assert afd.d(date(2026, 1, 5)) == "2026-01-05"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (WHEN, True),
        ("2026-11-24T08:01:00+0530", True),
        ("2026-02-29T08:01:00-0300", False),  # no such day
        ("2026-11-24T24:00:00-0300", False),
        ("2026-11-24T08:60:00-0300", False),
        ("2026-11-24T08:01:00-0360", False),
        ("2026-11-24T08:01:00 0300", False),
        ("2026-11-24 08:01:00-0300", False),
        ("2026-11-24T08:01:00-03:0", False),
        ("2026-11-24T08:01:00-030", False),
        ("2026-11-24T08:0\uff11:00-0300", False),  # a full-width digit one
    ],
)
def test_is_dh(text: str, valid: bool) -> None:
    assert afd.is_dh(text) is valid


# --- text fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [
        ("Conceição", 12, "Conceição   "),  # accents of ISO-8859-1 kept
        ("Ana 😀 Lima", 10, "Ana ? Lima"),  # outside ISO-8859-1: '?'
        ("Rua A\r\nCasa\t2", 14, "Rua A  Casa 2 "),  # control characters: spaces
        ("Joa\u0303o", 5, "João "),  # a decomposed accent, composed
        ("abcdef", 3, "abc"),
        ("", 4, "    "),
        ("北京", 3, "?? "),
    ],
)
def test_latin1_text(value: str, width: int, expected: str) -> None:
    text = afd.latin1_text(value, width)

    assert text == expected
    assert len(text.encode(afd.ENCODING)) == width


def test_the_fast_kermit_equals_the_crc_package_on_random_data() -> None:
    # The writer's KERMIT runs on the stdlib's C CRC-CCITT; the crc package is the reference.
    rng = random.Random(671)
    for size in [*range(0, 40), 118, 302, 331, *rng.sample(range(40, 2000), 30)]:
        data = bytes(rng.getrandbits(8) for _ in range(size))
        assert afd.crc16_kermit(data) == afd.crc16_kermit_reference(data), size
