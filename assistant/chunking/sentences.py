"""Sentences: pysbd's segmentation of cleaned text, and the quotable sentences of a unit by field."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

from assistant.ingest import strip_list_marker
from assistant.records import Sentence, Unit
from assistant.vocabulary import FIELD_LABELS, PROGRESS_LABEL

_LABEL_TO_FIELD = {label: name for name, label in FIELD_LABELS.items()}
_LABEL_TO_FIELD.update({PROGRESS_LABEL: "progress"})
_INLINE_FIELD = re.compile(r"^(Lead actor\(s\)|Status): ")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, each a verbatim substring of it; lines never merge.

    List items and paragraphs are separate lines in cleaned text, and a sentence
    never spans two of them.
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        body = line.strip()
        if not body:
            continue
        for piece in _segmenter().segment(body):
            piece = piece.strip()
            if piece:
                sentences.append(piece)
    return sentences


def _label_field(line: str) -> str | None:
    """'Comments:' -> 'comments'; 'State of Play (as of 23 June):' -> 'state_of_play'."""
    if not line.endswith(":"):
        return None
    name = line[:-1].split(" (", 1)[0]
    return _LABEL_TO_FIELD.get(name)


def unit_sentences(unit: Unit) -> list[Sentence]:
    """Quotable pieces in reading order; label lines are structure, not content."""
    sentences: list[Sentence] = []
    general = unit.kind in ("section", "passage", "paragraph")
    field = "title" if unit.kind != "letter_section" and not general else "body"
    for number, line in enumerate(unit.text.split("\n")):
        if general:
            if number == 0 and unit.kind == "section" and unit.title and unit.title in line:
                sentences.append(Sentence(unit.unit_id, len(sentences), line.strip(), "title"))
            else:
                for piece in split_sentences(strip_list_marker(line)):
                    sentences.append(Sentence(unit.unit_id, len(sentences), piece, "body"))
            continue
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
