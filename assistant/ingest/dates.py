"""Dates as the documents write them ("22 July 2024") and as the records store them.

A document's date is stored in one of three forms: a full ISO date ("2024-07-22"), a month
("2024-06", for documents that give only a month, shown "June 2024"), or "" for an undated
document (shown "undated"). Nothing is ever filled in: a missing date stays missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.errors import AssistantError

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MONTH_PATTERN = "|".join(MONTHS)
UNDATED = "undated"
EARLIEST = date(1950, 1, 1)  # no EU migration-policy document is older; earlier years are misreadings

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def human_date(iso_date: str) -> str:
    """'2024-07-22' -> '22 July 2024', '2024-06' -> 'June 2024', '' -> 'undated'."""
    if not iso_date:
        return UNDATED
    month = _MONTH.match(iso_date)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{MONTHS[int(month.group(2)) - 1]} {month.group(1)}"
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


def date_bounds(value: str) -> tuple[str, str]:
    """The first and last day a stored date stands for: a day, a whole month, or ('', '') if undated."""
    if not value:
        return "", ""
    month = _MONTH.match(value)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        following = date(year + number // 12, number % 12 + 1, 1)
        return f"{value}-01", date.fromordinal(following.toordinal() - 1).isoformat()
    return value, value


def in_date_range(value: str, date_from: str, date_to: str) -> bool:
    """Whether a document dated `value` falls in [date_from, date_to] (inclusive ISO dates, "" for open).

    With any bound set, an undated document is left out; a month-only date is in when any day
    of its month is.
    """
    if not (date_from or date_to):
        return True
    first, last = date_bounds(value)
    if not first:
        return False
    return not (date_from and last < date_from) and not (date_to and first > date_to)


def check_document_date(value: str, what: str = "date", today: date | None = None) -> str:
    """A document date as stored: '' (undated), 'YYYY-MM' or 'YYYY-MM-DD', from 1950 up to today.

    Anything else is refused in one sentence naming `what`.
    """
    value = value.strip()
    if not value:
        return ""
    today = today or date.today()
    month = _MONTH.match(value)
    if month:
        number = int(month.group(2))
        if not 1 <= number <= 12:
            raise AssistantError(f"The {what} {value!r} has no month {number}; write it like 2024-06 or 2024-06-21.")
        first = date(int(month.group(1)), number, 1)
    else:
        try:
            first = date.fromisoformat(value)
        except ValueError:
            raise AssistantError(
                f"The {what} {value!r} is not a date like 2024-06-21 (or 2024-06 for a month).") from None
        if len(value) != 10:
            raise AssistantError(f"The {what} {value!r} is not a date like 2024-06-21 (or 2024-06 for a month).")
    if first < EARLIEST:
        raise AssistantError(f"The {what} {value!r} is before 1950; check the year.")
    if first > today:
        raise AssistantError(f"The {what} {value!r} is in the future; check the year.")
    return value


@dataclass(frozen=True)
class FoundDate:
    """A date written in a text: its stored form ('2024-07-22' or '2024-06') and where it stands."""

    value: str
    start: int
    end: int

    @property
    def month_only(self) -> bool:
        return len(self.value) == 7


# Months as documents write them: capitalised or in capitals, or abbreviated ("Sept.", "Jan."); "may" is a verb.
_ABBREVIATIONS = "|".join(m[:3] + r"\.?" for m in MONTHS if len(m) > 4) + r"|Sept\.?"
_M = rf"(?P<month>{MONTH_PATTERN}|{MONTH_PATTERN.upper()}|{_ABBREVIATIONS})"
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+{_M}\s*,?\s+(?P<year>\d{{4}})(?!\d)")
_MONTH_DAY_YEAR = re.compile(rf"\b{_M}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d/.])(?P<day>\d{1,2})\s?[./]\s?(?P<month>\d{1,2})\s?[./]\s?(?P<year>\d{4})(?![\d/])")
_ISO = re.compile(r"(?<![\d-])(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?![\d-])")
_MONTH_YEAR = re.compile(rf"\b{_M}\s+(?P<year>\d{{4}})(?!\d)")


def _month_of(token: str) -> int:
    token = token.rstrip(".").lower()
    return next(i for i, name in enumerate(MONTHS, start=1) if name.lower().startswith(token[:3]))


def find_dates(text: str) -> list[FoundDate]:
    """Every date the text writes, in order: '22 July 2024', 'September 23 2020', '20/07/2015',
    '25. 06. 2023', '2024-07-22', and months alone ('June 2024' -> '2024-06').

    Impossible dates (31 February) are skipped; the year range is checked by check_document_date.
    """
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _ISO, _NUMERIC, _MONTH_YEAR):
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            month = match.group("month")
            number = int(month) if month.isdigit() else _month_of(month)
            year = int(match.group("year"))
            day = match.groupdict().get("day")
            try:
                value = date(year, number, int(day)).isoformat() if day else f"{year:04d}-{number:02d}"
                if not day and not 1 <= number <= 12:
                    continue
            except ValueError:
                continue
            found.append(FoundDate(value, match.start(), match.end()))
            taken.append((match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)
