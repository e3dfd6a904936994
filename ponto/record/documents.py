"""Brazilian registration numbers: the CPF (a person, 11 digits), the CNPJ (a company, 14 digits), and the
CNO/CAEPF an establishment may have besides. Each parser takes the number with or without its usual
punctuation and returns its digits, or raises InvalidDocumentError.

A CPF is personal data (LGPD): no error message here repeats the number it rejects.
"""

from __future__ import annotations

import re

# What people type between the digits: "123.456.789-09", "11.222.333/0001-81", spaces.
_PUNCTUATION = re.compile(r"[.\-/\s]")
_DIGITS = re.compile(r"[0-9]*")  # ASCII only: str.isdigit() also takes "²" and other scripts' digits

_CPF_WEIGHTS = (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)

_MAKE_LIMIT = 10**8  # make_cpf and make_cnpj take n in 0 <= n < 10**8 (eight digits)


class InvalidDocumentError(ValueError):
    """A CPF, CNPJ or CNO/CAEPF that cannot be taken. Its message names the kind and the rule broken,
    never the number itself."""


def cpf(text: str) -> str:
    """The 11 digits of a valid CPF given as "123.456.789-09" or "12345678909"."""
    digits = _digits("CPF", text, (11,))
    if cpf_check_digits(digits[:9]) != digits[9:]:
        raise InvalidDocumentError("CPF: wrong check digits")
    return digits


def cnpj(text: str) -> str:
    """The 14 digits of a valid (numeric) CNPJ given as "11.222.333/0001-81" or "11222333000181"."""
    digits = _digits("CNPJ", text, (14,))
    if cnpj_check_digits(digits[:12]) != digits[12:]:
        raise InvalidDocumentError("CNPJ: wrong check digits")
    return digits


def cno(text: str) -> str:
    """The digits of a CNO (12) or a CAEPF (14). Only their shape is checked: their check-digit rules
    are not applied, so a mistyped number passes as long as it has the right length."""
    return _digits("CNO/CAEPF", text, (12, 14), reject_repeated=False)


def cpf_check_digits(base9: str) -> str:
    """The two check digits of a CPF's first nine digits (modulus 11, weights 10..2 then 11..2)."""
    _base("CPF", base9, 9)
    first = _mod11(base9, _CPF_WEIGHTS[1:])
    return first + _mod11(base9 + first, _CPF_WEIGHTS)


def cnpj_check_digits(base12: str) -> str:
    """The two check digits of a CNPJ's first twelve digits (modulus 11, weights 5..2 9..2 then 6..2 9..2)."""
    _base("CNPJ", base12, 12)
    first = _mod11(base12, _CNPJ_WEIGHTS[1:])
    return first + _mod11(base12 + first, _CNPJ_WEIGHTS)


def make_cpf(n: int) -> str:
    """A valid CPF made from n, for demo and test data; distinct n (0 <= n < 10**8) give distinct CPFs.

    The base is n's eight digits followed by a ninth digit one above n's first digit, so the nine
    digits are never all the same (000.000.000-00 and the like are not valid CPFs)."""
    if not 0 <= n < _MAKE_LIMIT:
        raise ValueError("make_cpf: n must be in 0 <= n < 10**8")
    eight = f"{n:08d}"
    base = eight + str((int(eight[0]) + 1) % 10)
    return base + cpf_check_digits(base)


def make_cnpj(n: int, branch: int = 1) -> str:
    """A valid CNPJ made from n (its eight-digit root) and branch (its four-digit order; 0001 is the
    head office), for demo and test data."""
    if not 0 <= n < _MAKE_LIMIT:
        raise ValueError("make_cnpj: n must be in 0 <= n < 10**8")
    if not 0 <= branch < 10**4:
        raise ValueError("make_cnpj: branch must be in 0 <= branch < 10**4")
    base = f"{n:08d}{branch:04d}"
    if _repeated(base):
        raise ValueError("make_cnpj: n and branch give a number of one repeated digit")
    return base + cnpj_check_digits(base)


def _digits(kind: str, text: str, lengths: tuple[int, ...], *, reject_repeated: bool = True) -> str:
    digits = _PUNCTUATION.sub("", text)
    if _DIGITS.fullmatch(digits) is None:
        raise InvalidDocumentError(f"{kind}: only digits and the punctuation . - /")
    if len(digits) not in lengths:
        raise InvalidDocumentError(f"{kind}: must have {' or '.join(str(n) for n in lengths)} digits")
    if reject_repeated and _repeated(digits):
        raise InvalidDocumentError(f"{kind}: a sequence of one repeated digit is not a valid number")
    return digits


def _base(kind: str, base: str, length: int) -> None:
    if len(base) != length or _DIGITS.fullmatch(base) is None:
        raise InvalidDocumentError(f"{kind}: the base for the check digits is {length} digits")


def _mod11(digits: str, weights: tuple[int, ...]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def _repeated(digits: str) -> bool:
    return len(set(digits)) == 1


def format_cnpj(digits: str) -> str:
    """'11222333000181' -> '11.222.333/0001-81'; anything else as given."""
    if len(digits) != 14 or not (digits.isascii() and digits.isdigit()):
        return digits
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def format_cpf(digits: str) -> str:
    """'11144477735' -> '111.444.777-35'; anything else as given."""
    if len(digits) != 11 or not (digits.isascii() and digits.isdigit()):
        return digits
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
