"""Property-based tests of the parsers and the chunker: no crash, nothing lost, nothing doubled.

Generated action files and letters are written in the text-rendering format of corpus/*.txt
(header rows repeated on every page, rows continued over page breaks, HTML lists, section
headings, footnotes, stray `&amp;`, `<sup>`, words in any script). Every sentence carries a
unique mark, so where it ends up can be counted exactly: in one unit, the right one, once.
Malformed input may be refused, but only with an AssistantError.

Budgets: each property runs a bounded number of examples with no per-example deadline;
the whole file takes well under a minute on the 2-core machine.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from dataclasses import dataclass, field

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.chunking import split_body, units_for_document
from assistant.vocabulary import FIELD_LABELS
from assistant.errors import AssistantError
from assistant.ingest import is_header_row, load_lines, paginate_text
from assistant.search import MAX_QUESTION_CHARS, clean_question
from assistant.records import Document
from assistant.chunking import split_sentences
from assistant.ingest import html_to_lines, markdown_to_text

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ACTION_HEADER = "Action\tLead actor(s)\tStatus\tWay ahead incl. timeline\tComments"
ANNEX_HEADER = "President's letter/EUCO conclusions\tState of Play"
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
LIST_OPEN = '<ul style="list-style-type: none"> '
HTML_LEFTOVER = re.compile(r"</?(?:ul|li|p|sup|div)\b[^>]*>|</?[bi]>")

# Letters and digits of any script; the extras are what the real documents hold besides.
WORD = st.text(st.characters(categories=("Lu", "Ll", "Lt", "Lo", "Nd")), min_size=1, max_size=9)
EXTRA = st.sampled_from(["&", "R&D", "€105", "2023–2025", "(tbc)", "EU+", "Türkiye", "a<b", "x>y", "30/06/2024",
                         "O’Neill", "\"quoted\"", "MS/EU", "100%", "Q3"])
ACTORS = st.sampled_from(["Commission", "MS", "Frontex", "EUAA", "EU DEL", "Europol", "BG", "EL", "EEAS"])
STATUS = st.sampled_from(["Ongoing", "Completed", "Not started", "Ongoing/completed"])


def _document(kind: str) -> Document:
    return Document(id="fuzz", title="Generated", issuing_body="Tests", reference="—", date="2024-01-01", kind=kind,
                    language="en", source_file="generated.txt")


def _units(kind: str, text: str):
    document = _document(kind)
    return units_for_document(document, paginate_text(text))


# --- the generated documents ----------------------------------------------------------------


@dataclass
class Sentence:
    """Words of one sentence; `sup` maps a word position to a footnote number set after it."""

    words: list[str]
    sup: dict[int, int] = field(default_factory=dict)

    def html_words(self) -> list[str]:
        return [html.escape(w, quote=False) + (f"<sup>{self.sup[i]}</sup>" if i in self.sup else "")
                for i, w in enumerate(self.words)]

    def plain_words(self) -> list[str]:
        return [w + (str(self.sup[i]).translate(SUPERSCRIPT) if i in self.sup else "") for i, w in enumerate(self.words)]

    @property
    def plain(self) -> str:
        return " ".join(self.plain_words())


class Marks:
    """Hands out a unique mark per sentence: zq1x, zq2x... (none is a substring of another)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"zq{self.count}x"


@st.composite
def sentences(draw, marks: Marks, min_words: int = 1, max_words: int = 8, end: str = ".") -> Sentence:
    words = draw(st.lists(st.one_of(WORD, WORD, WORD, EXTRA), min_size=min_words, max_size=max_words))
    # The mark closes the sentence, so a piece cut from its end never looks like "IV." or "12. ".
    return Sentence(words + [marks.next() + end])


@dataclass
class Block:
    """A paragraph or list item of a cell."""

    kind: str  # "li", "p" or "plain"
    sentences: list[Sentence]

    def words(self) -> list[str]:
        return [w for s in self.sentences for w in s.html_words()]


