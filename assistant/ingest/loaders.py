"""Any supported source file -> SourceLines, chosen by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.files import PDF_SUFFIXES, TEXT_SUFFIXES, read_text_file
from assistant.ingest.text import paginate_text
from assistant.records import SourceLine


def load_lines(path: Path) -> list[SourceLine]:
    """SourceLines of any supported file, chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return paginate_text(read_text_file(path))
    if suffix in PDF_SUFFIXES:
        from assistant.ingest.pdf import load_pdf_lines

        return load_pdf_lines(path)
    raise AssistantError(f"{path.name} is neither text (.txt, .md) nor PDF; those are the formats supported.")
