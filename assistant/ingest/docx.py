"""Word documents (.docx) -> Markdown-style lines, with python-docx.

Headings (the "Heading N" and "Title" styles) become `#` lines, list paragraphs `- ` items,
wholly bold short paragraphs `**...**`, tables tab-separated rows (header row first), and a
page break starts a new page. The core properties give title, author and language hints.
"""

from __future__ import annotations

import io
import re

from assistant.errors import AssistantError
from assistant.ingest.hints import Hints

_HEADING = re.compile(r"^(?:heading\s*(\d)|title)$", re.IGNORECASE)
PAGE_BREAK = "\f"


def docx_to_markdown(data: bytes, name: str) -> tuple[str, Hints]:
    """The document's text as Markdown-style lines (pages split by form feeds), and its hints."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many kinds of error on files that are not .docx
        raise AssistantError(
            f"{name} could not be read as a Word document ({type(error).__name__}); save it again as .docx and add it again."
        ) from None
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.extend(_paragraph(Paragraph(child, document)))
        elif tag == "tbl":
            lines.extend(_table(Table(child, document)))
    properties = document.core_properties
    hints = Hints(title=(properties.title or "").strip(), issuer=(properties.author or "").strip(),
                  language=(properties.language or "").split("-")[0].lower())
    return "\n".join(lines), hints


def _paragraph(paragraph) -> list[str]:
    text = paragraph.text.replace("\t", " ").strip()
    breaks = [PAGE_BREAK] * len(paragraph._element.xpath(".//w:br[@w:type='page']"))
    if not text:
        return breaks
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    heading = _HEADING.match(style.strip())
    if heading:
        line = "#" * int(heading.group(1) or 1) + " " + text
    elif "list" in style.lower() or paragraph._element.xpath("./w:pPr/w:numPr"):
        line = "- " + text
    elif paragraph.runs and all(run.bold for run in paragraph.runs if run.text.strip()) and len(text.split()) <= 15:
        line = f"**{text}**"
    else:
        line = text
    return ["", line, *breaks]


def _table(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells = [" ".join(cell.text.split()) for cell in row.cells]
        deduplicated = [c for i, c in enumerate(cells) if i == 0 or row.cells[i]._tc is not row.cells[i - 1]._tc]
        rows.append("\t".join(deduplicated))
    return ["", *rows, ""]
