"""Labels a reader sees for a unit or a document: locator, document, pages, a citation to paste."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping, Sequence

from assistant.ingest import Glossary, human_date, short_label
from assistant.records import Document, Unit
from assistant.search import Query
from assistant.vocabulary import DOCUMENT_KINDS, MODES, UNIT_KINDS

UPLOAD_PREFIX = "upload-"  # ids that assistant.uploads gives to added documents


def pages_label(unit: Unit) -> str:
    return f"p. {unit.pages}" if unit.page_start == unit.page_end else f"pp. {unit.pages}"


def document_label(unit: Unit, documents: dict[str, Document] | None = None) -> str:
    """'Council action file, 22 July 2024' for a unit, from its document when known (see short_label)."""
    document = (documents or {}).get(unit.doc_id)
    if document is not None:
        return short_label(document)
    if unit.doc_id.startswith(UPLOAD_PREFIX):  # an added document not in `documents`: its own title
        title = unit.doc_title if len(unit.doc_title) <= 60 else unit.doc_title[:59] + "…"
        return f"{title}, {human_date(unit.doc_date)}"
    kind = {"action_file": "Council action file"}.get(unit.doc_kind, DOCUMENT_KINDS.get(unit.doc_kind, unit.doc_kind))
    return f"{kind}, {human_date(unit.doc_date)}"


def source_label(unit: Unit, documents: dict[str, Document] | None = None) -> str:
    """The plain one-line label of a source: locator, document, pages."""
    return f"{unit.locator} · {document_label(unit, documents)} · {pages_label(unit)}"


def section_label(unit: Unit) -> str:
    """The unit's section heading, or '' when its locator already says it ('Cover note', 'Letter')."""
    return "" if not unit.section or unit.locator.startswith(unit.section) else unit.section


def reference_line(unit: Unit) -> str:
    """A citation an analyst can paste into a note: title, reference, date, locator, pages."""
    parts = [unit.doc_title]
    if unit.doc_reference and unit.doc_reference.strip("—- "):
        parts.append(unit.doc_reference)
    parts += [human_date(unit.doc_date), unit.locator, pages_label(unit)]
    return ", ".join(parts) + "."


def built_label(built_at: str) -> str:
    """'21 Nov 2026' from the manifest's ISO time, or the text as it is."""
    try:
        moment = datetime.fromisoformat(built_at)
    except ValueError:
        return built_at or "never"
    return moment.astimezone(timezone.utc).strftime("%-d %b %Y")


def status_color(status: str) -> str:
    lowered = status.lower()
    if not lowered or "not stated" in lowered:
        return "gray"
    if "complet" in lowered or "done" in lowered:
        return "green"
    if "ongoing" in lowered or "progress" in lowered:
        return "blue"
    return "orange"


def missing_actions_label(document: Document) -> str:
    """'Actions 24-28 missing from this copy' from the document's metadata, or ''."""
    numbers = sorted(document.missing_actions)
    if not numbers:
        return ""
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 1:
        return f"Actions {numbers[0]}–{numbers[-1]} missing from this copy"
    return "Missing from this copy: action " + ", ".join(str(n) for n in numbers)


def kind_label(kind: str) -> str:
    return UNIT_KINDS.get(kind, kind)


def document_kind_label(kind: str) -> str:
    return DOCUMENT_KINDS.get(kind, kind)


def mode_label(mode: str) -> str:
    return MODES.get(mode, mode)


def describe_search(query: Query, passages: int, mode: str, documents: dict[str, Document] | None = None) -> str:
    """One line saying what was searched, shown under each answer and in the export."""
    filters = query.filters
    parts = []
    if filters.doc_ids:
        names = [short_label(documents[d]) if documents and d in documents else d for d in filters.doc_ids]
        parts.append("documents: " + "; ".join(names))
    if filters.kinds:
        parts.append("kinds: " + ", ".join(kind_label(k) for k in filters.kinds))
    if filters.sections:
        parts.append("sections: " + "; ".join(filters.sections))
    if filters.countries:
        parts.append("countries: " + ", ".join(filters.countries))
    if filters.date_from or filters.date_to:
        parts.append(f"dated {filters.date_from or '…'} to {filters.date_to or '…'}")
    scope = "; ".join(parts) if parts else "all documents"
    return f"{mode_label(mode)} search, {passages} passages, {scope}"


def country_option_label(glossary: Glossary, name: str) -> str:
    code = next((c.code for c in glossary.countries if c.name == name), "")
    return f"{name} ({code})" if code else name


def filter_glossary(rows: Sequence[dict[str, str]], query: str) -> list[dict[str, str]]:
    """Glossary rows whose term, meaning or kind contain every word of the query (any case)."""
    words = query.lower().split()
    if not words:
        return list(rows)
    return [row for row in rows
            if all(any(w in str(row.get(k, "")).lower() for k in ("term", "meaning", "kind")) for w in words)]


def passage_line(fields: Mapping[str, object]) -> str:
    """'Action 21 (pages 14-15) — <document title>, 2024-07-22' from a unit's citation fields."""
    return f"{fields['locator']} (pages {fields['pages']}) — {str(fields['doc_title'])[:60]}, {fields['doc_date']}"
