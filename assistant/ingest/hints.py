"""What a file says about itself apart from its text: the loaders' hints for the document's metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.records import SourceLine


@dataclass(frozen=True)
class Hints:
    """Metadata the file format carries (HTML head, PDF document info, DOCX properties, a Source line)."""

    title: str = ""
    source_url: str = ""
    date: str = ""  # a structured date (HTML <time datetime>, meta tags), ISO
    issuer: str = ""  # PDF /Author, DOCX author
    language: str = ""  # HTML lang, DOCX language
    genre: str = ""  # from page markup ("press-release" classes)


@dataclass
class LoadedSource:
    """One file read: its lines for the chunker and its hints for the metadata."""

    lines: list[SourceLine]
    hints: Hints = field(default_factory=Hints)
