"""Filters: the one way a search is narrowed, from the CLI and the app to every vector store.

A `Filters` as typed by a user names countries by name, code or alias and sections in any
case; `resolved` checks the dates and turns countries into the canonical names stored on
units. A resolved filter has one reference semantics (`matches`), which FAISS (through
`EntryTable`) and Milvus (through a boolean expression) must both reproduce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.ingest import Glossary, check_iso_date, date_bounds, in_date_range
from assistant.vocabulary import UNIT_KINDS

if TYPE_CHECKING:
    from assistant.search.stores import StoreEntry


@dataclass(frozen=True)
class Filters:
    """Narrow the search; an empty filter lets everything through.

    Each non-empty field must match (AND); within a field any value may match (OR).
    """

    doc_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # case-insensitive substrings of the unit's section heading
    countries: tuple[str, ...] = ()  # canonical names (after `resolved`), or names, codes and aliases
    date_from: str = ""  # ISO days, months or years, inclusive, on the document's date (resolved: days); with either
    date_to: str = ""  # set, undated documents are left out and a month-only date ("2024-06") is in when any day is

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.kinds or self.sections or self.countries or self.date_from or self.date_to)

    def resolved(self, glossary: Glossary, documents: Sequence[str] | None = None) -> Filters:
        """Checked strictly, in one sentence listing the valid values: dates as ISO days, months or years
        (a month or year becomes its first day as `date_from` and its last day as `date_to`), countries the
        glossary knows (as the canonical names units carry), document ids the index holds when `documents`
        is given; sections in lower case. Empty values are refused, never read as "any"."""
        for name, values in (("--doc", self.doc_ids), ("--kind", self.kinds), ("--section", self.sections),
                             ("--country", self.countries)):
            if any(not str(value).strip() for value in values):
                raise AssistantError(f"The filter {name} was given an empty value; give a value or leave the filter out.")
        odd_kinds = [k for k in self.kinds if k not in UNIT_KINDS]
        if odd_kinds:
            raise AssistantError(f"{odd_kinds[0]!r} is not a kind of passage; the kinds are {', '.join(UNIT_KINDS)}.")
        if documents is not None:
            unknown = [d for d in self.doc_ids if d not in set(documents)]
            if unknown:
                raise AssistantError(f"No document has the id {unknown[0]!r}; the documents are "
                                     f"{', '.join(documents)} (see `assistant documents`).")
        date_from = filter_date(self.date_from, "from date", last=False) if self.date_from else ""
        date_to = filter_date(self.date_to, "to date", last=True) if self.date_to else ""
        if date_from and date_to and date_from > date_to:
            raise AssistantError(f"The from date {self.date_from} is after the to date {self.date_to}; swap them.")
        return Filters(
            doc_ids=tuple(self.doc_ids),
            kinds=tuple(self.kinds),
            sections=tuple(s.lower() for s in self.sections),
            countries=tuple(sorted({country_name(glossary, c) for c in self.countries})),
            date_from=date_from,
            date_to=date_to,
        )

    def matches(self, entry: StoreEntry) -> bool:
        """The reference semantics every store's filter must reproduce (on a resolved filter)."""
        if self.doc_ids and entry.doc_id not in self.doc_ids:
            return False
        if self.kinds and entry.kind not in self.kinds:
            return False
        if self.sections and not any(s.lower() in entry.section.lower() for s in self.sections):
            return False
        if self.countries and not set(self.countries).intersection(entry.countries):
            return False
        return in_date_range(entry.doc_date, self.date_from, self.date_to)


