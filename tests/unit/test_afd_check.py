"""The AFD checker (`ponto afd verify`): a valid file passes; each defect is found, named by line and NSR,
and never repeats personal data."""

from collections import Counter
from datetime import date
from pathlib import Path

from ponto.record import afd
from ponto.record.afd_check import MAX_PROBLEMS, CheckResult, Problem, check_afd, check_afd_file

CNPJ = "11222333000181"
CPFS = ("11144477735", "12345678909", "52998224725")
RESPONSIBLE = "00000000191"
NAME = "Conceição Araújo"
WHEN = "2026-11-24T08:01:00-0300"
LATER = "2026-11-24T08:02:00-0300"


def header() -> str:
    return afd.header(
        employer_type=afd.CNPJ,
        employer_document=CNPJ,
        cno_caepf=None,
        name="Padaria São João",
        inpi="12345678901234567",
        first_day=date(2026, 11, 1),
        last_day=date(2026, 11, 30),
        generated_at=LATER,
        developer_type=afd.CNPJ,
        developer_document="11444777000161",
    )


def punches(first_nsr: int, count: int, previous: str | None = None) -> list[str]:
    lines = []
    for i in range(count):
        prefix = afd.punch_prefix(
            nsr=first_nsr + i,
            punched_at=f"2026-11-24T08:{i:02d}:00-0300",
            cpf=CPFS[i % 3],
            recorded_at=LATER,
            collector=1 + i % 5,
            offline=i % 2 == 1,
        )
        previous = afd.punch_hash(prefix, previous)
        lines.append(afd.punch_record(prefix, previous))
    return lines


def records(first_nsr: int = 1) -> list[str]:
    """Type 2, three type 5, type 6, type 4, then five chained punches: NSRs first_nsr..first_nsr+10."""
    n = first_nsr
    lines = [
        afd.employer_record(
            nsr=n,
            recorded_at=WHEN,
            responsible_cpf=RESPONSIBLE,
            employer_type=afd.CNPJ,
            employer_document=CNPJ,
            cno_caepf=None,
            name="Padaria São João",
            workplace="Rua das Flores, 123",
        ),
        *(
            afd.employee_record(
                nsr=n + 1 + i, recorded_at=WHEN, operation="I", cpf=cpf, name=NAME, responsible_cpf=RESPONSIBLE
            )
            for i, cpf in enumerate(CPFS)
        ),
        afd.event_record(nsr=n + 4, at=WHEN, event=7),
        afd.clock_adjustment_record(nsr=n + 5, before=WHEN, after=LATER, responsible_cpf=RESPONSIBLE),
    ]
    return lines + punches(n + 6, 5)


def afd_file(body: list[str], *, head: str | None = None, counts: dict[str, int] | None = None) -> list[bytes]:
    """The file's raw lines: header, `body`, a trailer counting `body` (or `counts`), the signature line."""
    if counts is None:
        counts = dict(Counter(line[9] for line in body))
    text = [header() if head is None else head, *body, afd.trailer(counts), afd.SIGNATURE_LINE]
    return [(line + afd.EOL).encode(afd.ENCODING) for line in text]


def messages(result: CheckResult) -> list[str]:
    return [problem.message for problem in result.problems]


def with_modbus(line: str) -> str:
    body = line[:-4]
    return f"{body}{afd.crc16_modbus(body.encode(afd.ENCODING)):04X}"


# --- a valid file ---------------------------------------------------------------------------------


def test_a_valid_file_has_no_problems() -> None:
    result = check_afd(afd_file(records()))

    assert result.problems == []
    assert result.ok
    assert result.records == 11
    assert result.counts == {"2": 1, "3": 0, "4": 1, "5": 3, "6": 1, "7": 5}
    assert result.crc_variant == "KERMIT"


def test_a_file_on_disk_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "AFD.txt"
    path.write_bytes(b"".join(afd_file(records())))

    result = check_afd_file(path)

    assert result.problems == []
    assert result.records == 11


