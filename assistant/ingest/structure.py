"""What a document is by its structure: an action file, a letter, or a general document.

- action file: a table whose header row is of the action family (Action / Lead actor(s) /
  Status / Way ahead / Comments, or Measure / Responsible / Timeline / State of play, ...:
  assistant/ingest/tables.py), with little prose after it;
- letter: a salutation ("Dear colleagues,") near the top;
- general: anything else.

A kind the user declares is checked against this: one the structure contradicts is refused
in one sentence (an action file without an action table, a letter without a salutation) or,
for "general", kept with a warning.
"""

from __future__ import annotations

import re

from assistant.errors import AssistantError
from assistant.ingest.blocks import clean_line
from assistant.ingest.tables import action_columns, is_header_row, is_table_row
from assistant.records import SourceLine
from assistant.vocabulary import DOCUMENT_KINDS

SALUTATION = re.compile(r"^(?:Dear|My dear)\b.{0,80},?$", re.IGNORECASE)
CLOSING = re.compile(r"^(Yours (sincerely|faithfully)|Kind regards|Best regards|With best regards)\b", re.IGNORECASE)
ACTION_TABLE_EXAMPLE = "Action | Lead actor(s) | Status | Way ahead | Comments, or Measure | Responsible | Timeline | State of play"


def has_action_table(lines: list[SourceLine]) -> bool:
    return any(action_columns(line.text) is not None for line in lines)


def has_salutation(lines: list[SourceLine]) -> bool:
    prose = [clean_line(line.text) for line in lines if line.text.strip() and not is_table_row(line.text)]
    return any(SALUTATION.match(text) and len(text.split()) <= 8 for text in prose[:40])


def prose_after_table(lines: list[SourceLine]) -> int:
    """Words of prose (not footnotes) after an action table's header row."""
    start = next((i for i, line in enumerate(lines) if action_columns(line.text) is not None), None)
    if start is None:
        return 0
    words = 0
    for line in lines[start:]:
        text = clean_line(line.text)
        if text and not is_table_row(line.text) and not is_header_row(line.text) and not text[:1] in "¹²³⁴⁵⁶⁷⁸⁹⁰*":
            words += len(text.split())
    return words


def detect_kind(lines: list[SourceLine]) -> str:
    """'action_file', 'letter' or 'general', from the document's structure alone."""
    if has_action_table(lines) and prose_after_table(lines) <= 40:
        return "action_file"
    if has_salutation(lines):
        return "letter"
    return "general"


def checked_kind(declared: str, lines: list[SourceLine], name: str) -> tuple[str, list[str]]:
    """The kind to parse the document as, and warnings; a declared kind the structure contradicts is refused."""
    detected = detect_kind(lines)
    if not declared:
        return detected, []
    if declared not in DOCUMENT_KINDS:
        raise AssistantError(f"The document kind {declared!r} is not one of {', '.join(DOCUMENT_KINDS)}; "
                             "leave it out to read it from the document.")
    if declared == "action_file" and not has_action_table(lines):
        raise AssistantError(f"{name} has no action table (a header row such as {ACTION_TABLE_EXAMPLE}), so it is not an "
                             f"action file; add it without a kind to read it as {_article(detected)}.")
    if declared == "letter" and not has_salutation(lines):
        raise AssistantError(f"{name} has no salutation (Dear ...), so it does not read as a letter; add it without a "
                             f"kind to read it as {_article(detected)}.")
    warnings = []
    if declared == "general" and detected != "general":
        warnings.append(f"{name} reads like {_article(detected)}; it was read as a general document, as asked.")
    return declared, warnings


def _article(kind: str) -> str:
    return {"action_file": "an action file", "letter": "a letter", "general": "a general document"}[kind]
