"""General ingestion on the 13 real documents of tests/fixtures/documents/: units, locators, nothing lost.

Each fixture is read as `assistant add` reads it (kind from its structure, metadata from the
document) and its units are checked against the file itself (tests/fixtures_documents.py):
no unit is made of furniture, every heading has its text, every lead-in its items, every
sentence of the source (furniture and metadata lines aside) is in exactly one unit.
"""

from __future__ import annotations

import re

import pytest

from assistant.chunking import chunks_for_unit, unit_sentences, units_for_document
from assistant.chunking.parts import ChunkSettings
from assistant.chunking.tokens import TokenCounter
from assistant.ingest import load_source, read_blocks
from assistant.ingest.metadata import derive_metadata
from assistant.ingest.structure import detect_kind
from assistant.models import model_path
from assistant.records import Document
from assistant.settings import DEFAULT_MODEL
from tests.fixtures_documents import FILES, FIXTURES, KNOWN_LOSSES, furniture_phrases, is_furniture, normalize, \
    source_sentences

# What each fixture yields: (locator, pages) per unit, in reading order.
EXPECTED_UNITS = {
    "commission-news-central-mediterranean-action-plan-2022-11-21.html": [
        ("Paragraphs 1-3", "1"), ("Pillar 1", "1"), ("Pillar 2", "1")],
    "commission-news-western-balkans-action-plan-2022-12-05.md": [
        ("Paragraphs 1-4", "1"), ("Paragraph 5", "1"), ("Pillar 1", "1")],
    "commission-news-western-mediterranean-atlantic-action-plan-2023-06-06.html": [
        ("Paragraphs 1-3", "1"), ("Paragraph 4", "1"), ("Pillar 1", "1")],
    "commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf": [
        ("Paragraphs 1-6", "1"), ("NOTE FOR THE ATTENTION OF THE MEMBERS OF THE GRI", "1"),
        ("NOTE TO THE MEMBERS OF THE GRI", "2"), ("Section 1 BACKGROUND", "2"),
        ("EU ACTION PLAN FOR THE CENTRAL MEDITERRANEAN", "3")],
    "commission-pact-on-migration-and-asylum-questions-and-answers-2020-09-23.md": [
        ("What exactly does the Pact contain?", "1")],
    "commission-speech-avramopoulos-ep-plenary-asylum-migration-2019-01-15.txt": [("Opening remarks", "1")],
    "council-conclusions-on-migration-2015-07-20.txt": [("Paragraph 1", "1"), ("Paragraph 2", "1")],
    "ep-press-release-meps-approve-new-migration-and-asylum-pact.html": [
        ("Paragraphs 1-2", "1"), ("Solidarity and responsibility", "1"), ("Addressing situations of crisis", "1")],
    "euaa-asylum-report-2024-contents-introduction-readers-guide.pdf": [
        ("Table of Contents", "1"), ("Introduction", "2"), ("Legal basis", "3"), ("Qualitative information", "3")],
    "euaa-latest-asylum-trends-september-2024.md": [("Paragraphs 1-5", "1"), ("Trends", "1")],
    "european-council-president-letter-on-migration-2016-03-04.txt": [("Letter, section 1", "1"), ("Letter, section 2", "1")],
    "eurostat-asylum-applications-annual-statistics-2024-03-20.html": [("Highlights", "1")],
    "frontex-eu-external-borders-august-2022.txt": [("Paragraphs 1-4", "1"), ("Paragraphs 5-7", "1")],
}
EXPECTED_KINDS = {name: ("letter" if name.startswith("european-council-president-letter") else "general") for name in FILES}


def read(name: str):
    source = load_source(FIXTURES / name)
    kind = detect_kind(source.lines)
    derived = derive_metadata(source.lines, source.hints, name, kind)
    document = Document(id="fixture", title=derived.title, issuing_body=derived.issuer,
                        reference=derived.reference or "—", date=derived.date, kind=kind, language=derived.language,
                        source_file=name, genre=derived.genre)
    return source, document, units_for_document(document, source.lines)