def _render_blocks(blocks: list[tuple[str, list[str]]]) -> str:
    """Cell HTML as the renderings have it: consecutive items in one <ul>, paragraphs in <p>."""
    parts: list[str] = []
    items: list[str] = []
    for kind, words in blocks:
        if kind == "li":
            items.append(f"<li>- {' '.join(words)}</li>")
            continue
        if items:
            parts.append(LIST_OPEN + " ".join(items) + " </ul>")
            items = []
        parts.append(" ".join(words) if kind == "plain" else f"<p>{' '.join(words)}</p>")
    if items:
        parts.append(LIST_OPEN + " ".join(items) + " </ul>")
    return " ".join(parts)


def _split_cell(blocks: list[Block], cuts: list[int]) -> list[str]:
    """The cell's HTML on each page: cut before the given word positions (counted over all blocks).

    A block cut in two goes on as a plain paragraph on the next page, as the source does.
    """
    flat = [(b, w) for b, block in enumerate(blocks) for w, _ in enumerate(block.words())]
    bounds = [0] + sorted(set(c for c in cuts if 0 < c < len(flat))) + [len(flat)]
    pieces = []
    for start, stop in zip(bounds, bounds[1:]):
        rendered: list[tuple[str, list[str]]] = []
        for b, block in enumerate(blocks):
            positions = [w for (bb, w) in flat[start:stop] if bb == b]
            if not positions:
                continue
            words = block.words()[positions[0]:positions[-1] + 1]
            continued = positions[0] > 0
            rendered.append(("p" if continued and block.kind == "li" else block.kind, words))
        pieces.append(_render_blocks(rendered))
    return pieces


@st.composite
def cell_blocks(draw, marks: Marks, max_blocks: int = 3) -> list[Block]:
    kind = draw(st.sampled_from(["li", "li", "p", "plain", "mixed"]))
    count = 1 if kind == "plain" else draw(st.integers(0, max_blocks))
    blocks = []
    for _ in range(count):
        block_kind = draw(st.sampled_from(["li", "p"])) if kind == "mixed" else kind
        blocks.append(Block(block_kind, draw(st.lists(sentences(marks), min_size=1, max_size=3))))
    return blocks


@dataclass
class Action:
    number: int
    title: list[str]
    actors: list[str]
    status: str
    way_ahead: list[Block]
    comments: list[Block]
    section: str
    pieces: int  # how many pages the row runs over
    footnote: tuple[int, Sentence] | None = None

    def expected_sentences(self) -> list[str]:
        found = [" ".join(self.title)] + [s.plain for block in self.way_ahead + self.comments for s in block.sentences]
        if self.footnote:
            found.append(f"{str(self.footnote[0]).translate(SUPERSCRIPT)} {self.footnote[1].plain}")
        return found


@dataclass
class ActionFile:
    text: str
    cover: list[str]  # expected plain cover lines
    actions: list[Action]
    first_page: dict[int, int]  # action index -> expected first page
    last_page: dict[int, int]


