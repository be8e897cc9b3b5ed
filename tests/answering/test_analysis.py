"""Reading the question, with no model and no index: checked in milliseconds."""

from __future__ import annotations

import pytest

from assistant.answering.analysis import (
    asked_amount_of,
    names_the_thing,
    analyse,
    asked_answer_kind,
    asks_who_leads,
    has_answer_kind,
    is_status_question,
    asked_document_date,
    names_dated_event,
    names_organiser,
    tells_of_outcome,
)
from assistant.ingest import Glossary
from assistant.search.locators import LocatorReference, locator_references


@pytest.mark.parametrize("question, status", [
    ("What is the status of returns cooperation with Bulgaria?", True),
    ("Where do the talks with Pakistan stand now?", True),
    ("what's the latest on EUAA support to Cyprus", True),
    ("Who leads action 12?", False),
    ("How much did the EU give Tunisia?", False),
    # a status agreement is a kind of agreement: asking which there are is no status question
    ("Which countries have signed Frontex status agreements?", False),
    ("Where does the status agreement with Albania stand?", True),
])
def test_status_questions_are_recognised(question, status):
    assert is_status_question(question) is status


@pytest.mark.parametrize("question, leads", [
    ("Who leads action 12?", True),
    ("who is responsible for the Silk Route project", True),
    ("Which lead actors are named for action 3?", True),
    ("What is the status of action 12?", False),
])
def test_lead_actor_questions_are_recognised(question, leads):
    assert asks_who_leads(question) is leads


def test_actions_and_annex_items_named_by_number_are_found_in_order():
    assert locator_references("Compare action 12 with Action no. 3 and annex item 5") == [
        LocatorReference("action", "12"), LocatorReference("action", "3"), LocatorReference("annex_item", "5")]
    assert locator_references("What did the 2023 letter say?") == []


@pytest.mark.parametrize("question, kind", [
    ("How much funding goes to the project?", "amount"),
    ("What was the total budget of PARIM II?", "amount"),
    ("When was the toolbox presented?", "date"),
    ("On what date did the roundtable meet?", "date"),
    ("Who leads action 2?", ""),
])
def test_the_asked_kind_of_answer_is_read_from_the_question(question, kind):
    assert asked_answer_kind(question) == kind


@pytest.mark.parametrize("sentence, kind, present", [
    ("The project has a budget of EUR 1.1 million.", "amount", True),
    ("Kick-off took place on 26 September 2023 in Athens.", "date", True),
    ("The meeting is planned for Q3 2024.", "date", True),
    ("Frontex continues to support Cyprus.", "amount", False),
    ("Frontex continues to support Cyprus.", "date", False),
    # deadlines as policy texts give them
    ("Member States should reach agreement by the end of this mandate.", "date", True),
    ("The contract is expected to be finalised by the end of summer 2024.", "date", True),
    ("The agreement is to be signed in the coming weeks.", "date", True),
    ("The end of the project is not in sight.", "date", False),
    # persons: a title or role and a name, the Parliament's capitalised surnames too
    ("The bill, by rapporteur Juan Fernando LÓPEZ AGUILAR (ES, S&D), was confirmed.", "person", True),
    ("High Representative Josep Borrell met the ministers.", "person", True),
    ("The rapporteur presented the report.", "person", False),
    ("Lead actor(s): Commission, MS", "person", False),
])
def test_amounts_and_dates_are_found_in_sentences(sentence, kind, present):
    assert has_answer_kind(sentence, kind) is present


@pytest.mark.parametrize("question", ["Who headed the EU delegation to Niger?", "who led the Turkish side at the talks",
                                      "Who represented the Commission's team at the meeting?"])
def test_who_headed_a_delegation_or_side_asks_for_a_person(question):
    assert analyse(question, Glossary([], [], [])).intent == "person"


@pytest.mark.parametrize("question", ["Who is the mayor of Athens?", "who was the rapporteur on the pact",
                                      "Who is the EU's special representative for the Sahel?",
                                      "who is the current secretary general of the council"])
def test_who_holds_a_role_asks_for_a_person(question):
    assert analyse(question, Glossary([], [], [])).intent == "person"


@pytest.mark.parametrize("question, premise", [
    ("Why was the coastguard training centre shut down?", "the coastguard training centre was shut down"),
    ("why were the talks with Mauritania frozen", "the talks with Mauritania were frozen"),
    ("Why has the pilot project been discontinued?", "the pilot project has been discontinued"),
    ("Why did Pakistan refuse to join the alliance?", "Pakistan did refuse to join the alliance"),
])
def test_a_why_question_about_a_stop_takes_it_for_granted_as_a_sentence(question, premise):
    analysis = analyse(question, Glossary([], [], []))
    assert analysis.intent == "why" and analysis.presupposition == premise


