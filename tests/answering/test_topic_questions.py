"""A question that only names its topic ("any news on Libya?") is answered with what the documents say about it."""

from __future__ import annotations

import pytest

from assistant.answering.analysis import analyse, is_topic_question


@pytest.mark.parametrize("question", ["What is the latest on Egypt?", "any news on Libya?", "Tell me about EASTEAMS",
                                      "what is happening with Tunisia now", "What about action 7?"])
def test_a_question_naming_only_its_topic_is_a_topic_question(engine, question):
    assert is_topic_question(analyse(question, engine.glossary), engine.glossary)


@pytest.mark.parametrize("question", ["What is the population of Egypt?", "How much money went to Libya?",
                                      "best beaches in crete", "What is the latest news?",
                                      "When did the Tunisia visit take place?"])
def test_a_question_asking_for_more_than_its_topic_is_not(engine, question):
    assert not is_topic_question(analyse(question, engine.glossary), engine.glossary)


@pytest.mark.parametrize("question", ["any news on Libya?", "What is the latest on Egypt?", "what about Frontex"])
def test_a_topic_question_is_answered_from_the_passages_about_its_topic(engine, question):
    answer = engine.ask(question)
    assert not answer.abstained and answer.citations, answer.answer


def test_a_topic_the_documents_never_mention_still_abstains(engine):
    answer = engine.ask("any news on Paraguay?")
    assert answer.abstained and "Paraguay" in " ".join(answer.notes), answer.answer


@pytest.mark.parametrize("question", ["What does action 5 aim at?", "What is the purpose of annex item 3?",
                                      "what is action 9 for", "What does action 21 involve?"])
def test_asking_what_a_named_unit_is_for_is_a_topic_question(engine, question):
    assert is_topic_question(analyse(question, engine.glossary), engine.glossary)


def test_purpose_words_without_a_named_unit_still_ask_for_more(engine):
    assert not is_topic_question(analyse("What does Frontex aim at in Egypt?", engine.glossary), engine.glossary)
