"""Chunking by action row and letter section, on the real documents."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from assistant.vocabulary import FIELD_LABELS
from assistant.cli import cli
from assistant.ingest import document_path
from assistant.ingest import is_header_row, load_lines
from assistant.models import model_path
from assistant.settings import DEFAULT_MODEL
from assistant.chunking import split_sentences
from assistant.ingest import html_to_lines, markdown_to_text
from assistant.chunking import TokenCounter, tiktoken_length
from tests.conftest import ACTION_FILE_ID, LETTER_ID


def units_of(corpus_units, doc_id, kind=None):
    _, units = corpus_units
    return [u for u in units if u.doc_id == doc_id and (kind is None or u.kind == kind)]


def test_action_file_yields_exactly_the_24_actions_present(corpus_units):
    actions = units_of(corpus_units, ACTION_FILE_ID, "action")
    assert [u.number for u in actions] == list(range(1, 24)) + [29]


def test_missing_actions_are_recorded_in_the_metadata(corpus_units):
    documents, _ = corpus_units
    action_file = next(d for d in documents if d.id == ACTION_FILE_ID)
    assert action_file.missing_actions == (24, 25, 26, 27, 28)


def test_title_split_over_a_page_break_is_merged(units_by_locator):
    action5 = units_by_locator[(ACTION_FILE_ID, "Action 5")]
    assert action5.title == "Continue support for the establishment of the International Migration Cooperation Centre in Istanbul"
    assert action5.page_start < action5.page_end


def test_way_ahead_and_comments_continue_over_the_page_break(units_by_locator):
    action13 = units_by_locator[(ACTION_FILE_ID, "Action 13")]
    assert action13.title.endswith("adequate infrastructure and equipment.")
    assert "Implementation will continue into 2025." in action13.fields["way_ahead"]
    # The comment cut by the page break reads as one sentence again.
    assert "reinforce rights-based approach and IBM coordination contributing" in action13.fields["comments"]


def test_section_heading_and_fields_are_kept(units_by_locator):
    action21 = units_by_locator[(ACTION_FILE_ID, "Action 21")]
    assert action21.section == "IV. Enhance return and readmission cooperation"
    assert action21.fields["lead_actors"] == "Frontex, Commission, BG"
    assert action21.fields["status"] == "Ongoing"
    assert "Bulgaria pilot project" in action21.fields["way_ahead"]
    assert "2074 counselling sessions by 30/06/2024." in action21.fields["comments"]
    assert action21.locator == "Action 21" and action21.doc_date == "2024-07-22"
    assert action21.doc_reference == "WK 10190/2024 INIT"


def test_no_header_row_or_html_survives_in_unit_text(corpus_units):
    _, units = corpus_units
    for unit in units:
        assert "Lead actor(s)\tStatus" not in unit.text
        assert not re.search(r"</?(ul|li|p|b|i|sup|div)\b", unit.text), unit.locator
        assert "&amp;" not in unit.text and "**" not in unit.text


def test_list_items_are_dash_lines_and_entities_unescaped():
    assert html_to_lines('<ul><li>- one &amp; two</li><li>- </li></ul>') == ["- one & two"]


def test_redacted_text_is_kept_visibly_and_flagged(units_by_locator):
    action11 = units_by_locator[(ACTION_FILE_ID, "Action 11")]
    assert "[REDACTED]" in action11.text and action11.redacted
    assert not units_by_locator[(ACTION_FILE_ID, "Action 21")].redacted


def test_footnote_goes_to_the_unit_that_carries_its_mark(units_by_locator):
    assert "Resettlement pledges submitted by Member States" in units_by_locator[(ACTION_FILE_ID, "Action 8")].fields["footnotes"]
    item9 = units_by_locator[(LETTER_ID, "Annex item 9")]
    assert "911 from Italy, 676 from Cyprus" in item9.fields["footnotes"]
    assert "911 from Italy" not in units_by_locator[(LETTER_ID, "Annex item 11")].text


def test_letter_yields_sections_annex_items_and_the_action_plans_table(corpus_units):
    sections = units_of(corpus_units, LETTER_ID, "letter_section")
    items = units_of(corpus_units, LETTER_ID, "annex_item")
    tables = units_of(corpus_units, LETTER_ID, "action_plans_table")
    assert [u.number for u in sections] == list(range(1, len(sections) + 1)) and len(sections) == 17
    assert [u.number for u in items] == list(range(1, 16))
    assert len(tables) == 1 and "EU Action Plan on the Eastern Mediterranean route" in tables[0].text


def test_letter_paragraph_cut_by_a_page_break_is_one_section(units_by_locator):
    section4 = units_by_locator[(LETTER_ID, "Letter, section 4")]
    assert "Our aim should be for our current initiative with Tunisia" in section4.text
    assert (section4.page_start, section4.page_end) == (1, 2)


def test_annex_continuation_rows_merge_into_their_item(units_by_locator):
    item2 = units_by_locator[(LETTER_ID, "Annex item 2")]
    assert "Deployment of border guards from Frontex" in item2.text
    assert "support for assisted voluntary returns from Tunisia to Sub Saharan Africa" in item2.text


def test_every_unit_records_what_a_citation_needs(corpus_units):
    _, units = corpus_units
    for unit in units:
        assert unit.unit_id and unit.doc_id and unit.doc_title and unit.doc_date and unit.kind and unit.locator
        assert 1 <= unit.page_start <= unit.page_end
        assert unit.section


def _source_sentences(corpus_dir, document):
    """Every sentence of the source, header rows, letterhead and page marks aside."""
    sentences = []
    lines = [line for line in load_lines(document_path(corpus_dir, document)) if line.text.strip()]
    if document.kind == "letter":
        salutation = next(i for i, line in enumerate(lines) if line.text.startswith("Dear"))
        first_table = next(i for i, line in enumerate(lines) if is_header_row(line.text))
        lines = lines[salutation:first_table - 1] + lines[first_table:]  # letterhead and annex title are headers
    for line in lines:
        if is_header_row(line.text):
            continue
        cells = line.text.split("\t")
        if len(cells) > 1 and re.match(r"^\s*(<[^>]+>\s*)*[IVX]+\.", cells[0]) and not any(c.strip() for c in cells[1:]):
            continue  # section heading rows are kept as unit metadata
        for cell in cells:
            for text_line in html_to_lines(cell):
                sentences.extend(split_sentences(markdown_to_text(text_line).lstrip("- ").strip()))
    return [s for s in sentences if len(s) >= 12]


def test_nothing_lost_nothing_doubled(corpus_dir, corpus_units):
    documents, units = corpus_units
    for document in documents:
        texts = [u.text for u in units if u.doc_id == document.id]
        source = _source_sentences(corpus_dir, document)
        for sentence in source:
            pattern = re.compile(r"(?<![\w,])" + re.escape(sentence) + r"(?![\w,])")
            expected = source.count(sentence)
            found = sum(len(pattern.findall(text)) for text in texts)
            assert found == expected, f"{document.id}: {sentence!r} found {found} times, expected {expected}"


def test_parts_fit_the_model_input_repeat_the_header_and_keep_the_unit_id(chunked_corpus):
    count = TokenCounter(model_path(DEFAULT_MODEL))
    by_unit = {}
    for chunk in chunked_corpus.chunks:
        assert count(chunk.index_text) <= chunked_corpus.settings.max_tokens
        by_unit.setdefault(chunk.unit_id, []).append(chunk)
    long_units = [chunks for chunks in by_unit.values() if len(chunks) > 1]
    assert long_units, "some units are longer than the model's input and must be split"
    for chunks in long_units:
        headers = {c.text.split("\n")[1] for c in chunks}
        assert len(headers) == 1, "every part repeats its unit's header line"
        assert [c.part for c in chunks] == list(range(1, len(chunks) + 1))
        assert all(c.chunk_id.startswith(c.unit_id + "#") for c in chunks)


def test_lengths_are_measured_with_tiktoken_and_the_model_tokenizer(chunked_corpus):
    count = TokenCounter(model_path(DEFAULT_MODEL))
    longest = max(chunked_corpus.units, key=lambda u: len(u.text))
    assert count(longest.text) > 256 and tiktoken_length(longest.text) > 200


def test_glossary_expansions_are_indexed_but_not_shown(chunked_corpus):
    chunk = next(c for c in chunked_corpus.chunks if c.unit_id.endswith("action-20"))
    assert "BG = Bulgaria" in chunk.index_text and "BG = Bulgaria" not in chunk.text


def test_chunks_command_lists_units_as_json_lines(corpus_units):
    result = CliRunner().invoke(cli, ["chunks", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    required = {"unit_id", "chunk_id", "doc_id", "doc_title", "doc_reference", "doc_date", "kind", "locator",
                "section", "pages", "text", "fields", "redacted", "part", "parts"}
    assert rows and required <= set(rows[0])
    assert {r["unit_id"] for r in rows} == {u.unit_id for u in corpus_units[1]}
    result = CliRunner().invoke(cli, ["chunks", "--units", "--json"])
    assert len(result.output.splitlines()) == len(corpus_units[1])


def test_every_field_the_chunker_writes_comes_back_as_its_sentences_field(corpus_units):
    """The labels written into a unit's text are read back by unit_sentences as the field they name."""
    from assistant.chunking import unit_sentences

    checked = 0
    for unit in corpus_units[1]:
        if unit.kind not in ("action", "annex_item"):
            continue
        tagged = {s.field for s in unit_sentences(unit)}
        for name, value in unit.fields.items():
            if value.strip() and name in FIELD_LABELS and name != "letter_text":
                assert name in tagged, (unit.locator, name)
                checked += 1
        assert tagged <= {"title", "body", *FIELD_LABELS}, (unit.locator, tagged)
    assert checked > 50
