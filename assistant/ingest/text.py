"""Text renderings (.txt, .md) -> SourceLines with page numbers.

Page numbers in a text rendering follow these rules, since the file has no form feeds:
a page ends at a "./.." continuation mark, a repeated table header row starts a new
page, and a document's first table starts on a new page together with its title line.
"""

from __future__ import annotations

from assistant.ingest.tables import CONTINUATION_MARK, is_header_row, is_table_row
from assistant.records import SourceLine


def paginate_text(text: str) -> list[SourceLine]:
    """SourceLines of a text rendering, with page numbers (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    result: list[SourceLine] = []
    page = 1
    seen_header = False
    last_row_page: int | None = None  # page of the last table row seen
    for line_no, line in enumerate(lines, start=1):
        if CONTINUATION_MARK.match(line):
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
