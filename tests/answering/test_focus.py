"""What a question asks beyond what it names: the focus, and how the answerability model reads it.

A passage that names the question's place or programme need not answer what is asked of it
("the weather in Cyprus"): the focus is compared with the passages, so a question about
something the documents never discuss is turned away even when it names a country they do.
The questions here are not in the gold set.
"""

from __future__ import annotations

import pytest

from assistant.answering.analysis import analyse
from assistant.answering.candidates import ANSWERABILITY_FEATURES
from assistant.ingest import Glossary
from assistant.search import Query

NO_GLOSSARY = Glossary([], [], [])
FOCUS_COS = ANSWERABILITY_FEATURES.index("focus_cos")


def test_the_focus_leaves_out_countries_numbers_and_asking_words(engine):
    analysis = analyse("What is the weather forecast for Athens next week in 2025?", engine.glossary)
    assert analysis.focus == "weather forecast next week"


@pytest.mark.parametrize("question, focus", [
    ("When did the working group meet? <script>window.__xss=3</script>", "working group meet"),
    ("When did the working group meet? window.__xss=3", "working group meet window"),
    ("what is <b>the status</b> of returns", "status returns"),
    ("is the budget < 5 million or > 3 million", "budget million million"),
])
def test_markup_and_code_pasted_into_a_question_are_not_its_focus(question, focus):
    assert analyse(question, NO_GLOSSARY).focus == focus


def test_the_focus_leaves_out_the_unit_a_question_names(engine):
    assert analyse("Who leads action 12 in Türkiye?", engine.glossary).focus == "leads"


def test_a_name_that_is_a_common_word_stays_in_the_focus_and_an_acronym_does_not():
    focus = analyse("Who is the current Secretary-General of NATO?", NO_GLOSSARY,
                    frozenset({"secretary", "general"})).focus
    assert focus.split() == ["current", "Secretary", "General"]


@pytest.mark.parametrize("question", ["What does FRESO stand for?", "what is meant by EURP"])
def test_a_definition_has_no_focus_beyond_its_term(engine, question):
    assert analyse(question, engine.glossary).focus == ""


def test_the_focus_is_in_the_json_analysis(engine):
    answer = engine.ask("How much money did Bulgaria get for its coastal surveillance system?")
    assert answer.analysis["focus"] == "money coastal surveillance system"  # "get" asks


# Pairs about the same place: one the documents answer, one they never discuss.
PAIRS = [
    ("What support does Cyprus get for returns?", "What is the weather like in Cyprus in winter?"),
    ("What is being done about migrant smuggling from Türkiye to Greece?",
     "How much does a ferry ticket from Athens to Crete cost?"),
    ("How is Bulgaria improving returns?", "Which football club does Bulgaria's national team captain play for?"),
    ("what is the istanbul migration cooperation centre", "what are the best restaurants in Istanbul"),
    ("What is Greece doing on deportations?", "How do I renew my Greek driving licence?"),
]


def _reading(engine, question: str):
    reading = engine.answerer.read(Query(question))
    engine.answerer.score(reading)
    return reading


@pytest.mark.parametrize(("answered", "off_topic"), PAIRS)
def test_a_question_off_the_documents_topic_reads_as_less_answerable_than_one_on_it(engine, answered, off_topic):
    on, off = _reading(engine, answered), _reading(engine, off_topic)
    on_row, off_row = engine.answerer.answerability_row(on), engine.answerer.answerability_row(off)
    assert off_row[FOCUS_COS] < on_row[FOCUS_COS], (on.analysis.focus, off.analysis.focus)
    model = engine.answerer.model
    assert model.answerable(off_row) < model.answerable(on_row)


def test_most_questions_off_the_documents_topic_are_turned_away(engine):
    """Not every one: the model is calibrated for few false abstentions, so a borderline question may pass."""
    abstained = [engine.ask(off_topic).abstained for _, off_topic in PAIRS]
    assert sum(abstained) >= 3, abstained
