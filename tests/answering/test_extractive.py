"""Cited extractive answers on the real index."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.answering import NO_ANSWER
from assistant.answering.abstention import subject_phrase
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


@pytest.fixture(scope="module")
def gold_answers(engine):
    """Every gold question with its answer, asked once for the tests that check a property of every answer."""
    return [(item, engine.ask(item.question)) for item in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")]


def test_every_answer_sentence_is_verbatim_in_the_passage_it_cites(gold_answers):
    for item, answer in gold_answers:
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


@pytest.mark.parametrize("question, locator", [
    ("Who leads action 12?", "Action 12"),
    ("What is the status of action 12?", "Action 12"),
    ("Who leads action 21?", "Action 21"),
    ("what does annex item 9 say about relocation", "Annex item 9"),
    ("action 4 way ahead", "Action 4"),
])
def test_a_question_naming_a_unit_cites_that_unit_first(engine, question, locator):
    answer = engine.ask(question)
    assert answer.citations and answer.citations[0].unit.locator == locator, answer.answer
    assert answer.hits[0].unit.locator == locator and answer.hits[0].named


def test_who_leads_a_named_action_is_answered_with_its_lead_actors_field(engine):
    answer = engine.ask("who leads action 12")
    lead = engine.index.units["emr-action-file-2024:action-12"].fields["lead_actors"]
    assert answer.sentences[0].unit_id == "emr-action-file-2024:action-12"
    assert lead.split(",")[0] in answer.sentences[0].text


def test_the_question_is_read_and_shown_in_the_json(engine):
    record = engine.ask("When did the EASTEAMS kick-off meeting take place?").to_dict()
    assert record["analysis"]["intent"] == "when" and record["analysis"]["answer_type"] == "date"
    assert record["analysis"]["looking_for"].startswith("a date")
    assert "EASTEAMS" in record["analysis"]["targets"]["names"] + record["analysis"]["targets"]["terms"]


def test_a_figure_the_documents_do_not_give_is_said_to_be_missing(engine):
    answer = engine.ask("How much did the Frontex delegation's visit to Ankara in May 2024 cost?")
    assert answer.abstained and answer.abstention == "not_given", answer.answer
    assert answer.answer.startswith("The documents mention") and "do not give an amount" in answer.answer
    assert answer.citations and answer.citations[0].unit.unit_id in {h.unit.unit_id for h in answer.hits}


def test_a_missing_figure_names_the_thing_the_question_names(engine):
    """Not the glossary's "MS" or "Libya" for the Member States or a Libyan coastguard: the name the reader used."""
    answer = engine.ask("How much did the upgrade of the Schengen Information System for return alerts cost?")
    assert answer.abstention == "not_given", answer.answer
    assert answer.answer.startswith("The documents mention the Schengen Information System [1] but do not give")


@pytest.mark.parametrize("question, subject", [
    ("How much EU funding goes to the EASTEAMS project between Pakistan and Member States?", "the EASTEAMS project"),
    ("Who led the Turkish delegation at the EU-Türkiye High Level Dialogue in November 2023?",
     "the EU-Türkiye High Level Dialogue"),
    ("When will the Frontex Liaison Officer in Islamabad start work?", "the Frontex Liaison Officer"),
    ("how many people did the PROTECT programme train", "the PROTECT programme"),
    ("how much did it cost in June", ""),
])
def test_the_subject_of_a_question_is_its_best_capitalised_name(engine, question, subject):
    assert subject_phrase(question, engine.retriever.common_words) == subject


def test_a_figure_only_a_weaker_sentence_holds_is_not_taken_for_the_asked_one(engine):
    """The matching sentence tells of the project without its cost; the amounts nearby are other projects'."""
    answer = engine.ask("How much did the airport passenger screening project cost?")
    assert answer.abstained and answer.abstention == "not_given", answer.answer
    assert "do not give an amount" in answer.answer
    assert "passenger screening" in answer.citations[0].quote


@pytest.mark.parametrize("question, figure", [
    ("How much is the SCOPE II grant agreement worth?", "EUR 5 million"),
    ("When did the BMVI project on Türkiye's western borders start?", "1 July 2024"),
    ("How many activities did the EUAA-Türkiye roadmap deliver?", "22 activities"),
])
def test_a_figure_in_the_matching_sentence_is_answered(engine, question, figure):
    answer = engine.ask(question)
    assert not answer.abstained and figure in answer.answer, answer.answer


