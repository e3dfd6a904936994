"""The timesheet commands' input rules, before anything is read or written: schedules, states, months, the time
of an included punch, a punch id, a reason; the default file names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ponto.commands import timesheet as commands
from ponto.errors import InvalidInputError
from ponto.record import registry as rules

ZONE = ZoneInfo("America/Sao_Paulo")
CPF = "11144477735"


def test_a_schedule_is_stored_in_its_canonical_text() -> None:
    assert rules.schedule_text("  Mon-FRI 8:00-12:00  13:00-17:00 ;sat 08:00-12:00") == (
        "mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00"
    )
    employee = rules.employee("e1", CPF, "Ana", "mon,tue,wed,thu,fri 08:00-12:00")
    assert employee.schedule == "mon-fri 08:00-12:00"
    assert rules.employee("e1", CPF, "Ana").schedule is None


@pytest.mark.parametrize(
    ("text", "bad_part"),
    [
        ("", "empty"),
        ("mon-fry 08:00-12:00", '"mon-fry"'),
        ("mon-fri 08:00-12:60", '"12:60"'),
        ("mon-fri", '"mon-fri" has no time ranges'),
        ("mon 08:00-12:00; mon 13:00-17:00", '"mon" is named twice'),
    ],
)
def test_a_malformed_schedule_is_one_line_naming_the_bad_part(text: str, bad_part: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        rules.schedule_text(text)
    message = str(refused.value)
    assert message.startswith("schedule: ") and bad_part in message and "\n" not in message


def test_states_are_the_calendars_and_a_city_needs_its_state() -> None:
    assert rules.state_code(" sp ") == "SP"
    for bad in ("XX", "São Paulo", ""):
        with pytest.raises(InvalidInputError, match="--state"):
            rules.state_code(bad)
    place = rules.establishment(cnpj="11222333000181", cpf=None, name="N", workplace="W", state="rj", city=" Niterói ")
    assert (place.state, place.city) == ("RJ", "Niterói")
    with pytest.raises(InvalidInputError, match="--state"):
        rules.establishment(cnpj="11222333000181", cpf=None, name="N", workplace="W", city="Campinas")


def test_a_month_is_yyyy_mm() -> None:
    assert commands.parse_month("2026-03") == (2026, 3)
    for bad in ("2026-3", "2026-13", "03/2026", "1959-12", "2026-00"):
        with pytest.raises(InvalidInputError, match="--month"):
            commands.parse_month(bad)


def test_the_time_of_an_included_punch() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert commands.parse_instant("2026-03-02T17:00", ZONE, now) == datetime(2026, 3, 2, 17, 0, tzinfo=ZONE)
    assert commands.parse_instant("2026-03-02 17:00-02:00", ZONE, now).utcoffset() == -(
        datetime(2026, 1, 1, 2, tzinfo=UTC) - datetime(2026, 1, 1, tzinfo=UTC)
    )
    for bad in ("yesterday", "2026-11-24T12:30Z", "1959-12-31T08:00"):
        with pytest.raises(InvalidInputError, match="--at"):
            commands.parse_instant(bad, ZONE, now)


def test_punch_ids_and_reasons() -> None:
    assert commands.punch_key(" 0b5e-id ") == "0b5e-id"
    for bad in ("", "x" * 201, "a\nb"):
        with pytest.raises(InvalidInputError, match="punch id"):
            commands.punch_key(bad)
    assert commands.reason_text("  Esqueceu   de marcar ") == "Esqueceu de marcar"
    for bad in ("   ", "x" * 151, "emoji \U0001f600"):
        with pytest.raises(InvalidInputError, match="--reason"):
            commands.reason_text(bad)


def test_default_file_names() -> None:
    assert commands.espelho_name("11222333000181", (2026, 3), None, "csv") == "espelho_11222333000181_2026-03.csv"
    assert commands.espelho_name("11222333000181", (2026, 3), "e1", "pdf") == "espelho_11222333000181_2026-03_e1.pdf"
    assert commands.aej_name("11222333000181", date(2026, 3, 1), date(2026, 3, 31)) == (
        "AEJ_11222333000181_20260301_20260331.txt"
    )
