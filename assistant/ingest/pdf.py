"""PDF loader: rebuild a Council-style PDF as SourceLines in the text-rendering format.

Why geometry rather than `page.extract_text()`: plain extraction reads a table line by
line across all its columns, so the five cells of an action row come out interleaved.
The loader instead asks pypdf for every text fragment with its position (the visitor
callbacks; pypdf does all PDF parsing), finds the repeated header row on each page to
learn where the columns are, and writes one tab-separated line per table row piece, as
corpus/*.txt does. Rows continued over a page break stay separate pieces on their own
pages; the chunker merges them, as it does for text renderings. Text outside tables
becomes prose paragraphs with blank lines between them, bold runs marked `**...**` so
that letter sections keep their titles.

Work limits: a small PDF can hold pages full of drawing operators that stay under pypdf's
own limits and still took minutes and gigabytes (85 KB, 10 pages: 147 s, 2.5 GB). Each
content stream gets a parsing budget (pypdf's `stream_parsing_work_maximum_count`, set
here far below its default), the whole document an operator budget counted as pypdf visits
them (form XObjects included) and a time limit, and a page keeps at most MAX_PAGE_RULES
table borders. A PDF past a limit is refused in one sentence saying which page and why.

What it relies on (see the README for the user-facing list of limits): the table's
header row has one of the known texts (TABLE_HEADERS); a new row starts with "N. " or
a roman-numeral heading in the first column; paragraphs are set apart by a gap larger
than the line spacing; footnote marks are smaller digits or ¹-style characters.
"""

from __future__ import annotations

import html
import io
import logging
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, Iterator

from pypdf import PdfReader, apply_configuration
from pypdf.errors import DependencyError, LimitReachedError

from assistant.errors import AssistantError
from assistant.ingest.files import read_bytes
from assistant.ingest.hints import Hints
from assistant.ingest.tables import CONTINUATION_MARK, ROW_START, SECTION_HEADING
from assistant.records import SourceLine

# The header rows the chunker knows, cell by cell; each page of a table repeats one.
TABLE_HEADERS: tuple[tuple[str, ...], ...] = (
    ("Action", "Lead actor(s)", "Status", "Way ahead incl. timeline", "Comments"),
    ("President's letter/EUCO conclusions", "State of Play"),
)
_BULLET = re.compile(r"^(?:[-–•▪●◦\uf0b7\uf0a7](?:\s+|$)|[•▪●◦\uf0b7\uf0a7])")
_SMALL_NUMBER = re.compile(r"\s*\d{1,3}(?:,\d{1,3})*\s*")
_SUPERSCRIPT = str.maketrans("0123456789,", "⁰¹²³⁴⁵⁶⁷⁸⁹,")
_SUPERSCRIPT_START = re.compile(r"^[⁰¹²³⁴⁵⁶⁷⁸⁹]")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–]?\s*\d+\s*(?:(?:/|of)\s*\d+)?\s*[-–]?$", re.IGNORECASE)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_BAND = 0.08  # share of the page height at top and bottom where running headers/footers sit

# Work limits (measured on a 2-core Xeon: pypdf parses about 40,000 drawing operators a second).
MAX_STREAM_WORK = 500_000  # pypdf's parsing budget per content stream (operands and operators): about 3 s
MAX_DOCUMENT_OPERATORS = 1_000_000  # operators visited in the whole document; a 300-page report uses about 450,000
MAX_PAGE_RULES = 2_000  # table borders kept per page; a table page draws a few hundred
PARSE_DEADLINE_S = 60.0  # a catch-all for any other slowness
_TOO_MUCH = ("it is mostly drawing rather than text; save it again without the drawings (or as text) and add it "
             "again")


