"""Cited extractive answers on the real index."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.answering import NO_ANSWER
from assistant.cli import cli
from eval.evaluation import load_gold
from assistant.settings import PROJECT_ROOT

BULGARIA = "what is the status of returns cooperation with Bulgaria"
ASK_KEYS = {"question", "answer", "abstained", "citations", "passages"}
CITATION_KEYS = {"n", "unit_id", "doc_title", "doc_date", "locator", "pages", "quote"}


def test_bulgaria_status_answer_states_the_status_and_cites_actions_21_and_20(engine):
    answer = engine.ask(BULGARIA)
    assert not answer.abstained
    cited = [c.unit.locator for c in answer.citations]
    assert cited[0] == "Action 21" and "Action 20" in cited
    first_line = answer.answer.split("\n")[1]
    assert "Status: Ongoing" in first_line and "22 July 2024" in first_line
    assert answer.citations[0].unit.doc_date == "2024-07-22"


def test_every_answer_sentence_is_verbatim_in_the_passage_it_cites(engine):
    gold = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")
    for item in gold:
        answer = engine.ask(item.question)
        retrieved = {h.unit.unit_id for h in answer.hits}
        by_n = {c.n: c for c in answer.citations}
        for sentence in answer.sentences:
            citation = by_n[sentence.n]
            assert citation.unit.unit_id in retrieved, "a citation can only point at a retrieved passage"
            assert sentence.quote in citation.quote, (item.id, sentence.quote)
            assert sentence.quote in sentence.text and f"[{sentence.n}]" in answer.answer


def test_answers_spanning_documents_are_grouped_by_date(engine):
    answer = engine.ask("How did the Bulgaria pilot project on returns and asylum develop from 2023 to 2024?")
    dates = [c.unit.doc_date for c in answer.citations]
    assert "2023-06-25" in dates and "2024-07-22" in dates
    headings = [line for line in answer.answer.split("\n") if not line.startswith("- ")]
    assert headings == ["Commission letter, 25 June 2023:", "Council action file, 22 July 2024:"]


def test_a_missing_action_is_answered_with_the_fixed_sentence(engine):
    answer = engine.ask("What does action 26 say about reception capacity in Cyprus?")
    assert answer.abstained and answer.answer == NO_ANSWER and not answer.citations
    assert any("actions 24 to 28 are missing" in note for note in answer.notes)
    assert answer.hits, "the nearest passages are shown as possibly related"


def test_a_country_the_documents_never_mention_abstains(engine):
    answer = engine.ask("What does the EU's migration cooperation with Ukraine involve?")
    assert answer.abstained and any("Ukraine" in note for note in answer.notes)


def test_redacted_support_is_said_rather_than_pretended(engine):
    answer = engine.ask("How many Turkish tourists used the Greek islands visa scheme in its first three months?")
    assert any("redacted" in note for note in answer.notes)


def test_ask_json_contract(engine):
    result = CliRunner().invoke(cli, ["ask", BULGARIA, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert ASK_KEYS <= set(record) and record["abstained"] is False
    assert CITATION_KEYS <= set(record["citations"][0])
    assert {"rank", "unit_id", "locator", "pages", "score", "text"} <= set(record["passages"][0])


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("  \n ", "empty"), ("y" * 5000, "characters long"),
])
def test_bad_questions_get_one_sentence(engine, question, message):
    result = CliRunner().invoke(cli, ["ask", question])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_ask_batch_outputs_one_line_per_question_in_order(engine, tmp_path):
    batch = tmp_path / "q.txt"
    batch.write_text(f"{BULGARIA}\n\nWhat is RECAMAS?\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ask", "--batch", str(batch)])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["question"] for r in rows] == [BULGARIA, "What is RECAMAS?"]