@st.composite
def action_files(draw) -> ActionFile:
    marks = Marks()
    cover_lines = draw(st.lists(st.tuples(st.sampled_from(["plain", "bold", "field"]), sentences(marks, end="")),
                                max_size=4))
    lines: list[str] = []
    cover: list[str] = []
    for style, sentence in cover_lines:
        raw = " ".join(sentence.html_words())
        if style == "bold":
            lines.append(f"**{raw}**")
        elif style == "field":
            lines.append(f"Subject:\t{raw}")
        else:
            lines.append(raw)
        cover.append(("Subject: " if style == "field" else "") + sentence.plain)
        lines.append("")
    first_page = 2 if len(cover) >= 2 else 1
    page = first_page
    lines.append(ACTION_HEADER)
    rows_on_page = 0
    actions: list[Action] = []
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    number = draw(st.integers(1, 5))
    section = ""
    footnote_number = 0
    restart = draw(st.booleans())  # numbering starts again at 1 under a later heading, as in some files

    def new_page() -> None:
        nonlocal page, rows_on_page
        lines.extend(draw(st.sampled_from([[""], ["", " "], ["", "", ""], []])))
        lines.append(ACTION_HEADER)
        page += 1
        rows_on_page = 0

    headings = 0
    for index in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 3)) == 0:
            heading_words = draw(st.lists(st.one_of(WORD, EXTRA), max_size=5))
            roman = ROMAN[headings % len(ROMAN)]
            headings += 1
            heading = " ".join([f"{roman}."] + [html.escape(w, quote=False) for w in heading_words])
            lines.append(f"<i><b>{heading}</b></i>\t\t\t\t" if heading_words else f"<b>{roman}.</b>\t\t\t\t")
            section = " ".join([f"{roman}."] + heading_words)
            if restart and index > 0:
                number = 1
        elif rows_on_page and draw(st.integers(0, 3)) == 0:
            new_page()
        title = draw(sentences(marks, end=""))
        actors = draw(st.lists(ACTORS, min_size=1, max_size=4))
        way_ahead = draw(cell_blocks(marks))
        comments = draw(cell_blocks(marks))
        pieces = draw(st.sampled_from([1, 1, 1, 2, 2, 3]))
        footnote = None
        if comments and draw(st.booleans()):
            footnote_number += 1
            comments[-1].sentences[-1].sup[0] = footnote_number
            footnote = (footnote_number, draw(sentences(marks)))
        action = Action(number, title.plain_words(), actors, draw(STATUS), way_ahead, comments, section, pieces, footnote)
        # Where each column is cut: word positions, one fewer than the pieces.
        title_words = title.html_words()
        title_cuts = draw(st.lists(st.integers(1, max(1, len(title_words) - 1)), max_size=pieces - 1))
        title_pieces = [" ".join(title_words[a:b]) for a, b in zip([0] + sorted(set(title_cuts)), sorted(set(title_cuts)) + [None])]
        title_pieces += [""] * (pieces - len(title_pieces))
        cells_by_piece = [[f"<b>{number}. {title_pieces[0]}</b>"], *[[t] for t in title_pieces[1:]]]
        actor_cut = draw(st.integers(1, len(actors))) if pieces > 1 else len(actors)
        actor_pieces = [", ".join(actors[:actor_cut]) + ("," if actor_cut < len(actors) else ""),
                        ", ".join(actors[actor_cut:])] + [""] * (pieces - 2)
        for column, blocks in ((3, way_ahead), (4, comments)):
            total = sum(len(b.words()) for b in blocks)
            cuts = draw(st.lists(st.integers(0, max(total, 0)), min_size=pieces - 1, max_size=pieces - 1))
            split = _split_cell(blocks, cuts)
            split += [""] * (pieces - len(split))
            for i in range(pieces):
                cells_by_piece[i].append(split[i])
        for i in range(pieces):
            if i > 0:
                new_page()
            cells = [cells_by_piece[i][0], actor_pieces[i] if i < len(actor_pieces) else "",
                     action.status if i == 0 else "", cells_by_piece[i][1], cells_by_piece[i][2]]
            if i > 0 and not any(c.strip() for c in cells):
                cells[3] = "<p>" + marks.next() + " added on the next page.</p>"  # a page holds at least one row piece
                action.way_ahead.append(Block("p", [Sentence([cells[3][3:-4]])]))
            lines.append("\t".join(cells))
            rows_on_page += 1
            if i == 0:
                first[index] = page
            if footnote and f"<sup>{footnote[0]}</sup>" in lines[-1]:
                lines.append(f"<sup>{footnote[0]}</sup> {' '.join(footnote[1].html_words())}")
        last[index] = page
        actions.append(action)
        number += draw(st.integers(1, 3))
    return ActionFile("\n".join(lines) + "\n", cover, actions, first, last)


