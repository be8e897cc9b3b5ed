"""The PDF loader on PDFs laid out like the real documents, built from the real corpus.

The action file's units are set as a five-column table over many pages (header row
repeated, rows split over page breaks, footnotes at the page bottom, running footers);
the letter's paragraphs and annex as prose pages and a two-column table. Loading the
PDF and chunking it must give the same units as the text rendering.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle,
)

from assistant.chunking import units_for_document
from assistant.errors import AssistantError
from assistant.ingest import MAX_FILE_BYTES, load_lines
from assistant.records import Document, Unit

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
ACTION_HEADER = ("Action", "Lead actor(s)", "Status", "Way ahead incl. timeline", "Comments")
ANNEX_HEADER = ("President’s letter/EUCO conclusions", "State of Play")
ACTION_FILE_ID = "emr-action-file-2024"  # ids in corpus/documents.json
LETTER_ID = "commission-letter-2023"
ACTION_FILE_FOOTER = "WK 10190/2024 INIT   JAI.1   LIMITE   EN"
LETTER_FOOTER = "Letter of the President to EU leaders on migration"
MARK_DIGITS = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")


# --- building PDFs ----------------------------------------------------------------------


def _font() -> tuple[str, bool]:
    """DejaVu Sans renders ü, ö and €; without it, Helvetica and Latin-1 text only."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        return "Helvetica", False
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
        for italic in (0, 1):
            addMapping("DejaVuSans", 0, italic, "DejaVuSans")
            addMapping("DejaVuSans", 1, italic, "DejaVuSans-Bold")
    return "DejaVuSans", True


FONT, UNICODE = _font()


def _markup(text: str) -> str:
    """Reportlab paragraph markup: escaped text, footnote marks (¹) as raised small digits."""
    if not UNICODE:  # Helvetica lacks glyphs beyond Latin-1 (€, –); word counts skip the "?"
        text = "".join(ch if ch in "¹²³⁴⁵⁶⁷⁸⁹⁰" or ord(ch) < 256 else "?" for ch in text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+", lambda m: f"<super>{m.group(0).translate(MARK_DIGITS)}</super>", text)


class _Footnote(Flowable):
    """Takes no space; asks for its footnote text at the bottom of the page it lands on."""

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._pending_footnotes = getattr(self.canv, "_pending_footnotes", []) + [self.note]


def _page_end(canvas: pdf_canvas.Canvas, doc: BaseDocTemplate) -> None:
    """Footnotes above the running footer, each a small raised number and its text."""
    y = 48.0
    for note in getattr(canvas, "_pending_footnotes", []):
        match = re.match(r"^([¹²³⁴⁵⁶⁷⁸⁹⁰]+)\s*(.*)$", note)
        mark, text = (match.group(1), match.group(2)) if match else ("", note)
        canvas.setFont(FONT, 4.5)
        canvas.drawString(40, y + 3, mark.translate(MARK_DIGITS))
        canvas.setFont(FONT, 7)
        canvas.drawString(45, y, text)
        y -= 9
    canvas._pending_footnotes = []


def _page_start(canvas: pdf_canvas.Canvas, doc: BaseDocTemplate) -> None:
    """The running footer with the page number, as Council documents have."""
    canvas.setFont(FONT, 7)
    canvas.drawString(40, 18, doc.title)
    canvas.drawRightString(doc.pagesize[0] - 40, 18, str(canvas.getPageNumber()))


def _build(story: list, pagesize: tuple[float, float], footer: str) -> bytes:
    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=pagesize, title=footer,
                          leftMargin=40, rightMargin=40, topMargin=40, bottomMargin=70)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_page_start, onPageEnd=_page_end)])
    doc.build(story)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10, spaceAfter=3)
    return {
        "cell": cell,
        "title": ParagraphStyle("title", parent=cell, fontName=FONT + "-Bold"),
        "head": ParagraphStyle("head", parent=cell, alignment=TA_CENTER),
        "prose": ParagraphStyle("prose", fontName=FONT, fontSize=10, leading=12.5, spaceAfter=8),
    }