@pytest.fixture(scope="module")
def fixtures():
    return {name: read(name) for name in FILES}


def test_every_fixture_is_listed_with_its_expected_units():
    assert sorted(EXPECTED_UNITS) == FILES and len(FILES) == 13


@pytest.mark.parametrize("name", FILES)
def test_kind_is_told_from_the_structure(fixtures, name):
    assert fixtures[name][1].kind == EXPECTED_KINDS[name]


@pytest.mark.parametrize("name", FILES)
def test_units_and_their_locators(fixtures, name):
    _, _, units = fixtures[name]
    assert [(u.locator, u.pages) for u in units] == EXPECTED_UNITS[name]
    assert len({u.unit_id for u in units}) == len(units)


@pytest.mark.parametrize("name", FILES)
def test_nothing_lost_nothing_doubled(fixtures, name):
    """Each sentence is in one unit (as often as the source has it, inside longer sentences too);
    each heading is a unit's heading or in the section path of the units under it."""
    _, _, units = fixtures[name]
    texts = [normalize(u.text) for u in units]
    sentences, headings = source_sentences(name)
    missing = []
    for sentence in sentences:
        found = sum(text.count(sentence) for text in texts)
        expected = sum(other.count(sentence) for other in sentences + headings)
        if sentence in KNOWN_LOSSES.get(name, ()):
            assert found == 0, f"{sentence!r} is no longer lost: take it off KNOWN_LOSSES"
            continue
        if found != expected:
            missing.append((sentence, found, expected))
    assert not missing, missing
    for heading in headings:
        bare = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", heading)
        if heading in KNOWN_LOSSES.get(name, ()):
            assert not any(bare in u.text or bare in u.section for u in units)
            continue
        assert any(bare in u.title or bare in u.section or bare in u.text for u in units), heading


@pytest.mark.parametrize("name", FILES)
def test_no_furniture_in_any_unit(fixtures, name):
    _, _, units = fixtures[name]
    text = "\n".join(u.text for u in units)
    lines = set(text.split("\n"))
    for phrase in furniture_phrases(name):
        if len(phrase) >= 12 and not phrase.startswith(("running header", "footer:", "nav", "search form")):
            assert phrase not in text, phrase
        assert phrase not in lines, phrase
    for unit in units:
        assert not all(is_furniture(name, line) for line in unit.text.split("\n")), unit.locator


@pytest.mark.parametrize("name", [n for n in FILES if EXPECTED_KINDS[n] == "general"])
def test_what_is_dropped_is_furniture_or_metadata_and_nothing_else(fixtures, name):
    source, document, _ = fixtures[name]
    reading = read_blocks(source.lines, source.hints.title)
    for text, category, _ in reading.dropped:
        assert is_furniture(name, text), (category, text)


@pytest.mark.parametrize("name", FILES)
def test_headings_own_their_text_and_lead_ins_their_items(fixtures, name):
    _, _, units = fixtures[name]
    for unit in units:
        lines = unit.text.split("\n")
        if unit.kind == "section":
            assert unit.title and unit.title in unit.text, unit.locator
            assert len(lines) >= 2, f"{unit.locator}: a heading without its text"
        for position, line in enumerate(lines):
            if line.endswith(":") and position + 1 < len(lines):
                assert lines[position + 1], unit.locator
        assert not any(line.endswith(":") for line in lines[-1:]), f"{unit.locator} ends on a lead-in"


