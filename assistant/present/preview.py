"""An answer and a passage as plain data for the page: what a citation marker previews, what a source panel shows.

The browser gets these records as data (JSON) and writes every string with `textContent`,
so no document or user text is ever parsed as HTML or Markdown on the way. The answer keeps
the order the answering code gave it (the direct answer first, older documents under
"Earlier, ..."); a Status line is flagged so the page can show it prominently.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from assistant.ingest import human_date
from assistant.present.labels import document_label, pages_label, reference_line, section_label
from assistant.present.markdown import highlight_spans
from assistant.records import Answer, Document, Unit
from assistant.search.locators import NUMBERED_KINDS

_MARKER = re.compile(r"\[(\d{1,3})\]")
_FIELD_LABEL = re.compile(r"^(Lead actor\(s\)|Status|Way ahead|Comments|State of Play[^:\n]{0,40}|Progress|Footnotes):")
_STATUS_LINE = re.compile(r"^.{0,60}? — Status: ")


def _pieces(text: str) -> list[dict[str, Any]]:
    """Text and [n] markers of one answer line, in order."""
    out: list[dict[str, Any]] = []
    for position, part in enumerate(_MARKER.split(text)):
        if position % 2:
            out.append({"n": int(part)})
        elif part:
            out.append({"text": part})
    return out


def answer_lines(answer: Answer) -> list[dict[str, Any]]:
    """The answer's lines as they come: document headings, items, the plain sentence of an abstention."""
    lines: list[dict[str, Any]] = []
    for raw in answer.answer.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("- ", "* ", "• ")):
            body = line[2:].strip()
            lines.append({"kind": "item", "status": bool(_STATUS_LINE.match(body)), "pieces": _pieces(body)})
        elif line.endswith(":") and not _MARKER.search(line):
            lines.append({"kind": "heading", "earlier": line.startswith("Earlier,"), "text": line})
        else:
            lines.append({"kind": "text", "status": False, "pieces": _pieces(line)})
    return lines


def citation_preview(n: int, unit: Unit, sentences: list[str], documents: Mapping[str, Document] | None = None
                     ) -> dict[str, Any]:
    """What hovering [n] shows: the quoted sentence(s), the locator, the document and the page."""
    return {"n": n, "quote": list(sentences), "locator": unit.locator,
            "document": document_label(unit, dict(documents or {})), "title": unit.doc_title,
            "pages": pages_label(unit), "reference": reference_line(unit)}


def answer_view(answer: Answer, documents: Mapping[str, Document] | None = None, copy_text: str = "") -> dict[str, Any]:
    """The data the answer view renders: its lines, a preview per citation, and the text "Copy" puts on the clipboard."""
    return {
        "lines": answer_lines(answer),
        "citations": {str(c.n): citation_preview(c.n, c.unit, c.sentences, documents) for c in answer.citations},
        "copy": copy_text or plain_answer(answer),
        "abstained": answer.abstained,
    }


def plain_answer(answer: Answer) -> str:
    """The answer as plain text with its sources, for pasting into a note."""
    lines = [answer.answer]
    if answer.citations:
        lines += ["", "Sources:"]
        lines += [f"[{c.n}] {reference_line(c.unit)}" for c in answer.citations]
    return "\n".join(lines)


def passage_view(unit: Unit, sentences: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A unit's text as lines of pieces: field labels, highlighted (cited) sentences and plain text.

    `scroll` is true on the first highlighted piece: the page scrolls the passage to it.
    """
    text = unit.text
    spans, missing = highlight_spans(text, sentences)
    lines: list[list[dict[str, Any]]] = []
    offset = 0
    first = True
    for number, line in enumerate(text.split("\n")):
        start, end = offset, offset + len(line)
        offset = end + 1
        cuts = sorted({start, end, *(p for span in spans for p in span if start < p < end)})
        pieces: list[dict[str, Any]] = []
        for a, b in zip(cuts, cuts[1:]):
            piece = text[a:b]
            if any(s <= a and b <= e for s, e in spans):
                pieces.append({"text": piece, "mark": True, "scroll": first})
                first = False
                continue
            label = _FIELD_LABEL.match(piece) if a == start else None
            if label:
                pieces.append({"text": label.group(0), "label": True})
                piece = piece[label.end():]
            if piece:
                pieces.append({"text": piece, "title": number == 0 and unit.kind in NUMBERED_KINDS})
        lines.append(pieces)
    return {"lines": lines, "missing": missing, "key": unit.unit_id}


def unit_facts(unit: Unit) -> list[str]:
    """The lines that place a unit: document, reference, date, locator, pages, section."""
    facts = [unit.doc_title]
    if unit.doc_reference.strip("—- "):
        facts.append(unit.doc_reference)
    facts += [human_date(unit.doc_date), unit.locator, pages_label(unit)]
    if section_label(unit):
        facts.append(section_label(unit))
    return facts


__all__ = ["answer_lines", "answer_view", "citation_preview", "passage_view", "plain_answer", "unit_facts"]
