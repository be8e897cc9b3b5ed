"""A document's metadata read from the document itself, when the user does not give it.

Nothing is filled in by default: a field the document does not give stays empty (an
undated document is stored undated) and `Derived.sources` says where each value came from.

- date: a structured date in the file (HTML `<time datetime>` and meta tags), else the first
  dateline or metadata line ("Brussels, 22 July 2024", "• 20/07/2015", "published on ...",
  "Data extracted on ..."), else a month the text keeps returning to ("September 2024"
  five times: "2024-09"); dates before 1950 or in the future are never taken; planned
  updates, deadlines and revision stamps are never the date.
- title: the file's own title (HTML title, PDF /Title, DOCX title), else its title line
  (a `# Title`, a first title-like line), else a "Subject:" line, else for a letter its
  sender, else the file name.
- issuer: the letterhead or site line ("Council of the EU"), a repost's "Source: ..." line,
  a PDF/DOCX author that names a known body, the address it was published at, else the
  body the title and opening paragraphs name most.
- reference: WK/ST numbers, COM/SWD/JOIN/SI/C(YYYY) NNN, a press-release number in the
  metadata list, in the front matter, running headers or a "Ref."/"ANNEX to" line.
- genre: the title's words (conclusions, report, statistics, speech, Q&A, "EU Action Plan"),
  a type label ("News article", "Press release"), the address or page markup, the
  structure (a letter, a speech's salutation), a text made of figures (statistics).
- language: the file's own (HTML lang), else py3langid on the text.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from assistant.errors import AssistantError
from assistant.ingest.blocks import PARAGRAPH, Reading, clean_line, read_blocks
from assistant.ingest.dates import check_document_date, find_dates
from assistant.ingest.furniture import METADATA, PAGE
from assistant.ingest.hints import Hints
from assistant.ingest.issuers import issuer_mentions, issuer_named, issuer_of_url
from assistant.records import SourceLine

_DATE_CUE = re.compile(r"\b(?:published|issued|dated|adopted|extracted|date)\b|news article|press release", re.IGNORECASE)
_NOT_THE_DATE = re.compile(r"\b(?:planned|next|upcoming|revision|deadline|until|expected|due)\b", re.IGNORECASE)
_REFERENCES = (
    re.compile(r"\bWK\s?\d{1,5}/\d{4}(?:\s(?:INIT|REV\s?\d+|ADD\s?\d+|COR\s?\d+))?"),
    re.compile(r"\bST\s?\d{1,5}/\d{2,4}(?:\s(?:INIT|REV\s?\d+|ADD\s?\d+|COR\s?\d+))?"),
    re.compile(r"\b(?:COM|SWD|JOIN|SEC|SI|C)\s?\(\d{4}\)\s?\d{1,5}(?:\s(?:final))?"),
    re.compile(r"\bPE-CONS\s\d{1,4}/\d{2}"),
    re.compile(r"\bEUCO\s\d{1,4}/\d{2}"),
)
_PRESS_NUMBER = re.compile(r"^\d{1,4}/\d{2}$")
_SUBJECT = re.compile(r"^Subject:\s*(?:\(new item\)\s*)?(.+)$", re.IGNORECASE)
_REF_LINE = re.compile(r"^(?:Ref\.?|Reference|Our ref|ANNEX to)\b", re.IGNORECASE)
_GENRE_TITLE = (
    (re.compile(r"\bconclusions?\b", re.IGNORECASE), "conclusions"),
    (re.compile(r"\bquestions and answers\b|\bQ&A\b", re.IGNORECASE), "press_release"),  # Commission Q&As are press material
    (re.compile(r"\b(?:speech|remarks|address|statement by)\b", re.IGNORECASE), "speech"),
    (re.compile(r"\bstatistics\b|\btrends\b", re.IGNORECASE), "statistics"),
    (re.compile(r"\breport\b", re.IGNORECASE), "report"),
    (re.compile(r"^(?:EU\s+|the\s+)?action plan\b", re.IGNORECASE), "action_plan"),
    (re.compile(r"\bpress release\b", re.IGNORECASE), "press_release"),
)
_GENRE_LABEL = (
    (re.compile(r"\bnews article\b", re.IGNORECASE), "news"),
    (re.compile(r"\bpress release\b", re.IGNORECASE), "press_release"),
    (re.compile(r"^(?:speech|remarks|opening remarks)\b", re.IGNORECASE), "speech"),
    (re.compile(r"^statement\b", re.IGNORECASE), "statement"),
)
_GENRE_PATH = (("/news/", "news"), ("/press-releases/", "press_release"), ("/press-release", "press_release"),
               ("/presscorner/", "press_release"), ("/speech", "speech"), ("remarks-", "speech"),
               ("/statistics-explained/", "statistics"), ("/publications/", "report"))
_SPEECH_CUES = re.compile(r"check against delivery|^honourable members|^ladies and gentlemen|^dear colleagues, dear",
                          re.IGNORECASE)
_NUMBER = re.compile(r"\d")


@dataclass
class Derived:
    """What the document says about itself; empty where it says nothing. `sources`: field -> where from."""

    title: str = ""
    date: str = ""
    issuer: str = ""
    reference: str = ""
    genre: str = ""
    language: str = ""
    source_url: str = ""
    sources: dict[str, str] = field(default_factory=dict)


def title_from_name(filename: str) -> str:
    """'commission-speech-2019-01-15.txt' -> 'Commission speech' (a trailing date left out)."""
    stem = Path(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    stem = re.sub(r"[-_ ]?\d{4}[-_]\d{2}[-_]\d{2}$", "", stem)
    text = re.sub(r"[_\\-]+", " ", stem).strip()[:200]
    return text[:1].upper() + text[1:] if text else ""


def derive_metadata(lines: list[SourceLine], hints: Hints, filename: str, kind: str,
                    today: date | None = None) -> Derived:
    """The metadata the document gives about itself (see the module docstring)."""
    reading = read_blocks(lines, hints.title)
    derived = Derived(source_url=hints.source_url)
    if hints.source_url:
        derived.sources["source_url"] = "the file"
    front = [clean_line(line.text) for line in lines if line.text.strip()][:25]
    _date(derived, reading, hints, front, lines, today)
    _title(derived, reading, hints, front, filename, kind)
    _issuer(derived, reading, hints)
    _reference(derived, reading, front, lines)
    _genre(derived, reading, hints, front, kind)
    _language(derived, reading, hints)
    return derived


def _valid(value: str, today: date | None) -> bool:
    try:
        return bool(check_document_date(value, today=today))
    except AssistantError:
        return False


def _date(derived: Derived, reading: Reading, hints: Hints, front: list[str], lines: list[SourceLine],
          today: date | None) -> None:
    if hints.date and _valid(hints.date, today):
        derived.date, derived.sources["date"] = hints.date, "the page's own date"
        return
    candidates = [text for text, category, _ in reading.dropped if category == METADATA] + \
                 [text for text in front if _DATE_CUE.search(text)]
    for text in candidates:
        if _NOT_THE_DATE.search(text):
            continue
        for found in find_dates(text):
            if not found.month_only and _valid(found.value, today):
                derived.date, derived.sources["date"] = found.value, repr(text[:80])
                return
    body = "\n".join(block.text for block in reading.blocks)
    months = Counter(f.value for f in find_dates(body) if f.month_only and _valid(f.value, today))
    ranked = months.most_common(2)
    if ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        derived.date = ranked[0][0]
        derived.sources["date"] = f"the month the text names most ({ranked[0][1]} times)"


def _title(derived: Derived, reading: Reading, hints: Hints, front: list[str], filename: str, kind: str) -> None:
    if hints.title.strip():
        derived.title, derived.sources["title"] = " ".join(hints.title.split()), "the file's title"
        return
    if reading.title_lines:
        derived.title, derived.sources["title"] = ": ".join(reading.title_lines), "the document's title line"
        return
    for text in front:
        subject = _SUBJECT.match(text)
        if subject:
            derived.title, derived.sources["title"] = subject.group(1).strip(" '‘’\""), "its Subject line"
            return
    if kind == "letter":
        sender = next((issuer_named(text) for text, category, _ in reading.dropped
                       if category == METADATA and issuer_named(text)), None)
        office = next((text for text, category, _ in reading.dropped if category == METADATA
                       and text.lower().startswith("the president")), "")
        if sender is not None:
            who = f"{office.removeprefix('The ').removeprefix('the ')} of the {sender.name}" if office else f"the {sender.name}"
            derived.title, derived.sources["title"] = f"Letter from the {who}".replace("the the", "the"), "its letterhead"
            return
    derived.title, derived.sources["title"] = title_from_name(filename), "the file name"


def _issuer(derived: Derived, reading: Reading, hints: Hints) -> None:
    for text, category, _ in reading.dropped:  # a letterhead or site line, a repost's "Source: ..." line
        if category == METADATA:
            source = re.match(r"^Source:\s*([^,(]+)", text)
            named = issuer_named(source.group(1)) if source else issuer_named(text)
            if named is not None and (source or len(text.split()) <= 8):
                derived.issuer, derived.sources["issuer"] = named.name, repr(text[:80])
                return
    if hints.issuer and issuer_named(hints.issuer):
        derived.issuer, derived.sources["issuer"] = issuer_named(hints.issuer).name, "the file's author"
        return
    by_url = issuer_of_url(hints.source_url) if hints.source_url else None
    if by_url is not None:
        derived.issuer, derived.sources["issuer"] = by_url.name, f"its address ({urlparse(hints.source_url).netloc})"
        return
    title = derived.title if derived.sources.get("title") != "the file name" else ""
    opening = " ".join([block.text for block in reading.blocks if block.kind == PARAGRAPH][:3])
    counts: Counter[str] = Counter(issuer_mentions(opening))
    for name, found in issuer_mentions(title).items():
        counts[name] += 3 * found
    if counts:
        name, _ = counts.most_common(1)[0]
        derived.issuer, derived.sources["issuer"] = name, "the body its title and opening name most"
        return
    counts = Counter(issuer_mentions(" ".join(block.text for block in reading.blocks)))
    if counts and counts.most_common(1)[0][1] >= 2:
        derived.issuer, derived.sources["issuer"] = counts.most_common(1)[0][0], "the body its text names most"


def _reference(derived: Derived, reading: Reading, front: list[str], lines: list[SourceLine]) -> None:
    places = [text for text, category, _ in reading.dropped if category in (METADATA, PAGE)] + front + \
             [clean_line(line.text) for line in lines if _REF_LINE.match(clean_line(line.text))]
    for text in places:
        if "ares(" in text.lower():
            continue
        for pattern in _REFERENCES:
            found = pattern.search(text)
            if found:
                derived.reference, derived.sources["reference"] = " ".join(found.group(0).split()), repr(text[:80])
                return
    for text, category, _ in reading.dropped:
        item = text.lstrip("•-–* ").strip()
        if category == METADATA and _PRESS_NUMBER.match(item):
            derived.reference, derived.sources["reference"] = item, "its metadata list"
            return


def _genre(derived: Derived, reading: Reading, hints: Hints, front: list[str], kind: str) -> None:
    if kind == "action_file":
        derived.genre, derived.sources["genre"] = "action_file", "its action table"
        return
    title = derived.title if derived.sources.get("title") != "the file name" else ""
    for pattern, genre in _GENRE_TITLE:
        if title and pattern.search(title):
            derived.genre, derived.sources["genre"] = genre, "its title"
            return
    labels = [text for text, category, _ in reading.dropped if category == METADATA] + front[:8]
    for text in labels:
        for pattern, genre in _GENRE_LABEL:
            if pattern.search(text.lstrip("•-–* ")):
                derived.genre, derived.sources["genre"] = genre, repr(text[:80])
                return
    path = urlparse(hints.source_url).path.lower() if hints.source_url else ""
    if hints.source_url and issuer_of_url(hints.source_url) is not None:
        for token, genre in _GENRE_PATH:
            if token in path:
                derived.genre, derived.sources["genre"] = genre, "its address"
                return
    if hints.genre:
        derived.genre, derived.sources["genre"] = hints.genre, "the page's markup"
        return
    if kind == "letter":
        derived.genre, derived.sources["genre"] = "letter", "its salutation"
        return
    if any(_SPEECH_CUES.search(text) for text in front):
        derived.genre, derived.sources["genre"] = "speech", "its opening"
        return
    texts = [block.text for block in reading.blocks if block.kind != "heading"]
    if len(texts) >= 3 and sum(1 for t in texts if _NUMBER.search(t)) >= 0.9 * len(texts):
        derived.genre, derived.sources["genre"] = "statistics", "a text made of figures"


LANGUAGE_CONFIDENCE = 0.5  # py3langid's normalised probability below which the text's language is not told


@lru_cache(maxsize=1)
def _identifier():
    import py3langid.langid as langid

    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


def _language(derived: Derived, reading: Reading, hints: Hints) -> None:
    import pycountry

    if hints.language and pycountry.languages.get(alpha_2=hints.language):
        derived.language, derived.sources["language"] = hints.language, "the file"
        return
    text = " ".join(block.text for block in reading.blocks)
    if len(text.split()) < 3:
        return
    code, probability = _identifier().classify(text[:20000])
    if probability >= LANGUAGE_CONFIDENCE and pycountry.languages.get(alpha_2=code):
        derived.language, derived.sources["language"] = code, f"its text (py3langid, p = {probability:.2f})"