def test_a_list_stays_with_its_lead_in(fixtures):
    _, _, units = fixtures["commission-news-western-balkans-action-plan-2022-12-05.md"]
    unit = next(u for u in units if "There are 20 operational measures in 5 pillars in the plan:" in u.text)
    lines = unit.text.split("\n")
    start = lines.index("There are 20 operational measures in 5 pillars in the plan:")
    assert lines[start + 1:start + 6] == ["1. strengthening border management along the routes",
                                          "2. swift asylum procedures and supporting reception capacity",
                                          "3. fighting migrant smuggling", "4. enhancing readmission cooperation and returns",
                                          "5. achieving visa policy alignment"]
    _, _, frontex = fixtures["frontex-eu-external-borders-august-2022.txt"]
    lead = next(u for u in frontex if "Key developments:" in u.text).text.split("\n")
    assert lead[lead.index("Key developments:") + 1] == "- 188 200 irregular entries recorded in first eight months of 2022"


def test_hard_wrapped_lines_are_rejoined(fixtures):
    _, _, units = fixtures["european-council-president-letter-on-migration-2016-03-04.txt"]
    text = "\n".join(u.text for u in units)
    assert "EU-Turkey cooperation and our internal meeting afterwards" in text
    assert "the so-called wave-through policy of migrants" in text
    assert all(len(line) > 120 for u in units for line in u.text.split("\n")[1:])
    _, _, euaa = fixtures["euaa-asylum-report-2024-contents-introduction-readers-guide.pdf"]
    assert "The EUAA Asylum Report: Annual Report on the Situation of Asylum in the European Union is produced in " \
           "accordance with the EUAA Regulation" in euaa[2].text


def test_numbered_and_titled_headings_give_their_locators(fixtures):
    _, _, note = fixtures["commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"]
    background = next(u for u in note if u.locator == "Section 1 BACKGROUND")
    assert background.text.startswith("BACKGROUND\nThe arrivals via sea along the Central Mediterranean route")
    annex = note[-1]
    assert annex.section == "ANNEX to note SI(2022) 436 > EU ACTION PLAN FOR THE CENTRAL MEDITERRANEAN"
    _, _, news = fixtures["commission-news-central-mediterranean-action-plan-2022-11-21.html"]
    assert news[1].title == "Working with partner countries and international organisations"
    _, _, report = fixtures["euaa-asylum-report-2024-contents-introduction-readers-guide.pdf"]
    assert report[2].section == "Reader’s guide > Legal basis"
    toc = report[0].text.split("\n")
    assert "- Section: 2.4. External dimension of the EU’s asylum policy; Page: 42" in toc


def test_numbered_paragraphs_are_cited_by_their_own_number(fixtures):
    _, _, units = fixtures["council-conclusions-on-migration-2015-07-20.txt"]
    assert [(u.kind, u.number) for u in units] == [("paragraph", 1), ("paragraph", 2)]
    assert units[1].text.startswith("2. Accordingly, the Council welcomes preparations for the Valletta Summit")


@pytest.mark.parametrize("name", FILES)
def test_units_are_sized_by_the_model_and_parts_repeat_their_header(fixtures, name):
    source, document, units = fixtures[name]
    count = TokenCounter(model_path(DEFAULT_MODEL))
    settings = ChunkSettings(max_tokens=256, tokenizer=DEFAULT_MODEL)
    for unit in units:
        assert len(unit.text.split()) >= 12 or unit.kind == "section", f"{unit.locator}: a unit of a line"
        if unit.kind in ("passage", "paragraph") and len(unit.text.split("\n")) > 1:
            assert count(unit.text) <= 256, unit.locator
        chunks = chunks_for_unit(unit, document, settings, count)
        assert all(count(c.index_text) <= 256 for c in chunks)
        assert len({c.text.split("\n")[1] for c in chunks}) == 1
        assert all(c.text.split("\n")[0].startswith(chunks[0].text.split("\n")[0]) for c in chunks)
        assert unit_sentences(unit), unit.locator


def test_pdf_units_carry_their_pages(fixtures):
    _, _, units = fixtures["commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"]
    assert [u.page_start for u in units] == [1, 1, 2, 2, 3]
    assert all(re.fullmatch(r"\d+(-\d+)?", u.pages) for u in units)
