"""Commission letters: body sections under the letter's own bold headings, then the annex table.

The annex holds numbered items (President's letter/EUCO conclusions | State of Play) whose
rows continue over page breaks, footnotes attached to the item that carries their mark,
and a nested "EU Action Plans" table kept as one unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.chunking.rows import SENTENCE_END, RowUnit, attach_footnote, base_unit, clean_prose, labelled, row_cells
from assistant.chunking.sentences import split_sentences
from assistant.errors import AssistantError
from assistant.ingest import ROW_NUMBER, find_dates, is_header_row, is_table_row, markdown_to_text
from assistant.ingest.blocks import prepare_letter_lines
from assistant.ingest.furniture import is_office_line
from assistant.ingest.issuers import is_body_line
from assistant.records import Document, SourceLine, Unit
from assistant.vocabulary import FIELD_LABELS, PROGRESS_LABEL

ANNEX_COLUMNS = ("letter_text", "state_of_play")
_SALUTATION = re.compile(r"^Dear\b", re.IGNORECASE)
_CLOSING = re.compile(r"^(Yours (sincerely|faithfully)|Kind regards|Best regards|With best regards)\b", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def parse_letter(document: Document, lines: list[SourceLine]) -> list[Unit]:
    lines, _ = prepare_letter_lines(lines)
    first_table = next((i for i, line in enumerate(lines) if is_header_row(line.text)), len(lines))
    body = [line for line in lines[:first_table] if line.text.strip()]
    annex_title = ""
    if first_table < len(lines) and body:
        annex_title = clean_prose(body.pop().text)
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
    start = next((i for i, line in enumerate(body) if _SALUTATION.match(clean_prose(line.text))), None)
    salutation = clean_prose(body[start].text) if start is not None else ""
    # Above the salutation: the letterhead (sender, office, dateline) is metadata; anything else is text.
    preamble = [clean_prose(line.text) for line in body[:start or 0] if not _letterhead(clean_prose(line.text))]
    paragraphs_src = body[start + 1:] if start is not None else body
    closing_at = next((i for i, line in enumerate(paragraphs_src) if _CLOSING.match(clean_prose(line.text))), None)
    closing = [clean_prose(line.text) for line in paragraphs_src[closing_at:]] if closing_at is not None else []
    if closing_at is not None:
        paragraphs_src = paragraphs_src[:closing_at]
    paragraphs: list[_Paragraph] = []
    for line in paragraphs_src:
        text = clean_prose(line.text)
        if not text:
            continue
        if paragraphs and not SENTENCE_END.search(paragraphs[-1].text) and text[:1].islower():
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
        if number == 1:
            texts[:0] = preamble
        if number == len(groups) and closing:
            texts.extend(closing)
        title = _section_title(group)
        units.append(
            base_unit(document, "letter_section", f"section-{number}", f"Letter, section {number}", number, title,
                       "Letter", (group[0].page_start, group[-1].page_end), "\n".join(texts), {})
        )
    return units


def _letterhead(text: str) -> bool:
    """A letterhead line: the sender's name or office, a dateline, a short line without a sentence in it."""
    if is_body_line(text) or is_office_line(text) or find_dates(text) and len(text.split()) <= 6:
        return True
    return len(text.split()) <= 6 and not SENTENCE_END.search(text)


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
    items: list[RowUnit] = []
    plans: RowUnit | None = None
    plans_rows: list[list[list[str]]] = []
    for line in lines:
        if not line.text.strip() or is_header_row(line.text):
            continue
        if not is_table_row(line.text):
            text = clean_prose(line.text)
            if text and not attach_footnote(text, items + ([plans] if plans else [])):
                raise AssistantError(f"{document.source_file}, line {line.line_no}: text outside the annex table that is not a footnote.")
            continue
        cells = row_cells(line, 3)
        first = " ".join(cells[0]).strip()
        if first == "EU Action Plans" and not any(cells[1:]):
            plans = RowUnit(None, section, line.page, line.page)
            continue
        if plans is not None:
            plans.page_end = line.page
            plans_rows.append(cells)
            for column, cell_lines in zip(("status", "plans", "progress"), cells):
                plans.add(column, cell_lines)
            continue
        numbered = ROW_NUMBER.match(first)
        if numbered or not items:
            items.append(RowUnit(int(numbered.group(1)) if numbered else None, section, line.page, line.page))
        current = items[-1]
        current.page_end = line.page
        for column, cell_lines in zip(ANNEX_COLUMNS, cells):
            current.add(column, cell_lines)
    units = [_annex_item_unit(document, item) for item in items]
    if plans is not None:
        units.append(_plans_unit(document, plans, plans_rows))
    return units


def _annex_item_unit(document: Document, item: RowUnit) -> Unit:
    letter_lines = item.cells.get("letter_text", [])
    first_sentence = split_sentences(ROW_NUMBER.sub("", letter_lines[0]))[0] if letter_lines else ""
    title = first_sentence if len(first_sentence.split()) <= 25 else " ".join(first_sentence.split()[:25]) + "…"
    lines = [f"Annex item {letter_lines[0]}" if letter_lines else f"Annex item {item.number}"]
    lines.extend(letter_lines[1:])
    labelled(lines, f"{FIELD_LABELS['state_of_play']} (as of 23 June)" if "23 June" in item.section else FIELD_LABELS["state_of_play"],
              item.cells.get("state_of_play", []))
    labelled(lines, FIELD_LABELS["footnotes"], item.footnotes)
    fields_ = {name: item.text_of(name) for name in ANNEX_COLUMNS}
    fields_["footnotes"] = "\n".join(item.footnotes)
    key = f"annex-{item.number}" if item.number is not None else f"annex-row-p{item.page_start}"
    return base_unit(document, "annex_item", key, f"Annex item {item.number}", item.number, title, item.section,
                      (item.page_start, item.page_end), "\n".join(lines), fields_)


def _plans_unit(document: Document, plans: RowUnit, rows: list[list[list[str]]]) -> Unit:
    lines = ["EU Action Plans"]
    for status, named, progress in (row[:3] for row in rows):
        lines.extend(status)
        lines.extend(named)
        labelled(lines, PROGRESS_LABEL, progress)
    labelled(lines, FIELD_LABELS["footnotes"], plans.footnotes)
    return base_unit(document, "action_plans_table", "action-plans", "EU Action Plans table", None,
                      "EU Action Plans (in force and under preparation)", plans.section,
                      (plans.page_start, plans.page_end), "\n".join(lines), {})
