"""SourceLines -> the blocks a reader sees: headings, paragraphs, list items and table rows.

This is where a general document's own structure is read, whatever its format:
- furniture and metadata lines are dropped and reported (assistant/ingest/furniture.py
  says what counts as which);
- headings are recognised by their marks (`#` lines, a wholly bold short line), their
  numbers ("2.4.1 Action plans ...", "1. BACKGROUND") or their names ("Pillar One: ...",
  "Annex II"), and, in plain text, as a short line without punctuation over a paragraph;
- hard-wrapped lines are rejoined (a line that filled the wrap width, or one that breaks
  off mid-sentence before a line starting in lower case), a hyphen at a wrap kept;
- list items keep their marker and are tied to the lead-in before them; lines after a
  lead-in ending in ":" that are short and end without a full stop are items too.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from assistant.ingest import furniture as F
from assistant.ingest.cleaning import html_to_lines, markdown_to_text
from assistant.ingest.dates import find_dates
from assistant.ingest.issuers import is_body_line
from assistant.records import SourceLine

HEADING, PARAGRAPH, ITEM, ROW = "heading", "paragraph", "item", "row"

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*[:.]?$")
_NUMBERED = re.compile(r"^((?:\d{1,2}\.)*\d{1,2})\.?\s+(\S.*)$")
_NAMED = re.compile(r"^(Pillar|Chapter|Part|Section|Annex|Article|Box|Priority|Objective|Title|Strand|Step|Phase|"
                    r"Measure|Action|Area|Theme|Component)\s+([IVXLC]+|\d{1,3}|one|two|three|four|five|six|seven|eight|"
                    r"nine|ten|eleven|twelve|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b"
                    r"\s*[:.–—-]?\s*(.*)$", re.IGNORECASE)
_ITEM = re.compile(r"^\s*([-*+•▪●◦–]|\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\))\s+(\S.*)$")
_SENTENCE_END = re.compile(r"[.!?;:…]\s*[\"'”’)\]]?\s*$")
_LIST_LEAD = re.compile(r":\s*$")
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_WORD_NUMBERS.update({w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split())})
_PREPOSITIONS = {"of", "on", "in", "at", "for", "from", "to", "since", "until", "by", "before", "after", "and"}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


@dataclass
class Block:
    """A heading, a paragraph, a list item or a table row, in reading order."""

    kind: str
    text: str  # cleaned text (markup removed); an item's text without its marker
    page_start: int
    page_end: int
    line_no: int
    level: int = 0  # heading level (1 = a document title); an item's depth
    marker: str = ""  # an item's marker ("-", "1.", "(a)"); a heading's number ("2.4.1", "1")
    name: str = ""  # a named heading's name ("Pillar"), its number in `marker`
    cells: list[str] = field(default_factory=list)  # a row's cells, cleaned
    lead_in: bool = False  # a paragraph ending in ":" that opens a list


@dataclass
class Reading:
    """The blocks of a document, and what was dropped as furniture or metadata (text, category, line)."""

    blocks: list[Block]
    dropped: list[tuple[str, str, int]]
    title_lines: list[str] = field(default_factory=list)


def number_value(token: str) -> int | None:
    """'3', 'III', 'three', 'Third' -> 3."""
    if token.isdigit():
        return int(token)
    lowered = token.lower()
    if lowered in _WORD_NUMBERS:
        return _WORD_NUMBERS[lowered]
    if token.isupper() and all(ch in _ROMAN for ch in token):
        total = 0
        for ch, following in zip(token, token[1:] + " "):
            value = _ROMAN[ch]
            total += -value if following in _ROMAN and _ROMAN[following] > value else value
        return total
    return None


def clean_line(text: str) -> str:
    """The readable text of one source line: HTML fragments and Markdown marks removed."""
    return markdown_to_text(" ".join(html_to_lines(text)) if "<" in text and ">" in text else text)


def _is_dateline(clean: str) -> bool:
    """'Brussels, 4 March 2016', '20/07/2015', '5 December 2022': a date alone or after a place."""
    found = find_dates(clean)
    if not found:
        return False
    rest = (clean[:found[0].start] + clean[found[0].end:]).strip(" ,.;:•-–")
    words = rest.split()
    return not rest or (len(words) <= 3 and all(w[:1].isupper() for w in words) and not any(ch.isdigit() for ch in rest)
                        and words[-1].lower() not in _PREPOSITIONS)


def read_blocks(lines: list[SourceLine], hint_title: str = "", letterhead_bodies: bool = True) -> Reading:
    """The blocks of a general document, furniture and metadata dropped (and reported)."""
    dropped: list[tuple[str, str, int]] = []
    kept = _drop_furniture([line for line in lines if line.text.strip()], dropped)
    kept, title_lines = _drop_front_matter(kept, dropped, hint_title, letterhead_bodies)
    blocks = _blocks(kept, lines)
    return Reading(blocks, dropped, title_lines)


# --- furniture --------------------------------------------------------------------------


def _runs_with_pages(lines: list[SourceLine]) -> bool:
    """The same line on every page, or one whose numbers differ only as the page number does ('3 / 12', 'Page 4')."""
    texts = {clean_line(line.text) for line in lines}
    if len(texts) == 1:
        return True
    numbers = [[int(n) for n in re.findall(r"\d+", clean_line(line.text))] for line in lines]
    if len({len(n) for n in numbers}) != 1:
        return False
    for position in range(len(numbers[0])):
        offsets = {n[position] - line.page for n, line in zip(numbers, lines)}
        if len(offsets) == 1 and len({n[position] for n in numbers}) > 1:
            return True
    return False


def _drop_furniture(lines: list[SourceLine], dropped: list[tuple[str, str, int]],
                    bare_numbers: bool = True) -> list[SourceLine]:
    """Lines that are furniture dropped (and reported); `bare_numbers`: a line of digits alone is a page number."""
    # A running header or footer stands at a page's edge (its first or last two lines) on three pages or more;
    # numbered headings that differ only in their digits ("Annex 1", "Annex 2") stand inside the pages.
    by_page: dict[int, list[SourceLine]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges = [line for page in by_page.values() for line in (page[:2] + page[-2:] if len(page) > 4 else page)]
    pages_of: dict[str, set[int]] = {}
    members: dict[str, list[SourceLine]] = {}
    for line in edges:
        if "\t" not in line.text and len(line.text.split()) <= 12:
            key = F.furniture_key(clean_line(line.text))
            pages_of.setdefault(key, set()).add(line.page)
            members.setdefault(key, []).append(line)
    running = {key for key, pages in pages_of.items() if len(pages) >= 3 and key and _runs_with_pages(members[key])}
    kept: list[SourceLine] = []
    in_contacts = False
    for line in lines:
        clean = clean_line(line.text)
        if "\t" in line.text:
            in_contacts = False
            kept.append(line)
            continue
        category = F.web_or_page_furniture(clean)
        if category == F.PAGE and not bare_numbers and clean.strip().isdigit():
            category = ""
        if not category and F.furniture_key(clean) in running:
            category = F.PAGE
        if not category and F.is_press_contacts(clean):
            category, in_contacts = F.CONTACT, True
        elif not category and in_contacts:
            if len(clean.split()) <= 5 and not _SENTENCE_END.search(clean.rstrip(".")) and not clean.endswith("."):
                category = F.CONTACT
            else:
                in_contacts = False
        if category:
            dropped.append((clean, category, line.line_no))
        else:
            kept.append(line)
    return kept


def _short(clean: str, words: int = 15) -> bool:
    return len(clean.split()) <= words and not clean.endswith((".", "?", "!"))


def _drop_front_matter(lines: list[SourceLine], dropped: list[tuple[str, str, int]], hint_title: str,
                       letterhead_bodies: bool) -> tuple[list[SourceLine], list[str]]:
    """Metadata lines: above a Markdown '# Title', the title itself, letterhead, datelines, metadata lists."""
    cleans = [clean_line(line.text) for line in lines]
    drop: set[int] = set()
    title_lines: list[str] = []
    h1 = next((i for i, line in enumerate(lines[:20]) if _ATX.match(line.text.strip())), None)
    if h1 is not None and _ATX.match(lines[h1].text.strip()).group(1) == "#":
        for i in range(h1):
            if _short(cleans[i]) and "\t" not in lines[i].text:
                drop.add(i)
        drop.add(h1)
        title_lines.append(markdown_to_text(_ATX.match(lines[h1].text.strip()).group(2)))
        following = h1 + 1  # a subtitle heading that the file's own title carries belongs to the title
        while (following < len(lines) and hint_title and _ATX.match(lines[following].text.strip())
               and _squash(" ".join(title_lines + [cleans[following]])) in _squash(hint_title)):
            drop.add(following)
            title_lines.append(markdown_to_text(_ATX.match(lines[following].text.strip()).group(2)))
            following += 1
    else:
        first = next((i for i in range(min(len(lines), 12)) if i not in drop and not _metadata_line(cleans[i], lines[i])),
                     None)
        if first is not None and _title_like(cleans[first], lines, first):
            drop.add(first)
            title_lines.append(cleans[first])
            following = first + 1  # a subtitle set like the title (bold, before any paragraph) belongs to it
            while (following < len(lines) and hint_title and _title_like(cleans[following], lines, following)
                   and _squash(" ".join(title_lines + [cleans[following]])) in _squash(hint_title)):
                drop.add(following)
                title_lines.append(cleans[following])
                following += 1
    for i, (line, clean) in enumerate(zip(lines[:25], cleans[:25])):
        if i in drop or "\t" in line.text:
            continue
        if letterhead_bodies and (is_body_line(clean) or F.is_office_line(clean)) and _short(clean, 12):
            drop.add(i)
    for i, (line, clean) in enumerate(zip(lines, cleans)):
        if i not in drop and "\t" not in line.text and _is_dateline(_ITEM.sub(r"\2", clean) if _ITEM.match(clean) else clean):
            drop.add(i)
    _metadata_lists(lines, cleans, drop)
    for i in sorted(drop):
        dropped.append((cleans[i], F.METADATA, lines[i].line_no))
    return [line for i, line in enumerate(lines) if i not in drop], title_lines


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _metadata_line(clean: str, line: SourceLine) -> bool:
    return is_body_line(clean) or F.is_office_line(clean) or _is_dateline(clean) or "\t" in line.text


def _title_like(clean: str, lines: list[SourceLine], index: int) -> bool:
    raw = lines[index].text.strip()
    if "\t" in raw or _ITEM.match(raw) or raw.startswith("[") or not clean[:1].isupper():
        return False
    if len(clean.split()) > 20 or clean.endswith((".", ",", ";", ":")):
        return False
    return any(line.text.strip() for line in lines[index + 1:])


def _metadata_lists(lines: list[SourceLine], cleans: list[str], drop: set[int]) -> None:
    """A run of short bulleted items holding a date or a time is a page's metadata list."""
    run: list[int] = []
    for i in range(len(lines) + 1):
        item = i < len(lines) and bool(_ITEM.match(lines[i].text)) and "\t" not in lines[i].text
        if item and _short(_ITEM.match(lines[i].text).group(2), 6):
            run.append(i)
            continue
        if len(run) >= 2 and any(i2 in drop or F.is_time(_ITEM.match(lines[i2].text).group(2)) for i2 in run):
            if any(_is_dateline(_ITEM.match(lines[i2].text).group(2)) or F.is_time(_ITEM.match(lines[i2].text).group(2))
                   for i2 in run):
                drop.update(run)
        run = []