class _Budget:
    """What is left of the document's work limits while its pages are read."""

    def __init__(self, operators: int | None = None, seconds: float | None = None) -> None:
        import time

        operators = MAX_DOCUMENT_OPERATORS if operators is None else operators
        seconds = PARSE_DEADLINE_S if seconds is None else seconds
        self.operators = operators
        self.limit = operators
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def spend(self, path: Path, page: int) -> None:
        self.operators -= 1
        if self.operators < 0:
            raise AssistantError(f"{path.name} holds more than {self.limit:,} drawing operations (the limit was passed "
                                 f"on page {page}); {_TOO_MUCH}.")
        if self.operators % 10_000 == 0:
            self.check_time(path, page)

    def check_time(self, path: Path, page: int) -> None:
        import time

        if time.monotonic() > self.deadline:
            raise AssistantError(f"{path.name} took more than {self.seconds:.0f} s to read (stopped on page {page}); "
                                 f"{_TOO_MUCH}.")


@dataclass(frozen=True)
class _Fragment:
    """A piece of text pypdf reports, at its baseline start in page coordinates."""

    x: float
    y: float
    text: str
    size: float
    bold: bool
    order: int  # drawing order on the page: the reading order within a line


@dataclass(frozen=True)
class _Rule:
    """A drawn table border: horizontal at y=`at` from low to high x, or vertical at x=`at`."""

    horizontal: bool
    at: float
    low: float
    high: float


@dataclass
class _Line:
    """Fragments sharing a baseline, in reading order."""

    y: float
    fragments: list[_Fragment]

    @property
    def x(self) -> float:
        return self.fragments[0].x


@dataclass
class _Header:
    """A table header row found on a page: it tells where the table's columns are."""

    cells: tuple[str, ...]
    fragments: list[_Fragment]  # the first fragment of each header cell; none when carried over
    bounds: list[float]  # left edge of every column but the first
    top: float  # the highest baseline of the header row


@dataclass
class _Page:
    """What pypdf reported for one page, gathered before any page is laid out.

    Running headers and footers are only known once all pages have been seen.
    """

    number: int
    bottom: float
    top: float
    body_size: float
    fragments: list[_Fragment]
    rules: list[_Rule]
    headers: list[_Header] = field(default_factory=list)


def load_pdf_lines(path: Path) -> list[SourceLine]:
    """SourceLines of a PDF, with the PDF's own 1-based page numbers."""
    return load_pdf(path)[0]


def load_pdf(path: Path) -> tuple[list[SourceLine], Hints]:
    """SourceLines of a PDF and the hints of its document information (title, author, a Source URL)."""
    data = read_bytes(path)
    _check_envelope(path, data)
    budget = _Budget()
    with _quiet_pypdf(), apply_configuration(stream_parsing_work_maximum_count=MAX_STREAM_WORK):  # this thread only
        reader = _open(path, data)
        pages = []
        for index in range(len(reader.pages)):
            budget.check_time(path, index + 1)
            pages.append(_read_page(path, reader, index, budget))
        hints = _info_hints(reader)
    if not any(page.fragments for page in pages):
        raise AssistantError(f"{path.name} has no text layer; it needs OCR before it can be added.")
    for page in pages:
        page.headers = _find_headers(page)
        if not page.headers and _has_unsplit_header(page):
            raise AssistantError(
                f"{path.name}: the table on page {page.number} is drawn in a way whose columns cannot be told apart; "
                "save the PDF again from the original document or add its text rendering instead."
            )
    furniture = _furniture(pages)
    lines: list[SourceLine] = []
    table: _Header | None = None  # the table the previous page ended in
    for page in pages:
        fragments = _without_furniture(page, furniture)
        if not page.headers and table is not None:
            page.headers = _continued_table(table, fragments, page)
        for text in _render_page(page, fragments):
            lines.append(SourceLine(text, page.number, len(lines) + 1))
        table = page.headers[-1] if page.headers else None
    return lines, hints


_SOURCE_URL = re.compile(r"\bSource:\s*(https?://\S+)", re.IGNORECASE)
_GENERIC_TITLE = re.compile(r"^(?:untitled|document\d*|microsoft word\b.*|.*\.(?:docx?|pdf|odt))$", re.IGNORECASE)


def _info_hints(reader: PdfReader) -> Hints:
    """The document information dictionary, where it says something: a real title, the author, a Source URL."""
    try:
        info = reader.metadata or {}
        title, author, subject = (str(info.get(key) or "").strip() for key in ("/Title", "/Author", "/Subject"))
    except Exception:  # a damaged information dictionary is no reason to refuse the file
        return Hints()
    source = _SOURCE_URL.search(subject)
    return Hints(title="" if _GENERIC_TITLE.match(title) else title, issuer=author,
                 source_url=source.group(1) if source else "")