def _cell(lines: list[str], style: ParagraphStyle, footnotes: list[str]) -> list[Flowable]:
    flowables: list[Flowable] = []
    for line in lines:
        flowables.append(Paragraph(_markup(line), style))
        for note in footnotes:
            if note[:1] in line:
                flowables.append(_Footnote(note))
    return flowables


def action_file_pdf(units: list[Unit], repeat_header: bool = True) -> bytes:
    """The action file's cover note, then its actions as a bordered five-column table."""
    styles = _styles()
    cover = next(u for u in units if u.kind == "cover_note")
    story: list[Flowable] = [Paragraph(_markup(line), styles["prose"]) for line in cover.text.split("\n")]
    rows: list[list] = [[Paragraph(_markup(h), styles["head"]) for h in ACTION_HEADER]]
    spans = []
    section = ""
    for unit in (u for u in units if u.kind == "action"):
        if unit.section != section:
            section = unit.section
            spans.append(len(rows))
            rows.append([Paragraph(_markup(section), styles["title"]), "", "", "", ""])
        notes = [n for n in unit.fields["footnotes"].split("\n") if n]
        rows.append([
            Paragraph(_markup(f"{unit.number}. {unit.title}"), styles["title"]),
            Paragraph(_markup(unit.fields["lead_actors"]), styles["cell"]),
            Paragraph(_markup(unit.fields["status"]), styles["cell"]),
            _cell(unit.fields["way_ahead"].split("\n"), styles["cell"], notes),
            _cell(unit.fields["comments"].split("\n"), styles["cell"], notes),
        ])
    table = Table(rows, colWidths=[150, 90, 52, 235, 235], repeatRows=1 if repeat_header else 0, splitInRow=1)
    table.setStyle(TableStyle(
        [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
         ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]
        + [("SPAN", (0, r), (-1, r)) for r in spans]
    ))
    story += [Spacer(1, 12), table]
    return _build(story, landscape(A4), ACTION_FILE_FOOTER)


def _markdown_markup(line: str) -> str:
    """A letter line's Markdown emphasis as reportlab markup: bold kept, italics dropped."""
    escaped = _markup(line)
    escaped = re.sub(r"\*\*(.+?)\*\*", lambda m: f"<b>{m.group(1).strip('*')}</b>", escaped)
    return escaped.replace("*", "")


def letter_pdf(text_rendering: Path, units: list[Unit]) -> bytes:
    """The letter's paragraphs on its pages ("./.." breaks them), then the annex as a two-column table."""
    styles = _styles()
    text = text_rendering.read_text(encoding="utf-8")
    body = text.split("Follow-up after February Special European Council", 1)[0]
    story: list[Flowable] = []
    for line in body.split("\n"):
        if line.strip() == "./..":
            story.append(PageBreak())
        elif line.strip():
            story.append(Paragraph(_markdown_markup(line.strip()), styles["prose"]))
    annex_title = "Follow-up after February Special European Council (situation as of 23 June)"
    story += [PageBreak(), Paragraph(annex_title, styles["prose"])]
    rows: list[list] = [[Paragraph(_markup(h), styles["title"]) for h in ANNEX_HEADER]]
    for unit in (u for u in units if u.kind == "annex_item"):
        notes = [n for n in unit.fields["footnotes"].split("\n") if n]
        bullets = ["• " + line[2:] if line.startswith("- ") else line for line in unit.fields["state_of_play"].split("\n")]
        rows.append([_cell(unit.fields["letter_text"].split("\n"), styles["cell"], []),
                     _cell(bullets, styles["cell"], notes)])
    table = Table(rows, colWidths=[250, 260], repeatRows=1, splitInRow=1)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]))
    story.append(table)
    return _build(story, A4, LETTER_FOOTER)


# --- fixtures -----------------------------------------------------------------------------


def _document(documents: list[Document], doc_id: str, source_file: str) -> Document:
    return dataclasses.replace(next(d for d in documents if d.id == doc_id), source_file=source_file)


