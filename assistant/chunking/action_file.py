"""Council action files: a cover note, then one unit per numbered action row.

Action rows that run over a page break are merged with their continuation rows (title,
Way ahead and Comments all continue), repeated header rows are dropped and the section
heading (I.-V.) is kept. Lead actor(s) / Status / Way ahead / Comments are kept as fields
and as labelled lines of the unit's text.
"""

from __future__ import annotations

from assistant.chunking.rows import RowUnit, attach_footnote, base_unit, clean_prose, labelled, row_cells
from assistant.errors import AssistantError
from assistant.ingest import ROW_NUMBER, SECTION_HEADING, html_to_text, is_header_row, is_table_row
from assistant.ingest.tables import action_columns
from assistant.records import Document, SourceLine, Unit
from assistant.vocabulary import FIELD_LABELS

ACTION_COLUMNS = ("title", "lead_actors", "status", "way_ahead", "comments")
STATUS_NOT_STATED = "not stated in the action file"


def parse_action_file(document: Document, lines: list[SourceLine]) -> list[Unit]:
    cover: list[tuple[str, int]] = []
    rows: list[RowUnit] = []
    section = ""
    in_table = False
    columns: tuple[str, ...] = ACTION_COLUMNS
    name = "Action"
    numbered_rows = any(ROW_NUMBER.match(html_to_text(line.text.split("\t", 1)[0]).strip())
                        for line in lines if is_table_row(line.text) and not is_header_row(line.text))
    for line in lines:
        if not line.text.strip():
            continue
        if is_header_row(line.text):
            in_table = True
            found = action_columns(line.text)
            if found is not None:  # the family of action headers: Action | Lead actor(s) | ..., Measure | Responsible | ...
                columns, name = found, _row_name(line.text)
            continue
        if not in_table:
            cover.append((clean_prose(line.text), line.page))
            continue
        if not is_table_row(line.text):
            text = clean_prose(line.text)
            if text and not attach_footnote(text, rows):
                raise AssistantError(f"{document.source_file}, line {line.line_no}: text outside the table that is not a footnote.")
            continue
        cells = row_cells(line, len(columns))
        first = " ".join(cells[0]).strip()
        if SECTION_HEADING.match(first) and not any(cells[1:]):
            section = first
            continue
        numbered = ROW_NUMBER.match(first)
        if not numbered_rows and first:  # a table that numbers no row: each row is one, numbered in order
            rows.append(RowUnit(len(rows) + 1, section, line.page, line.page))
            rows[-1].cells["title"] = [f"{len(rows)}. {first}"]
        elif numbered or not rows:
            rows.append(RowUnit(int(numbered.group(1)) if numbered else None, section, line.page, line.page))
            rows[-1].cells["title"] = [first]
        elif first:
            rows[-1].cells["title"][-1] += " " + first
        current = rows[-1]
        current.page_end = line.page
        for column, cell_lines in zip(columns[1:], cells[1:]):
            current.add(column, cell_lines)
    units = [_cover_unit(document, cover)] if cover else []
    units += [_action_unit(document, row, name) for row in rows]
    return units


def _row_name(header: str) -> str:
    """'Measures' -> 'Measure': what one row of the table is called in its locator."""
    first = html_to_text(header.split("\t", 1)[0]).strip()
    word = first.split()[-1] if first.split() else "Action"
    word = word[:-1] if word.lower().endswith("s") and word.lower() not in ("status",) else word
    return word[:1].upper() + word[1:].lower()


def _cover_unit(document: Document, cover: list[tuple[str, int]]) -> Unit:
    texts = [text for text, _ in cover if text]
    pages = (cover[0][1], cover[-1][1])
    return base_unit(document, "cover_note", "cover", "Cover note", None, document.title, "Cover note",
                      pages, "\n".join(texts), {})


def _action_unit(document: Document, row: RowUnit, row_name: str = "Action") -> Unit:
    title_line = row.text_of("title")
    title = ROW_NUMBER.sub("", title_line)
    status = row.text_of("status")
    fields_ = {name: row.text_of(name) for name in ACTION_COLUMNS[1:]}
    fields_["footnotes"] = "\n".join(row.footnotes)
    lines = [f"{row_name} {title_line}" if row.number is not None else title_line]
    lines.append(f"{FIELD_LABELS['lead_actors']}: {fields_['lead_actors'].replace(chr(10), ' ')}")
    lines.append(f"{FIELD_LABELS['status']}: {status.replace(chr(10), ' ') if status else STATUS_NOT_STATED}")
    for name in ("way_ahead", "comments"):
        labelled(lines, FIELD_LABELS[name], row.cells.get(name, []))
    labelled(lines, FIELD_LABELS["footnotes"], row.footnotes)
    key = f"{row_name.lower()}-{row.number}" if row.number is not None else f"row-p{row.page_start}"
    locator = f"{row_name} {row.number}" if row.number is not None else f"Row on page {row.page_start}"
    return base_unit(document, "action", key, locator, row.number, title, row.section,
                      (row.page_start, row.page_end), "\n".join(lines), fields_)
