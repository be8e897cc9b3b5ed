"""Dates as the documents write them ("22 July 2024") and as the records store them (ISO)."""

from __future__ import annotations

from datetime import date

from assistant.errors import AssistantError

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MONTH_PATTERN = "|".join(MONTHS)


def human_date(iso_date: str) -> str:
    """'2024-07-22' -> '22 July 2024', the form the documents themselves use."""
    try:
        return date.fromisoformat(iso_date).strftime("%-d %B %Y")
    except ValueError:
        return iso_date


def month_number(name: str) -> int:
    """'july' -> 7."""
    return MONTHS.index(name.capitalize()) + 1


def check_iso_date(value: str, what: str) -> date:
    """The date, or one sentence naming `what` and the expected form."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AssistantError(f"The {what} {value!r} is not a date like 2024-07-22.") from None
