"""Any supported source file -> SourceLines (and the file's hints), chosen by the file's suffix.

Every format ends as SourceLines in one form, so one chunker serves them all: prose lines
(Markdown marks kept: `#` headings, `- ` items, `**bold**`), tables as tab-separated rows.
A text or Markdown file's first line `Source: URL` is the document's address: it becomes a
hint, not text.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.files import (
    DOCX_SUFFIXES,
    FORMATS_SENTENCE,
    HTML_SUFFIXES,
    PDF_SUFFIXES,
    TEXT_SUFFIXES,
    read_bytes,
    read_text_file,
)
from assistant.ingest.hints import Hints, LoadedSource
from assistant.ingest.text import paginate_text
from assistant.records import SourceLine

_SOURCE_LINE = re.compile(r"^\s*Source:\s*(https?://\S+)\s*$", re.IGNORECASE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


def load_lines(path: Path) -> list[SourceLine]:
    """SourceLines of any supported file, chosen by its suffix."""
    return load_source(path).lines


def load_source(path: Path) -> LoadedSource:
    """SourceLines and hints of any supported file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        text, hints = source_line_hint(read_text_file(path))
        if suffix != ".txt":
            text = markdown_tables_to_rows(text)
        return LoadedSource(paginate_pages(text), hints)
    if suffix in HTML_SUFFIXES:
        from assistant.ingest.html import html_to_markdown

        markdown, hints = html_to_markdown(read_text_file(path), path.name)
        return LoadedSource(paginate_pages(markdown_tables_to_rows(markdown)), hints)
    if suffix in DOCX_SUFFIXES:
        from assistant.ingest.docx import docx_to_markdown

        text, hints = docx_to_markdown(read_bytes(path), path.name)
        lines = paginate_pages(text)
        if not any(line.text.strip() for line in lines):
            raise AssistantError(f"{path.name} has no text in it.")
        return LoadedSource(lines, hints)
    if suffix in PDF_SUFFIXES:
        from assistant.ingest.pdf import load_pdf

        lines, hints = load_pdf(path)
        return LoadedSource(lines, hints)
    raise AssistantError(f"{path.name} is not a {FORMATS_SENTENCE} file; those are the formats supported.")


def source_line_hint(text: str) -> tuple[str, Hints]:
    """A first line `Source: URL` is metadata: the URL as a hint, the line (and a blank after it) left out.

    The line is replaced by empty lines, so line numbers still point into the file.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or first > 2:
        return text, Hints()
    match = _SOURCE_LINE.match(lines[first])
    if not match:
        return text, Hints()
    lines[first] = ""
    return "\n".join(lines), Hints(source_url=match.group(1))


def markdown_tables_to_rows(text: str) -> str:
    """Markdown pipe tables as the tab-separated rows every loader writes; the `| --- |` rule dropped."""
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3:
            if _TABLE_RULE.match(stripped):
                out.append("")  # keep the line count
                continue
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", stripped[1:-1])]
            out.append("\t".join(cells) if any(cells) else "")
        else:
            out.append(line)
    return "\n".join(out)


def paginate_pages(text: str) -> list[SourceLine]:
    """paginate_text, with a form feed (as pdftotext and Word page breaks write it) starting a new page."""
    if "\f" not in text:
        return paginate_text(text)
    lines: list[SourceLine] = []
    page_offset, line_offset = 0, 0
    for chunk in text.split("\f"):
        part = paginate_text(chunk)
        lines.extend(SourceLine(line.text, line.page + page_offset, line.line_no + line_offset) for line in part)
        page_offset = (max((line.page for line in part), default=1) + page_offset)
        line_offset += chunk.count("\n")
    return lines