# --- opening the file -----------------------------------------------------------------


def _check_envelope(path: Path, data: bytes) -> None:
    """Reject what is plainly not a whole PDF before pypdf tries to repair it."""
    if b"%PDF-" not in data[:1024]:
        raise AssistantError(f"{path.name} is not a PDF file (it lacks the PDF header); check the file and add it again.")
    if b"%%EOF" not in data[-2048:]:
        raise AssistantError(
            f"{path.name} is incomplete (the end of the PDF is missing); download or export it again and add it again."
        )


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs warnings about files it can repair; the user gets our one sentence instead."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _open(path: Path, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        # A file with only an owner password (printing or copying restricted) opens with "".
        if reader.is_encrypted and not reader.decrypt(""):
            raise AssistantError(f"{path.name} is encrypted; remove the password and add it again.")
        if len(reader.pages) == 0:
            raise AssistantError(f"{path.name} has no pages; check the file and add it again.")
        return reader
    except AssistantError:
        raise
    except DependencyError:
        raise AssistantError(
            f"{path.name} is encrypted with AES, which needs the cryptography package; install it and add the file again."
        ) from None
    except Exception as error:  # pypdf raises many kinds of error on damaged files
        raise AssistantError(
            f"{path.name} could not be read as a PDF ({type(error).__name__}); it may be damaged, so export it again and add it again."
        ) from None


# --- fragments and rules from pypdf -----------------------------------------------------


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def _is_bold(font: Any) -> bool:
    try:
        return bool(_BOLD_FONT.search(str(font.get("/BaseFont", "")))) if font is not None else False
    except Exception:  # an unusual font dictionary is not worth failing the file for
        return False


