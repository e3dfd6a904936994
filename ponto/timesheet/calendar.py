"""Holidays for the timesheet: Brazil's national holidays and the establishment's state's and city's, from the
`holidays` library (REP-P.md: a maintained calendar, not a hand list), plus the company's own days off.

Municipal holidays: holidays 0.109 knows those of one city only, São Paulo (its subdivision "São Paulo Capital",
which also holds the state's). Every other city's holidays are company days off, given in `extra` (`ponto holiday
add`); `HolidayCalendar.city_known` says which case a calendar is in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date

import holidays
from holidays.countries.brazil import Brazil

# The library's Brazilian subdivisions are the 27 federative units (two-letter codes) and the cities it knows.
STATES = tuple(code for code in Brazil.subdivisions if len(code) == 2)
_CITIES = {("SP", "sao paulo"): "São Paulo Capital"}


def _city_key(city: str) -> str:
    # "São Paulo", "SAO PAULO" and " sao  paulo " name the same city.
    decomposed = unicodedata.normalize("NFKD", city)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


class HolidayCalendar:
    """The holidays of an establishment's place: national, its state's (a two-letter code such as "SP"), its
    city's when the library knows them, and the company's days off (`extra`). Each year is built once."""

    def __init__(
        self, state: str | None = None, city: str | None = None, extra: Mapping[date, str] | None = None
    ) -> None:
        if state is not None:
            state = state.strip().upper()
            if state not in STATES:
                raise ValueError(f'holidays: "{state}" is not a Brazilian state (states: {" ".join(STATES)})')
        self.state = state
        self.city = city
        self._subdivision = _CITIES.get((state, _city_key(city))) if state and city else None
        self._extra = dict(extra or {})
        self._years: dict[int, dict[date, str]] = {}

    @property
    def city_known(self) -> bool:
        """Whether the library holds the city's holidays (else they must come in `extra`)."""
        return self._subdivision is not None

    def name(self, day: date) -> str | None:
        """The holiday's name on `day`, or None for an ordinary day."""
        year = self._years.get(day.year)
        if year is None:
            year = self._years[day.year] = self._build(day.year)
        return year.get(day)

    def _build(self, year: int) -> dict[date, str]:
        subdivision = self._subdivision or self.state
        # Public holidays only: the library's "optional" category holds pontos facultativos (Carnival, ...), which
        # a company grants, if at all, as days off in `extra`.
        found: dict[date, str] = dict(holidays.country_holidays("BR", subdiv=subdivision, years=year))
        for day, name in self._extra.items():
            if day.year == year:
                found.setdefault(day, name)  # a legal holiday keeps its own name
        return found
