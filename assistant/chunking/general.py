"""General documents (reports, conclusions, press releases, speeches, statistics): units by their own structure.

A heading owns the paragraphs, lists and tables under it until the next heading of its level
or above; a list stays with the lead-in sentence before it, a table with its lead-in; a
paragraph the document numbers ("1. The Council supports ...") is a numbered paragraph.
A section is one unit while it fits twice the model's input (parts.py then splits it into
chunks that repeat its header); a longer one, and paragraphs under no heading, are cut
between paragraphs into units of about the model's input. A unit of a few words (a
"[check against delivery]" note) joins the unit after it.

Locators say what the unit is: "Section 2.4.1 Action plans for the Central Mediterranean",
"Pillar 1", "Highlights", "Paragraph 4", "Paragraphs 1-3", "Opening remarks, paragraphs 5-8".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from assistant.chunking.rows import base_unit
from assistant.ingest import HEADING, ITEM, PARAGRAPH, ROW, Block, number_value, read_blocks
from assistant.records import Document, SourceLine, Unit

MERGE_BELOW_WORDS = 12  # a unit with fewer words joins the next one
_LOCATOR_CHARS = 90


@dataclass
class Element:
    """What a unit is made of and never cut inside: a paragraph with its list or table, or a numbered paragraph."""

    blocks: list[Block]
    number: str = ""  # a numbered paragraph's own number

    def lines(self) -> list[str]:
        out: list[str] = []
        header: list[str] = []
        for block in self.blocks:
            if block.kind == ROW:
                if not header:
                    header = block.cells
                    continue
                out.append("- " + "; ".join(_cell(h, c) for h, c in zip(header + [""] * len(block.cells), block.cells)
                                            if c))
            elif block.kind == ITEM:
                out.append(f"{block.marker} {block.text}" if block.marker not in ("", "-") else f"- {block.text}")
            else:
                out.append(f"{self.number}. {block.text}" if self.number and block is self.blocks[0] else block.text)
        if header and len(self.blocks) == 1 + (self.blocks[0].kind != ROW):  # a header row alone: keep it as text
            out.append(" ".join(header))
        return out

    @property
    def pages(self) -> tuple[int, int]:
        return min(b.page_start for b in self.blocks), max(b.page_end for b in self.blocks)


def _cell(header: str, cell: str) -> str:
    return f"{header}: {cell}" if header else cell


@dataclass
class Section:
    heading: Block | None
    path: list[str]  # the headings above this one
    elements: list[Element] = field(default_factory=list)


def parse_general(document: Document, lines: list[SourceLine], count: Callable[[str], int], budget: int) -> list[Unit]:
    """The units of a general document, in reading order."""
    reading = read_blocks(lines, document.title)
    sections = _sections(reading.blocks)
    units: list[Unit] = []
    pending: list[str] = []  # lines of a too-small unit, carried into the next
    pending_pages: tuple[int, int] | None = None
    drafts = [draft for section in sections for draft in _drafts(section, count, budget)]
    for position, draft in enumerate(drafts):
        words = sum(len(line.split()) for line in draft.lines)
        if words < MERGE_BELOW_WORDS and position + 1 < len(drafts) and draft.kind != "section":
            pending += draft.lines
            pending_pages = draft.pages if pending_pages is None else (pending_pages[0], draft.pages[1])
            continue
        if pending:
            draft.lines = pending + draft.lines
            draft.pages = (min(pending_pages[0], draft.pages[0]), max(pending_pages[1], draft.pages[1]))
            pending, pending_pages = [], None
        units.append(base_unit(document, draft.kind, draft.key, draft.locator, draft.number, draft.title,
                               draft.section, draft.pages, "\n".join(draft.lines), {}))
    if pending and units:  # a last note of a few words goes with the unit before it
        units[-1].text += "\n" + "\n".join(pending)
        units[-1].page_end = max(units[-1].page_end, pending_pages[1])
    return units


def _sections(blocks: list[Block]) -> list[Section]:
    sections = [Section(None, [])]
    stack: list[tuple[int, str, bool]] = []  # (level, heading text, has content under it)
    for block in blocks:
        if block.kind == HEADING:
            # A heading with nothing under it yet stays above the next one ("ANNEX ..." > "EU ACTION PLAN ...").
            while stack and stack[-1][0] >= block.level and stack[-1][2]:
                stack.pop()
            sections.append(Section(block, [title for _, title, _ in stack]))
            stack.append((block.level, _heading_title(block), False))
            continue
        section = sections[-1]
        if stack:
            stack[-1] = (stack[-1][0], stack[-1][1], True)
            for index in range(len(stack) - 1):  # a parent with a child holding text now has content too
                stack[index] = (stack[index][0], stack[index][1], True)
        _add(section, block)
    return [s for s in sections if s.elements or s.heading is not None and not _has_child(sections, s)]


def _has_child(sections: list[Section], section: Section) -> bool:
    position = sections.index(section)
    following = sections[position + 1] if position + 1 < len(sections) else None
    return following is not None and _heading_title(section.heading) in following.path


def _add(section: Section, block: Block) -> None:
    last = section.elements[-1] if section.elements else None
    if block.kind == ITEM:
        numbered = block.marker[:-1] if block.marker[:-1].isdigit() else ""
        attached = last is not None and (last.blocks[0].lead_in or last.blocks[-1].kind == ITEM) and not last.number
        if numbered and not attached:
            section.elements.append(Element([block], number=numbered))  # "1. The Council supports ...": a paragraph
            return
        if attached:
            last.blocks.append(block)
        else:
            section.elements.append(Element([block]))
        return
    if block.kind == ROW:
        if last is not None and (last.blocks[-1].kind == ROW or (last.blocks[0].lead_in and len(last.blocks) == 1)):
            last.blocks.append(block)
        else:
            section.elements.append(Element([block]))
        return
    if last is not None and len(last.blocks) == 1 and last.blocks[0].lead_in and block.kind == PARAGRAPH:
        last.blocks.append(block)  # "Top migratory routes:" and the paragraph it announces
        return
    section.elements.append(Element([block]))


def _heading_title(block: Block) -> str:
    return block.text


@dataclass
class _Draft:
    kind: str
    key: str
    locator: str
    number: int | None
    title: str
    section: str
    pages: tuple[int, int]
    lines: list[str]


def _heading_locator(block: Block) -> tuple[str, int | None, str]:
    """(locator, number, title) of a heading: 'Section 2.4.1 Action plans ...', 'Pillar 1', 'Highlights'."""
    if block.name:
        value = number_value(block.marker)
        rest = block.text.split(":", 1)[1].strip() if ":" in block.text else ""
        return f"{block.name} {value if value is not None else block.marker}", value, rest or block.text
    if block.marker:
        value = int(block.marker.split(".")[0]) if block.marker.split(".")[0].isdigit() else None
        return _short(f"Section {block.marker} {block.text}"), value, block.text
    return _short(block.text), None, block.text


def _short(text: str) -> str:
    return text if len(text) <= _LOCATOR_CHARS else text[:_LOCATOR_CHARS - 1].rstrip() + "…"


def _drafts(section: Section, count: Callable[[str], int], budget: int) -> list[_Draft]:
    elements = section.elements
    if section.heading is not None:
        locator, number, title = _heading_locator(section.heading)
        path = " > ".join(section.path + [section.heading.text])
        heading_line = section.heading.text
        key = "section-" + _slug(section.heading.marker if section.heading.marker and not section.heading.name
                                 else locator)
        body = [line for element in elements for line in element.lines()]
        pages = (section.heading.page_start, max([section.heading.page_end] + [e.pages[1] for e in elements]))
        if count("\n".join([heading_line, *body])) <= 2 * budget or len(elements) <= 1:
            return [_Draft("section", key, locator, number, title, path, pages, [heading_line, *body])]
        drafts = []
        for first, last, group in _groups(elements, count, budget):
            span = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
            lines = [heading_line] if not drafts else []
            lines += [line for element in group for line in element.lines()]
            group_pages = (min(e.pages[0] for e in group), max(e.pages[1] for e in group))
            if not drafts:
                group_pages = (section.heading.page_start, group_pages[1])
            drafts.append(_Draft("section", f"{key}-p{first}", f"{locator}, {span}", number, title, path, group_pages,
                                 lines))
        return drafts
    drafts = []
    for first, last, group in _groups(elements, count, budget):
        numbers = [e.number for e in group]
        if all(numbers):
            first_label, last_label = numbers[0], numbers[-1]
        else:
            first_label, last_label = str(first), str(last)
        single = first_label == last_label
        locator = f"Paragraph {first_label}" if single else f"Paragraphs {first_label}-{last_label}"
        kind = "paragraph" if single and all(numbers) else "passage"
        number = int(first_label) if single and first_label.isdigit() else None
        pages = (min(e.pages[0] for e in group), max(e.pages[1] for e in group))
        lines = [line for element in group for line in element.lines()]
        drafts.append(_Draft(kind, f"paragraphs-{_slug(first_label)}", locator, number, "", "", pages, lines))
    return drafts


def _groups(elements: list[Element], count: Callable[[str], int], budget: int) -> list[tuple[int, int, list[Element]]]:
    """Consecutive elements packed up to the budget: (first position, last position, elements), positions from 1."""
    groups: list[tuple[int, int, list[Element]]] = []
    current: list[Element] = []
    start = 1
    for position, element in enumerate(elements, start=1):
        candidate = current + [element]
        if current and count("\n".join(line for e in candidate for line in e.lines())) > budget:
            groups.append((start, position - 1, current))
            current, start = [element], position
        else:
            current = candidate
    if current:
        groups.append((start, start + len(current) - 1, current))
    return groups


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")[:60] or "x"