def _read_page(path: Path, reader: PdfReader, index: int, budget: _Budget | None = None) -> _Page:
    fragments: list[_Fragment] = []
    rules: list[_Rule] = []
    pen: list[float] = [0.0, 0.0]

    def on_text(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip():
            return
        m = _multiply([float(v) for v in tm], [float(v) for v in cm])
        scale = (m[2] ** 2 + m[3] ** 2) ** 0.5
        if abs(m[1]) > 0.01 * scale or abs(m[2]) > 0.01 * scale or m[0] <= 0:
            return  # rotated or mirrored text: watermarks and margin notes, not the document body
        real_size = float(size) * scale
        bold = _is_bold(font)
        for step, piece in enumerate(p for p in text.split("\n") if p.strip()):
            fragments.append(_Fragment(m[4], m[5] - step * 1.2 * real_size, piece, real_size, bold, len(fragments)))

    def on_operator(operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if budget is not None:
            budget.spend(path, index + 1)
        if operator not in (b"re", b"m", b"l") or len(rules) >= MAX_PAGE_RULES:
            return
        try:
            numbers = [float(v) for v in operands]
            matrix = [float(v) for v in cm]
        except (TypeError, ValueError):
            return
        if operator == b"re" and len(numbers) == 4:
            x, y, w, h = numbers
            corners = [_apply(matrix, x, y), _apply(matrix, x + w, y + h)]
            rules.extend(_rect_rules(corners))
        elif operator == b"m" and len(numbers) == 2:
            pen[:] = _apply(matrix, *numbers)
        elif operator == b"l" and len(numbers) == 2:
            end = _apply(matrix, *numbers)
            rules.extend(_segment_rules(pen, end))
            pen[:] = end

    try:
        page = reader.pages[index]
        page.extract_text(visitor_text=on_text, visitor_operand_before=on_operator)
        box = page.mediabox
        bottom, top = float(box.bottom), float(box.top)
    except AssistantError:
        raise
    except LimitReachedError:
        raise AssistantError(f"{path.name}: page {index + 1} holds more drawing instructions than a page may have here; "
                             f"{_TOO_MUCH}.") from None
    except Exception as error:
        raise AssistantError(
            f"{path.name}: page {index + 1} could not be read ({type(error).__name__}); the PDF may be damaged, so export it again."
        ) from None
    return _Page(index + 1, bottom, top, _body_size(fragments), fragments, rules)


def _apply(matrix: list[float], x: float, y: float) -> list[float]:
    return [x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3] + matrix[5]]


def _segment_rules(start: list[float], end: list[float]) -> list[_Rule]:
    (x1, y1), (x2, y2) = start, end
    if abs(y1 - y2) < 1 and abs(x1 - x2) > 4:
        return [_Rule(True, (y1 + y2) / 2, min(x1, x2), max(x1, x2))]
    if abs(x1 - x2) < 1 and abs(y1 - y2) > 4:
        return [_Rule(False, (x1 + x2) / 2, min(y1, y2), max(y1, y2))]
    return []


def _rect_rules(corners: list[list[float]]) -> list[_Rule]:
    """Thin rectangles are borders; a larger one (cell shading) has borders at its edges."""
    (xa, ya), (xb, yb) = corners
    left, right, low, high = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
    width, height = right - left, high - low
    if width < 3 and height > 4:
        return [_Rule(False, (left + right) / 2, low, high)]
    if height < 3 and width > 4:
        return [_Rule(True, (low + high) / 2, left, right)]
    if width >= 3 and height >= 3:
        return [_Rule(True, low, left, right), _Rule(True, high, left, right),
                _Rule(False, left, low, high), _Rule(False, right, low, high)]
    return []


def _body_size(fragments: list[_Fragment]) -> float:
    """The font size most of the page's characters are set in."""
    weights: Counter[float] = Counter()
    for fragment in fragments:
        weights[round(fragment.size, 1)] += len(fragment.text.strip())
    return weights.most_common(1)[0][0] if weights else 10.0


# --- lines and their text ----------------------------------------------------------------


def _group_lines(fragments: list[_Fragment], tolerance: float) -> list[_Line]:
    """Fragments whose baselines lie within `tolerance` form one line; lines run top down."""
    lines: list[_Line] = []
    for fragment in sorted(fragments, key=lambda f: (-f.y, f.order)):
        if lines and lines[-1].y - fragment.y <= tolerance:
            lines[-1].fragments.append(fragment)
        else:
            lines.append(_Line(fragment.y, [fragment]))
    for line in lines:
        line.fragments.sort(key=lambda f: (round(f.x, 1), f.order))
        line.y = max(line.fragments, key=lambda f: f.size).y  # the baseline of the main text, not of a raised mark
    return lines


def _is_small_number(fragment: _Fragment, body_size: float) -> bool:
    return fragment.size < 0.85 * body_size and bool(_SMALL_NUMBER.fullmatch(fragment.text))


def _runs(line: _Line, body_size: float) -> list[tuple[str, bool]]:
    """(text, bold) pieces of a line; small raised numbers become superscript marks (¹)."""
    has_body_text = any(not _is_small_number(f, body_size) for f in line.fragments)
    runs: list[tuple[str, bool]] = []
    previous: _Fragment | None = None
    for fragment in line.fragments:
        text = fragment.text
        apart = previous is not None and _apart(previous, fragment)
        if has_body_text and _is_small_number(fragment, body_size) and not apart:
            text = text.strip().translate(_SUPERSCRIPT)  # a mark sits against its word; a page number does not
        elif apart:
            text = " " + text
        runs.append((text, fragment.bold))
        previous = fragment
    return runs


def _apart(left: _Fragment, right: _Fragment) -> bool:
    """Whether two fragments drawn separately have a word gap between them.

    pypdf adds the spaces inside a fragment; between separately placed fragments the
    gap is judged from an estimate of the left one's width (0.6 em a character), on
    the generous side so that a word is not split.
    """
    if left.text[-1:].isspace() or right.text[:1].isspace() or right.x <= left.x:
        return False
    return right.x - (left.x + 0.6 * left.size * len(left.text)) > 0.3 * right.size


def _plain(line: _Line, body_size: float) -> str:
    return _SPACES.sub(" ", "".join(text for text, _ in _runs(line, body_size))).strip()


def _hyphenated(text: str) -> bool:
    """A line ending in a word and a hyphen ("EU-") wraps inside a compound: no space goes there."""
    return text.endswith("-") and text[-2:-1].isalnum()


def _join(left: str, right: str) -> str:
    """Join wrapped lines with a space, or none after a hyphenated word."""
    return left + right if _hyphenated(left) else left + " " + right


def _leading(groups: list[list[_Line]], size: float) -> float:
    """The usual distance between wrapped lines of one paragraph on this page."""
    gaps: Counter[float] = Counter()
    for lines in groups:
        for upper, lower in zip(lines, lines[1:]):
            gap = upper.y - lower.y
            if 0.9 * size <= gap <= 1.8 * size:
                gaps[round(gap * 2) / 2] += 1
    return gaps.most_common(1)[0][0] if gaps else 1.2 * size


def _new_paragraph(gap: float, leading: float, size: float) -> bool:
    return gap > leading + max(1.0, 0.2 * size)


# --- page furniture ---------------------------------------------------------------------


def _furniture_key(text: str) -> str:
    """The same footer on every page, whatever its page number."""
    return re.sub(r"[\d⁰¹²³⁴⁵⁶⁷⁸⁹]+|\s+", lambda m: "" if m.group(0).isspace() else "#", text).lower()


def _in_edge_band(page: _Page, y: float) -> bool:
    band = _EDGE_BAND * (page.top - page.bottom)
    return y > page.top - band or y < page.bottom + band


def _edge_lines(page: _Page) -> list[_Line]:
    header = {f for h in page.headers for f in h.fragments}
    fragments = [f for f in page.fragments if f not in header and _in_edge_band(page, f.y)]
    return _group_lines(fragments, 0.45 * page.body_size)


def _furniture(pages: list[_Page]) -> set[str]:
    """Running headers and footers: edge lines repeated on at least half the pages (and two)."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_furniture_key(_plain(line, page.body_size)) for line in _edge_lines(page)})
    return {key for key, count in counts.items() if count >= max(2, len(pages) / 2)}


def _without_furniture(page: _Page, furniture: set[str]) -> list[_Fragment]:
    dropped: set[_Fragment] = set()
    for line in _group_lines(page.fragments, 0.45 * page.body_size):
        text = _plain(line, page.body_size)
        if CONTINUATION_MARK.match(text):
            dropped.update(line.fragments)
    for line in _edge_lines(page):
        text = _plain(line, page.body_size)
        if _furniture_key(text) in furniture or _PAGE_NUMBER.match(text):
            dropped.update(line.fragments)
    return [f for f in page.fragments if f not in dropped]


# --- the table header -------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def _starts_cell(fragment: _Fragment, cell: list[str]) -> bool:
    tokens = _tokens(fragment.text)
    return bool(tokens) and tokens == cell[: len(tokens)]


def _find_headers(page: _Page) -> list[_Header]:
    """The known header rows on the page, top down, with the columns' left edges.

    Usually one per page; a table split twice on one page repeats it mid-page.
    """
    headers: list[_Header] = []
    for cells in TABLE_HEADERS:
        keys = [_tokens(cell) for cell in cells]
        for anchor in sorted(page.fragments, key=lambda f: (-f.y, f.x)):
            if not _starts_cell(anchor, keys[0]) or any(abs(h.top - anchor.y) < 3 * anchor.size for h in headers):
                continue
            found = [anchor]
            for key in keys[1:]:
                candidates = [f for f in page.fragments if f.x > found[-1].x + 1
                              and abs(f.y - anchor.y) <= 2.5 * anchor.size and _starts_cell(f, key)]
                if not candidates:
                    break
                found.append(min(candidates, key=lambda f: (f.x, -f.y)))
            else:
                headers.append(_Header(cells, found, _column_bounds(found, page.rules), max(f.y for f in found)))
        if headers:
            break
    return sorted(headers, key=lambda h: -h.top)


def _continued_table(table: _Header, fragments: list[_Fragment], page: _Page) -> list[_Header]:
    """The previous page's table, when this page goes on with it without repeating its header.

    The page's first lines tell: text in two columns at once, or lines all starting at
    the same left edge inside a column other than the first (a long cell running on).
    """
    lines = _group_lines(fragments, 0.45 * page.body_size)[:3]
    if not lines:
        return []
    columns = {_column_of(f.x, table.bounds) for line in lines for f in line.fragments}
    starts = [line.x for line in lines]
    same_edge = len(lines) >= 2 and max(starts) - min(starts) < 1 and _column_of(starts[0], table.bounds) > 0
    if len(columns) < 2 and not same_edge:
        return []
    return [_Header(table.cells, [], table.bounds, max(f.y for f in fragments) + page.body_size)]


def _has_unsplit_header(page: _Page) -> bool:
    """A header row whose cells came out as one run of text: the PDF draws the row as one piece."""
    lines = [" ".join(_tokens(_plain(line, page.body_size)))
             for line in _group_lines(page.fragments, 0.45 * page.body_size)]
    return any(" ".join(_tokens(" ".join(cells))) in line for cells in TABLE_HEADERS for line in lines)


def _column_bounds(found: list[_Fragment], rules: list[_Rule]) -> list[float]:
    """A column starts at the border drawn left of its header text, else just left of that text.

    Borders matter when header cells are centred: body text then starts left of the header.
    """
    bounds = []
    for previous, current in zip(found, found[1:]):
        borders = [r.at for r in rules if not r.horizontal and previous.x + 2 < r.at <= current.x + 1
                   and r.low - 2 <= current.y <= r.high + 2]
        bounds.append(max(borders) if borders else current.x - 1)
    return bounds


# --- rendering a page -------------------------------------------------------------------


def _render_page(page: _Page, fragments: list[_Fragment]) -> list[str]:
    if not page.headers:
        return _prose(fragments, page)
    first = page.headers[0]
    lines = _prose([f for f in fragments if f.y > first.top + 0.8 * f.size], page)
    if lines:
        lines.append("")
    ceilings = [h.top + 0.8 * page.body_size for h in page.headers]
    for header, ceiling, floor in zip(page.headers, ceilings, ceilings[1:] + [float("-inf")]):
        lines.append("\t".join(header.cells))
        lines.extend(_table_rows([f for f in fragments if floor < f.y <= ceiling], header, page))
    return lines


def _prose(fragments: list[_Fragment], page: _Page) -> list[str]:
    """Paragraphs as lines with a blank line between; bold runs kept as **...**.

    A paragraph ends at a gap larger than the line spacing, before a bullet or a footnote
    mark, where the type changes (a larger size, or a wholly bold line beside a plain one: a
    heading), and after a line that stops well short of the text's right edge. A line whose
    pieces stand columns apart (a table without a known header, a table of contents) is a
    row of tab-separated cells.
    """
    lines = _group_lines(fragments, 0.45 * page.body_size)
    leading = _leading([lines], page.body_size)
    right = max((_right_edge(line) for line in lines), default=0.0)
    left = min((line.x for line in lines), default=0.0)
    paragraphs: list[list[tuple[str, bool]] | str] = []
    sizes: list[float] = []
    previous: _Line | None = None
    for line in lines:
        runs = _runs(line, page.body_size)
        text = "".join(t for t, _ in runs).strip()
        if not text:
            continue
        cells = _cells(line, page.body_size)
        if cells is not None:
            paragraphs.append("\t".join(html.escape(cell, quote=False) for cell in cells))
            sizes.append(_line_size(line))
            previous = None
            continue
        starts_block = bool(_BULLET.match(text) or _SUPERSCRIPT_START.match(text))
        if (previous is None or starts_block or _new_paragraph(previous.y - line.y, leading, page.body_size)
                or _type_changes(previous, line, page.body_size) or _stops_short(previous, left, right)):
            paragraphs.append(runs)
            sizes.append(_line_size(line))
        else:
            last = paragraphs[-1]
            assert not isinstance(last, str)
            if not _hyphenated(last[-1][0].rstrip()):
                last.append((" ", last[-1][1] and runs[0][1]))  # a wrap inside a bold run stays bold
            last.extend(runs)
        previous = line
    result: list[str] = []
    for paragraph, size in zip(paragraphs, sizes):
        if result:
            result.append("")
        result.append(paragraph if isinstance(paragraph, str) else _heading_or_markdown(paragraph, size, page.body_size))
    return result


def _heading_or_markdown(runs: list[tuple[str, bool]], size: float, body_size: float) -> str:
    """A wholly bold paragraph set larger than the body is a heading: '#' (much larger) or '##'."""
    if size >= 1.15 * body_size and all(bold for text, bold in runs if text.strip()):
        text = html.escape(_SPACES.sub(" ", "".join(t for t, _ in runs)).strip(), quote=False)
        return ("# " if size >= 1.6 * body_size else "## ") + text
    return _markdown(runs)


def _line_size(line: _Line) -> float:
    return max(f.size for f in line.fragments)


def _wholly_bold(line: _Line) -> bool:
    return all(f.bold for f in line.fragments if f.text.strip())


def _type_changes(upper: _Line, lower: _Line, body_size: float) -> bool:
    """A heading: the size changes, or a wholly bold line meets a line that is not (at body size or above)."""
    a, b = _line_size(upper), _line_size(lower)
    if max(a, b) > 1.15 * min(a, b) and max(a, b) > 0.9 * body_size:
        return True
    return _wholly_bold(upper) != _wholly_bold(lower)


def _right_edge(line: _Line) -> float:
    """Where the line's text ends, estimated from its length (pieces of one line may report one x)."""
    text = " ".join(f.text.strip() for f in line.fragments)
    return line.x + 0.5 * _line_size(line) * len(text)


def _stops_short(line: _Line, left: float, right: float) -> bool:
    """A line ending well before the right edge of the text ends its paragraph (a dateline, a short label)."""
    return right - left > 0 and _right_edge(line) < left + 0.7 * (right - left)


def _cells(line: _Line, body_size: float) -> list[str] | None:
    """The cells of a line whose pieces stand several characters apart, or None for running text."""
    if len(line.fragments) < 2:
        return None
    cells: list[list[_Fragment]] = [[line.fragments[0]]]
    for left, right in zip(line.fragments, line.fragments[1:]):
        gap = right.x - (left.x + 0.5 * left.size * len(left.text.rstrip()))
        if gap > 3 * body_size:
            cells.append([right])
        else:
            cells[-1].append(right)
    if len(cells) < 2:
        return None
    return [_SPACES.sub(" ", " ".join(f.text for f in cell)).strip() for cell in cells]


def _markdown(runs: list[tuple[str, bool]]) -> str:
    """Escaped text with bold runs as **...**, spaces kept outside the marks."""
    parts = []
    for bold, group in groupby(runs, key=lambda run: run[1]):
        text = _SPACES.sub(" ", "".join(t for t, _ in group))
        core = text.strip()
        if bold and any(ch.isalnum() for ch in core):
            lead = " " if text.startswith(" ") else ""
            trail = " " if text.endswith(" ") else ""
            parts.append(f"{lead}**{html.escape(core, quote=False)}**{trail}")
        else:
            parts.append(html.escape(text, quote=False))
    return _SPACES.sub(" ", "".join(parts)).strip()


def _table_rows(fragments: list[_Fragment], header: _Header, page: _Page) -> list[str]:
    """One tab-separated line per row piece on the page, then the page's footnotes."""
    size = page.body_size
    columns = len(header.cells)
    by_column = _split_columns(fragments, header.bounds, columns)
    bottom = _header_bottom(by_column, header, size)
    body = [f for f in fragments if f.y < bottom - 0.3 * size]
    footnotes, body = _footnotes(body, header, page)
    column_lines = [_group_lines(column, 0.45 * size) for column in _split_columns(body, header.bounds, columns)]
    leading = _leading(column_lines, size)
    tops = _row_tops(column_lines[0], page, bottom)
    pieces: list[list[list[_Line]]] = [[[] for _ in range(columns)] for _ in range(len(tops) + 1)]
    for column, lines in enumerate(column_lines):
        for line in lines:
            pieces[sum(1 for top in tops if top >= line.y - 0.01)][column].append(line)
    rows = []
    for cells in pieces:
        if not any(cells):
            continue
        first = _plain(cells[0][0], size) if cells[0] else ""
        if SECTION_HEADING.match(first):
            heading = _group_lines([f for lines in cells for line in lines for f in line.fragments], 0.45 * size)
            texts = [html.escape(_plain(line, size), quote=False) for line in heading]
            rows.append("\t".join([" ".join(texts)] + [""] * (columns - 1)))
        else:
            rows.append("\t".join(_cell_html(lines, leading, size) for lines in cells))
    return rows + footnotes


def _column_of(x: float, bounds: list[float]) -> int:
    return sum(1 for bound in bounds if x >= bound - 0.5)


def _split_columns(fragments: list[_Fragment], bounds: list[float], columns: int) -> list[list[_Fragment]]:
    result: list[list[_Fragment]] = [[] for _ in range(columns)]
    for fragment in fragments:
        result[_column_of(fragment.x, bounds)].append(fragment)
    return result


def _header_bottom(by_column: list[list[_Fragment]], header: _Header, size: float) -> float:
    """The lowest baseline of the header row: each column's lines while they spell its header."""
    if not header.fragments:
        return header.top
    bottom = min(f.y for f in header.fragments)
    for fragments, cell in zip(by_column, header.cells):
        key = _tokens(cell)
        got: list[str] = []
        for line in _group_lines(fragments, 0.45 * size):
            if line.y > header.top + 0.8 * size:
                continue
            tokens = got + _tokens(_plain(line, size))
            if tokens != key[: len(tokens)]:
                break
            got = tokens
            bottom = min(bottom, line.y)
            if len(got) == len(key):
                break
    return bottom


def _footnotes(body: list[_Fragment], header: _Header, page: _Page) -> tuple[list[str], list[_Fragment]]:
    """Footnotes sit below the table at the left margin, each starting with its mark (¹)."""
    lines = _group_lines(body, 0.45 * page.body_size)
    start = None
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].x >= header.bounds[0]:
            break
        if _SUPERSCRIPT_START.match(_plain(lines[index], page.body_size)):
            start = index
    if start is None:
        return [], body
    notes: list[str] = []
    for line in lines[start:]:
        text = _plain(line, page.body_size)
        if _SUPERSCRIPT_START.match(text) or not notes:
            notes.append(text)
        else:
            notes[-1] = _join(notes[-1], text)
    taken = {f for line in lines[start:] for f in line.fragments}
    return [html.escape(note, quote=False) for note in notes], [f for f in body if f not in taken]