def test_a_period_file_may_start_at_any_nsr_and_its_first_punch_chains_to_the_last_period() -> None:
    # Given punches 490..499 of an earlier period, and this period's file from NSR 500 on
    earlier = punches(490, 10)
    body = records(500)
    body[6:] = punches(506, 5, previous=earlier[-1][73:])

    result = check_afd(afd_file(body))

    assert result.problems == []
    assert result.records == 11


def test_modbus_crcs_are_accepted() -> None:
    body = [with_modbus(line) if line[9] in "245" else line for line in records()]

    result = check_afd(afd_file(body, head=with_modbus(header())))

    assert result.problems == []
    assert result.crc_variant == "MODBUS"


# --- defects --------------------------------------------------------------------------------------


def test_mixed_crc_variants_are_flagged() -> None:
    body = records()
    body[2] = with_modbus(body[2])  # the second employee, NSR 3

    result = check_afd(afd_file(body))

    assert result.problems == [Problem(4, "type 5: CRC is MODBUS, earlier records use KERMIT (mixed variants)")]
    assert result.crc_variant == "KERMIT"


def test_a_bad_crc_is_flagged() -> None:
    body = records()
    body[1] = body[1].replace("Conceição", "Conceicao")  # changed after its CRC was written

    result = check_afd(afd_file(body))

    assert result.problems == [Problem(3, "type 5: CRC mismatch")]


def test_a_bad_header_crc_is_flagged() -> None:
    head = header()
    head = head[:-4] + ("0000" if head[-4:] != "0000" else "FFFF")

    assert messages(check_afd(afd_file(records(), head=head))) == ["type 1: CRC mismatch"]


def test_a_wrong_length_is_flagged() -> None:
    body = records()
    body[1] = body[1][:50] + body[1][51:]  # one character short

    result = check_afd(afd_file(body))

    assert result.problems == [Problem(3, "type 5: length 117, expected 118")]


def test_a_short_punch_is_flagged_and_the_next_punch_is_taken_as_given() -> None:
    body = records()
    body[8] = body[8][:-1]

    assert messages(check_afd(afd_file(body))) == ["type 7: length 136, expected 137"]


def test_an_nsr_gap_is_flagged_once() -> None:
    body = records()
    del body[4]  # the event, NSR 5

    result = check_afd(afd_file(body))

    assert result.problems == [Problem(6, "NSR 000000006 follows 000000004 (gap)")]


def test_a_repeated_nsr_is_flagged() -> None:
    body = records()
    body.insert(5, body[4])  # the event twice

    assert check_afd(afd_file(body)).problems == [Problem(7, "NSR 000000005 follows 000000005 (repeated)")]


def test_an_nsr_going_back_is_flagged() -> None:
    body = records()
    body[3], body[4] = body[4], body[3]

    assert messages(check_afd(afd_file(body))) == [
        "NSR 000000005 follows 000000003 (gap)",
        "NSR 000000004 follows 000000005 (out of order)",
        "NSR 000000006 follows 000000004 (gap)",
    ]


def test_a_wrong_trailer_count_is_flagged() -> None:
    body = records()
    counts = dict(Counter(line[9] for line in body)) | {"7": 4}

    result = check_afd(afd_file(body, counts=counts))

    assert result.problems == [Problem(13, "trailer: 4 records of type 7, the file has 5")]


def test_a_tampered_punch_time_breaks_the_chain_at_its_nsr() -> None:
    # Given the third punch (NSR 9) moved from 08:02 to 07:02 without resealing
    body = records()
    assert body[8][10:34] == "2026-11-24T08:02:00-0300"
    body[8] = body[8][:10] + "2026-11-24T07:02:00-0300" + body[8][34:]

    result = check_afd(afd_file(body))

    assert result.problems == [Problem(10, "hash chain broken at NSR 000000009")]


def test_a_resealed_tampered_punch_breaks_the_chain_at_the_next_one() -> None:
    body = records()
    prefix = body[8][:10] + "2026-11-24T07:02:00-0300" + body[8][34:73]
    body[8] = afd.punch_record(prefix, afd.punch_hash(prefix, body[7][73:]))

    assert messages(check_afd(afd_file(body))) == ["hash chain broken at NSR 000000010"]