@pytest.mark.parametrize("question, premise, outcome", [
    ("Why was the regulation finally adopted in April 2023?", "the regulation was finally adopted in April 2023", "adopt"),
    ("why did türkiye sign the roadmap", "türkiye did sign the roadmap", "sign"),
    ("Why has the visa suspension been lifted?", "the visa suspension has been lifted", "lift"),
    ("why did pakistan walk out of the dialogue", "pakistan did walk out of the dialogue", ""),
])
def test_a_why_question_about_an_outcome_or_a_walk_out_takes_it_for_granted(question, premise, outcome):
    analysis = analyse(question, Glossary([], [], []))
    assert analysis.presupposition == premise and analysis.presupposed_outcome == outcome


@pytest.mark.parametrize("sentence, outcome, told", [
    ("The Regulation was adopted in April and is expected to enter into force in June.", "adopt", True),
    ("The Regulation is to be adopted in the coming weeks.", "adopt", False),
    ("Adoption of the proposal is expected by the end of the year.", "adopt", False),
    ("The roadmap has not yet been signed.", "sign", False),
    ("The signature of the Memorandum took place on 16 July.", "sign", True),
])
def test_an_outcome_is_told_by_its_verb_or_noun_and_not_by_a_plan(sentence, outcome, told):
    assert tells_of_outcome(outcome, sentence) is told


def test_a_why_question_about_no_stop_has_no_premise_to_check():
    assert analyse("Why was the pilot project launched?", Glossary([], [], [])).presupposition == ""


@pytest.mark.parametrize("question", [
    "How does Frontex explain the high number of illegal border crossings on the Western Balkan route?",
    "how do they explain the drop in arrivals",
    "What caused the increase in the number of departures from Libya?",
    "What are the main reasons for the delay in returns?",
    "what led to the rise in crossings",
])
def test_a_reason_asked_for_without_why_is_a_why_question_and_not_a_count(question):
    analysis = analyse(question, Glossary([], [], []))
    assert analysis.intent == "why" and analysis.answer_type == "text"


@pytest.mark.parametrize("question, intent", [("How many reasons does the letter give?", "how_many"),
                                              ("What is the number of returns?", "how_many")])
def test_a_count_of_reasons_is_still_a_count(question, intent):
    assert analyse(question, Glossary([], [], [])).intent == intent


def test_who_leads_an_action_still_asks_for_the_lead_actors():
    assert analyse("Who leads the action on returns?", Glossary([], [], [])).intent == "who_leads"


@pytest.mark.parametrize("question", ["Which countries joined the regional meeting?", "which member states sent experts",
                                      "What third countries does the campaign target?"])
def test_a_question_asking_which_countries_expects_countries(question):
    assert analyse(question, Glossary([], [], [])).answer_type == "country"


def test_a_question_asking_where_still_expects_a_place():
    assert analyse("In which country was the meeting held?", Glossary([], [], [])).answer_type == "place"


@pytest.mark.parametrize("question", ["Кой ръководи действие 12?", "Wer leitet Maßnahme 12?", "Qui dirige l'action 12 ?",
                                      "Ποιος ηγείται της δράσης 12;", "من يقود الإجراء 12؟"])
def test_an_action_named_in_another_language_is_a_locator(question):
    assert locator_references(question) == [LocatorReference("action", "12")]


@pytest.mark.parametrize("question, verb", [
    ("Who hosted the regional conference on smuggling in Islamabad?", "hosted"),
    ("which agency organized the training for Libyan coast guards", "organised"),
    ("Who co-chairs the Rabat Process steering committee meetings?", "co-chaired"),
    ("Which presidency convened the ministerial meeting on returns?", "convened"),
    ("who chairs the returns working group with greece", "chaired"),
    ("Who took part in the kick-off meeting in Vienna?", "took part in"),
    ("which agencies attended the regional conference on smuggling", "attended"),
    ("Who signed the grant agreement for the border project?", "signed"),
])
def test_a_question_asking_who_organised_an_event_asks_for_its_organiser(question, verb):
    analysis = analyse(question, Glossary([], [], []))
    assert analysis.organiser_verb == verb and analysis.attribute == f"who {verb} it"


@pytest.mark.parametrize("question", ["Who leads action 12?", "Who hosts refugees from Sudan?",
                                      "When was the conference held?", "Who chairs the Council?"])
def test_other_questions_do_not_ask_for_an_organiser(question):
    assert analyse(question, Glossary([], [], [])).organiser_verb == ""


