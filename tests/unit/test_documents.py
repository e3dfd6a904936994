"""CPF, CNPJ and CNO/CAEPF: check digits, shapes, and error messages that never repeat the number."""

import random

import pytest

from ponto.record import documents
from ponto.record.documents import InvalidDocumentError

# 111.444.777-35 by hand:
#   first:  1*10 + 1*9 + 1*8 + 4*7 + 4*6 + 4*5 + 7*4 + 7*3 + 7*2 = 162; 162 % 11 = 8 -> 11 - 8 = 3
#   second: 1*11 + 1*10 + 1*9 + 4*8 + 4*7 + 4*6 + 7*5 + 7*4 + 7*3 + 3*2 = 204; 204 % 11 = 6 -> 11 - 6 = 5
# 11.222.333/0001-81 by hand:
#   first:  1*5 + 1*4 + 2*3 + 2*2 + 2*9 + 3*8 + 3*7 + 3*6 + 0*5 + 0*4 + 0*3 + 1*2 = 102; 102 % 11 = 3 -> 8
#   second: 1*6 + 1*5 + 2*4 + 2*3 + 2*2 + 3*9 + 3*8 + 3*7 + 0*6 + 0*5 + 0*4 + 1*3 + 8*2 = 120; 120 % 11 = 10 -> 1
VALID_CPFS = {
    "111.444.777-35": "11144477735",
    "123.456.789-09": "12345678909",
    "52998224725": "52998224725",
    "000.000.001-91": "00000000191",  # first: 1*2 = 2 -> 11 - 2 = 9; second: 1*3 + 9*2 = 21, 21 % 11 = 10 -> 1
}
VALID_CNPJS = {
    "11.222.333/0001-81": "11222333000181",
    "11444777000161": "11444777000161",
    "45.723.174/0001-10": "45723174000110",  # second: the sum is 187 = 11 * 17, remainder 0 (< 2) -> 0
}


@pytest.mark.parametrize(("text", "digits"), VALID_CPFS.items())
def test_valid_cpfs_give_their_digits(text: str, digits: str) -> None:
    assert documents.cpf(text) == digits


@pytest.mark.parametrize(("text", "digits"), VALID_CNPJS.items())
def test_valid_cnpjs_give_their_digits(text: str, digits: str) -> None:
    assert documents.cnpj(text) == digits


def test_check_digits_of_a_base() -> None:
    assert documents.cpf_check_digits("111444777") == "35"
    assert documents.cnpj_check_digits("112223330001") == "81"
    with pytest.raises(InvalidDocumentError, match="9 digits"):
        documents.cpf_check_digits("12345678")
    with pytest.raises(InvalidDocumentError, match="12 digits"):
        documents.cnpj_check_digits("11222333000a")


def test_punctuation_and_surrounding_spaces_are_dropped() -> None:
    assert documents.cpf(" 111 444 777 35 ") == "11144477735"
    assert documents.cnpj("11222333/000181") == "11222333000181"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("111.444.777-36", "CPF: wrong check digits"),
        ("111.444.777-53", "CPF: wrong check digits"),
        ("1114447773", "CPF: must have 11 digits"),
        ("111444777355", "CPF: must have 11 digits"),
        ("", "CPF: must have 11 digits"),
        ("111.444.777-3a", "CPF: only digits"),
        ("".join(chr(0xFF10 + int(d)) for d in "11144477735"), "CPF: only digits"),  # full-width digits
        ("000.000.000-00", "CPF: a sequence of one repeated digit"),
        ("99999999999", "CPF: a sequence of one repeated digit"),
    ],
)
def test_invalid_cpfs(text: str, reason: str) -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        documents.cpf(text)
    assert str(caught.value).startswith(reason)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("11.222.333/0001-82", "CNPJ: wrong check digits"),
        ("11.222.333/0002-81", "CNPJ: wrong check digits"),
        ("1122233300018", "CNPJ: must have 14 digits"),
        ("11144477735", "CNPJ: must have 14 digits"),
        ("11.222.333/0001-8X", "CNPJ: only digits"),
        ("AB.CDE.FGH/0001-00", "CNPJ: only digits"),  # the alphanumeric CNPJ is not taken
        ("11111111111111", "CNPJ: a sequence of one repeated digit"),
    ],
)
def test_invalid_cnpjs(text: str, reason: str) -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        documents.cnpj(text)
    assert str(caught.value).startswith(reason)


def test_repeated_digits_are_refused_even_where_their_check_digits_hold() -> None:
    # 111.111.111-11 passes the modulus-11 arithmetic; it is still not a CPF.
    assert documents.cpf_check_digits("111111111") == "11"
    with pytest.raises(InvalidDocumentError, match="repeated"):
        documents.cpf("111.111.111-11")


def test_cno_and_caepf_are_checked_for_shape_only() -> None:
    assert documents.cno("12.345.67890/12") == "123456789012"  # CNO: 12 digits
    assert documents.cno("123.456.789/001-23") == "12345678900123"  # CAEPF: 14 digits
    assert documents.cno("000000000000") == "000000000000"  # no check-digit or repetition rule
    for text in ("1234567890123", "12345678901", "12345678901X"):
        with pytest.raises(InvalidDocumentError, match=r"^CNO/CAEPF: "):
            documents.cno(text)


def test_no_error_message_repeats_the_number() -> None:
    rng = random.Random(671)
    refused = 0
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([3, 5, 9, 10, 11, 12, 13, 14, 15])))
        text = rng.choice([digits, f"{digits[:3]}.{digits[3:6]}-{digits[6:]}", digits + rng.choice("xX#")])
        for parse in (documents.cpf, documents.cnpj, documents.cno):
            try:
                parse(text)
            except InvalidDocumentError as exc:
                refused += 1
                message = str(exc)
                assert digits not in message
                assert text not in message
                assert digits not in repr(exc)
    assert refused > 5000  # most random numbers fail somewhere


def test_made_cpfs_are_valid_and_distinct() -> None:
    rng = random.Random(74)
    ns = [*range(2000), *(int(str(d) * 8) for d in range(10)), *rng.sample(range(10**8), 3000), 10**8 - 1]
    made = [documents.make_cpf(n) for n in ns]
    assert all(documents.cpf(value) == value for value in made)
    assert len(set(made)) == len(set(ns))
    assert documents.make_cpf(1) == documents.make_cpf(1)  # deterministic


def test_made_cnpjs_are_valid_and_distinct() -> None:
    rng = random.Random(75)
    ns = [*range(2000), *rng.sample(range(10**8), 3000), 10**8 - 1]
    made = [documents.make_cnpj(n) for n in ns]
    assert all(documents.cnpj(value) == value for value in made)
    assert all(value[8:12] == "0001" for value in made)
    assert len(set(made)) == len(set(ns))
    branches = {documents.make_cnpj(12_345_678, branch) for branch in range(1, 500)}
    assert len(branches) == 499
    assert all(documents.cnpj(value) == value for value in branches)


def test_make_refuses_what_it_cannot_make() -> None:
    for bad in (-1, 10**8):
        with pytest.raises(ValueError, match="make_cpf"):
            documents.make_cpf(bad)
        with pytest.raises(ValueError, match="make_cnpj"):
            documents.make_cnpj(bad)
    with pytest.raises(ValueError, match="repeated"):
        documents.make_cnpj(11_111_111, 1111)
