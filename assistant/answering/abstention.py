"""Knowing when not to answer: the fixed sentence, and the rules that say why.

Each rule returns one sentence for the answer's notes, or "" when it does not apply: the
question names an action or annex item the corpus does not hold, a country the corpus never
mentions, an event dated after the newest document, or an amount or a date that the chosen
sentences do not contain.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answering.analysis import PAST_EVENT, QUESTION_DATE, asked_answer_kind, has_answer_kind, locator_references
from assistant.index import LoadedIndex
from assistant.ingest import Glossary, human_date, month_number, short_label
from assistant.records import Document

NO_ANSWER = "The documents do not answer this question."
POSSIBLY_RELATED = "Possibly related passages are listed below; none of them answers the question."


@lru_cache(maxsize=1)
def _country_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Every ISO 3166 country by its name, common name and short name, matched capitalised."""
    import pycountry

    patterns = []
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", country.name), country.name.split(",")[0]}
        for name in names:
            if len(name) >= 4:
                patterns.append((name, re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")))
    return patterns


class AbstentionRules:
    """The rules, with what they need from the index read once."""

    def __init__(self, index: LoadedIndex, glossary: Glossary) -> None:
        self._index = index
        self._glossary = glossary
        self._documents: dict[str, Document] = {d.id: d for d in index.documents}
        self._units_by_locator = {(u.kind, u.number) for u in index.units.values()}
        self._corpus_lower = " ".join(u.text for u in index.units.values()).lower()

    def absent_locator(self, question: str) -> str:
        """A question about an action or annex item this corpus does not hold is not answerable."""
        for reference in locator_references(question):
            if (reference.kind, reference.number) in self._units_by_locator:
                continue
            missing_in = [d for d in self._documents.values() if reference.number in d.missing_actions]
            if reference.kind == "action" and missing_in:
                d = missing_in[0]
                first, last = min(d.missing_actions), max(d.missing_actions)
                return (f"Action {reference.number} is not in this copy of the {short_label(d).split(',')[0]} "
                        f"({d.reference}): actions {first} to {last} are missing from it.")
            label = "Action" if reference.kind == "action" else "Annex item"
            return f"{label} {reference.number} does not exist in the indexed documents."
        return ""

    def unknown_country(self, question: str) -> str:
        """A country the question names (ISO 3166, via pycountry) that the corpus never mentions, or ''."""
        for name, pattern in _country_patterns():
            if pattern.search(question) and not self._mentions(name):
                return name
        return ""

    def _mentions(self, name: str) -> bool:
        if name.lower() in self._corpus_lower:
            return True
        return any(name.lower() in (c.name.lower(), *(a.lower() for a in c.aliases)) for c in self._glossary.countries)

    def after_the_documents(self, question: str) -> str:
        """A question about what happened at a date later than the newest document cannot be answered."""
        if not PAST_EVENT.search(question) or not self._documents:
            return ""
        newest = max(d.date for d in self._documents.values())
        for match in QUESTION_DATE.finditer(question):
            day, month, year = match.group(1), match.group(2), match.group(3)
            mentioned = f"{year}-{month_number(month):02d}-{int(day) if day else 1:02d}"
            if mentioned > newest:
                return (f"The newest document is dated {human_date(newest)}; it cannot say what happened "
                        f"{'on' if day else 'in'} {match.group(0)}.")
        return ""

    @staticmethod
    def missing_answer_kind(question: str, chosen_text: str) -> str:
        """An amount or date question whose chosen sentences hold no amount or date."""
        kind = asked_answer_kind(question)
        return kind if kind and not has_answer_kind(chosen_text, kind) else ""