@pytest.fixture(scope="module")
def action_pdf(corpus_units, tmp_path_factory) -> tuple[Path, list[Unit], list[Unit]]:
    """(PDF path, units from the PDF, units from the text rendering) for the action file."""
    documents, units = corpus_units
    reference = [u for u in units if u.doc_id == ACTION_FILE_ID]
    path = tmp_path_factory.mktemp("pdf") / "action-file.pdf"
    path.write_bytes(action_file_pdf(reference))
    document = _document(documents, ACTION_FILE_ID, path.name)
    return path, units_for_document(document, load_lines(path)), reference


@pytest.fixture(scope="module")
def letter(corpus_units, corpus_dir, tmp_path_factory) -> tuple[Path, list[Unit], list[Unit]]:
    documents, units = corpus_units
    reference = [u for u in units if u.doc_id == LETTER_ID]
    text_rendering = corpus_dir / next(d for d in documents if d.id == LETTER_ID).source_file
    path = tmp_path_factory.mktemp("pdf") / "letter.pdf"
    path.write_bytes(letter_pdf(text_rendering, reference))
    document = _document(documents, LETTER_ID, path.name)
    return path, units_for_document(document, load_lines(path)), reference


def _words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def _coverage(reference: str, candidate: str) -> float:
    """Share of the reference's word tokens (with repeats) found in the candidate."""
    wanted, got = _words(reference), _words(candidate)
    total = sum(wanted.values())
    return 1.0 if total == 0 else sum(min(n, got[w]) for w, n in wanted.items()) / total


def _norm(text: str) -> str:
    return " ".join(text.split())


# --- the action file ------------------------------------------------------------------------


def _progress(unit: Unit) -> str:
    """What an action says about its progress: the Way ahead and Comments cells."""
    return unit.fields["way_ahead"] + "\n" + unit.fields["comments"]


def test_action_file_pdf_spans_many_pages(action_pdf):
    path, _, _ = action_pdf
    assert len(PdfReader(path).pages) >= 10


def test_action_file_pdf_yields_the_24_actions_with_their_titles_and_statuses(action_pdf):
    _, units, reference = action_pdf
    actions = [u for u in units if u.kind == "action"]
    assert [u.number for u in actions] == list(range(1, 24)) + [29]
    for got, want in zip(actions, (u for u in reference if u.kind == "action")):
        assert _norm(got.title) == _norm(want.title), want.locator
        assert got.fields["status"] == want.fields["status"], want.locator
        assert _norm(got.fields["lead_actors"]) == _norm(want.fields["lead_actors"]), want.locator
        assert got.section == want.section, want.locator


def test_action_file_pdf_keeps_the_words_of_each_action(action_pdf):
    _, units, reference = action_pdf
    got = {u.locator: u for u in units if u.kind == "action"}
    for want in (u for u in reference if u.kind == "action"):
        share = _coverage(_progress(want), _progress(got[want.locator]))
        assert share >= 0.95, f"{want.locator}: {share:.1%} of its words"


def test_action_file_pdf_keeps_list_items_as_items(action_pdf):
    _, units, reference = action_pdf
    got = {u.locator: u for u in units if u.kind == "action"}

    def items(unit: Unit) -> int:
        return sum(line.startswith("- ") for line in _progress(unit).split("\n"))

    expected = [w for w in reference if w.kind == "action"]
    assert [items(got[w.locator]) for w in expected] == [items(w) for w in expected]


def test_action_file_pdf_has_real_page_numbers_and_rows_over_page_breaks(action_pdf):
    path, units, _ = action_pdf
    page_count = len(PdfReader(path).pages)
    actions = [u for u in units if u.kind == "action"]
    assert all(1 <= u.page_start <= u.page_end <= page_count for u in units)
    assert any(u.page_end == u.page_start + 1 for u in actions)
    assert [u.page_start for u in actions] == sorted(u.page_start for u in actions)


