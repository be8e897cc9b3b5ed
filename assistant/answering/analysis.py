"""Reading the question: what it asks for and about what, before any sentence is chosen.

These patterns are English; they find a status question, a question about who leads, an
amount or date question, the actions and annex items a question names, the dates it
mentions and whether it asks about a past event. The same module knows what an amount or
a date looks like in a sentence, so a question and its candidate answers are read alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.ingest import MONTH_PATTERN

STATUS_QUESTION = re.compile(
    r"\b(status|state of play|stand|stands|standing|progress|progressing|how far|latest|update|advanced|"
    r"where (?:are|is|do|does) .{0,80}\b(?:stand|now|at))\b",
    re.IGNORECASE,
)
LEADS_QUESTION = re.compile(r"\b(lead actors?|who (?:leads|is leading|is in charge|is responsible|are responsible)|"
                            r"responsible for|in charge of)\b", re.IGNORECASE)
LOCATOR_REFERENCE = re.compile(r"\b(action|annex item|item)s?\s+(?:no\.?\s*|number\s+)?(\d{1,3})\b", re.IGNORECASE)
QUESTION_DATE = re.compile(r"\b(?:(\d{1,2}) )?(" + MONTH_PATTERN + r") (\d{4})\b", re.IGNORECASE)
PAST_EVENT = re.compile(r"\b(did|was|were|had|happened|concluded|agreed|decided|resulted|came out)\b", re.IGNORECASE)
AMOUNT_QUESTION = re.compile(r"^\W*(how much|what (?:is|was) the (?:total )?(?:budget|cost|amount|value))\b", re.IGNORECASE)
DATE_QUESTION = re.compile(r"^\W*(on what date|what date|which date|when (?:was|were|did|will|is))\b", re.IGNORECASE)

# What an answer of a kind looks like inside a sentence.
AMOUNT = re.compile(r"(EUR|€|\bmillion\b|\bbillion\b|\d+\s?m\b)", re.IGNORECASE)
DATE = re.compile(r"\b(\d{1,2}(?:-\d{1,2})? (?:" + MONTH_PATTERN + r")|(?:" + MONTH_PATTERN + r") \d{4}|"
                  r"\d{1,2}/\d{1,2}(?:/\d{2,4})?|Q[1-4] \d{4}|\b(?:19|20)\d{2}\b)")


@dataclass(frozen=True)
class LocatorReference:
    kind: str  # "action" or "annex_item"
    number: int


def is_status_question(question: str) -> bool:
    return bool(STATUS_QUESTION.search(question))


def asks_who_leads(question: str) -> bool:
    return bool(LEADS_QUESTION.search(question))


def locator_references(question: str) -> list[LocatorReference]:
    """The actions and annex items a question names by number, in order."""
    return [LocatorReference("action" if m.group(1).lower().startswith("action") else "annex_item", int(m.group(2)))
            for m in LOCATOR_REFERENCE.finditer(question)]


def asked_answer_kind(question: str) -> str:
    """'amount' or 'date' when the question asks for one, else ''."""
    if AMOUNT_QUESTION.search(question):
        return "amount"
    if DATE_QUESTION.search(question):
        return "date"
    return ""


def has_answer_kind(text: str, kind: str) -> bool:
    return bool((AMOUNT if kind == "amount" else DATE).search(text))
