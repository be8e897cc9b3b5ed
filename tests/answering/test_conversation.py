"""Follow-ups read against the conversation, on scripted conversations: no embedding model, no index.

The rules are written for classes of follow-ups (substitution of an entity of the same kind,
pronouns, ellipsis, time and document scope), so these conversations are not the ones in
eval/conversations.jsonl; tests/answering/test_conversation_eval.py checks retrieval on those.
"""

from __future__ import annotations

import json

import pytest

from assistant.answering.conversation import (
    MAX_TURNS,
    ContextTurn,
    Resolver,
    mentions,
    scope_documents,
    suggest_followups,
    topic_of,
)
from assistant.ingest import load_glossary
from assistant.records import Answer, Citation
from tests.conftest import ACTION_FILE_ID, CORPUS, LETTER_ID


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(CORPUS)


@pytest.fixture(scope="module")
def resolver(corpus_units, glossary):
    documents, units = corpus_units
    return Resolver(glossary, {u.unit_id: u for u in units}, documents)


def turn(question: str, *units: str, searched: str = "", topic: str = "", anchor: str = "") -> str:
    return ContextTurn(question, searched, topic, tuple(units), anchor).to_context()


ACTION = f"{ACTION_FILE_ID}:action-"
ANNEX = f"{LETTER_ID}:annex-"


def converse(resolver, *steps):
    """Ask each (question, units the answer cited) in turn; the resolutions, in order."""
    context, resolutions = [], []
    for question, units in steps:
        resolution = resolver.resolve(question, context)
        resolutions.append(resolution)
        context.append(ContextTurn(question, resolution.searched if resolution.changed else "", resolution.topic,
                                   tuple(units), resolution.anchor).to_context())
    return resolutions


# --- whole conversations --------------------------------------------------------------------------


def test_a_returns_conversation_moves_country_then_asks_who_what_next_and_when(resolver):
    first, greece, leads, ahead, year = converse(
        resolver,
        ("What is the status of returns cooperation with Bulgaria?", [ACTION + "21", ACTION + "20"]),
        ("and Greece?", [ACTION + "20", ACTION + "19"]),
        ("who leads it?", [ACTION + "20"]),
        ("what about the way ahead?", [ACTION + "20"]),
        ("and in 2023?", [ANNEX + "9"]))
    assert not first.changed and first.kind == "standalone"
    assert greece.searched == "What is the status of returns cooperation with Greece?"
    assert greece.kind == "substitution" and greece.anchor == ""  # Greece is a new target: retrieval decides
    assert leads.searched == "Who leads returns cooperation with Greece (Action 20)?" and leads.anchor == "Action 20"
    assert ahead.searched == "What is the way ahead for returns cooperation with Greece (Action 20)?"
    assert year.kind == "substitution" and "2023" in year.searched and year.anchor == ""
    assert year.documents == (LETTER_ID,)  # the only document of 2023


def test_an_agency_conversation_swaps_organisations_and_keeps_the_programme(resolver):
    frontex, europol, why = converse(
        resolver,
        ("What does Frontex do against migrant smuggling with Türkiye?", [ACTION + "4"]),
        ("what about Europol?", [ACTION + "6"]),
        ("why?", [ACTION + "6"]))
    assert europol.searched == "What does Europol do against migrant smuggling with Türkiye?"
    assert why.searched.startswith("Why: what does Europol do against migrant smuggling with Türkiye")


def test_units_named_by_number_are_swapped_and_a_possessive_keeps_the_unit(resolver):
    _, other, status, lead = converse(
        resolver,
        ("Who leads action 12?", [ACTION + "12"]),
        ("and action 16?", [ACTION + "16"]),
        ("what is its status?", [ACTION + "16"]),
        ("what about the lead actors?", [ACTION + "16"]))
    assert other.searched == "Who leads action 16?"
    assert status.searched == "What is the status (action 16)?" and status.kind == "reference"
    assert lead.searched == "Who leads action 16?"


def test_a_yes_no_question_then_since_when_becomes_one_question(resolver):
    _, since = converse(resolver, ("Is Cyprus developing a return case management system?", [ACTION + "19"]),
                        ("since when?", [ACTION + "19"]))
    assert since.searched == "Since when is Cyprus developing a return case management system (Action 19)?"


def test_back_then_takes_the_year_of_the_earlier_answer_and_its_unit_when_the_words_fit(resolver):
    _, meet = converse(resolver,
                       ("What did the 2023 letter say about the pilot project in Bulgaria?", [ANNEX + "5"]),
                       ("when did its steering committee meet back then?", [ANNEX + "5"]))
    assert "in 2023" in meet.searched and "the pilot project in Bulgaria" in meet.searched
    assert meet.anchor == "Annex item 5"  # "steering committee" is in that unit


def test_what_happened_next_looks_after_the_earlier_document_and_not_at_its_unit(resolver):
    _, after = converse(resolver, ("What was the state of play of the pilot project in Bulgaria in June 2023?", [ANNEX + "5"]),
                        ("what happened next?", [ACTION + "21"]))
    assert "after 25 June 2023" in after.searched and after.anchor == ""