# --- blocks -----------------------------------------------------------------------------


def _wrap_width(lines: list[SourceLine]) -> int:
    """The width a hard-wrapped text was wrapped at, or 0 when its lines are not wrapped."""
    lengths = sorted(len(line.text.rstrip()) for line in lines
                     if "\t" not in line.text and len(line.text.strip()) >= 30 and not _ATX.match(line.text.strip()))
    if len(lengths) < 4:
        return 0
    width = lengths[int(0.9 * (len(lengths) - 1))]
    full = sum(1 for n in lengths if n >= 0.8 * width)
    return width if width <= 130 and full >= 0.5 * len(lengths) else 0


def _heading(raw: str, clean: str) -> tuple[int, str, str, str] | None:
    """(level, number, name, text) when the line is a heading."""
    atx = _ATX.match(raw)
    if atx:
        text = markdown_to_text(atx.group(2))
        numbered = _NUMBERED.match(text)
        if numbered and not numbered.group(2)[:1].islower():
            return len(atx.group(1)), numbered.group(1), "", numbered.group(2)
        named = _NAMED.match(text)
        if named and number_value(named.group(2)) is not None:
            return len(atx.group(1)), named.group(2), named.group(1).capitalize(), text
        return len(atx.group(1)), "", "", text
    bold = bool(_BOLD_LINE.match(raw)) and "**" not in _BOLD_LINE.match(raw).group(1)
    words = len(clean.split())
    if not re.search(r"[^\W\d_]{3}", clean):  # "S1(2022) 436", "2.": a code or a number, not a heading
        return None
    if words == 0 or words > 18 or (clean.endswith((".", ";", ",", "?", "!")) and not (bold and re.match(r"^\d+\.$", clean))):
        return None
    named = _NAMED.match(clean)
    if named and number_value(named.group(2)) is not None and (bold or named.group(3)[:1].isupper() or not named.group(3)):
        return 2, named.group(2), named.group(1).capitalize(), clean
    numbered = _NUMBERED.match(clean)
    if numbered and numbered.group(2)[:1].isupper() and words <= 14 and not clean.endswith(":"):
        rest = numbered.group(2)
        if bold or "." in numbered.group(1) or rest.isupper() or words <= 8:
            return numbered.group(1).count(".") + 3, numbered.group(1), "", rest  # "1." beside bold headings (3)
    if bold and not clean.endswith(":"):
        return 3, "", "", clean
    return None