def _count_in(units, sentence: str) -> list[str]:
    """unit_id of every occurrence of the sentence, once per occurrence."""
    return [u.unit_id for u in units for _ in range(u.text.count(sentence))]


@FUZZ
@given(action_files())
def test_generated_action_files_lose_nothing_and_double_nothing(generated):
    units = _units("action_file", generated.text)
    actions = [u for u in units if u.kind == "action"]
    covers = [u for u in units if u.kind == "cover_note"]
    assert len({u.unit_id for u in units}) == len(units), "every unit has its own id, the key the index stores it under"
    assert [u.number for u in actions] == [a.number for a in generated.actions]
    assert len(covers) == (1 if generated.cover else 0)
    for line in generated.cover:
        assert _count_in(units, line) == [covers[0].unit_id], line
    for index, (action, unit) in enumerate(zip(generated.actions, actions)):
        assert unit.title == " ".join(action.title)
        assert unit.fields["lead_actors"] == ", ".join(action.actors)
        assert unit.fields["status"] == action.status
        assert unit.section == action.section
        assert (unit.page_start, unit.page_end) == (generated.first_page[index], generated.last_page[index])
        for sentence in action.expected_sentences():
            assert _count_in(units, sentence) == [unit.unit_id], f"{sentence!r} should be in {unit.unit_id} once"
    for unit in units:
        assert not HTML_LEFTOVER.search(unit.text) and "Lead actor(s)\tStatus" not in unit.text
        assert "&amp;" not in unit.text and "**" not in unit.text


@dataclass
class Letter:
    text: str
    body: list[str]  # expected plain paragraph texts, salutation and closing included
    items: list[tuple[int, list[str]]]  # annex item number -> its sentences
    plans: list[str]
    annex_title: str


