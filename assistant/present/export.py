"""The conversation as a Markdown file: every answer with its citations' references and passages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from assistant.present.labels import reference_line
from assistant.records import Answer, Citation, Hit


@dataclass
class Turn:
    """One question and what came back: an answer, or the one sentence saying why not."""

    question: str
    answer: Answer | None = None
    error: str = ""
    searched: str = ""  # describe_search(...): what was searched, in words
    seconds: float = 0.0
    asked_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


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
