"""The 13 real documents of tests/fixtures/documents/, read the way the tests need them.

`source_texts` reads a fixture independently of the pipeline under test (BeautifulSoup for
HTML, the raw lines for text and Markdown), so that "nothing lost" is checked against the
file itself. Furniture phrases come from SOURCES.json; what we also leave out of the text as
metadata (datelines, title lines, letterheads) is listed here per file, so that it is a
claim a test can refute, not whatever the code happens to drop.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from assistant.chunking import split_sentences
from assistant.ingest import load_lines, markdown_to_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "documents"
SOURCES = {entry["file"]: entry for entry in json.loads((FIXTURES / "SOURCES.json").read_text(encoding="utf-8"))}
FILES = sorted(SOURCES)

# Lines that are the document's metadata (read into its date, title, issuer, reference), not its text.
METADATA_LINES: dict[str, tuple[str, ...]] = {
    "commission-news-central-mediterranean-action-plan-2022-11-21.html": (
        "Commission proposes action plan for challenges in Central Mediterranean",),
    "commission-news-western-mediterranean-atlantic-action-plan-2023-06-06.html": (
        "Migration routes: Commission proposes new Action Plan for the Western Mediterranean and Atlantic routes",),
    "ep-press-release-meps-approve-new-migration-and-asylum-pact.html": ("MEPs approve the new Migration and Asylum Pact",),
    "eurostat-asylum-applications-annual-statistics-2024-03-20.html": ("Asylum applications - annual statistics",),
    "council-conclusions-on-migration-2015-07-20.txt": ("Council conclusions on migration", "• 20/07/2015", "• 606/15"),
    "frontex-eu-external-borders-august-2022.txt": (),
    "commission-speech-avramopoulos-ep-plenary-asylum-migration-2019-01-15.txt": ("Strasbourg, 15 January 2019",),
    "european-council-president-letter-on-migration-2016-03-04.txt": ("European Council", "The President",
                                                                      "Brussels, 4 March 2016"),
    "commission-news-western-balkans-action-plan-2022-12-05.md": (
        "# Commission action plan for migratory routes in Western Balkans",),
    "euaa-latest-asylum-trends-september-2024.md": (),
    "commission-pact-on-migration-and-asylum-questions-and-answers-2020-09-23.md": (
        "# New Pact on Migration and Asylum: Questions and Answers",),
    "commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf": (
        "EUROPEAN COMMISSION", "Brussels, 20 November 2022"),
    "euaa-asylum-report-2024-contents-introduction-readers-guide.pdf": (
        "# Asylum Report 2024", "## Annual Report on the Situation of Asylum in the European Union"),
}

# Source text that does not reach the units, and why (each is a known limit, reported in the README).
KNOWN_LOSSES: dict[str, tuple[str, ...]] = {
    # trafilatura drops a heading with no text under it at the very end of a page's article
    "ep-press-release-meps-approve-new-migration-and-asylum-pact.html": ("Screening of third-country nationals at EU border",),
}

_LABEL = re.compile(r"^[a-z][a-z /()-]*(?:\(added\))?:\s*", re.IGNORECASE)


@lru_cache(maxsize=None)
def furniture_phrases(name: str) -> tuple[str, ...]:
    """SOURCES.json's furniture of a file as the phrases a page shows ('meta list: A / B' -> 'A', 'B')."""
    phrases: list[str] = []
    for entry in SOURCES[name]["furniture"]:
        body = _LABEL.sub("", entry) if re.match(r"^[a-z][a-z /()-]*:\s", entry, re.IGNORECASE) and "http" not in entry[:12] else entry
        body = re.sub(r"\((?:img alt|added)\)", "", body)
        for piece in re.split(r"\s+/\s+|\s+>\s+|,\s+(?=[A-Z'])|'\s*/\s*'", body):
            piece = piece.strip(" '\"")
            if piece:
                phrases.append(piece)
        phrases.append(entry.strip())
    return tuple(phrases)


def normalize(text: str) -> str:
    return " ".join(text.split())


def is_furniture(name: str, text: str) -> bool:
    line = normalize(markdown_to_text(text.lstrip("#").strip()))
    if not line:
        return True
    candidates = [normalize(markdown_to_text(p)) for p in furniture_phrases(name)]
    metadata = [normalize(markdown_to_text(m.lstrip("#").strip())) for m in METADATA_LINES[name]]
    return any(line == c or (len(c) >= 12 and c in line and len(line) <= len(c) + 25) for c in candidates) or \
        line in metadata or line.lstrip("• ") in [m.lstrip("• ") for m in metadata]


_HEADING_MARK = re.compile(r"^\s*(?:#{1,6}\s+|\*\*[^*]+\*\*\s*$)")


def _html_lines(path: Path) -> list[tuple[str, bool]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article")
    lines: list[tuple[str, bool]] = []
    for element in article.find_all(["h1", "h2", "h3", "h4", "p", "li", "figcaption", "div"]):
        if element.find(["p", "li", "div", "ul", "ol"]):
            continue  # a container: its children are read
        for piece in element.get_text("\n").split("\n"):
            if piece.strip():
                lines.append((piece.strip(), element.name in ("h1", "h2", "h3", "h4")))
    return lines


def _text_lines(path: Path) -> list[list[str]]:
    """Paragraph blocks of a text or Markdown file (blank lines between), the Source line left out."""
    raw = path.read_text(encoding="utf-8").split("\n")
    if raw and raw[0].startswith("Source: http"):
        raw = raw[1:]
    blocks: list[list[str]] = [[]]
    for line in raw:
        if not line.strip() or set(line.strip()) <= set("|- "):
            blocks.append([])
        elif line.strip().startswith("|"):
            blocks.extend([[cell.strip()] for cell in line.strip().strip("|").split("|")])
            blocks.append([])
        else:
            blocks[-1].append(line)
    return [b for b in blocks if b]


def source_sentences(name: str) -> tuple[list[str], list[str]]:
    """(sentences, headings) of a fixture as the file has them, furniture and metadata lines left out."""
    path = FIXTURES / name
    texts: list[tuple[str, bool]] = []
    if path.suffix == ".html":
        texts = [(line, heading) for line, heading in _html_lines(path) if not is_furniture(name, line)]
    elif path.suffix == ".pdf":
        for line in load_lines(path):
            if line.text.strip() and not is_furniture(name, line.text):
                texts.extend((cell, bool(_HEADING_MARK.match(line.text))) for cell in line.text.split("\t"))
    else:
        for block in _text_lines(path):
            kept = [line for line in block if not is_furniture(name, line)]
            if name.startswith("european-council"):  # hard-wrapped prose: the test joins the lines itself
                joined = ""
                for line in kept:
                    joined = joined + line.strip() if joined.endswith("-") and joined[-2:-1].isalpha() else \
                        (joined + " " + line.strip()).strip()
                kept = [joined] if joined else []
            heading = name == "commission-speech-avramopoulos-ep-plenary-asylum-migration-2019-01-15.txt"
            texts.extend((line, bool(_HEADING_MARK.match(line)) or (heading and line == "Opening remarks"))
                         for line in kept)
    sentences: list[str] = []
    headings: list[str] = []
    for text, heading in texts:
        clean = markdown_to_text(re.sub(r"^\s*(?:#{1,6}\s+|[-•*]\s+|\d+\.\s+)", "", text))
        if heading:
            headings.append(normalize(clean))
        else:
            sentences.extend(normalize(s) for s in split_sentences(clean) if len(s) >= 12)
    return sentences, headings
