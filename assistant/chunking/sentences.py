"""Sentences: pysbd's segmentation of cleaned text, and the quotable sentences of a unit by field.

pysbd's time grows with the square of its input's length (a 200 KB line took 38 s), so a line
longer than MAX_SEGMENT_CHARS is first cut on cheap boundaries (". ", then "; ", then any
space, then anywhere) and pysbd reads the pieces. Splits are cached by the line's content
hash: a build hands in the previous index's splits (`sentence_cache`) and stores the ones it
used, so an unchanged document is never split again.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Iterator

import pysbd

from assistant.ingest import strip_list_marker
from assistant.records import Sentence, Unit
from assistant.vocabulary import FIELD_LABELS, PROGRESS_LABEL

SPLITTER_VERSION = "pysbd-en/2000"  # changes whenever the splits could: a cache from another version is not used
MAX_SEGMENT_CHARS = 2000  # the longest text pysbd is given (about 20 ms); no line of the 15 real documents is cut
_BOUNDARIES = (re.compile(r"\. "), re.compile(r"; "), re.compile(r"\s"))
_LABEL_TO_FIELD = {label: name for name, label in FIELD_LABELS.items()}
_LABEL_TO_FIELD.update({PROGRESS_LABEL: "progress"})
_INLINE_FIELD = re.compile(r"^(Lead actor\(s\)|Status): ")
_Splits = dict[str, tuple[str, ...]]
_cache: ContextVar[tuple[_Splits, _Splits] | None] = ContextVar("sentence_splits", default=None)  # (known, used)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@contextmanager
def sentence_cache(known: dict[str, tuple[str, ...]]) -> Iterator[dict[str, tuple[str, ...]]]:
    """Within the block, split_sentences answers from `known` (hash -> sentences) and records every split it
    makes or reuses in the dict it yields: what the next build may reuse."""
    used: dict[str, tuple[str, ...]] = {}
    token = _cache.set((dict(known), used))
    try:
        yield used
    finally:
        _cache.reset(token)


def cheap_pieces(line: str, limit: int = MAX_SEGMENT_CHARS) -> list[str]:
    """A line cut into consecutive pieces of at most `limit` characters, at the last ". ", else "; ", else space."""
    pieces: list[str] = []
    rest = line
    while len(rest) > limit:
        window = rest[:limit]
        cut = 0
        for boundary in _BOUNDARIES:
            found = [m.end() for m in boundary.finditer(window) if m.end() >= limit // 4]
            if found:
                cut = found[-1]
                break
        cut = cut or limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _segment(body: str) -> tuple[str, ...]:
    sentences = []
    for piece in cheap_pieces(body):
        for sentence in _segmenter().segment(piece):
            sentence = sentence.strip()
            if sentence:
                sentences.append(sentence)
    return tuple(sentences)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, each a verbatim substring of it; lines never merge.

    List items and paragraphs are separate lines in cleaned text, and a sentence
    never spans two of them.
    """
    cache = _cache.get()
    sentences: list[str] = []
    for line in text.split("\n"):
        body = line.strip()
        if not body:
            continue
        if cache is None:
            sentences.extend(_segment(body))
            continue
        known, used = cache
        key = split_hash(body)
        split = used.get(key) or known.get(key)
        if split is None:
            split = _segment(body)
        used[key] = split
        sentences.extend(split)
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