def _row_tops(first_column: list[_Line], page: _Page, header_bottom: float) -> list[float]:
    """Top edge of each row that starts on the page: a numbered action or a section heading.

    The top is the border drawn above the row's first line when there is one (cells may be
    vertically centred, so other cells can start above the number), else just above it.
    """
    size = page.body_size
    tops = []
    above = header_bottom - 1.2 * size  # the border under the header row is no row's top
    for line in first_column:
        if ROW_START.match(_plain(line, size)):
            borders = [r.at for r in page.rules if r.horizontal and r.low - 1 <= line.x + 1 <= r.high
                       and line.y + 0.3 * size < r.at < above - 0.2 * size]
            tops.append(min(borders) if borders else line.y + 0.8 * size)
        above = line.y
    return tops


def _cell_html(lines: list[_Line], leading: float, size: float) -> str:
    """Cell text as the renderings have it: list items in <ul><li>, other paragraphs in <p>."""
    blocks: list[list[Any]] = []  # [is_item, text]
    previous: _Line | None = None
    for line in lines:
        text = _plain(line, size)
        if not text:
            continue
        bullet = _BULLET.match(text)
        if bullet:
            text = "- " + text[bullet.end():].strip()
        if bullet or previous is None or _new_paragraph(previous.y - line.y, leading, size):
            blocks.append([bool(bullet), text])
        else:
            blocks[-1][1] = _join(blocks[-1][1], text)
        previous = line
    parts = []
    for is_item, group in groupby(blocks, key=lambda block: block[0]):
        texts = [html.escape(block[1], quote=False) for block in group if block[1].strip("- ")]
        if not texts:
            continue
        if is_item:
            parts.append("<ul>" + "".join(f"<li>{text}</li>" for text in texts) + "</ul>")
        else:
            parts.extend(f"<p>{text}</p>" for text in texts)
    return " ".join(parts)