@st.composite
def letters(draw) -> Letter:
    marks = Marks()
    lines = ["", "EUROPEAN COMMISSION", "", "Ursula von der Leyen", "The President", "", "Brussels, 25. 06. 2023", "",
             "Dear colleagues,", ""]
    body = ["Dear colleagues,"]
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 3)) == 0:  # a short, wholly bold heading
            heading = draw(sentences(marks, max_words=6, end=""))
            lines += [f"**{' '.join(heading.html_words())}**", ""]
            body.append(heading.plain)
            continue
        paragraph = draw(st.lists(sentences(marks), min_size=1, max_size=4))
        words = [w for s in paragraph for w in s.html_words()]
        cut = draw(st.integers(0, len(words) - 1))
        continues_lower = html.unescape(words[cut])[:1].islower()
        if cut and continues_lower and not words[cut - 1].endswith(".") and draw(st.booleans()):
            # A page break inside the paragraph; the next page goes on in lower case.
            lines += [" ".join(words[:cut]), "", "./..", "", " ".join(words[cut:]), ""]
        else:
            if draw(st.booleans()):  # a bold phrase inside the paragraph
                a = draw(st.integers(0, len(words) - 1))
                b = draw(st.integers(a, len(words) - 1))
                words[a] = "**" + words[a]
                words[b] = words[b] + "**"
            lines += [" ".join(words), ""]
            if draw(st.integers(0, 3)) == 0:
                lines += ["./..", ""]
        body.extend(s.plain for s in paragraph)
    lines += ["Yours sincerely,", "", "", "Ursula von der Leyen", ""]
    body += ["Yours sincerely,", "Ursula von der Leyen"]
    items: list[tuple[int, list[str]]] = []
    plans: list[str] = []
    annex_title = ""
    if draw(st.booleans()):
        title = draw(sentences(marks, end=""))
        annex_title = title.plain
        lines += [" ".join(title.html_words()), "", ANNEX_HEADER]
        footnote = 0
        for number in range(1, draw(st.integers(1, 5)) + 1):
            letter_text = draw(st.lists(sentences(marks), min_size=1, max_size=2))
            play = draw(st.lists(sentences(marks), max_size=3))
            if play and draw(st.booleans()):
                footnote += 1
                play[-1].sup[len(play[-1].words) // 2] = footnote
            first = f"<p>{number}. {' '.join(w for s in letter_text for w in s.html_words())}</p>"
            style = draw(st.sampled_from(["li", "p", "bullet"]))
            if style == "bullet":  # bullets typed as text inside a list, as the letter's annex has them
                cells = [LIST_OPEN + " ".join(f"• {' '.join(s.html_words())}" for s in play) + "</ul>" if play else ""]
            else:
                blocks = [Block(style, [s]) for s in play]
                total = sum(len(b.words()) for b in blocks)
                over_the_page = total > 1 and draw(st.booleans())  # the state of play goes on over the page
                cells = _split_cell(blocks, [draw(st.integers(1, total - 1))] if over_the_page else [])
            lines.append(f"{first}\t{cells[0]}")
            for rest in cells[1:]:
                lines += ["", ANNEX_HEADER, f"\t{rest}"]
            expected = [s.plain for s in letter_text + play]
            for sentence in play:
                for mark in sentence.sup.values():
                    note = draw(sentences(marks))
                    lines.append(f"<sup>{mark}</sup> {' '.join(note.html_words())}")
                    expected.append(f"{str(mark).translate(SUPERSCRIPT)} {note.plain}")
            items.append((number, expected))
        if draw(st.booleans()):
            lines.append("EU Action Plans\t\t")
            for _ in range(draw(st.integers(1, 3))):
                plan = draw(sentences(marks))
                progress = draw(sentences(marks))
                lines.append(f"<p>In force</p>\t<p>{' '.join(plan.html_words())}</p>\t"
                             f"{LIST_OPEN}<li>- {' '.join(progress.html_words())}</li> </ul>")
                plans += [plan.plain, progress.plain]
    return Letter("\n".join(lines) + "\n", body, items, plans, annex_title)


@FUZZ
@given(letters())
def test_generated_letters_lose_nothing_and_double_nothing(generated):
    units = _units("letter", generated.text)
    sections = [u for u in units if u.kind == "letter_section"]
    items = [u for u in units if u.kind == "annex_item"]
    plans = [u for u in units if u.kind == "action_plans_table"]
    assert len({u.unit_id for u in units}) == len(units)
    assert sections and [u.number for u in sections] == list(range(1, len(sections) + 1))
    assert generated.body[0] in sections[0].text and generated.body[-1] in sections[-1].text
    for paragraph in generated.body:
        assert len(_count_in(sections, paragraph)) == 1 and len(_count_in(units, paragraph)) == 1, paragraph
    assert [u.number for u in items] == [number for number, _ in generated.items]
    for unit, (_, expected) in zip(items, generated.items):
        assert unit.section == f"Annex: {generated.annex_title}"
        for sentence in expected:
            assert _count_in(units, sentence) == [unit.unit_id], f"{sentence!r} should be in {unit.unit_id} once"
    assert len(plans) == (1 if generated.plans else 0)
    for sentence in generated.plans:
        assert _count_in(units, sentence) == [plans[0].unit_id]
    for unit in units:
        assert 1 <= unit.page_start <= unit.page_end
        assert not HTML_LEFTOVER.search(unit.text) and "**" not in unit.text


# --- anything at all: only AssistantError -----------------------------------------------------

GARBAGE_LINE = st.one_of(
    st.just(ACTION_HEADER), st.just(ANNEX_HEADER), st.just("./.."), st.just(""), st.just("EU Action Plans\t\t"),
    st.just("Dear colleagues,"), st.just("Yours sincerely,"), st.just("<b>II.</b>\t\t\t\t"),
    st.text(max_size=40),
    st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
        ["<ul>", "</ul>", "<li>", "</li>", "- ", "•", "<p>", "</p>", "<sup>", "</sup>3", "&amp;", "&", "<b>", "**",
         "1. ", "IV. ", "\t", "¹ ", "<", ">", "&#0;", "&#x110000;", "<!--", "<![CDATA[", "\x00", "\u202e", "\r"])),
        max_size=12).map("".join),
)


