"""How-often questions ask for a frequency ("monthly", "every two weeks"), not a count: a sentence can answer
one without holding a digit."""

from __future__ import annotations

import pytest

from assistant.answering.analysis import analyse, has_answer_kind
from assistant.ingest import Glossary

NO_GLOSSARY = Glossary([], [], [])


@pytest.mark.parametrize("question", ["How often does the EU-Morocco migration dialogue meet?",
                                      "how frequently are the return flights organised",
                                      "How many times a year do the senior officials meet?"])
def test_how_often_questions_ask_for_a_frequency(question):
    analysis = analyse(question, NO_GLOSSARY)
    assert (analysis.intent, analysis.answer_type, analysis.attribute) == ("how_often", "frequency", "how often")


def test_how_many_questions_still_ask_for_a_number():
    analysis = analyse("How many return specialists were deployed?", NO_GLOSSARY)
    assert (analysis.intent, analysis.answer_type) == ("how_many", "count")


@pytest.mark.parametrize("text", ["The working group meets on a monthly basis.", "Meetings are held every two weeks.",
                                  "The committee reports twice a year.", "Flights are organised weekly."])
def test_a_frequency_is_recognised_without_a_digit(text):
    assert has_answer_kind(text, "frequency")


@pytest.mark.parametrize("text", ["The working group met in Sofia.", "Three meetings took place in 2023."])
def test_a_sentence_without_a_frequency_does_not_hold_one(text):
    assert not has_answer_kind(text, "frequency")
