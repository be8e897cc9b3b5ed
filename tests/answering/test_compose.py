"""Composing an answer from hand-built units and scores: no model, no index on disk, milliseconds.

The units are small action rows and a letter section written for these tests; the scores
stand in for the ranker's, so each test pins one rule of composition.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answering.analysis import analyse
from assistant.answering.candidates import Candidate, SentenceTable
from assistant.answering.compose import compose, is_document_of
from assistant.answering.ranker import Ranker
from assistant.chunking import unit_sentences
from assistant.ingest import Glossary
from assistant.records import Chunk, Document, Hit, Unit

LETTER = Document("letter", "A letter", "Commission", "—", "2023-06-25", "letter", "en", "letter.txt")
FILE = Document("file", "An action file", "Council", "WK 1/2024", "2024-07-22", "action_file", "en", "file.txt")


def _unit(document: Document, key: str, locator: str, kind: str, text: str, number: int | None = None) -> Unit:
    return Unit(f"{document.id}:{key}", document.id, document.title, document.reference, document.date, document.kind,
                kind, locator, number, locator, "", 1, 1, text)


ACTION_7 = _unit(FILE, "action-7", "Action 7", "action", "\n".join([
    "Action 7. Support information campaigns",
    "Lead actor(s): Commission, MS",
    "Status: Ongoing",
    "Comments:",
    "The campaigns target three countries:",
    "- Pakistan",
    "- Iraq",
    "- Bangladesh",
    "A new call was published in May 2024.",
]), 7)
ACTION_8 = _unit(FILE, "action-8", "Action 8", "action", "\n".join([
    "Action 8. Resettlement",
    "Lead actor(s): EUAA",
    "Status: Completed",
    "Comments:",
    "Missions to Türkiye were finalised.",
]), 8)
SECTION = _unit(LETTER, "section-3", "Letter, section 3", "letter_section", "\n".join([
    "Information campaigns were launched in 2023.",
    "Yours sincerely,",
    "Ursula von der Leyen",
]), 3)
UNITS = [ACTION_7, ACTION_8, SECTION]


class _NoIdf(dict):
    """An empty BM25 vocabulary: every question term counts as rare."""

    num_docs = 0
    max_value = 1.0


@pytest.fixture(scope="module")
def table():
    sentences = [s for unit in UNITS for s in unit_sentences(unit)]
    rows_of = {u.unit_id: [row for row, s in enumerate(sentences) if s.unit_id == u.unit_id] for u in UNITS}
    index = SimpleNamespace(units={u.unit_id: u for u in UNITS}, sentences=sentences, documents=[LETTER, FILE],
                            bm25=None, sentence_vectors=np.zeros((len(sentences), 2)), sentence_rows_of=rows_of,
                            idf=_NoIdf())
    return SentenceTable(index, Glossary([], [], []))  # type: ignore[arg-type]


def _reading(table, question: str, scores: dict[str, float], named: tuple[str, ...] = ()):
    """Candidates of every unit, scored by the text of their sentence (0 when not listed), best first."""
    hits = {u.unit_id: Hit(rank, 1.0, Chunk(f"{u.unit_id}#1", u.unit_id, 1, 1, u.text, u.text, "h"), u, 0.5,
                           named=u.locator in named) for rank, u in enumerate(UNITS, start=1)}
    candidates = [Candidate(row, s, hits[s.unit_id], table.facts(row), np.zeros(1), scores.get(s.text, 0.0))
                  for row, s in enumerate(table.index.sentences)]
    ranked = sorted((c for c in candidates if not c.facts.signature),
                    key=lambda c: (not c.hit.named, -c.score, c.hit.rank))
    analysis = analyse(question, Glossary([], [], []))
    return SimpleNamespace(prepared=SimpleNamespace(text=question), analysis=analysis, hits=list(hits.values()),
                           candidates=candidates, ranked=ranked)


RANKER = Ranker((), np.zeros(0), np.ones(0), np.zeros(0), 0.0, keep_ratio=0.5, keep_floor=0.2)


def _answer(table, question: str, scores: dict[str, float], named: tuple[str, ...] = ()):
    return compose(_reading(table, question, scores, named), table, 6, [LETTER, FILE], RANKER)


def test_a_lead_in_brings_the_items_it_introduces(table):
    answer = _answer(table, "Which countries do the campaigns target?", {"The campaigns target three countries:": 0.9})
    assert [s.quote for s in answer.sentences] == ["The campaigns target three countries:", "Pakistan", "Iraq",
                                                    "Bangladesh"]


def test_a_list_item_brings_its_lead_in_and_siblings_for_a_list_question(table):
    answer = _answer(table, "Which countries do the campaigns target?", {"Iraq": 0.9})
    assert [s.quote for s in answer.sentences][:2] == ["The campaigns target three countries:", "Pakistan"]


def test_a_status_answer_leads_with_the_status_line_and_the_documents_date(table):
    answer = _answer(table, "What is the status of the information campaigns?",
                     {"A new call was published in May 2024.": 0.9})
    assert answer.sentences[0].text == "Action 7 — Status: Ongoing, as of 22 July 2024"


def test_the_direct_answers_document_comes_first_and_older_ones_are_history(table):
    answer = _answer(table, "What information campaigns are there?",
                     {"A new call was published in May 2024.": 0.9, "Information campaigns were launched in 2023.": 0.8})
    headings = [line for line in answer.answer.split("\n") if not line.startswith("- ")]
    assert headings == ["Council action file, 22 July 2024:", "Earlier, Commission letter, 25 June 2023:"]


def test_a_question_about_change_over_time_reads_the_documents_in_date_order(table):
    answer = _answer(table, "How did the campaigns develop from 2023 to 2024?",
                     {"A new call was published in May 2024.": 0.9, "Information campaigns were launched in 2023.": 0.8})
    headings = [line for line in answer.answer.split("\n") if not line.startswith("- ")]
    assert headings == ["Commission letter, 25 June 2023:", "Council action file, 22 July 2024:"]


def test_another_actions_lead_or_status_line_does_not_join_the_answer(table):
    answer = _answer(table, "Who runs the campaigns?", {"A new call was published in May 2024.": 0.9,
                                                        "Lead actor(s): EUAA": 0.85, "Status: Completed": 0.85})
    assert not any(s.unit_id == ACTION_8.unit_id for s in answer.sentences)


def test_a_signature_is_never_a_candidate(table):
    signature = [c for c in _reading(table, "who signed", {}).candidates if c.sentence.text == "Ursula von der Leyen"]
    assert signature and signature[0].facts.signature


def test_every_answer_line_cites_the_passage_it_quotes_verbatim(table):
    answer = _answer(table, "Which countries do the campaigns target?", {"The campaigns target three countries:": 0.9,
                                                                          "Information campaigns were launched in 2023.": 0.7})
    by_n = {c.n: c for c in answer.citations}
    assert all(s.quote in by_n[s.n].quote and f"[{s.n}]" in answer.answer for s in answer.sentences)


def test_a_when_question_gets_the_leading_units_dated_sentence_when_the_best_has_no_date(table):
    answer = _answer(table, "When did the information campaigns get a new call?",
                     {"The campaigns target three countries:": 0.9, "A new call was published in May 2024.": 0.2})
    quotes = [s.quote for s in answer.sentences]
    assert "A new call was published in May 2024." in quotes, quotes


def test_a_typed_sentence_is_not_added_when_a_chosen_one_already_holds_the_type(table):
    answer = _answer(table, "When were the missions to Türkiye finalised?",
                     {"Missions to Türkiye were finalised.": 0.9, "A new call was published in May 2024.": 0.2})
    assert "A new call was published in May 2024." not in [s.quote for s in answer.sentences], "another unit's date"


@pytest.mark.parametrize(("question", "state"), [
    ("has the bulgaria avr agreement been signed yet", "(agreement to be signed in coming weeks)"),
    ("Has the contract for the Pakistan Talent Partnership action been finalised?", "expected to be finalised"),
])
def test_a_question_whether_something_has_been_done_gets_the_sentence_naming_that_doing(engine, question, state):
    """The leading unit's sentence that names the asked event says where it stands, even when the ranker prefers
    other sentences about the same programme."""
    answer = engine.ask(question)
    assert not answer.abstained and state in answer.answer, answer.answer


def test_the_asked_event_is_the_participle_after_been_or_being():
    from assistant.answering.analysis import ASKED_EVENT

    assert ASKED_EVENT.search("Has the agreement been signed?").group(1) == "signed"
    assert ASKED_EVENT.search("are escorts being sent to greece").group(1) == "sent"
    assert ASKED_EVENT.search("Has there been a meeting?") is None


REPORT = Document("report", "Annual Risk Analysis 2024", "Frontex", "—", "2024-03-01", "general", "en", "report.pdf",
                  genre="report")


@pytest.mark.parametrize("noun, document, named", [
    ("letter", LETTER, True), ("letter", FILE, False), ("action file", FILE, True), ("file", LETTER, False),
    ("report", REPORT, True), ("report", LETTER, False), ("analysis", REPORT, True), ("document", FILE, True),
])
def test_a_question_s_name_for_a_document_is_matched_by_its_kind_title_or_genre(noun, document, named):
    assert is_document_of(noun, document) is named