def test_there_is_the_country_of_the_earlier_question(resolver):
    _, there = converse(resolver, ("What is being done with Pakistan on legal migration?", [ACTION + "9"]),
                        ("who will run the programme there?", [ACTION + "9"]))
    assert "in Pakistan" in there.searched
    existential = resolver.resolve("how much money was there?", [turn("What is the Talent Partnership?")])
    assert existential.searched == "How much money was there (the Talent Partnership)?"  # "was there" is no place


def test_a_question_with_its_own_subject_is_left_as_asked(resolver):
    context = [turn("What is the status of returns cooperation with Bulgaria?", ACTION + "21")]
    for question in ("How many return specialists were deployed to Greece?", "What is the status of action 9?",
                     "Which Member States pledged resettlement places for 2024-2025?"):
        resolution = resolver.resolve(question, context)
        assert resolution.searched == question and resolution.kind == "standalone", question


def test_the_earlier_unit_is_not_carried_when_the_follow_up_asks_about_something_it_does_not_hold(resolver):
    context = [turn("What has the Bulgaria pilot project achieved?", ACTION + "21")]
    assert resolver.resolve("how many sessions were held?", context).anchor == "Action 21"  # "2074 counselling sessions"
    assert resolver.resolve("how many visas were issued?", context).anchor == ""
    letter = resolver.resolve("and what did the letter say about it?", context)
    assert letter.anchor == "" and letter.documents == (LETTER_ID,)
    assert "the Bulgaria pilot project" in letter.searched


def test_plain_earlier_questions_are_resolved_in_order(resolver):
    resolution = resolver.resolve("and cyprus?", ["What is RECAMAS?", "is greece using it?"])
    assert resolution.searched == "Is Cyprus using RECAMAS?"


def test_only_the_last_turns_are_read_so_a_long_conversation_costs_the_same(resolver):
    long = [turn(f"What is the status of action {n % 23 + 1}?", f"{ACTION}{n % 23 + 1}") for n in range(200)]
    resolution = resolver.resolve("who leads it?", long)
    assert resolution.searched == f"Who leads action {199 % 23 + 1}?"
    assert len(long[-MAX_TURNS:]) == MAX_TURNS


# --- pieces -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("question, topic", [
    ("What has the Bulgaria pilot project on returns achieved so far?", "the Bulgaria pilot project on returns"),
    ("How much is the EU putting into surveillance at Türkiye's border with Iran?",
     "surveillance at Türkiye's border with Iran"),
    ("What is RECAMAS?", "RECAMAS"),
    ("What is the status of returns cooperation with Bulgaria?", "returns cooperation with Bulgaria"),
    ("Who leads action 16?", "action 16"),
    ("What does Frontex do in the EMPACT action plan on migrant smuggling?", "the EMPACT action plan on migrant smuggling"),
    ("What meeting was the July 2024 Eastern Mediterranean action file prepared for?",
     "the meeting of the July 2024 Eastern Mediterranean action file"),
])
def test_the_topic_is_the_phrase_with_the_targets_without_the_frame(glossary, question, topic):
    assert topic_of(question, glossary) == topic


def test_entities_are_found_with_their_kind(glossary):
    found = [(m.kind, m.value) for m in mentions("Did Frontex and Europol help Greece with FAR under action 19 in 2023?",
                                                 glossary)]
    assert found == [("organisation", "Frontex"), ("organisation", "Europol"), ("country", "Greece"),
                     ("programme", "FAR"), ("unit", "action 19"), ("year", "2023")]


def test_a_question_names_documents_by_year_and_kind_but_since_a_year_is_no_scope(corpus_units):
    documents, units = corpus_units
    assert scope_documents("what did the 2023 letter say", documents, units) == {LETTER_ID}
    assert scope_documents("and the annex?", documents, units) == {LETTER_ID}
    assert scope_documents("in the action file", documents, units) == {ACTION_FILE_ID}
    assert scope_documents("what happened since 2023", documents, units) == set()


def test_a_turn_travels_as_json_and_a_plain_string_is_an_earlier_question():
    original = ContextTurn("who leads it?", "Who leads the pilot (Action 21)?", "the pilot", ("a:1", "b:2"), "Action 21")
    assert ContextTurn.from_context(original.to_context()) == original
    assert json.loads(original.to_context())["units"] == ["a:1", "b:2"]
    assert ContextTurn.from_context("and Greece?") == ContextTurn("and Greece?")
    assert ContextTurn.from_context("{not json") == ContextTurn("{not json")


def test_suggested_follow_ups_come_from_the_cited_units_fields(units_by_locator):
    unit = units_by_locator[(ACTION_FILE_ID, "Action 21")]
    answer = Answer("what is the status of returns with Bulgaria?", "…", False, [Citation(1, unit, unit.text, [])], [],
                    analysis={"intent": "status"})
    assert suggest_followups(answer) == ["Who leads Action 21?", "What is the way ahead for Action 21?"]
    answer.analysis = {"intent": "who_leads"}
    assert "Who leads Action 21?" not in suggest_followups(answer)
    assert suggest_followups(Answer("q", "The documents do not answer this question.", True, [], [])) == []