def test_action_file_pdf_attaches_the_footnote_and_drops_the_running_footer(action_pdf):
    path, units, _ = action_pdf
    action_8 = next(u for u in units if u.locator == "Action 8")
    assert "¹" in action_8.fields["comments"]
    assert "Resettlement pledges submitted by Member States" in action_8.fields["footnotes"]
    assert not any("JAI.1" in line.text for line in load_lines(path))


def test_action_file_pdf_renders_rows_like_the_text_rendering(action_pdf):
    path, _, _ = action_pdf
    lines = load_lines(path)
    headers = [line for line in lines if line.text == "\t".join(ACTION_HEADER)]
    table_pages = {line.page for line in headers}
    assert table_pages == set(range(min(table_pages), len(PdfReader(path).pages) + 1))
    rows = [line for line in lines if "\t" in line.text and line not in headers]
    assert all(line.text.count("\t") == 4 for line in rows)
    assert any(line.text.startswith("<p>1. Strengthen comprehensive engagement") for line in rows)


def test_table_whose_header_is_not_repeated_goes_on_over_the_pages(corpus_units, tmp_path):
    documents, units = corpus_units
    reference = [u for u in units if u.doc_id == ACTION_FILE_ID and (u.kind == "cover_note" or (u.number or 99) <= 9)]
    path = tmp_path / "no-repeated-header.pdf"
    path.write_bytes(action_file_pdf(reference, repeat_header=False))
    got = units_for_document(_document(documents, ACTION_FILE_ID, path.name), load_lines(path))
    actions = [u for u in got if u.kind == "action"]
    assert [u.number for u in actions] == list(range(1, 10))
    assert any(u.page_end > u.page_start for u in actions)
    for g, w in zip(actions, (u for u in reference if u.kind == "action")):
        assert _norm(g.title) == _norm(w.title), w.locator
        assert _coverage(_progress(w), _progress(g)) >= 0.95, w.locator


def _line_by_line_table() -> bytes:
    """Two pages drawn a line at a time, as word processors do: every piece at its own place.

    No borders, left-aligned header cells (one wrapped), a bold run and a raised footnote
    mark inside a cell, a footnote and a running footer at the page bottom.
    """
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=landscape(A4))
    for page in (1, 2):
        canvas.setFont("Helvetica-Bold", 9)
        for x, cell in zip((40, 200, 300, 360, 600), ("Action", "Lead actor(s)", "Status", "Way ahead incl.", "Comments")):
            canvas.drawString(x, 540, cell)
        canvas.drawString(360, 529, "timeline")
        canvas.setFont("Helvetica", 9)
        if page == 1:
            for x, text in ((40, "1. Do a thing"), (200, "Commission"), (300, "Ongoing"), (360, "- First item that")):
                canvas.drawString(x, 510, text)
            canvas.drawString(360, 499, "wraps here.")
            canvas.drawString(600, 510, "Comment with ")
            x = 600 + canvas.stringWidth("Comment with ", "Helvetica", 9)
            canvas.setFont("Helvetica-Bold", 9)
            canvas.drawString(x, 510, "bold words")
            x += canvas.stringWidth("bold words", "Helvetica-Bold", 9)
            canvas.setFont("Helvetica", 6)
            canvas.drawString(x, 513, "1")
            canvas.setFont("Helvetica", 9)
            canvas.drawString(x + 4, 510, " & more.")
            canvas.drawString(40, 470, "2. Another action")
            canvas.drawString(360, 470, "A sentence that")
            canvas.drawString(360, 459, "continues")
            canvas.setFont("Helvetica", 5)
            canvas.drawString(40, 60, "1")
            canvas.setFont("Helvetica", 7)
            canvas.drawString(44, 57, "Footnote text.")
        else:
            canvas.drawString(360, 510, "on the next page.")
            canvas.drawString(40, 490, "3. Third")
        canvas.setFont("Helvetica", 7)
        canvas.drawString(40, 20, "WK 1/2024 LIMITE")
        canvas.drawString(780, 20, str(page))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_cells_drawn_line_by_line_are_put_back_together(tmp_path):
    path = tmp_path / "line-by-line.pdf"
    path.write_bytes(_line_by_line_table())
    header = "\t".join(ACTION_HEADER)
    assert [(line.page, line.text) for line in load_lines(path)] == [
        (1, header),
        (1, "<p>1. Do a thing</p>\t<p>Commission</p>\t<p>Ongoing</p>\t<ul><li>- First item that wraps here.</li></ul>"
            "\t<p>Comment with bold words¹ &amp; more.</p>"),
        (1, "<p>2. Another action</p>\t\t\t<p>A sentence that continues</p>\t"),
        (1, "¹ Footnote text."),
        (2, header),
        (2, "\t\t\t<p>on the next page.</p>\t"),
        (2, "<p>3. Third</p>\t\t\t\t"),
    ]


