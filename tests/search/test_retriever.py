"""Retrieval on the real index: modes, glossary, filters, deduplication and the CLI contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.errors import AssistantError
from assistant.search import Filters
from tests.conftest import ACTION_FILE_ID, LETTER_ID

BULGARIA = "what is the status of returns cooperation with Bulgaria"
SEARCH_KEYS = {"rank", "chunk_id", "unit_id", "doc_id", "doc_title", "doc_date", "locator", "pages", "score", "text"}


def locators(hits):
    return [h.unit.locator for h in hits]


def test_bulgaria_returns_question_ranks_action_21_then_20(engine):
    assert locators(engine.retriever.search(BULGARIA, k=5, mode="hybrid"))[:2] == ["Action 21", "Action 20"]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_bulgaria_actions_in_the_top_three(engine, mode):
    assert {"Action 21", "Action 20"} & set(locators(engine.retriever.search(BULGARIA, k=3, mode=mode)))


def test_results_are_units_deduplicated_with_locator_pages_and_score(engine):
    hits = engine.retriever.search("Frontex support to Cyprus for returns and RECAMAS", k=10)
    unit_ids = [h.unit.unit_id for h in hits]
    assert len(unit_ids) == len(set(unit_ids))
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(h.unit.pages and h.unit.locator for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_country_name_finds_rows_that_only_use_its_code(engine):
    # Action 7 names Bulgaria only as "BG"; BM25 alone cannot match the word "Bulgaria" there.
    action7 = next(u for u in engine.index.units.values() if u.locator == "Action 7" and u.doc_id == ACTION_FILE_ID)
    assert "Bulgaria" not in action7.text and "BG" in action7.text
    hits = engine.retriever.search("Is Bulgaria a donor to the PARIM II project?", k=3, mode="bm25")
    assert "Action 7" in locators(hits)


def test_turkey_finds_what_the_text_calls_turkiye(engine):
    hits = engine.retriever.search("Turkey border surveillance with Iran", k=3, mode="bm25")
    assert "Action 12" in locators(hits)
    assert "Türkiye" in engine.glossary.expand_query("cooperation with Turkey")


def test_filters_by_document_kind_country_section_and_date(engine):
    hits = engine.retriever.search("returns", k=20, filters=Filters(doc_ids=(LETTER_ID,)))
    assert hits and {h.unit.doc_id for h in hits} == {LETTER_ID}
    hits = engine.retriever.search("returns", k=20, filters=Filters(kinds=("annex_item",)))
    assert hits and {h.unit.kind for h in hits} == {"annex_item"}
    hits = engine.retriever.search("returns", k=20, filters=Filters(countries=("CY",)))
    assert hits and all("Cyprus" in h.unit.countries for h in hits)
    hits = engine.retriever.search("returns", k=20, filters=Filters(sections=("return and readmission",)))
    assert hits and {h.unit.number for h in hits} <= {18, 19, 20, 21, 22, 23}
    hits = engine.retriever.search("returns", k=20, filters=Filters(date_from="2024-01-01"))
    assert hits and {h.unit.doc_date for h in hits} == {"2024-07-22"}
    assert engine.retriever.search("returns", filters=Filters(date_to="2020-01-01")) == []


def test_unknown_filter_values_are_one_sentence(engine):
    with pytest.raises(AssistantError, match="not a country"):
        engine.retriever.search("returns", filters=Filters(countries=("Atlantis",)))
    with pytest.raises(AssistantError, match="not a date"):
        engine.retriever.search("returns", filters=Filters(date_from="July 2024"))


def test_search_json_contract(engine):
    result = CliRunner().invoke(cli, ["search", BULGARIA, "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["question"] == BULGARIA and len(record["results"]) == 3
    assert SEARCH_KEYS <= set(record["results"][0])
    assert record["results"][0]["locator"] == "Action 21"


def test_search_batch_keeps_order_and_reports_a_bad_line(engine, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"question": BULGARIA}) + "\n" + json.dumps({"question": 42}) + "\n"
                     + "reinvigoration of cooperation between Frontex and Türkiye\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["search", "--batch", str(batch), "--k", "2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["question"] for r in rows] == [BULGARIA, "42", "reinvigoration of cooperation between Frontex and Türkiye"]
    assert rows[1]["error"] == "The question must be text." and rows[1]["results"] == []
    assert rows[2]["results"][0]["locator"] == "Action 16"


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("   \t ", "empty"), ("x" * 5000, "characters long"),
])
def test_bad_questions_get_one_sentence_and_no_traceback(engine, question, message):
    result = CliRunner().invoke(cli, ["search", question])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_glossary_is_exposed(engine):
    result = CliRunner().invoke(cli, ["glossary", "RECAMAS", "--json"])
    assert result.exit_code == 0
    entry = json.loads(result.output.splitlines()[0])
    assert entry["term"] == "RECAMAS" and "Action 19" in entry["source"]


def test_the_sentence_ranking_puts_first_the_chunk_holding_the_closest_sentence(engine):
    retriever, index = engine.retriever, engine.index
    vector = retriever.embed_multilingual("which agency trains escorts for forced return flights")
    closest = int(np.argmax(np.asarray(index.multilingual_vectors) @ vector))
    unit_id = index.sentences[closest].unit_id
    first = retriever.sentence_ranking(vector, None, 10)[0]
    assert index.unit_of_chunk(first).unit_id == unit_id
    assert index.sentences[closest].text in index.chunks[first].text


def test_the_sentence_ranking_keeps_to_the_filters(engine):
    retriever = engine.retriever
    allowed = retriever.allowed_rows(Filters(doc_ids=(LETTER_ID,)))
    vector = retriever.embed_multilingual("Frontex return flights from Cyprus")  # about the action file, mostly
    rows = retriever.sentence_ranking(vector, allowed, 10)
    assert rows and {engine.index.unit_of_chunk(r).doc_id for r in rows} == {LETTER_ID}
    assert len(rows) == len(set(rows))


def test_a_search_in_another_language_reads_it_with_the_multilingual_encoder(engine):
    result = engine.search("Ποιος ηγείται της δράσης 14;")
    assert result.hits[0].unit.locator == "Action 14" and result.hits[0].named
    greek = locators(engine.search("Πού πραγματοποιήθηκε η εναρκτήρια συνάντηση του έργου EASTEAMS;").hits)
    assert greek[0] == "Action 1"