def _plain_heading(clean: str, following: list[str]) -> bool:
    """In plain text: a short capitalised line without punctuation, over a paragraph (perhaps after a salutation)."""
    words = clean.split()
    return (1 <= len(words) <= 8 and clean[:1].isupper() and not re.search(r"[.,;:!?()\[\]]", clean)
            and any(len(text.split()) >= 10 for text in following[:2]) and not any(_ITEM.match(t) for t in following[:1]))


def _blocks(lines: list[SourceLine], all_lines: list[SourceLine]) -> list[Block]:
    width = _wrap_width(lines)
    blank_before = _blank_before(all_lines)
    marked = any(_ATX.match(line.text.strip()) or _BOLD_LINE.match(line.text.strip()) for line in lines)
    blocks: list[Block] = []
    list_open = False  # after a lead-in ending in ":", short unpunctuated lines are its items
    last_length = 0  # length of the last source line of the last block (a full line wraps)
    for index, line in enumerate(lines):
        raw = line.text.strip()
        length, last_length = last_length, len(line.text.rstrip())
        clean = clean_line(raw)
        if not clean:
            continue
        gap = blank_before.get(line.line_no, True)
        if "\t" in raw:
            cells = [clean_line(cell) for cell in line.text.split("\t")]
            blocks.append(Block(ROW, " ".join(c for c in cells if c), line.page, line.page, line.line_no, cells=cells))
            list_open = False
            continue
        heading = _heading(raw, clean)
        following = [clean_line(later.text) for later in lines[index + 1:index + 3]]
        if heading is None and not marked and gap and not _ITEM.match(raw) and _plain_heading(clean, following) \
                and not list_open:
            heading = (3, "", "", clean)
        if heading is not None:
            level, number, name, text = heading
            blocks.append(Block(HEADING, text, line.page, line.page, line.line_no, level=level, marker=number, name=name))
            list_open = False
            continue
        item = _ITEM.match(raw)
        if item:
            depth = (len(line.text) - len(line.text.lstrip(" "))) // 2
            text = clean_line(item.group(2))
            blocks.append(Block(ITEM, text, line.page, line.page, line.line_no, level=depth,
                                marker=item.group(1) if item.group(1)[0].isalnum() or item.group(1)[0] == "(" else "-"))
            continue
        previous = blocks[-1] if blocks else None
        if previous is not None and previous.kind in (PARAGRAPH, ITEM) and _continues(previous, clean, gap, width, line, length):
            previous.text = _join(previous.text, clean)
            previous.page_end = line.page
            previous.lead_in = bool(_LIST_LEAD.search(previous.text)) and previous.kind == PARAGRAPH
            list_open = previous.lead_in
            continue
        if list_open and _short(clean, 25) and not clean.endswith(":"):
            blocks.append(Block(ITEM, clean, line.page, line.page, line.line_no, marker=""))
            continue
        block = Block(PARAGRAPH, clean, line.page, line.page, line.line_no)
        block.lead_in = bool(_LIST_LEAD.search(clean))
        list_open = block.lead_in
        blocks.append(block)
    return blocks


