"""COPY's text format, for every table the store writes with COPY (punches, afd_records)."""

from __future__ import annotations

NULL = "\\N"


def escape(value: str | None) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value
