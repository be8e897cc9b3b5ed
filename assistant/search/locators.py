"""Units a question names by their locator: "action 12", "annex item 5", "section 3", "measure 7".

A reader who names a unit wants that unit, so retrieval puts it first (and says so) and the
answer reads it first. A reference matches a unit when the unit's kind and number match
(actions and annex items) or when the unit's locator begins with the same label and number
("Section 2.4.1 ...", "Measure 12", "Pillar 3", "Letter, section 7").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from assistant.records import Unit

# "item" alone is how people refer to the letter's annex items ("item 5 of the annex").
_LABELS = {
    "action": "action", "actions": "action",
    "annex item": "annex_item", "annex items": "annex_item", "item": "annex_item", "items": "annex_item",
    "section": "section", "sections": "section", "measure": "measure", "measures": "measure",
    "pillar": "pillar", "pillars": "pillar", "paragraph": "paragraph", "paragraphs": "paragraph",
    "point": "point", "points": "point", "recommendation": "recommendation", "recommendations": "recommendation",
}
# "Action" in the users' other languages (Greek, German, French, Italian, Spanish, Bulgarian, Arabic), so that a
# question asked in one of them that names an action by number reads that action first too.
_FOREIGN_ACTION = ("δράση", "δράσης", "δράσεις", "δράσεων", "maßnahme", "massnahme", "maßnahmen", "aktion", "aktionen",
                   "azione", "azioni", "acción", "acciones", "действие", "действия", "мярка", "мерки",
                   "الإجراء", "إجراء", "الإجراءات")
_LABELS.update({word: "action" for word in _FOREIGN_ACTION})
_REFERENCE = re.compile(
    r"\b(annex items?|actions?|items?|sections?|measures?|pillars?|paragraphs?|points?|recommendations?|"
    + "|".join(sorted(_FOREIGN_ACTION, key=len, reverse=True)) + r")"
    r"\s+(?:no\.?\s*|nr\.?\s*|number\s+|#\s*)?(\d{1,3}(?:\.\d{1,3}){0,3})\b"
    r"((?:\s*(?:,|&|and|or|to)\s*\d{1,3}(?:\.\d{1,3}){0,3}\b)*)",  # "actions 20 and 21", "items 3, 4 or 5"
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,3}){0,3}")
NUMBERED_KINDS = ("action", "annex_item")  # kinds whose units carry `number`; a missing one does not exist


@dataclass(frozen=True)
class LocatorReference:
    kind: str  # action, annex_item, section, measure, pillar, paragraph, point, recommendation
    number: str  # "12", "2.4.1"

    @property
    def label(self) -> str:
        return {"annex_item": "Annex item"}.get(self.kind, self.kind.capitalize())

    def __str__(self) -> str:
        return f"{self.label} {self.number}"


def locator_references(question: str) -> list[LocatorReference]:
    """The units a question names by number, in the order named, without repeats."""
    found: list[LocatorReference] = []
    for match in _REFERENCE.finditer(question):
        kind = _LABELS[match.group(1).lower()]
        for number in [match.group(2), *_NUMBER.findall(match.group(3) or "")]:
            reference = LocatorReference(kind, number)
            if reference not in found:
                found.append(reference)
    return found


class LocatorTable:
    """Units by the label and number their locator starts with, built once: a lookup per question, not a scan.

    `LocatorTable(units)` builds the table from units in memory; `LocatorTable.of_index(index)`
    asks a served index, whose segments keep each unit's kind, number and locator head indexed.
    """

    def __init__(self, units: Iterable[Unit] = ()) -> None:
        self._index = None
        self._by_key: dict[tuple[str, str], list[str]] = {}
        for unit in units:
            for key in _keys(unit):
                self._by_key.setdefault(key, []).append(unit.unit_id)

    @classmethod
    def of_index(cls, index) -> LocatorTable:
        table = cls()
        table._index = index
        return table

    def units_for(self, reference: LocatorReference) -> Iterator[str]:
        """Ids of the units a reference names, in reading order."""
        if self._index is None:
            yield from self._by_key.get((reference.kind, reference.number), [])
            return
        numbered = reference.kind in NUMBERED_KINDS
        heads = () if numbered else _HEAD_WORDS.get(reference.kind, ())
        yield from self._index.units_by_locator(reference.kind, reference.number, heads, numbered)

    def iter_named(self, question: str) -> Iterator[str]:
        """Ids of the units the question names, in the order it names them, without repeats."""
        seen: set[str] = set()
        for reference in locator_references(question):
            for unit_id in self.units_for(reference):
                if unit_id not in seen:
                    seen.add(unit_id)
                    yield unit_id

    def named(self, question: str) -> list[str]:
        """Ids of the units the question names, in the order it names them."""
        return list(self.iter_named(question))

    def exists(self, reference: LocatorReference) -> bool:
        return next(iter(self.units_for(reference)), None) is not None


_HEAD_WORDS: dict[str, tuple[str, ...]] = {}
for _word, _kind in _LABELS.items():
    _HEAD_WORDS[_kind] = (*_HEAD_WORDS.get(_kind, ()), _word)


def _keys(unit: Unit) -> list[tuple[str, str]]:
    keys = []
    if unit.kind in NUMBERED_KINDS and unit.number is not None:
        keys.append((unit.kind, str(unit.number)))
    words = unit.locator.lower().replace("letter, ", "").replace(":", " ").split()
    if len(words) >= 2 and words[0] in _LABELS and re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){0,3}", words[1]):
        kind = _LABELS[words[0]]
        if kind not in NUMBERED_KINDS:
            keys.append((kind, words[1]))
    return keys
