"""The sentences of a unit that an answer may quote, each tagged with its field."""

from __future__ import annotations

import re

from assistant.chunking import FIELD_LABELS
from assistant.records import Sentence, Unit
from assistant.text_cleaning import split_sentences, strip_list_marker

_LABEL_TO_FIELD = {label: name for name, label in FIELD_LABELS.items()}
_LABEL_TO_FIELD.update({"Progress": "progress"})
_INLINE_FIELD = re.compile(r"^(Lead actor\(s\)|Status): ")


def _label_field(line: str) -> str | None:
    """'Comments:' -> 'comments'; 'State of Play (as of 23 June):' -> 'state_of_play'."""
    if not line.endswith(":"):
        return None
    name = line[:-1].split(" (", 1)[0]
    return _LABEL_TO_FIELD.get(name)


def unit_sentences(unit: Unit) -> list[Sentence]:
    """Quotable pieces in reading order; label lines are structure, not content."""
    sentences: list[Sentence] = []
    field = "title" if unit.kind != "letter_section" else "body"
    for number, line in enumerate(unit.text.split("\n")):
        label = _label_field(line.strip())
        if label is not None:
            field = label
            continue
        inline = _INLINE_FIELD.match(line)
        if inline:
            name = _LABEL_TO_FIELD[inline.group(1)]
            sentences.append(Sentence(unit.unit_id, len(sentences), line.strip(), name))
            field = "body" if unit.kind == "letter_section" else field
            continue
        if number == 0 and unit.kind != "letter_section":
            sentences.append(Sentence(unit.unit_id, len(sentences), line.strip(), "title"))  # one sentence
            continue
        current = "body" if field == "title" else field
        for piece in split_sentences(strip_list_marker(line)):
            sentences.append(Sentence(unit.unit_id, len(sentences), piece, current))
    return sentences