def test_a_line_ending_in_lf_only_is_flagged() -> None:
    lines = afd_file(records())
    lines[4] = lines[4][:-2] + b"\n"

    assert check_afd(lines).problems == [Problem(5, "line ends in LF, not CRLF")]


def test_a_last_line_without_its_crlf_is_flagged() -> None:
    lines = afd_file(records())
    lines[-1] = lines[-1][:-2]

    assert check_afd(lines).problems == [Problem(len(lines), "line has no CRLF at its end")]


def test_a_blank_line_is_flagged() -> None:
    lines = afd_file(records())
    lines.insert(3, b"\r\n")

    assert check_afd(lines).problems == [Problem(4, "blank line")]


def test_text_after_the_signature_line_is_flagged() -> None:
    lines = [*afd_file(records()), b"hello\r\n", b"more\r\n"]

    assert check_afd(lines).problems == [Problem(len(lines) - 1, "text after the signature line")]


def test_the_signature_line_is_optional_but_nothing_else_may_follow_the_trailer() -> None:
    lines = afd_file(records())[:-1]
    assert check_afd(lines).problems == []

    lines.append(lines[1])
    assert messages(check_afd(lines)) == ["text after the trailer"]


def test_a_file_without_trailer_or_header() -> None:
    lines = afd_file(records())

    assert messages(check_afd(lines[:-2])) == ["no trailer (type 9)"]
    assert check_afd(lines[1:]).problems[0] == Problem(1, "no header (type 1) before this line")
    assert messages(check_afd([])) == ["empty file"]


def test_a_record_type_outside_the_rep_p_layout_is_flagged() -> None:
    # Given a REP-C punch (type 3, 50 characters) after the punches
    body = [*records(), f"{12:09d}3{WHEN}{CPFS[0]} ABCD"]

    result = check_afd(afd_file(body))

    assert messages(result) == ["NSR 000000012: unknown record type 3"]
    assert result.counts["3"] == 1


def test_malformed_fields_are_flagged_by_name() -> None:
    body = records()
    body[4] = body[4][:15] + "13" + body[4][17:]  # the event's month: 13
    body[6] = (
        body[6][:34] + "1114447773X " + body[6][46:]
    )  # the first punch: its hash is taken as given, not its fields
    body[7] = body[7][:70] + "09" + body[7][72:]

    found = messages(check_afd(afd_file(body)))

    assert "type 6: event time is not a date-time AAAA-MM-ddThh:mm:00-0300" in found
    assert "type 7: employee CPF is not digits from the left, then spaces" in found
    assert "type 7: collector is not one of 01, 02, 03, 04, 05" in found


def test_problems_name_no_personal_data() -> None:
    body = records()
    body[1] = body[1][:40] + body[1][41:]
    body[2] = body[2].replace("Conceição", "Conceicao")
    body[8] = body[8][:10] + "2026-11-24T07:02:00-0300" + body[8][34:]
    body[9] = body[9][:34] + "1114447773X " + body[9][46:]

    found = " ".join(messages(check_afd(afd_file(body))))

    assert found  # the defects were found ...
    for secret in (*CPFS, RESPONSIBLE, "Concei", "1114447773X"):
        assert secret not in found  # ... without repeating what they hold


def test_problems_are_capped() -> None:
    lines = afd_file(records())
    many = lines[:6] + [lines[5][:-2] + b"\n"] * MAX_PROBLEMS + lines[6:]  # the event again, LF-ended

    result = check_afd(many)

    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[-1].line == 0
    assert result.problems[-1].message.startswith("... more problems")


def test_a_malformed_hash_of_the_first_punch_is_flagged() -> None:
    body = records()
    body[6] = body[6][:73] + body[6][73:].upper()

    assert check_afd(afd_file(body)).problems == [Problem(8, "type 7: SHA-256 is not 64 lowercase hex characters")]
