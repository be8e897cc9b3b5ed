"""A PDF page as an image with the cited sentences highlighted, for checking a citation against the page itself.

Rendered with pypdfium2 (PDFium) from the stored file; the sentences are found in the page's
text layer in pieces of a few words (a sentence may wrap, hyphenate or run into a column
break), and each piece found gets a translucent box. Documents that are not PDFs have no page
to show (`page_image` returns None).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.ingest import PDF_SUFFIXES

SCALE = 1.6  # pixels per PDF point: a page 595 points wide becomes about 950 pixels
PIECE_WORDS = 5  # words searched at a time
HIGHLIGHT = (255, 165, 0, 90)  # translucent orange, the app's highlight colour


@dataclass(frozen=True)
class PageImage:
    png: bytes
    page: int  # 1-based, as the unit's pages are counted for PDFs
    pages: int  # pages in the document
    found: int  # pieces of the sentences found and highlighted
    wanted: int  # pieces searched


def is_pdf(path: Path) -> bool:
    return path.suffix.lower() in PDF_SUFFIXES


def _pieces(sentence: str) -> list[str]:
    words = re.findall(r"\S+", sentence)
    return [" ".join(words[i:i + PIECE_WORDS]) for i in range(0, len(words), PIECE_WORDS)]


def _boxes(textpage, piece: str) -> list[tuple[float, float, float, float]]:
    searcher = textpage.search(piece, match_case=False, match_whole_word=False)
    try:
        found = searcher.get_next()
        if not found:
            return []
        index, count = found
        return [textpage.get_rect(i) for i in range(textpage.count_rects(index, count))]
    finally:
        searcher.close()


def page_image(path: Path, pages: range, sentences: list[str] | tuple[str, ...]) -> PageImage | None:
    """The page of `pages` (1-based) holding most of the sentences, rendered with them highlighted; None if not a PDF."""
    if not is_pdf(path) or not path.is_file():
        return None
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        total = len(pdf)
        candidates = [p for p in pages if 1 <= p <= total] or [1]
        pieces = [piece for sentence in sentences for piece in _pieces(sentence)]
        best: tuple[int, int, list] | None = None
        for number in candidates:
            textpage = pdf[number - 1].get_textpage()
            try:
                boxes = [box for piece in pieces for box in _boxes(textpage, piece)]
                hits = sum(1 for piece in pieces if _boxes(textpage, piece))
            finally:
                textpage.close()
            if best is None or hits > best[1]:
                best = (number, hits, boxes)
        number, hits, boxes = best  # type: ignore[misc]
        page = pdf[number - 1]
        height = page.get_height()
        image = page.render(scale=SCALE).to_pil().convert("RGBA")
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for left, bottom, right, top in boxes:
            draw.rectangle([left * SCALE - 1, (height - top) * SCALE - 1, right * SCALE + 1, (height - bottom) * SCALE + 1],
                           fill=HIGHLIGHT)
        buffer = io.BytesIO()
        Image.alpha_composite(image, overlay).convert("RGB").save(buffer, format="PNG", optimize=True)
        return PageImage(buffer.getvalue(), number, total, hits, len(pieces))
    finally:
        pdf.close()


__all__ = ["PageImage", "is_pdf", "page_image"]
