"""Units -> chunks sized for the embedding model's input.

Units longer than the model's input are split into parts at list-item or sentence
boundaries; each part repeats the unit's header and keeps the unit's id, so a hit on any
part cites the whole unit. A part's index text adds the glossary expansions of the codes
in it, so that "Bulgaria" finds a row saying "BG".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterable

from assistant.chunking.sentences import split_sentences
from assistant.ingest import Glossary, short_label
from assistant.records import Chunk, Document, Unit
from assistant.vocabulary import FIELD_LABELS, PROGRESS_LABEL

CHUNKER_VERSION = "1.0"
_PART_LABELS = set(FIELD_LABELS.values()) | {PROGRESS_LABEL}


@dataclass(frozen=True)
class ChunkSettings:
    """What shapes the chunks; recorded in the index manifest."""

    max_tokens: int  # the embedding model's input limit, special tokens included
    tokenizer: str  # the model whose tokenizer measured the lengths
    version: str = CHUNKER_VERSION


GENERAL_UNIT_KINDS = ("section", "passage", "paragraph")
_HEADER_TITLE_CHARS = 100


def chunk_header(unit: Unit, document: Document) -> str:
    """The header every part of a unit repeats: document, locator, section and title."""
    if unit.kind in GENERAL_UNIT_KINDS:
        title = document.title if len(document.title) <= _HEADER_TITLE_CHARS else document.title[:99].rstrip() + "…"
        parents = unit.section.rsplit(" > ", 1)[0] if " > " in unit.section else ""
        line = unit.locator if not unit.title or unit.title in unit.locator else f"{unit.locator}: {unit.title}"
        return f"{short_label(document)}: {title}{f' | {parents}' if parents else ''}\n{line}"
    if unit.kind == "letter_section":
        title_line = f"{unit.locator}: {unit.title}"
    else:
        title_line = unit.text.split("\n", 1)[0]
    section = f" | {unit.section}" if unit.section and unit.section != "Letter" else ""
    return f"{short_label(document)}{section}\n{title_line}"


def _body_lines(unit: Unit) -> list[str]:
    lines = unit.text.split("\n")
    if unit.kind in GENERAL_UNIT_KINDS:  # a section's heading is in the header already
        return lines[1:] if unit.kind == "section" and unit.title and unit.title in lines[0] else lines
    return lines if unit.kind == "letter_section" else lines[1:]


def split_body(lines: list[str], budget: int, count: Callable[[str], int]) -> list[list[str]]:
    """Pack lines into parts under a token budget; break long lines at sentences, then words."""
    pieces: list[str] = []
    for line in lines:
        if count(line) <= budget:
            pieces.append(line)
            continue
        for sentence in split_sentences(line):
            if count(sentence) <= budget:
                pieces.append(sentence)
            else:
                pieces.extend(_split_words(sentence, budget, count))
    parts: list[list[str]] = [[]]
    label = ""
    for piece in pieces:
        candidate = "\n".join(parts[-1] + [piece])
        if parts[-1] and count(candidate) > budget:
            carried = f"{label} (continued):" if label and not _is_label(piece) else ""
            parts.append([carried] if carried and count(f"{carried}\n{piece}") <= budget else [])
        parts[-1].append(piece)
        if _is_label(piece):
            label = piece[:-1]
    return [part for part in parts if part]


def _is_label(line: str) -> bool:
    """Field labels the chunker writes ("Comments:", "State of Play (as of 23 June):")."""
    name = line[:-1].split(" (", 1)[0] if line.endswith(":") else ""
    return name in _PART_LABELS


def _split_words(sentence: str, budget: int, count: Callable[[str], int]) -> list[str]:
    words, pieces, current = sentence.split(" "), [], []
    for word in words:
        if current and count(" ".join(current + [word])) > budget:
            pieces.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces


def index_text_for(text: str, glossary: Glossary | None) -> str:
    """The text that is embedded and BM25-indexed: the part plus its glossary expansions."""
    expansions = glossary.index_expansions(text) if glossary is not None else []
    return text + ("\nTerms: " + "; ".join(expansions) if expansions else "")


def chunks_for_unit(unit: Unit, document: Document, settings: ChunkSettings, count: Callable[[str], int],
                    glossary: Glossary | None = None) -> list[Chunk]:
    """Parts whose index text (header, body and expansions) fits the model's input."""
    header = chunk_header(unit, document)

    def measure(body: str) -> int:
        return count(index_text_for(f"{header}\n{body}", glossary))

    parts = split_body(_body_lines(unit), settings.max_tokens, measure) or [[]]
    chunks = []
    for number, part in enumerate(parts, start=1):
        text = "\n".join([header, *part])
        index_text = index_text_for(text, glossary)
        digest = hashlib.sha256(index_text.encode("utf-8")).hexdigest()[:20]
        chunks.append(Chunk(f"{unit.unit_id}#{number}", unit.unit_id, number, len(parts), text, index_text, digest))
    return chunks


def chunk_units(units: Iterable[Unit], documents: dict[str, Document], settings: ChunkSettings,
                count: Callable[[str], int], glossary: Glossary | None = None) -> list[Chunk]:
    return [chunk for unit in units for chunk in chunks_for_unit(unit, documents[unit.doc_id], settings, count, glossary)]
