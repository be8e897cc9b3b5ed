"""What the Streamlit app needs that can be tested without Streamlit.

Safe Markdown is the main job here. Document text and questions come from people we
do not control, yet passages must show the cited sentences highlighted, which needs
Markdown. So every character of such text goes through `escape_markdown`, and the only
Markdown the app ever emits is the markup written in this module around escaped text.
The rest is the conversation record, the filters, and the Markdown export.
"""

from __future__ import annotations

import copy
import re
import string
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Iterable, Sequence

from assistant.corpus import human_date, short_label
from assistant.engine import Engine
from assistant.records import Answer, Citation, Document, Hit, Unit
from assistant.retrieval import Filters

# CommonMark lets any ASCII punctuation character be backslash-escaped, and an escaped
# character is always literal text. Escaping all of them, instead of a hand-picked list,
# also covers Streamlit's own syntax: :color[...] directives, :emoji: and
# :material/icon: shortcodes, and $LaTeX$.
_MARKDOWN_SPECIALS = frozenset(string.punctuation)
# Streamlit turns bare URLs and e-mail addresses into links after parsing, so escaping
# does not stop them. An invisible word joiner breaks the pattern it looks for.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(https?(?=:)|www(?=\.)|@(?=[-\w]))", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LEADING_SPACE = re.compile(r"^[ \t]+")
# Field labels at the start of a passage line (see chunking), shown in bold.
_FIELD_LABEL = re.compile(
    r"^(Lead actor\(s\)|Status|Way ahead|Comments|State of Play[^:\n]{0,40}|Progress|Footnotes):"
)
HIGHLIGHT_COLOR = "orange"
UPLOAD_PREFIX = "upload-"  # ids that assistant.uploads gives to added documents

KIND_LABELS = {
    "action": "Action",
    "annex_item": "Annex item",
    "letter_section": "Letter section",
    "action_plans_table": "Action plans table",
    "cover_note": "Cover note",
}
DOCUMENT_KIND_LABELS = {"action_file": "Action file", "letter": "Letter"}
MODE_LABELS = {"hybrid": "Hybrid", "dense": "Meaning", "bm25": "Keywords"}
FIELD_LABELS = {
    "lead_actors": "Lead actor(s)",
    "status": "Status",
    "way_ahead": "Way ahead",
    "comments": "Comments",
    "letter_text": "Letter text",
    "state_of_play": "State of play",
    "footnotes": "Footnotes",
}


# --- safe Markdown -----------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Text that Streamlit's Markdown shows exactly as written: no HTML, links, images or markup."""
    text = _AUTOLINK_START.sub(lambda m: m.group(1) + WORD_JOINER, str(text))
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)


def escape_inline(text: str) -> str:
    """One line of escaped text, for labels and captions where a line break would end the markup."""
    return escape_markdown(" ".join(str(text).split()))


def _highlighted(text: str) -> str:
    """Escaped text inside a coloured background, in bold.

    The directive's brackets are punctuation, so the `**` inside always open and close
    whatever the sentence starts or ends with; surrounding spaces stay outside.
    """
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()):]
    return f"{lead}:{HIGHLIGHT_COLOR}-background[**{escape_markdown(core)}**]{tail}"


