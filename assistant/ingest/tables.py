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


# The family of action-table headers: a column's name -> the field it fills. A table is an action
# table when its first column names the actions and two other columns are of the family.
ACTION_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("action", "actions", "measure", "measures", "proposed action", "proposed measure", "key action",
              "action point", "objective", "objectives", "deliverable", "deliverables", "activity", "activities",
              "initiative"),
    "lead_actors": ("lead actor(s)", "lead actors", "lead actor", "lead", "responsible", "responsible actor(s)",
                    "responsibility", "actor(s)", "actors", "who", "owner", "lead/partners", "lead and partners"),
    "status": ("status", "state of play", "state-of-play", "progress", "implementation", "implementation status"),
    "way_ahead": ("way ahead incl. timeline", "way ahead", "timeline", "timing", "deadline", "next steps",
                  "target date", "timeframe", "time frame", "indicative timeline"),
    "comments": ("comments", "comment", "remarks", "notes", "observations"),
}
_COLUMN_FIELD = {name: field for field, names in ACTION_COLUMN_NAMES.items() for name in names}


def is_table_row(text: str) -> bool:
    return "\t" in text


def action_columns(text: str) -> tuple[str, ...] | None:
    """The fields an action-table header row's columns fill, or None if the row is no such header.

    'Action | Lead actor(s) | Status | Way ahead incl. timeline | Comments' and 'Measure |
    Responsible | Timeline | State of play' are; a column outside the family fills "comments".
    """
    if not is_table_row(text):
        return None
    cells = [html_to_text(cell).strip().rstrip(":").lower().replace("’", "'") for cell in text.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) < 3 or _COLUMN_FIELD.get(cells[0]) != "title":
        return None
    fields = [_COLUMN_FIELD.get(cell, "") for cell in cells]
    known = {f for f in fields[1:] if f and f != "title"}
    if len(known) < 2:
        return None
    return tuple(field or "comments" for field in fields)


def is_header_row(text: str) -> bool:
    """A table's column header row, repeated at the top of every page of the table."""
    if not is_table_row(text):
        return False
    first = html_to_text(text.split("\t", 1)[0]).strip()
    return first in TABLE_HEADER_FIRST_CELLS or action_columns(text) is not None
