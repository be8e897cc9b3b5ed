"""The citable units of one document: the parser its kind asks for, ids made unique, countries named."""

from __future__ import annotations

from assistant.chunking.action_file import parse_action_file
from assistant.chunking.letter import parse_letter
from assistant.errors import AssistantError
from assistant.ingest import Glossary
from assistant.records import Document, SourceLine, Unit


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