def _blank_before(lines: list[SourceLine]) -> dict[int, bool]:
    """line number -> whether a blank line (or the start) comes right before it."""
    result: dict[int, bool] = {}
    previous_blank = True
    for line in lines:
        result[line.line_no] = previous_blank
        previous_blank = not line.text.strip()
    return result


def _continues(previous: Block, clean: str, gap: bool, width: int, line: SourceLine, length: int) -> bool:
    """Whether a line goes on with the block before it (a hard wrap, or a sentence cut by a page break)."""
    if previous.kind == ITEM and gap:
        return False
    cut = not _SENTENCE_END.search(previous.text) and clean[:1].islower()
    if gap:
        return cut and line.page != previous.page_end
    if width and length >= 0.8 * width:
        return True
    return cut or (previous.kind == ITEM and not _SENTENCE_END.search(previous.text))


def _join(left: str, right: str) -> str:
    """Rejoin a wrapped line: no space after a hyphen that ends a word-part ("wave-" + "through")."""
    if left.endswith("-") and left[-2:-1].isalnum():
        return left + right
    return left + " " + right


def heading_counts(blocks: list[Block]) -> Counter[int]:
    return Counter(block.level for block in blocks if block.kind == HEADING)


def prepare_letter_lines(lines: list[SourceLine]) -> tuple[list[SourceLine], list[tuple[str, str, int]]]:
    """A letter's lines with furniture dropped (letterhead footers, page numbers) and hard wraps rejoined.

    Letters keep their own parser (assistant/chunking/letter.py); a letter whose lines are not
    wrapped and hold no furniture comes back unchanged.
    """
    dropped: list[tuple[str, str, int]] = []
    kept = _drop_furniture([line for line in lines if line.text.strip()], dropped, bare_numbers=False)
    keep_numbers = {line.line_no for line in kept}
    width = _wrap_width(kept)
    result: list[SourceLine] = []
    previous_kept = False
    last_length = 0
    for line in lines:
        if line.text.strip() and line.line_no not in keep_numbers:
            continue  # furniture: as if it were not there
        if not line.text.strip():
            result.append(line)
            previous_kept = False
            continue
        starts = bool(_ITEM.match(line.text) or _ATX.match(line.text.strip()) or "\t" in line.text
                      or _BOLD_LINE.match(line.text.strip()))
        if width and previous_kept and not starts and last_length >= 0.8 * width and "\t" not in result[-1].text:
            joined = _join(result[-1].text.rstrip(), line.text.strip())
            result[-1] = SourceLine(joined, result[-1].page, result[-1].line_no)
        else:
            result.append(line)
        previous_kept = True
        last_length = len(line.text.rstrip())
    return result, dropped