@pytest.mark.parametrize("question, body", [
    ("What is the European Asylum Support Office doing in Cyprus?", "the European Asylum Support Office"),
    ("does the EU Blue Card help egyptians", "the EU Blue Card"),
    ("How much has the EU Trust Fund for Africa spent in Libya?", "the EU Trust Fund"),
])
def test_a_named_body_of_common_words_no_document_mentions_is_refused(engine, question, body):
    answer = engine.ask(question)
    assert answer.abstained and answer.abstention == "not_in_documents", answer.answer
    assert f"The documents do not mention {body}." in answer.notes


@pytest.mark.parametrize("question", [
    "What did the Solidarity Platform decide?",  # in the letter's annex
    "What does the EU Talent Pool Regulation say?",  # the documents' Talent Pool regulation
    "What does the Frontex Liaison Office in Ankara do?",  # Frontex is known; the name is the question's own
])
def test_a_named_body_the_documents_know_by_part_of_its_name_is_not_refused_as_unknown(engine, question):
    answer = engine.ask(question)
    assert not any(note.startswith("The documents do not mention") for note in answer.notes), answer.notes


def test_a_premise_of_closing_down_what_the_documents_report_as_running_is_not_taken_for_granted(engine):
    answer = engine.ask("Why was the Talent Partnership with Bangladesh discontinued?")
    assert answer.abstained and answer.abstention == "premise_not_supported", answer.answer
    assert "the premise that the Talent Partnership with Bangladesh was discontinued" in answer.answer
    assert "Bangladesh" in answer.citations[0].quote


def test_a_premise_the_documents_contradict_is_not_taken_for_granted(engine):
    answer = engine.ask("Why did Pakistan refuse to join the Global Alliance to Counter Migrant Smuggling?")
    assert answer.abstained and answer.abstention == "premise_not_supported", answer.answer
    assert "Pakistan reacted very positively" in answer.answer


@pytest.mark.parametrize("question, premise", [
    # an outcome taken for granted that the passage does not tell of: Action 3 still resumes the negotiations
    ("Why was the Regulation on transport operators approved by the Council?",
     "the Regulation on transport operators was approved by the Council"),
    # a walking-out verb, in lower case: the Budapest Process meetings were chaired by TR and HU
    ("why did türkiye boycott the budapest process", "türkiye did boycott the budapest process"),
])
def test_a_premise_no_passage_tells_of_is_quoted_as_unsupported(engine, question, premise):
    answer = engine.ask(question)
    assert answer.abstained and answer.abstention == "premise_not_supported", answer.answer
    assert f"the premise that {premise}" in answer.answer and answer.citations


def test_an_outcome_the_passage_tells_of_is_not_refused_as_a_premise(engine):
    answer = engine.ask("Why was the PACTS contract signed?")  # "was signed by UNODC on 15 July 2024"
    assert answer.abstention != "premise_not_supported" and answer.analysis["presupposed_outcome"] == "sign"