def test_table_drawn_as_one_run_of_text_is_refused(tmp_path):
    """Cells drawn inside one text object come out of pypdf joined; guessing columns would garble them."""
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=landscape(A4))
    text = canvas.beginText(40, 500)
    for cell in ACTION_HEADER:
        text.textOut(cell)
        text.moveCursor(140, 0)
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    path = tmp_path / "one-run.pdf"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(AssistantError) as caught:
        load_lines(path)
    assert "page 1" in str(caught.value)
    _one_sentence_naming(caught.value, path)


# --- the letter -------------------------------------------------------------------------------


def test_letter_pdf_yields_its_sections_with_their_titles(letter):
    _, units, reference = letter
    got = [u for u in units if u.kind == "letter_section"]
    want = [u for u in reference if u.kind == "letter_section"]
    assert [_norm(u.title) for u in got] == [_norm(u.title) for u in want]
    for g, w in zip(got, want):
        assert _coverage(w.text, g.text) >= 0.98, w.locator


def test_letter_pdf_yields_the_numbered_annex_items(letter):
    path, units, reference = letter
    got = [u for u in units if u.kind == "annex_item"]
    want = [u for u in reference if u.kind == "annex_item"]
    assert [u.number for u in got] == list(range(1, 16))
    page_count = len(PdfReader(path).pages)
    for g, w in zip(got, want):
        assert _norm(g.title) == _norm(w.title), w.locator
        assert g.section == w.section, w.locator
        assert _coverage(w.fields["state_of_play"], g.fields["state_of_play"]) >= 0.95, w.locator
        assert 1 <= g.page_start <= g.page_end <= page_count
    item_9 = next(u for u in got if u.number == 9)
    assert "911 from Italy" in item_9.fields["footnotes"]


# --- bad input ----------------------------------------------------------------------------------


def _one_sentence_naming(error: AssistantError, path: Path) -> None:
    message = str(error)
    assert path.name in message
    rest = message.replace(path.name, "FILE")
    assert rest.endswith(".") and "\n" not in rest and ". " not in rest[:-1], message


def _simple_pdf(text: str = "Some text on a page.") -> bytes:
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _encrypted(user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_simple_pdf())))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _image_only() -> bytes:
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4)
    canvas.setFillColor(colors.grey)
    canvas.rect(72, 400, 300, 300, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.pdf", lambda: b"", "empty"),
        ("truncated.pdf", lambda: _simple_pdf()[: len(_simple_pdf()) * 2 // 3], "incomplete"),
        ("garbled.pdf", lambda: b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n", "could not be read"),
        ("notes.pdf", lambda: b"These are plain notes, not a PDF.\n", "not a PDF"),
        ("locked.pdf", lambda: _encrypted("secret", "owner"), "encrypted; remove the password"),
        ("scan.pdf", _image_only, "has no text layer; it needs OCR"),
    ],
)
def test_bad_pdf_is_refused_in_one_sentence(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(AssistantError) as caught:
        load_lines(path)
    assert says in str(caught.value)
    _one_sentence_naming(caught.value, path)


def test_pdf_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(AssistantError) as caught:
        load_lines(path)
    assert "limit" in str(caught.value)
    _one_sentence_naming(caught.value, path)


def test_pdf_with_only_an_owner_password_opens(tmp_path):
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_encrypted("", "owner"))
    assert [line.text for line in load_lines(path) if line.text] == ["Some text on a page."]
