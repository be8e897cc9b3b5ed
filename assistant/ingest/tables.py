"""How the documents' tables look in text: rows of tab-separated cells, header rows, row numbers.

The text renderings and the PDF loader both produce tables in this form, and the chunker
reads them back; the patterns that recognise a row or a section heading live here once.
"""

from __future__ import annotations

import re

from assistant.ingest.cleaning import html_to_text

# First cells of the two known header rows: the Council action table and the letter annex.
TABLE_HEADER_FIRST_CELLS = ("Action", "President's letter/EUCO conclusions", "President’s letter/EUCO conclusions")
ROW_NUMBER = re.compile(r"^(\d+)\.\s+")  # "12. Strengthen ..." starts action (or annex item) 12
SECTION_HEADING = re.compile(r"^([IVX]{1,5})\.(?:\s|$)")  # "III. Returns" heads a group of actions
ROW_START = re.compile(r"^(?:\d{1,3}\.\s|[IVX]{1,5}\.(?:\s|$))")  # a numbered row or a section heading
CONTINUATION_MARK = re.compile(r"^\s*\./\.\.\s*$")  # "./.." at the foot of a page: the table goes on


def is_table_row(text: str) -> bool:
    return "\t" in text


def is_header_row(text: str) -> bool:
    """A table's column header row, repeated at the top of every page of the table."""
    if not is_table_row(text):
        return False
    first = html_to_text(text.split("\t", 1)[0]).strip()
    return first in TABLE_HEADER_FIRST_CELLS