@pytest.mark.parametrize("question", [
    "Who won the 2018 Eurovision Song Contest?",
    "How do I bake sourdough bread?",
    "What is the boiling point of water at sea level?",
])
def test_questions_far_from_the_documents_get_the_fixed_sentence(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and answer.answer == NO_ANSWER and not answer.citations


def test_status_answers_lead_with_the_newest_document_and_call_older_ones_history(engine):
    answer = engine.ask("What is the status of the Bulgaria pilot project on asylum and returns?")
    headings = [line for line in answer.answer.split("\n") if not line.startswith("- ")]
    assert headings[0] == "Council action file, 22 July 2024:"
    assert all(h.startswith("Earlier, ") for h in headings[1:])


def test_a_lead_in_brings_the_items_it_introduces(engine, gold_answers):
    for item, answer in gold_answers:
        lines = answer.answer.split("\n")
        for number, sentence in enumerate(answer.sentences):
            if sentence.quote.endswith(":"):
                unit = engine.index.units[sentence.unit_id]
                items = [line for line in unit.text.split("\n") if line.startswith("- ")]
                if items and unit.text.index(sentence.quote) < unit.text.index(items[-1]):
                    assert number + 1 < len(answer.sentences), (item.id, lines)


def test_a_row_s_first_cell_never_answers_alone_when_the_row_says_more(engine, gold_answers):
    """The first cell restates what the question asks about; a fact of the same row comes with it."""
    titles = {s.unit_id: s.text for s in engine.index.sentences if s.field == "title"}
    facts = {s.unit_id for s in engine.index.sentences if s.field != "title"}
    for item, answer in gold_answers:
        if answer.abstained or not answer.sentences:
            continue
        first = answer.sentences[0]
        if first.quote == titles.get(first.unit_id) and first.unit_id in facts:
            assert any(s.unit_id == first.unit_id for s in answer.sentences[1:]), (item.id, answer.answer)


def test_no_answer_is_only_a_signature_a_salutation_or_a_heading(engine):
    for question in ("Who signed the Commission President's letter?", "How does the letter open?",
                     "What does the letter say about the way forward?"):
        answer = engine.ask(question)
        quotes = [s.quote for s in answer.sentences]
        assert not any(q in ("Ursula von der Leyen", "Yours sincerely,", "Dear colleagues,") for q in quotes), quotes


@pytest.mark.parametrize(("question", "locator", "commitment"), [
    ("What will the EU Asylum Agency report on regularly?", "Annex item 8", "report regularly on the reception conditions"),
    ("What lists should the EU have, according to the June 2023 letter?", "Annex item 7",
     "common lists of Safe Third Countries and Safe Countries of Origin"),
])
def test_a_question_about_what_a_row_commits_to_is_answered_by_the_row_s_own_first_cell(engine, question, locator,
                                                                                      commitment):
    """An annex item's or an action's first cell is the commitment itself, not a heading: it may be quoted."""
    answer = engine.ask(question)
    assert not answer.abstained, answer.answer
    assert commitment in answer.sentences[0].quote and answer.citations[0].unit.locator == locator, answer.answer


def test_a_row_s_first_cell_is_quoted_once_beside_its_facts(engine):
    answer = engine.ask("What does action 5 aim at?")
    quotes = [s.quote for s in answer.sentences]
    title = next(s.text for s in engine.index.sentences if s.unit_id == answer.citations[0].unit.unit_id
                 and s.field == "title")
    assert answer.citations[0].unit.locator == "Action 5" and quotes.count(title) == 1, quotes


@pytest.mark.parametrize("question", ["whats the status of action 7", "Frontex FRESO Cyprus", "EURP", "recamas"])
def test_short_english_queries_of_names_and_acronyms_are_not_taken_for_another_language(engine, question):
    assert engine.ask(question).abstention != "language_not_supported"


@pytest.mark.parametrize("question", ["When is the contract for the Pakistan Talent Partnership action expected to be "
                                      "concluded?",
                                      "By when was the next Moroccan budget support disbursement due to be decided?"])
def test_a_question_about_the_plan_itself_is_answered_by_the_plan(engine, question):
    """"Only planned" abstains on outcome questions; one that asks when something is expected is answered."""
    answer = engine.ask(question)
    assert not answer.abstained and answer.abstention != "only_planned", answer.answer


def test_an_outcome_question_about_an_event_only_announced_still_says_so():
    """The rule itself: an outcome question whose best passage is a plan gets "only as planned", a plan question not."""
    from assistant.answering.abstention import AbstentionRules

    planned = [_action_sentence("The ministerial meeting is to be held in Q4 2024.")]
    outcome = analyse_question("What was the outcome of the ministerial meeting?")
    plan = analyse_question("What outcome is expected from the ministerial meeting?")
    assert AbstentionRules.only_planned(outcome, planned) is planned[0]
    assert AbstentionRules.only_planned(plan, planned) is None


def _action_sentence(text: str, field: str = "comments"):
    """A stand-in for a ranked candidate, for the rules alone: a sentence of one of an action's columns."""
    from types import SimpleNamespace

    return SimpleNamespace(sentence=SimpleNamespace(text=text, field=field),
                           hit=SimpleNamespace(unit=SimpleNamespace(kind="action")))


def analyse_question(question: str):
    from assistant.answering.analysis import analyse
    from assistant.ingest import Glossary

    return analyse(question, Glossary([], [], []))


def test_naming_an_action_plan_is_not_asking_about_a_plan():
    """"Action plan" is a document's name; an outcome question about one still asks for the outcome."""
    from assistant.answering.analysis import PLAN_QUESTION

    assert not PLAN_QUESTION.search("What did the Council decide about the next steps for the Eastern Mediterranean "
                                    "action plan?")
    assert PLAN_QUESTION.search("When was the call expected to conclude?")


@pytest.mark.parametrize("question", ["Was the Pakistan Talent Partnership contract with GIZ eventually signed?",
                                      "what did the EUAA analysis of reception conditions conclude in the end",
                                      "Was the contract with GIZ actually signed?",
                                      "Did the Egypt-Italy mobility scheme actually start?"])
def test_a_question_about_the_final_outcome_of_something_still_under_way_is_told_it_is_only_planned(engine, question):
    """'finally', 'eventually', 'in the end', 'actually' ask for an outcome; a passage saying the work is under negotiation or
    ongoing does not give one, even when it is not the best-ranked sentence."""
    answer = engine.ask(question)
    assert answer.abstained and answer.abstention == "only_planned", answer.answer


def test_an_outcome_the_documents_report_is_answered_however_the_question_asks_for_it(engine):
    answer = engine.ask("When did the Roundtable with Pakistan actually take place?")
    assert not answer.abstained and "23 April 2024" in answer.answer, answer.answer


def test_a_commitment_in_the_future_tense_is_not_taken_for_the_outcome_still_being_planned(engine):
    """Annex item 12 commits that the Commission 'will launch' the partnership with Tunisia; the letter's own text says
    it was agreed in April. The row's first cell is what was promised, not what became of it."""
    answer = engine.ask("Did the Commission eventually launch the anti-smuggling partnership with Tunisia?")
    assert not answer.abstained and any("agreed" in s.quote for s in answer.sentences), answer.answer


def test_an_ongoing_sentence_answers_a_question_about_the_current_state():
    """The same passage answers "is it signed yet?": only final-outcome wording turns a question into an outcome one."""
    from assistant.answering.abstention import AbstentionRules

    ongoing = [_action_sentence("Legislative negotiations are ongoing.")]
    assert AbstentionRules.only_planned(analyse_question("Was the regulation adopted in the end?"), ongoing) is ongoing[0]
    assert AbstentionRules.only_planned(analyse_question("Has the regulation been adopted?"), ongoing) is None


@pytest.mark.parametrize(("question", "doer"), [
    ("Which body carries out the NACORAC project?", "implemented by ICMPD"),
    ("who runs the voluntary humanitarian return programme from Libya", "implemented by IOM"),
])
def test_a_question_asking_who_carries_something_out_gets_the_sentence_naming_the_doer(engine, question, doer):
    answer = engine.ask(question)
    assert not answer.abstained and doer in answer.answer, answer.answer


@pytest.mark.parametrize(("question", "intent"), [("Which agency is to implement the project?", "who_leads"),
                                                  ("Which organisation organised the workshop?", "who_leads"),
                                                  ("Which agencies take part in the project?", "list")])
def test_which_organisation_asks_for_one_doer_and_which_agencies_for_a_list(question, intent):
    assert analyse_question(question).intent == intent


def test_a_way_ahead_answers_no_question_about_the_final_outcome():
    """An action's Way ahead is what was still to be done: it cannot say how the matter ended."""
    from assistant.answering.abstention import AbstentionRules

    way_ahead = [_action_sentence("Develop an operational partnership with Pakistan.", "way_ahead")]
    ended = analyse_question("Was the operational partnership with Pakistan eventually concluded?")
    assert AbstentionRules.only_planned(ended, way_ahead) is way_ahead[0]
    assert AbstentionRules.only_planned(analyse_question("What was agreed with Pakistan?"), way_ahead) is None


@pytest.mark.parametrize("sentence", ["The Commission will explore the possibility to develop a partnership.",
                                      "Next steps include the adoption of guidance."])
def test_exploring_a_possibility_and_next_steps_tell_of_a_plan(sentence):
    from assistant.answering.analysis import PLANNED

    assert PLANNED.search(sentence)


@pytest.mark.parametrize("question", ["Which EU agencies support the pilot scheme?", "which organisations took part"])
def test_a_question_asking_which_agencies_expects_organisations(question):
    assert analyse_question(question).answer_type == "organisation"


@pytest.mark.parametrize("question, organiser", [
    ("Which agency organised the Best Practices Workshop on Return and Reintegration for Egypt?", "Frontex organized"),
    ("Which body hosted the two-day workshop on trafficking in January 2024?", "held by OSCE"),
])
def test_who_organised_an_event_is_answered_by_the_sentence_naming_the_organiser(engine, question, organiser):
    answer = engine.ask(question)
    assert not answer.abstained and organiser in answer.answer
    assert "Lead actor(s)" not in answer.answer  # who leads the action is not who organised its workshop


@pytest.mark.parametrize("question", ["Who chaired the Dublin Contact Committee meeting on 23 May?",
                                      "who hosted the EASTEAMS kick-off meeting"])
def test_an_event_whose_organiser_is_never_named_is_said_to_lack_it(engine, question):
    answer = engine.ask(question)
    verb = "chaired" if "chaired" in question else "hosted"
    assert answer.abstained and f"do not give who {verb} it" in answer.answer


@pytest.mark.parametrize("question, named", [("Who signed the PACTS contract?", "signed by UNODC"),
                                             ("Who took part in the SCOPE II kick-off meeting?", "DE, HU and AT")])
def test_who_signed_or_took_part_is_answered_by_the_sentence_that_names_them(engine, question, named):
    answer = engine.ask(question)
    assert not answer.abstained and named in answer.answer


def test_who_attended_a_meeting_whose_attendance_is_not_told_is_said_not_to_be_given(engine):
    answer = engine.ask("Who attended the Solidarity Platform meeting on 25 May?")  # a Lead actor(s) field does not say
    assert answer.abstained and "do not give who attended it" in answer.answer


def test_the_date_of_the_asked_event_is_answered_by_the_sentence_that_tells_of_it(engine):
    answer = engine.ask("When were the PARIM II consortium agreements signed?")
    assert not answer.abstained and "signed in August 2023" in answer.answer


@pytest.mark.parametrize("question", ["When was the SCOPE II grant agreement signed?",
                                      "When was the contract on surveillance capacity at Türkiye's Eastern border signed?"])
def test_a_signing_told_without_its_date_is_said_to_lack_it(engine, question):
    answer = engine.ask(question)  # "has been signed", and a kick-off meeting's date beside it, do not say when
    assert answer.abstained and "do not give when it was signed" in answer.answer


@pytest.mark.parametrize("question, amount", [("How much is the SCOPE II project worth?", "EUR 5 million"),
                                              ("What is the budget of the PROTTASHA II programme in Bangladesh?", "EUR 20 million")])
def test_the_amount_of_a_named_project_is_answered_by_the_sentence_that_names_it(engine, question, amount):
    answer = engine.ask(question)
    assert not answer.abstained and amount in answer.answer


def test_another_project_s_budget_in_the_same_passage_does_not_answer_for_the_asked_one(engine):
    answer = engine.ask("What is the total budget of the PATHWAYS project?")  # Action 7 gives PARIM II's, not PATHWAYS'
    assert answer.abstained and "do not give an amount" in answer.answer and "PARIM II" not in answer.answer


def test_a_programme_named_by_its_period_is_not_taken_for_an_event_after_the_documents(engine):
    # "the 2024-2025 scheme" runs from 2024, which the July 2024 file tells of; 2025 is where it ends, not when it happened
    answer = engine.ask("how many pledges did member states make under the 2024-2025 resettlement scheme")
    assert not answer.abstained and "61,000 pledges" in answer.answer


@pytest.mark.parametrize("question", ["What happened with the resettlement scheme in 2025?",
                                      "Did the 2025-2026 programme start?"])
def test_a_year_after_the_newest_document_still_cannot_be_answered(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and any("cannot say what happened in 2025" in note for note in answer.notes)


@pytest.mark.parametrize("question, kind", [("When was the letter sent?", "letter"),
                                            ("what's the date of the action file", "action_file")])
def test_a_document_s_own_date_is_answered_from_its_heading_with_a_passage_of_it_cited(engine, question, kind):
    from assistant.ingest import human_date

    document = next(d for d in engine.retriever.index.documents if d.kind == kind)
    answer = engine.ask(question)  # its sentences match the question poorly: the answerability model alone refused it
    assert not answer.abstained and answer.answer.startswith("The ") and f"is dated {human_date(document.date)} [1]." in answer.answer
    assert answer.citations[0].unit.doc_id == document.id


def test_a_question_about_what_a_document_tells_is_not_answered_by_the_document_s_date(engine):
    answer = engine.ask("When was the letter on the Tunisia Memorandum of Understanding sent?")
    assert "is dated" not in answer.answer
