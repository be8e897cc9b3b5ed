"""Structure-aware chunking: one unit per action row, letter section, annex item or table.

The unit is what a reader cites. Action rows that run over a page break are merged with
their continuation rows (title, Way ahead and Comments all continue), repeated header
rows are dropped and the section heading is kept. Units longer than the embedding
model's input are split into parts at list-item or sentence boundaries; each part repeats
the unit's header and keeps the unit's id, so a hit on any part cites the whole unit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from assistant.corpus import short_label
from assistant.errors import AssistantError
from assistant.glossary import Glossary
from assistant.loaders import is_header_row, is_table_row
from assistant.records import Chunk, Document, SourceLine, Unit
from assistant.text_cleaning import (
    REDACTED,
    html_to_lines,
    markdown_to_text,
    split_sentences,
)

CHUNKER_VERSION = "1.0"
ACTION_COLUMNS = ("title", "lead_actors", "status", "way_ahead", "comments")
ANNEX_COLUMNS = ("letter_text", "state_of_play")
FIELD_LABELS = {
    "lead_actors": "Lead actor(s)",
    "status": "Status",
    "way_ahead": "Way ahead",
    "comments": "Comments",
    "footnotes": "Footnotes",
    "letter_text": "President's letter/EUCO conclusions",
    "state_of_play": "State of Play",
}
_PART_LABELS = set(FIELD_LABELS.values()) | {"Progress"}
STATUS_NOT_STATED = "not stated in the action file"
_SECTION_HEADING = re.compile(r"^([IVX]+)\.(?:\s|$)")
_NUMBERED = re.compile(r"^(\d+)\.\s+")
_SENTENCE_END = re.compile(r"[.!?;:]\s*[\"'”’)]?\s*$")
_SUPERSCRIPT_MARK = re.compile(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*")
_SALUTATION = re.compile(r"^Dear\b", re.IGNORECASE)
_CLOSING = re.compile(r"^(Yours (sincerely|faithfully)|Kind regards|Best regards|With best regards)\b", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def append_continued(existing: list[str], new: list[str]) -> None:
    """Append lines, rejoining a sentence that a page break cut in two.

    The source continues a cell on the next page; when the last line so far does not
    end a sentence and the continuation is not a new list item, they are one line.
    """
    if not new:
        return
    if existing and new and not _SENTENCE_END.search(existing[-1]) and not new[0].lstrip().startswith("- "):
        existing[-1] = existing[-1].rstrip() + " " + new[0].strip()
        existing.extend(new[1:])
    else:
        existing.extend(new)


@dataclass
class _RowUnit:
    """A unit being assembled from a row and its continuation rows."""

    number: int | None
    section: str
    page_start: int
    page_end: int
    cells: dict[str, list[str]] = field(default_factory=dict)
    footnotes: list[str] = field(default_factory=list)

    def add(self, column: str, lines: list[str]) -> None:
        append_continued(self.cells.setdefault(column, []), lines)

    def text_of(self, column: str) -> str:
        return "\n".join(self.cells.get(column, []))

    def contains(self, mark: str) -> bool:
        return any(mark in line for lines in self.cells.values() for line in lines)


def _cells(line: SourceLine, width: int) -> list[list[str]]:
    raw = line.text.split("\t")
    raw += [""] * (width - len(raw))
    return [html_to_lines(cell) for cell in raw[:width]] + ([html_to_lines(" ".join(raw[width:]))] if len(raw) > width else [])


def _attach_footnote(text: str, units: list[_RowUnit]) -> bool:
    """Give a footnote to the latest unit that carries its mark; False if none does."""
    match = _SUPERSCRIPT_MARK.match(text)
    if not match:
        return False
    for unit in reversed(units):
        if unit.contains(match.group(1)):
            unit.footnotes.append(text)
            return True
    return False


def _clean_prose(text: str) -> str:
    return markdown_to_text(" ".join(html_to_lines(text)) if "<" in text else text)


def _base_unit(document: Document, kind: str, key: str, locator: str, number: int | None, title: str,
               section: str, pages: tuple[int, int], text: str, fields_: dict[str, str]) -> Unit:
    return Unit(
        unit_id=f"{document.id}:{key}",
        doc_id=document.id,
        doc_title=document.title,
        doc_reference=document.reference,
        doc_date=document.date,
        doc_kind=document.kind,
        kind=kind,
        locator=locator,
        number=number,
        title=title,
        section=section,
        page_start=pages[0],
        page_end=pages[1],
        text=text,
        fields=fields_,
        redacted=REDACTED in text,
    )


def _labelled(lines: list[str], label: str, body: list[str]) -> None:
    if body:
        lines.append(f"{label}:")
        lines.extend(body)


# --- action files -------------------------------------------------------------------


def parse_action_file(document: Document, lines: list[SourceLine]) -> list[Unit]:
    cover: list[tuple[str, int]] = []
    rows: list[_RowUnit] = []
    section = ""
    in_table = False
    for line in lines:
        if not line.text.strip():
            continue
        if is_header_row(line.text):
            in_table = True
            continue
        if not in_table:
            cover.append((_clean_prose(line.text), line.page))
            continue
        if not is_table_row(line.text):
            text = _clean_prose(line.text)
            if text and not _attach_footnote(text, rows):
                raise AssistantError(f"{document.source_file}, line {line.line_no}: text outside the table that is not a footnote.")
            continue
        cells = _cells(line, len(ACTION_COLUMNS))
        first = " ".join(cells[0]).strip()
        if _SECTION_HEADING.match(first) and not any(cells[1:]):
            section = first
            continue
        numbered = _NUMBERED.match(first)
        if numbered or not rows:
            rows.append(_RowUnit(int(numbered.group(1)) if numbered else None, section, line.page, line.page))
            rows[-1].cells["title"] = [first]
        elif first:
            rows[-1].cells["title"][-1] += " " + first
        current = rows[-1]
        current.page_end = line.page
        for column, cell_lines in zip(ACTION_COLUMNS[1:], cells[1:]):
            current.add(column, cell_lines)
    units = [_cover_unit(document, cover)] if cover else []
    units += [_action_unit(document, row) for row in rows]
    return units


def _cover_unit(document: Document, cover: list[tuple[str, int]]) -> Unit:
    texts = [text for text, _ in cover if text]
    pages = (cover[0][1], cover[-1][1])
    return _base_unit(document, "cover_note", "cover", "Cover note", None, document.title, "Cover note",
                      pages, "\n".join(texts), {})


def _action_unit(document: Document, row: _RowUnit) -> Unit:
    title_line = row.text_of("title")
    title = _NUMBERED.sub("", title_line)
    status = row.text_of("status")
    fields_ = {name: row.text_of(name) for name in ACTION_COLUMNS[1:]}
    fields_["footnotes"] = "\n".join(row.footnotes)
    lines = [f"Action {title_line}" if row.number is not None else title_line]
    lines.append(f"{FIELD_LABELS['lead_actors']}: {fields_['lead_actors'].replace(chr(10), ' ')}")
    lines.append(f"{FIELD_LABELS['status']}: {status.replace(chr(10), ' ') if status else STATUS_NOT_STATED}")
    for name in ("way_ahead", "comments"):
        _labelled(lines, FIELD_LABELS[name], row.cells.get(name, []))
    _labelled(lines, FIELD_LABELS["footnotes"], row.footnotes)
    key = f"action-{row.number}" if row.number is not None else f"row-p{row.page_start}"
    locator = f"Action {row.number}" if row.number is not None else f"Row on page {row.page_start}"
    return _base_unit(document, "action", key, locator, row.number, title, row.section,
                      (row.page_start, row.page_end), "\n".join(lines), fields_)


# --- letters ------------------------------------------------------------------------


def parse_letter(document: Document, lines: list[SourceLine]) -> list[Unit]:
    first_table = next((i for i, line in enumerate(lines) if is_header_row(line.text)), len(lines))
    body = [line for line in lines[:first_table] if line.text.strip()]
    annex_title = ""
    if first_table < len(lines) and body:
        annex_title = _clean_prose(body.pop().text)
    units = _letter_sections(document, body)
    units += _annex_units(document, lines[first_table:], annex_title)
    return units


@dataclass
class _Paragraph:
    raw: str
    text: str
    page_start: int
    page_end: int


def _letter_sections(document: Document, body: list[SourceLine]) -> list[Unit]:
    start = next((i for i, line in enumerate(body) if _SALUTATION.match(_clean_prose(line.text))), None)
    salutation = _clean_prose(body[start].text) if start is not None else ""
    paragraphs_src = body[start + 1:] if start is not None else body
    closing_at = next((i for i, line in enumerate(paragraphs_src) if _CLOSING.match(_clean_prose(line.text))), None)
    closing = [_clean_prose(line.text) for line in paragraphs_src[closing_at:]] if closing_at is not None else []
    if closing_at is not None:
        paragraphs_src = paragraphs_src[:closing_at]
    paragraphs: list[_Paragraph] = []
    for line in paragraphs_src:
        text = _clean_prose(line.text)
        if not text:
            continue
        if paragraphs and not _SENTENCE_END.search(paragraphs[-1].text) and text[:1].islower():
            previous = paragraphs[-1]  # a paragraph cut by a page break
            previous.text += " " + text
            previous.raw += " " + line.text.strip()
            previous.page_end = line.page
        else:
            paragraphs.append(_Paragraph(line.text.strip(), text, line.page, line.page))
    groups = _group_under_headings(paragraphs)
    units = []
    for number, group in enumerate(groups, start=1):
        texts = [p.text for p in group]
        if number == 1 and salutation:
            texts.insert(0, salutation)
        if number == len(groups) and closing:
            texts.extend(closing)
        title = _section_title(group)
        units.append(
            _base_unit(document, "letter_section", f"section-{number}", f"Letter, section {number}", number, title,
                       "Letter", (group[0].page_start, group[-1].page_end), "\n".join(texts), {})
        )
    return units


def _group_under_headings(paragraphs: list[_Paragraph]) -> list[list[_Paragraph]]:
    """A short, wholly bold paragraph heads the paragraphs after it; others stand alone."""
    groups: list[list[_Paragraph]] = []
    heading_open = False
    for paragraph in paragraphs:
        is_heading = paragraph.raw.startswith("**") and paragraph.raw.endswith("**") and len(paragraph.text.split()) <= 12
        if is_heading:
            groups.append([paragraph])
            heading_open = True
        elif heading_open:
            groups[-1].append(paragraph)
        else:
            groups.append([paragraph])
    return groups


def _section_title(group: list[_Paragraph]) -> str:
    """The bold phrase that leads a section (the letter's own emphasis), or its opening words."""
    for paragraph in group:
        bold = _BOLD.search(paragraph.raw)
        if bold:
            return markdown_to_text(bold.group(1))
    words = group[0].text.split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


def _annex_units(document: Document, lines: list[SourceLine], annex_title: str) -> list[Unit]:
    section = f"Annex: {annex_title}" if annex_title else "Annex"
    items: list[_RowUnit] = []
    plans: _RowUnit | None = None
    plans_rows: list[list[list[str]]] = []
    for line in lines:
        if not line.text.strip() or is_header_row(line.text):
            continue
        if not is_table_row(line.text):
            text = _clean_prose(line.text)
            if text and not _attach_footnote(text, items + ([plans] if plans else [])):
                raise AssistantError(f"{document.source_file}, line {line.line_no}: text outside the annex table that is not a footnote.")
            continue
        cells = _cells(line, 3)
        first = " ".join(cells[0]).strip()
        if first == "EU Action Plans" and not any(cells[1:]):
            plans = _RowUnit(None, section, line.page, line.page)
            continue
        if plans is not None:
            plans.page_end = line.page
            plans_rows.append(cells)
            for column, cell_lines in zip(("status", "plans", "progress"), cells):
                plans.add(column, cell_lines)
            continue
        numbered = _NUMBERED.match(first)
        if numbered or not items:
            items.append(_RowUnit(int(numbered.group(1)) if numbered else None, section, line.page, line.page))
        current = items[-1]
        current.page_end = line.page
        for column, cell_lines in zip(ANNEX_COLUMNS, cells):
            current.add(column, cell_lines)
    units = [_annex_item_unit(document, item) for item in items]
    if plans is not None:
        units.append(_plans_unit(document, plans, plans_rows))
    return units


def _annex_item_unit(document: Document, item: _RowUnit) -> Unit:
    letter_lines = item.cells.get("letter_text", [])
    first_sentence = split_sentences(_NUMBERED.sub("", letter_lines[0]))[0] if letter_lines else ""
    title = first_sentence if len(first_sentence.split()) <= 25 else " ".join(first_sentence.split()[:25]) + "…"
    lines = [f"Annex item {letter_lines[0]}" if letter_lines else f"Annex item {item.number}"]
    lines.extend(letter_lines[1:])
    _labelled(lines, f"{FIELD_LABELS['state_of_play']} (as of 23 June)" if "23 June" in item.section else FIELD_LABELS["state_of_play"],
              item.cells.get("state_of_play", []))
    _labelled(lines, FIELD_LABELS["footnotes"], item.footnotes)
    fields_ = {name: item.text_of(name) for name in ANNEX_COLUMNS}
    fields_["footnotes"] = "\n".join(item.footnotes)
    key = f"annex-{item.number}" if item.number is not None else f"annex-row-p{item.page_start}"
    return _base_unit(document, "annex_item", key, f"Annex item {item.number}", item.number, title, item.section,
                      (item.page_start, item.page_end), "\n".join(lines), fields_)


def _plans_unit(document: Document, plans: _RowUnit, rows: list[list[list[str]]]) -> Unit:
    lines = ["EU Action Plans"]
    for status, named, progress in (row[:3] for row in rows):
        lines.extend(status)
        lines.extend(named)
        _labelled(lines, "Progress", progress)
    _labelled(lines, FIELD_LABELS["footnotes"], plans.footnotes)
    return _base_unit(document, "action_plans_table", "action-plans", "EU Action Plans table", None,
                      "EU Action Plans (in force and under preparation)", plans.section,
                      (plans.page_start, plans.page_end), "\n".join(lines), {})


# --- units of a document ------------------------------------------------------------


def units_for_document(document: Document, lines: list[SourceLine], glossary: Glossary | None = None) -> list[Unit]:
    """The citable units of one document, in reading order."""
    parser = parse_action_file if document.kind == "action_file" else parse_letter
    units = parser(document, lines)
    if not units:
        raise AssistantError(f"{document.source_file} yielded no units; is it the right kind ({document.kind})?")
    seen: dict[str, int] = {}
    for unit in units:  # numbering that restarts per section must not put two units under one id
        seen[unit.unit_id] = seen.get(unit.unit_id, 0) + 1
        if seen[unit.unit_id] > 1:
            unit.unit_id = f"{unit.unit_id}-{seen[unit.unit_id]}"
    if glossary is not None:
        for unit in units:
            unit.countries = glossary.countries_in(unit.text)
    return units


# --- parts sized for the model ------------------------------------------------------


@dataclass(frozen=True)
class ChunkSettings:
    """What shapes the chunks; recorded in the index manifest."""

    max_tokens: int  # the embedding model's input limit, special tokens included
    tokenizer: str  # the model whose tokenizer measured the lengths
    version: str = CHUNKER_VERSION


def chunk_header(unit: Unit, document: Document) -> str:
    """The header every part of a unit repeats: document, locator, section and title."""
    if unit.kind == "letter_section":
        title_line = f"{unit.locator}: {unit.title}"
    else:
        title_line = unit.text.split("\n", 1)[0]
    section = f" | {unit.section}" if unit.section and unit.section != "Letter" else ""
    return f"{short_label(document)}{section}\n{title_line}"


def _body_lines(unit: Unit) -> list[str]:
    lines = unit.text.split("\n")
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
