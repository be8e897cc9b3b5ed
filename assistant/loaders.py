"""Loaders: turn a source file (text rendering, Markdown letter or PDF) into SourceLines.

Page numbers in a text rendering follow these rules, since the file has no form feeds:
a page ends at a "./.." continuation mark, a repeated table header row starts a new
page, and a document's first table starts on a new page together with its title line.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import AssistantError
from assistant.records import SourceLine
from assistant.text_cleaning import html_to_text

PAGE_MARK = re.compile(r"^\s*\./\.\.\s*$")
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
MAX_FILE_BYTES = 20 * 1024 * 1024
TABLE_HEADER_FIRST_CELLS = ("Action", "President's letter/EUCO conclusions", "President’s letter/EUCO conclusions")


def is_table_row(text: str) -> bool:
    return "\t" in text


def is_header_row(text: str) -> bool:
    """A table's column header row, repeated at the top of every page of the table."""
    if not is_table_row(text):
        return False
    first = html_to_text(text.split("\t", 1)[0]).strip()
    return first in TABLE_HEADER_FIRST_CELLS


def read_text_file(path: Path) -> str:
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AssistantError(f"{path.name} is not UTF-8 text; convert it to UTF-8 and add it again.") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise AssistantError(f"{path.name} has no text in it.")
    return text


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise AssistantError(f"{path} does not exist.")
    size = path.stat().st_size
    if size == 0:
        raise AssistantError(f"{path.name} is empty (zero bytes).")
    if size > MAX_FILE_BYTES:
        raise AssistantError(f"{path.name} is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit.")
    return path.read_bytes()


def paginate_text(text: str) -> list[SourceLine]:
    """SourceLines of a text rendering, with page numbers (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    result: list[SourceLine] = []
    page = 1
    seen_header = False
    last_row_page: int | None = None  # page of the last table row seen
    for line_no, line in enumerate(lines, start=1):
        if PAGE_MARK.match(line):
            page += 1
            continue
        if is_header_row(line):
            if not seen_header:
                page = _start_first_table(result, page)
                seen_header = True
            elif last_row_page == page:
                page += 1
            last_row_page = page
            result.append(SourceLine(line, page, line_no))
            continue
        if is_table_row(line) and seen_header:
            last_row_page = page
        result.append(SourceLine(line, page, line_no))
    return result


def _start_first_table(result: list[SourceLine], page: int) -> int:
    """Move the title line above the first table onto a new page; return that page."""
    has_prose_before = any(line.text.strip() for line in result if line.page == page)
    if not has_prose_before:
        return page
    new_page = page + 1
    for position in range(len(result) - 1, -1, -1):
        if result[position].text.strip():
            title = result[position]
            earlier = [line for line in result[:position] if line.text.strip() and line.page == page]
            if earlier:  # the title goes with the table, unless it is all the page holds
                result[position] = SourceLine(title.text, new_page, title.line_no)
            else:
                return page
            break
    return new_page


def load_lines(path: Path) -> list[SourceLine]:
    """SourceLines of any supported file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return paginate_text(read_text_file(path))
    if suffix in PDF_SUFFIXES:
        from assistant.pdf_loader import load_pdf_lines

        return load_pdf_lines(path)
    raise AssistantError(f"{path.name} is neither text (.txt, .md) nor PDF; those are the formats supported.")