def highlight_spans(text: str, sentences: Iterable[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """Where the cited sentences occur in the text (merged spans), and those not found verbatim."""
    spans: list[tuple[int, int]] = []
    missing: list[str] = []
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        start = text.find(sentence)
        if start < 0:
            missing.append(sentence)
        while start >= 0:
            spans.append((start, start + len(sentence)))
            start = text.find(sentence, start + len(sentence))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged, missing


def _bold(text: str) -> str:
    """Escaped text in bold, its surrounding spaces kept outside the markers so they still close."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()):]
    return f"{lead}**{escape_markdown(core)}**{tail}"


def passage_markdown(text: str, sentences: Iterable[str] = (), title_line: bool = False) -> str:
    """A passage as Markdown: line breaks kept, field labels bold, cited sentences highlighted.

    With `title_line` the first line (an action's or annex item's heading) is bold too.
    """
    spans, _ = highlight_spans(text, sentences)
    lines: list[str] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        start, end = offset, offset + len(line)
        offset = end + 1
        cuts = sorted({start, end, *(p for span in spans for p in span if start < p < end)})
        pieces: list[str] = []
        for a, b in zip(cuts, cuts[1:]):
            piece = text[a:b]
            if any(s <= a and b <= e for s, e in spans):
                pieces.append(_highlighted(piece))
            elif title_line and number == 0:
                pieces.append(_bold(piece))
            else:
                label = _FIELD_LABEL.match(piece) if a == start else None
                if label:
                    pieces.append(f"**{escape_markdown(label.group(0))}**")
                    piece = piece[label.end():]
                pieces.append(escape_markdown(piece))
        rendered = "".join(pieces)
        indent = _LEADING_SPACE.match(rendered)  # four spaces would start a code block
        if indent:
            rendered = "\u00a0" * len(indent.group(0).expandtabs(2)) + rendered[indent.end():]
        lines.append(rendered)
    return "  \n".join(lines)


def _with_markers(text: str) -> str:
    """Escaped text whose [n] citation markers become small badges."""
    parts = _MARKER.split(text)
    out = []
    for position, part in enumerate(parts):
        out.append(f":blue-badge[{part}]" if position % 2 else escape_markdown(part))
    return "".join(out)


def answer_markdown(text: str) -> str:
    """An answer's text as Markdown: document headings in bold, its lines as a list, markers as badges."""
    blocks: list[str] = []
    items: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("- ", "* ", "• ")):
            items.append("- " + _with_markers(stripped[2:].strip()))
            continue
        if items:
            blocks.append("\n".join(items))
            items = []
        if stripped.endswith(":") and not _MARKER.search(stripped):
            blocks.append(f"**{escape_markdown(stripped)}**")
        else:
            blocks.append(_with_markers(stripped))
    if items:
        blocks.append("\n".join(items))
    return "\n\n".join(blocks)


# --- labels --------------------------------------------------------------------------


def pages_label(unit: Unit) -> str:
    return f"p. {unit.pages}" if unit.page_start == unit.page_end else f"pp. {unit.pages}"


def document_label(unit: Unit, documents: dict[str, Document] | None = None) -> str:
    """'Council action file, 22 July 2024' for a unit, from its document when known."""
    document = (documents or {}).get(unit.doc_id)
    if unit.doc_id.startswith(UPLOAD_PREFIX):  # short_label would call any uploaded letter a Commission letter
        title = unit.doc_title if len(unit.doc_title) <= 60 else unit.doc_title[:59] + "…"
        return f"{title}, {human_date(unit.doc_date)}"
    if document is not None:
        return short_label(document)
    kind = {"action_file": "Council action file", "letter": "Commission letter"}.get(unit.doc_kind, unit.doc_kind)
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


# --- asking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchChoices:
    """What the sidebar asks for; turned into Filters, a mode and a number of passages."""

    doc_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""
    mode: str = "hybrid"
    passages: int = 6

    def filters(self) -> Filters:
        return Filters(self.doc_ids, self.kinds, self.sections, self.countries, self.date_from, self.date_to)

    def describe(self, documents: dict[str, Document] | None = None) -> str:
        """One line saying what was searched, shown under each answer and in the export."""
        parts = []
        if self.doc_ids:
            names = [short_label(documents[d]) if documents and d in documents else d for d in self.doc_ids]
            parts.append("documents: " + "; ".join(names))
        if self.kinds:
            parts.append("kinds: " + ", ".join(KIND_LABELS.get(k, k) for k in self.kinds))
        if self.sections:
            parts.append("sections: " + "; ".join(self.sections))
        if self.countries:
            parts.append("countries: " + ", ".join(self.countries))
        if self.date_from or self.date_to:
            parts.append(f"dated {self.date_from or '…'} to {self.date_to or '…'}")
        scope = "; ".join(parts) if parts else "all documents"
        return f"{MODE_LABELS.get(self.mode, self.mode)} search, {self.passages} passages, {scope}"


def answer_with(engine: Engine, question: str, choices: SearchChoices) -> Answer:
    """Ask the engine with the sidebar's choices.

    The number of passages lives in the engine's settings, so a different number uses a
    shallow copy of the engine with that setting changed: the index, the encoder and the
    answerer's precomputed tables are shared, nothing is loaded again.
    """
    if choices.passages != engine.settings.answer.passages:
        answer_settings = replace(engine.settings.answer, passages=choices.passages)
        answerer = copy.copy(engine.answerer)
        answerer.settings = answer_settings
        engine = replace(engine, settings=engine.settings.with_overrides(answer=answer_settings), answerer=answerer)
    return engine.ask(question, filters=choices.filters(), mode=choices.mode)


@dataclass
class Turn:
    """One question and what came back: an answer, or the one sentence saying why not."""

    question: str
    answer: Answer | None = None
    error: str = ""
    searched: str = ""  # SearchChoices.describe()
    seconds: float = 0.0
    asked_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


def countries_in_units(engine: Engine) -> list[str]:
    """Glossary countries that some unit names, in glossary order (the country filter's options)."""
    present = {country for unit in engine.index.units.values() for country in unit.countries}
    return [c.name for c in engine.glossary.countries if c.name in present]


def country_option_label(engine: Engine, name: str) -> str:
    code = next((c.code for c in engine.glossary.countries if c.name == name), "")
    return f"{name} ({code})" if code else name


def filter_glossary(rows: Sequence[dict[str, str]], query: str) -> list[dict[str, str]]:
    """Glossary rows whose term, meaning or kind contain every word of the query (any case)."""
    words = query.lower().split()
    if not words:
        return list(rows)
    return [row for row in rows
            if all(any(w in str(row.get(k, "")).lower() for k in ("term", "meaning", "kind")) for w in words)]


def document_units(engine: Engine, doc_id: str) -> list[Unit]:
    """A document's units in reading order."""
    return [unit for unit in engine.index.units.values() if unit.doc_id == doc_id]


# --- export -----------------------------------------------------------------------------

_EXPORT_SPECIALS = frozenset("\\`*_[]<>&|~#$")


def export_escape(text: str) -> str:
    """Escape what could turn into HTML, links, images or emphasis, leaving prose readable."""
    return "".join("\\" + ch if ch in _EXPORT_SPECIALS else ch for ch in str(text))


def _quote_block(text: str) -> str:
    return "\n".join("> " + export_escape(line) + "  " if line.strip() else ">" for line in text.split("\n"))


def _citation_markdown(citation: Citation) -> list[str]:
    unit = citation.unit
    lines = [f"**\\[{citation.n}\\] {export_escape(reference_line(unit))}**", ""]
    if unit.section:
        lines += [f"Section: {export_escape(unit.section)}", ""]
    if citation.sentences:
        lines.append("Cited sentences:")
        lines += [f"- {export_escape(s)}" for s in citation.sentences]
        lines.append("")
    lines += ["Passage:", "", _quote_block(citation.quote), ""]
    return lines


def _related_markdown(hit: Hit) -> list[str]:
    unit = hit.unit
    return [f"- {export_escape(reference_line(unit))} (similarity {hit.similarity:.2f})"]


def conversation_markdown(turns: Sequence[Turn], index_note: str = "") -> str:
    """The conversation with every citation's reference and passage, as a Markdown file."""
    exported = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# EU migration policy assistant: conversation", "",
             f"Exported {exported}." + (f" {export_escape(index_note)}" if index_note else ""),
             "Answers quote the documents verbatim; each line cites the passage it comes from.", ""]
    asked = [t for t in turns if t.question.strip()]
    if not asked:
        lines.append("No questions were asked.")
    for number, turn in enumerate(asked, start=1):
        lines += [f"## {number}. {export_escape(' '.join(turn.question.split()))}", ""]
        if turn.searched:
            lines += [f"*{export_escape(turn.searched)}; asked {turn.asked_at}.*", ""]
        if turn.error or turn.answer is None:
            lines += [f"Not answered: {export_escape(turn.error)}", ""]
            continue
        answer = turn.answer
        lines += [export_escape(answer.answer), ""]
        for note in answer.notes:
            lines += [f"> Note: {export_escape(note)}", ""]
        if answer.citations:
            lines += ["### Sources", ""]
            for citation in answer.citations:
                lines += _citation_markdown(citation)
        elif answer.hits:
            lines += ["### Possibly related passages", ""]
            for hit in answer.hits:
                lines += _related_markdown(hit)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


__all__ = [
    "SearchChoices", "Turn", "answer_markdown", "answer_with", "conversation_markdown", "countries_in_units",
    "document_units", "escape_inline", "escape_markdown", "filter_glossary", "highlight_spans",
    "passage_markdown", "reference_line", "source_label",
]