@pytest.mark.parametrize("sentence, names", [
    ("The seminar, co-organised by UNHCR and IOM, took place in Tunis.", True),
    ("Meetings were chaired by the Swedish Presidency.", True),
    ("The workshop took place under the Belgian Presidency.", True),
    ("Europol hosted the operational meeting in The Hague.", True),
    ("It organised (together with Austria) a ministerial conference.", True),
    ("The conference took place in Brussels on 28 November 2023.", False),
    ("Lead actor(s): Commission, Frontex", False),
])
def test_a_sentence_names_an_organiser_when_it_says_who_organised_chaired_or_hosted(sentence, names):
    assert names_organiser(sentence) is names


@pytest.mark.parametrize("sentence, verb, names", [
    ("The contract was signed by UNODC on 15 July 2024.", "signed", True),
    ("Tunisia and the EU signed a Memorandum of Understanding.", "signed", True),
    ("The contract of the action in Bangladesh was signed and launched on 8 July 2024.", "signed", False),
    ("Kick-off meeting with DE, HU and AT and Turkish authorities took place in Vienna.", "took part in", True),
    ("Europol participated in all JADs taking place in 2023.", "took part in", True),
    ("The meeting was attended by Commissioner Johansson.", "attended", True),
    ("Following the revival of the Taskforce with the Principals' meeting of 20 March, a workshop is planned.",
     "took part in", False),
    ("Meetings were chaired by the Swedish Presidency.", "signed", False),
])
def test_a_sentence_names_a_participant_or_signatory_only_when_it_says_who_took_part_or_signed(sentence, verb, names):
    assert names_organiser(sentence, verb) is names


@pytest.mark.parametrize("question, event", [
    ("When was the readmission agreement with Nigeria signed?", "signed"),
    ("on what date did Greece start the new screening procedure", "launched"),
    ("When did the visa waiver for Georgian citizens enter into force?", "entered into force"),
    ("When were the border checks with Austria lifted?", "lifted"),
])
def test_a_date_question_names_the_event_whose_date_it_asks(question, event):
    analysis = analyse(question, Glossary([], [], []))
    assert analysis.answer_type == "date" and analysis.dated_event == event


@pytest.mark.parametrize("question", ["When did the technical mission go to Bulgaria?", "Who signed the contract?",
                                      "How much was adopted for Egypt?"])
def test_other_questions_ask_the_date_of_no_named_event(question):
    assert analyse(question, Glossary([], [], [])).dated_event == ""


@pytest.mark.parametrize("event, sentence, names", [
    ("launched", "Public procurement procedure has been initiated on 3 May.", True),
    ("signed", "The Action Plan with Greece (signed March 2023) is being implemented.", True),
    ("signed", "The action was adopted in November 2023; contract under preparation.", False),
    ("lifted", "Checks at the internal land borders were reintroduced in March.", False),
])
def test_a_sentence_names_the_asked_event_by_any_word_it_is_told_by(event, sentence, names):
    assert names_dated_event(event, sentence) is names


@pytest.mark.parametrize("question, document", [
    ("When was the letter sent?", "letter"), ("what is the date of the action file", "action file"),
    ("When was the Commission's letter written?", "letter"), ("when was this report published", "report"),
    ("When was the letter on Tunisia sent?", ""), ("When was the contract signed?", ""),
    ("When did the Commission send the letter to Bulgaria?", ""),
])
def test_a_question_asking_nothing_but_a_document_s_own_date_names_that_document(question, document):
    assert asked_document_date(question, "date") == document
    assert analyse(question, Glossary([], [], [])).document_date == document


@pytest.mark.parametrize("question, names", [
    ("What is the total budget of the MIRAMI information campaign project?", ("MIRAMI",)),
    ("How much funding has the PATHWAYS EMR-WBR awareness-raising project received?", ("PATHWAYS", "EMR-WBR")),
    ("How much is the NDICI-funded PACTS contract worth?", ("PACTS",)),
    ("How much is the BMVI project worth?", ()),  # a fund names where money comes from, not the project
    ("How much EU money went to Türkiye in 2023?", ()),  # no thing named by an acronym
    ("how much is the reintegration project in iraq worth", ()),  # lower case: a topic as often as a name
])
def test_an_amount_question_names_the_thing_whose_amount_it_asks(question, names):
    assert asked_amount_of(question, "amount") == names


def test_only_an_amount_question_asks_the_amount_of_a_named_thing():
    assert asked_amount_of("When did the MIRAMI project start?", "date") == ()


def test_a_sentence_names_the_thing_in_any_case_but_not_inside_another_word():
    assert names_the_thing(("EMMOS",), "via the European Multinational Mission Surveillance Project (Emmos).")
    assert not names_the_thing(("RCMS",), "e-RCMS to be developed under the EMPATHY project (EUR 5 million).")