@FUZZ
@given(st.lists(GARBAGE_LINE, max_size=30).map("\n".join), st.sampled_from(["action_file", "letter", "general"]))
def test_any_text_rendering_gives_units_or_one_sentence(text, kind):
    try:
        units = _units(kind, text)
    except AssistantError as error:
        assert str(error).strip() and "\n" not in str(error)
        return
    assert len({u.unit_id for u in units}) == len(units), "two units under one id: the index would keep only one"
    for unit in units:
        assert 1 <= unit.page_start <= unit.page_end


# --- the cleaning functions -------------------------------------------------------------------

def _visible(text: str) -> bool:
    """Something a person can see: not whitespace, control, format (zero-width, bidi) or unassigned."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text)


@FUZZ
@given(st.text(max_size=300) | st.text(max_size=3000)
       | st.text(st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Co")), max_size=30))
def test_clean_question_gives_plain_visible_text_or_one_sentence(raw):
    try:
        cleaned = clean_question(raw)
    except AssistantError as error:
        message = str(error)
        assert message.endswith(".") and "\n" not in message
        if "empty" in message:
            assert not _visible(raw)
        else:
            assert "characters long" in message and len(raw) > MAX_QUESTION_CHARS
        return
    assert cleaned == " ".join(cleaned.split()) and 0 < len(cleaned) <= MAX_QUESTION_CHARS
    assert _visible(cleaned), "a question of invisible characters is empty"
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in cleaned)
    assert clean_question(cleaned) == cleaned
    kept = iter(raw)
    assert all(ch in kept for ch in cleaned.replace(" ", "")), "nothing is invented, only dropped"


PRINTABLE = st.characters(categories=("L", "M", "N", "P", "S"), include_characters=" ")


@FUZZ
@given(st.text(PRINTABLE, min_size=1, max_size=400))
def test_clean_question_keeps_scripts_markup_and_punctuation_as_typed(text):
    assume(_visible(text))
    assume(len(" ".join(text.split())) <= MAX_QUESTION_CHARS)
    assert clean_question(text) == " ".join(text.split())


TAGS = st.sampled_from(["<p>", "</p>", "<ul>", "</ul>", "<li>", "</li>", "<br>", "<b>", "</b>", "<i>", "</i>",
                        '<ul style="list-style-type: none">', "<div>", "</div>", "<td>", "</td>"])


@FUZZ
@given(st.lists(st.tuples(st.lists(WORD, min_size=1, max_size=4), st.lists(TAGS, max_size=2)), max_size=12))
def test_html_to_lines_keeps_every_word_in_order_and_no_tag(pieces):
    fragment = " ".join(" ".join(html.escape(w, quote=False) for w in words) + " " + " ".join(tags)
                        for words, tags in pieces)
    lines = html_to_lines(fragment)
    words = [w for line in lines for w in re.sub(r"^\s*- ", "", line).split()]
    assert words == [w for ws, _ in pieces for w in ws]
    for line in lines:
        assert line == line.rstrip() and line.strip() and "\n" not in line and not HTML_LEFTOVER.search(line)


@FUZZ
@given(st.text(max_size=500).map(lambda text: text.replace("\n", " ")))  # a cell is on one line of the rendering
def test_html_to_lines_never_fails(fragment):
    for line in html_to_lines(fragment):
        assert line.strip() and "\n" not in line


@FUZZ
@given(st.lists(st.tuples(st.lists(WORD, min_size=1, max_size=3), st.sampled_from(["plain", "bold", "italic", "link", "amp"])),
                min_size=1, max_size=10))
def test_markdown_to_text_keeps_the_words_and_drops_the_markup(pieces):
    parts, expected = [], []
    for words, style in pieces:
        text = " ".join(words)
        if style == "bold":
            parts.append(f"**{text}**")
        elif style == "italic":
            parts.append(f"*{text}*")
        elif style == "link":
            parts.append(f"[{text}](https://example.invalid/{len(text)})")
        elif style == "amp":
            parts.append(f"{text} &amp;")
            words = [*words, "&"]
        else:
            parts.append(text)
        expected.extend(words)
    assert markdown_to_text(" ".join(parts)) == " ".join(expected)


@FUZZ
@given(st.text(max_size=500))
def test_markdown_to_text_never_fails_and_collapses_spaces(line):
    result = markdown_to_text(line)
    assert result == result.strip() and "  " not in result


@FUZZ
@given(st.text(max_size=400) | st.lists(st.one_of(WORD, st.sampled_from([". ", "? ", "! ", "e.g. ", "U.S. ", "\n", "  ", "...", "“", "”", "(", ")", "1. ", "\t"])),
                                        max_size=60).map("".join))
def test_split_sentences_returns_substrings_of_its_lines(text):
    lines = text.split("\n")
    for sentence in split_sentences(text):
        assert sentence and sentence == sentence.strip()
        assert any(sentence in line for line in lines), f"{sentence!r} is not in the input"


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=30), st.just(ACTION_HEADER), st.just(ANNEX_HEADER), st.just("./.."),
                          st.just(" ./.. "), st.just(""), st.just("1. a\tb\tc")), min_size=1, max_size=40),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_paginate_text_keeps_every_line_but_page_marks(lines, newline):
    assume(not any(ch in line for line in lines for ch in "\r\n"))
    text = newline.join(lines)
    result = paginate_text(text)
    kept = [line for line in lines if line.strip() != "./.."]
    assert [line.text for line in result] == kept
    assert [line.line_no for line in result] == [n for n, line in enumerate(lines, start=1) if line.strip() != "./.."]
    pages = [line.page for line in result if line.text.strip()]
    assert all(p >= 1 for p in pages) and pages == sorted(pages)
    assert max(pages, default=1) <= 1 + len(lines) - len(kept) + sum(1 for line in kept if is_header_row(line))


LABELS = st.sampled_from([f"{label}:" for label in FIELD_LABELS.values()])


@FUZZ
@given(st.lists(st.one_of(st.lists(st.one_of(WORD, st.just("."), st.just("end.")), min_size=1, max_size=40).map(" ".join), LABELS),
                min_size=1, max_size=12),
       st.integers(3, 30))
def test_split_body_keeps_every_word_in_order_and_parts_under_budget(lines, budget):
    def count(text: str) -> int:
        return len(text.split())

    parts = split_body(lines, budget, count)
    written = [line for part in parts for line in part if not line.endswith(" (continued):")]
    assert " ".join(written).split() == " ".join(lines).split()
    for part in parts:
        pieces = [line for line in part if not line.endswith(" (continued):")]
        assert count("\n".join(part)) <= budget or (len(pieces) == 1 and count(pieces[0]) == 1), part


# --- damaged PDFs: only AssistantError ------------------------------------------------------


def _letter_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as pdf_canvas

    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4)
    for page in range(2):
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(72, 760, f"Dear colleagues, page {page + 1}")
        canvas.setFont("Helvetica", 11)
        for line in range(12):
            canvas.drawString(72, 730 - 16 * line, f"The Commission will support partner countries, sentence {line}.")
        canvas.rect(72, 400, 400, 0.5, fill=1)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


LETTER_PDF = _letter_pdf()


@st.composite
def damaged_pdfs(draw) -> bytes:
    data = bytearray(LETTER_PDF)
    how = draw(st.sampled_from(["overwrite", "cut", "splice"]))
    if how == "overwrite":
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "cut":  # cut anywhere but keep an end marker, so pypdf has to cope with what is left
        data = data[:draw(st.integers(10, len(data) - 1))] + b"\n%%EOF\n"
    else:
        a = draw(st.integers(0, len(data) - 1))
        b = draw(st.integers(a, min(len(data), a + 400)))
        data = data[:a] + draw(st.binary(max_size=40)) + data[b:]
    return bytes(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_pdfs())
def test_a_damaged_pdf_gives_lines_or_one_sentence(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pdf") / "damaged.pdf"
    path.write_bytes(data)
    try:
        lines = load_lines(path)
    except AssistantError as error:
        message = str(error)
        assert "damaged.pdf" in message and "\n" not in message and message.endswith(".")
        return
    assert all(line.page >= 1 and "\n" not in line.text for line in lines)


# --- general documents: headings, paragraphs, lead-ins and their lists ---------------------------

SAFE_EXTRA = st.sampled_from(["EU+", "2023–2025", "(tbc)", "100%", "O’Neill", "MS/EU", "Q3", "€105"])


@dataclass
class General:
    text: str
    paragraphs: list[str]  # each sentence-mark once, verbatim in one unit
    lists: list[tuple[str, list[str]]]  # a lead-in and its items: one unit holds them all
    headings: list[str]


@st.composite
def general_documents(draw) -> General:
    counter = iter(range(10_000))

    def words(low: int, high: int) -> str:
        picked = draw(st.lists(st.one_of(WORD, SAFE_EXTRA), min_size=low, max_size=high))
        return " ".join(picked + [f"mk{next(counter)}x"])

    lines, paragraphs, lists, headings = [], [], [], []
    first = words(6, 30).capitalize() + "."
    lines += [first, ""]
    paragraphs.append(first)
    for _ in range(draw(st.integers(0, 5))):
        style = draw(st.sampled_from(["atx", "bold", "numbered", "none"]))
        title = words(1, 5)
        if style == "atx":
            lines += [f"## {title}", ""]
        elif style == "bold":
            lines += [f"**{title}**", ""]
        elif style == "numbered":
            title = "Title " + title
            lines += [f"{draw(st.integers(1, 9))}.{draw(st.integers(1, 9))} {title}", ""]
        if style != "none":
            headings.append(title)
        for _ in range(draw(st.integers(1, 4))):
            if draw(st.booleans()):
                paragraph = words(6, 60) + "."
                lines += [paragraph, ""]
                paragraphs.append(paragraph)
            else:
                lead = words(4, 12) + ":"
                items = [words(2, 10) for _ in range(draw(st.integers(1, 5)))]
                lines += [lead, *[f"- {item}" for item in items], ""]
                lists.append((lead, items))
    return General("\n".join(lines) + "\n", paragraphs, lists, headings)


@FUZZ
@given(general_documents())
def test_generated_general_documents_lose_nothing_and_keep_lists_with_their_lead_in(generated):
    units = _units("general", generated.text)
    assert len({u.unit_id for u in units}) == len(units)
    for paragraph in generated.paragraphs:
        mark = paragraph.split()[-1].rstrip(".")
        holders = [u.unit_id for u in units if re.search(rf"(?<!\w){mark}(?!\w)", u.text)]
        assert len(holders) == 1, (paragraph, holders)
        assert any(paragraph in u.text for u in units), paragraph
    for lead, items in generated.lists:
        holder = [u for u in units if lead in u.text]
        assert len(holder) == 1, lead
        lines = holder[0].text.split("\n")
        start = lines.index(lead)
        assert lines[start + 1:start + 1 + len(items)] == [f"- {item}" for item in items]
    for heading in generated.headings:
        mark = heading.split()[-1]
        assert any(mark in u.title or mark in u.section or mark in u.text for u in units), heading
    for unit in units:
        assert 1 <= unit.page_start <= unit.page_end