_FILTER_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def filter_date(value: str, what: str, last: bool) -> str:
    """An ISO day, month or year as the day a range starts (`last` False) or ends; one sentence otherwise.

    Only the extended ISO forms are read (2024-07-22, 2024-07, 2024): Python also reads 20240722 as a
    date, and that text would then be compared with stored dates as text and drop that day's documents.
    """
    match = _FILTER_DATE.match(value.strip())
    try:
        if not match:
            raise ValueError
        year, month, day = int(match.group(1)), match.group(2), match.group(3)
        if day:
            return check_iso_date(f"{match.group(1)}-{month}-{day}", what).isoformat()
        if month:
            if not 1 <= int(month) <= 12:
                raise ValueError
            first, final = date_bounds(f"{match.group(1)}-{month}")
            return final if last else first
        return f"{year:04d}-12-31" if last else f"{year:04d}-01-01"
    except (ValueError, AssistantError):
        raise AssistantError(f"The {what} {value!r} is not a date like 2024-07-22, a month like 2024-07 or a year "
                             "like 2024.") from None


def country_name(glossary: Glossary, value: str) -> str:
    """The canonical name of a country given by name, code or alias; one sentence listing them if unknown."""
    wanted = value.strip().lower()
    for country in glossary.countries:
        names = {country.name.lower(), *(a.lower() for a in country.aliases)} | ({country.code.lower()} if country.code else set())
        if wanted and wanted in names:
            return country.name
    known = ", ".join(f"{c.name} ({c.code})" if c.code else c.name for c in glossary.countries)
    raise AssistantError(f"{value!r} is not a country the glossary knows; the countries are {known} "
                         "(see `assistant glossary`).")


class EntryTable:
    """Entries as columns, so that a `Filters` costs array operations, not a Python loop per entry.

    Each text field is kept as its distinct values and one code per entry; a filter tests the
    distinct values with the same predicates as `Filters.matches`, then selects entries by code.
    """

    TEXT_FIELDS = ("doc_id", "kind", "section", "doc_date")

    def __init__(self, entries: Sequence[StoreEntry]) -> None:
        self.size = len(entries)
        self._values: dict[str, list[str]] = {}
        self._codes: dict[str, np.ndarray] = {}
        for name in self.TEXT_FIELDS:
            codes: dict[str, int] = {}
            self._codes[name] = np.fromiter((codes.setdefault(getattr(e, name), len(codes)) for e in entries),
                                            dtype=np.int64, count=self.size)
            self._values[name] = list(codes)
        by_country: dict[str, list[int]] = {}
        for position, entry in enumerate(entries):
            for country in entry.countries:
                by_country.setdefault(country, []).append(position)
        self._by_country = {c: np.asarray(p, dtype=np.int64) for c, p in by_country.items()}

    @classmethod
    def from_columns(cls, columns) -> EntryTable:
        """The table of a served index, from the filter columns its build wrote (no pass over entries)."""
        table = cls.__new__(cls)
        table.size = int(columns.size)
        table._values = {name: list(columns.values[name]) for name in cls.TEXT_FIELDS}
        table._codes = {name: np.asarray(columns.codes[name], dtype=np.int64) for name in cls.TEXT_FIELDS}
        table._by_country = dict(columns.by_country)
        return table

    def _field(self, name: str, keep: Callable[[str], bool]) -> np.ndarray:
        chosen = np.fromiter(map(keep, self._values[name]), dtype=bool, count=len(self._values[name]))
        return chosen[self._codes[name]]

    def positions(self, where: Filters) -> np.ndarray:
        """Positions (ascending) of the entries that `where` admits: the same set as Filters.matches."""
        mask = np.ones(self.size, dtype=bool)
        if where.doc_ids:
            mask &= self._field("doc_id", lambda v: v in where.doc_ids)
        if where.kinds:
            mask &= self._field("kind", lambda v: v in where.kinds)
        if where.sections:
            mask &= self._field("section", lambda v: any(s.lower() in v.lower() for s in where.sections))
        if where.date_from or where.date_to:
            mask &= self._field("doc_date", lambda v: in_date_range(v, where.date_from, where.date_to))
        if where.countries:
            named = np.zeros(self.size, dtype=bool)
            for country in where.countries:
                named[self._by_country.get(country, np.zeros(0, dtype=np.int64))] = True
            mask &= named
        return np.flatnonzero(mask).astype(np.int64)
