"""The citable units of one document: the parser its kind asks for, ids made unique, countries named."""

from __future__ import annotations

from typing import Callable

from assistant.chunking.action_file import parse_action_file
from assistant.chunking.general import parse_general
from assistant.chunking.letter import parse_letter
from assistant.chunking.tokens import TokenCounter
from assistant.errors import AssistantError
from assistant.ingest import Glossary
from assistant.models import model_path, model_spec
from assistant.records import Document, SourceLine, Unit
from assistant.settings import DEFAULT_MODEL

HEADER_ALLOWANCE = 40  # model tokens left for the header every chunk of a unit repeats


def unit_budget(model: str = DEFAULT_MODEL) -> tuple[Callable[[str], int], int]:
    """The model's token counter and the size a general unit is cut to (its input less the header)."""
    return TokenCounter(model_path(model)), model_spec(model).max_seq_length - HEADER_ALLOWANCE


def units_for_document(document: Document, lines: list[SourceLine], glossary: Glossary | None = None,
                       model: str = DEFAULT_MODEL) -> list[Unit]:
    """The citable units of one document, in reading order; general documents are sized for `model`."""
    if document.kind == "action_file":
        units = parse_action_file(document, lines)
    elif document.kind == "letter":
        units = parse_letter(document, lines)
    else:
        count, budget = unit_budget(model)
        units = parse_general(document, lines, count, budget)
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
