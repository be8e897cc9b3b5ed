"""A figure answers only a question about what it is a figure of (answering/key_term.py), on the real index.

None of these questions is in the gold set: they pin the class of question the rule serves, a unit
giving a figure about one thing and naming another thing the question asks about.
"""

from __future__ import annotations

import pytest

from assistant.answering.key_term import KeyTerms
from assistant.search import Query


def test_a_count_of_all_operations_does_not_answer_for_one_operation_named_elsewhere_in_the_passage(engine):
    # Action 6 counts the false documents of all seven Joint Action Days; JAD Danube is only named in another sentence.
    answer = engine.ask("How many false documents were seized at JAD Danube?")
    assert answer.abstained and answer.abstention == "not_given"
    assert "JAD Danube" in answer.answer and "do not give a number" in answer.answer


def test_the_same_count_answers_the_question_about_all_the_operations(engine):
    answer = engine.ask("How many migrant smugglers were arrested during the Joint Action Days in 2023?")
    assert not answer.abstained and "375 migrant smugglers arrested" in answer.answer


@pytest.mark.parametrize("question", [
    # Action 4 gives SCOPE II's EUR 5 million and the IBM projects' amounts; the airport project has none.
    "How much EU funding does the passenger screening project at Turkish airports receive?",
    # Action 12 gives EUR 220 million for the eastern border with Iran; the western borders' project only a start date.
    "How much does the project for the western borders of Türkiye cost?"])
def test_another_project_s_amount_in_the_passage_does_not_give_the_asked_project_s_worth(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and "do not give an amount" in answer.answer and "EUR" not in answer.answer


def test_a_figure_not_given_is_cited_at_the_sentence_that_names_the_asked_thing(engine):
    # not the best-matching sentence, the EUR 220 million for the eastern border, but where the project is mentioned
    answer = engine.ask("How much does the project for the western borders of Türkiye cost?")
    assert answer.abstained and answer.abstention == "not_given"
    assert "western borders started implementation on 1 July 2024" in answer.citations[0].sentences[0]


def test_a_footnote_speaks_of_what_the_sentence_holding_its_mark_speaks_of(engine):
    # "¹ 911 from Italy, ... 76 from Malta ..." names no transfer; the sentence with the mark ¹ does.
    answer = engine.ask("How many relocation transfers came from Malta?")
    assert not answer.abstained and "76 from Malta" in answer.answer


def test_a_sentence_after_the_one_naming_the_project_speaks_of_that_project(engine):
    # "Kick-off meeting ... took place on 5-7 December 2023" follows the sentence naming SCOPE II.
    answer = engine.ask("When was the SCOPE II kick-off meeting held?")
    assert not answer.abstained and "5-7 December 2023" in answer.answer


def test_the_key_word_is_the_rarest_focus_word_the_unit_uses_and_a_named_one_must_be_named(engine):
    answerer = engine.answerer
    reading = answerer.read(Query("How many false documents were seized at JAD Danube?"))
    answerer.score(reading)
    keys = KeyTerms(answerer.table, reading.analysis)
    action_6 = next(c for c in reading.ranked if c.hit.unit.locator == "Action 6")
    key, used = keys.key_of(action_6.hit.unit.unit_id)
    assert key == "danub" and key in keys.name_terms and {"fals", "seiz"} <= used
    counting = next(c for c in reading.ranked if "375 migrant smugglers" in c.sentence.text)
    naming = next(c for c in reading.ranked if "JAD Danube" in c.sentence.text)
    assert not keys.speaks_of(counting) and keys.speaks_of(naming)


@pytest.mark.parametrize("question", ["How much money did the EU give?", "When?"])
def test_a_question_with_no_focus_beyond_its_attribute_checks_no_key_word(engine, question):
    answerer = engine.answerer
    reading = answerer.read(Query(question))
    answerer.score(reading)
    keys = KeyTerms(answerer.table, reading.analysis)
    assert not keys.words and all(keys.speaks_of(c) for c in reading.ranked)
