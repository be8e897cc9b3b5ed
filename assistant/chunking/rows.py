"""What the action-file and letter parsers share: rows assembled across page breaks, and units.

A table row continues on the next page as a continuation row; its cells are appended to
the row being assembled, and a sentence the break cut in two is rejoined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.ingest import REDACTED, html_to_lines, markdown_to_text
from assistant.records import Document, SourceLine, Unit

SENTENCE_END = re.compile(r"[.!?;:]\s*[\"'”’)]?\s*$")
_SUPERSCRIPT_MARK = re.compile(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*")


def append_continued(existing: list[str], new: list[str]) -> None:
    """Append lines, rejoining a sentence that a page break cut in two.

    The source continues a cell on the next page; when the last line so far does not
    end a sentence and the continuation is not a new list item, they are one line.
    """
    if not new:
        return
    if existing and new and not SENTENCE_END.search(existing[-1]) and not new[0].lstrip().startswith("- "):
        existing[-1] = existing[-1].rstrip() + " " + new[0].strip()
        existing.extend(new[1:])
    else:
        existing.extend(new)


@dataclass
class RowUnit:
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


def row_cells(line: SourceLine, width: int) -> list[list[str]]:
    raw = line.text.split("\t")
    raw += [""] * (width - len(raw))
    return [html_to_lines(cell) for cell in raw[:width]] + ([html_to_lines(" ".join(raw[width:]))] if len(raw) > width else [])


def attach_footnote(text: str, units: list[RowUnit]) -> bool:
    """Give a footnote to the latest unit that carries its mark; False if none does."""
    match = _SUPERSCRIPT_MARK.match(text)
    if not match:
        return False
    for unit in reversed(units):
        if unit.contains(match.group(1)):
            unit.footnotes.append(text)
            return True
    return False


def clean_prose(text: str) -> str:
    return markdown_to_text(" ".join(html_to_lines(text)) if "<" in text else text)


def base_unit(document: Document, kind: str, key: str, locator: str, number: int | None, title: str,
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


def labelled(lines: list[str], label: str, body: list[str]) -> None:
    if body:
        lines.append(f"{label}:")
        lines.extend(body)
