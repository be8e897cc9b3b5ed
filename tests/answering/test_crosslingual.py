"""Questions in users' other languages, answered from the English documents through the multilingual encoder.

None of these questions is in eval/gold_languages.jsonl: they pin down the behaviour for questions the model
was not fitted or calibrated on.
"""

from dataclasses import replace

import pytest

from assistant.answering.crosslingual import chosen_sentences
from assistant.answering.language import foreign_language
from assistant.search import Query

BULGARIA_RETURNS = [
    ("Ποια είναι η κατάσταση της συνεργασίας για τις επιστροφές με τη Βουλγαρία;", "Greek"),
    ("Какво е състоянието на сътрудничеството с България за връщанията?", "Bulgarian"),
    ("Wie ist der Stand der Zusammenarbeit mit Bulgarien bei Rückführungen?", "German"),
    ("Où en est la coopération avec la Bulgarie en matière de retour ?", "French"),
    ("ما هو وضع التعاون مع بلغاريا في مجال الإعادة؟", "Arabic"),
]


@pytest.mark.parametrize("question, language", BULGARIA_RETURNS)
def test_a_question_in_another_language_is_answered_from_the_english_documents(engine, question, language):
    answer = engine.ask(question)
    assert not answer.abstained, answer.answer
    assert answer.citations[0].unit.locator in ("Action 21", "Action 20"), [c.unit.locator for c in answer.citations]
    assert answer.analysis["language"] == language
    assert any(language in note and "English documents" in note for note in answer.notes)
    for sentence in answer.sentences:  # quoted in English, verbatim from the passage it cites
        cited = next(c for c in answer.citations if c.n == sentence.n)
        assert sentence.quote in cited.unit.text


def test_an_acronym_carries_the_question_across_languages(engine):
    answer = engine.ask("Πού πραγματοποιήθηκε η εναρκτήρια συνάντηση του έργου EASTEAMS;")
    assert not answer.abstained and answer.citations[0].unit.locator == "Action 1"
    assert "Athens" in answer.answer


@pytest.mark.parametrize("question", ["Кой ръководи действие 14?", "Wer ist federführend bei Maßnahme 14?",
                                      "Ποιος ηγείται της δράσης 14;", "من يقود الإجراء 14؟"])
def test_an_action_named_in_another_language_is_read_first(engine, question):
    answer = engine.ask(question)
    assert answer.hits[0].unit.locator == "Action 14" and answer.hits[0].named
    assert answer.analysis["looking_for"].startswith("the closest sentences, read in ")
    assert answer.analysis["looking_for"].endswith(" · about: Action 14") and answer.analysis["focus"] == ""


@pytest.mark.parametrize("question", ["Какъв е статусът на действие 27?", "Wie ist der Stand von Maßnahme 25?"])
def test_an_action_the_corpus_lacks_is_not_answered_in_any_language(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and answer.abstention == "not_in_documents"
    assert "The documents do not answer this question." in answer.answer and not answer.citations


def test_the_answer_is_the_closest_sentences_of_one_passage(engine):
    reading, crossed = engine.answerer.read_other_language(Query("Wer setzt das Migrationszentrum in Istanbul um?"))
    chosen = chosen_sentences(crossed)
    assert 1 <= len(chosen) <= 3 and len({c.hit.unit.unit_id for c in chosen}) == 1
    assert chosen[0] is crossed.candidates[0] and all(c.score <= chosen[0].score for c in crossed.candidates)


def test_without_a_fitted_cross_lingual_model_the_language_is_said_to_be_unsupported(engine):
    answerer = engine.answerer
    saved = answerer.ranker
    answerer.ranker = replace(answerer.model, cross_lingual=None)
    try:
        answer = engine.ask(BULGARIA_RETURNS[0][0])
    finally:
        answerer.ranker = saved
    assert answer.abstained and answer.abstention == "language_not_supported"
    assert "Greek" in answer.answer and "ask in English" in answer.answer and not answer.citations


@pytest.mark.parametrize("question", ["Ποιος είναι ο καιρός στην Αθήνα αύριο;",
                                      "Qui a gagné la Coupe du monde de football en 2018 ?",
                                      "Кой е кметът на София?", "ما هي عاصمة اليابان؟"])
def test_a_question_in_another_language_the_documents_do_not_touch_is_not_answered(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and answer.answer == "The documents do not answer this question.", answer.answer
    assert not answer.citations and answer.analysis["language"]


@pytest.mark.parametrize("question, language", [("кой отговаря за връщанията от кипър", "Bulgarian"),
                                                ("τι γίνεται με τις επιστροφές", "Greek"),
                                                ("ما هي عاصمة اليابان؟", "Arabic")])
def test_a_short_question_in_another_script_is_never_taken_for_english(question, language):
    """py3langid may split a short Cyrillic question between Bulgarian, Russian and Ukrainian below its
    confidence bar; the script alone says it is not English."""
    assert foreign_language(question) == language


@pytest.mark.parametrize("question, language", [("retours bulgarie", "French"), ("qui dirige l'action 12", "French"),
                                                ("wer leitet aktion 5", "German"), ("rimpatri dalla grecia", "Italian"),
                                                ("retornos de chipre", "Spanish")])
def test_a_short_question_in_another_latin_script_language_is_told_by_its_unknown_words(engine, question, language):
    """py3langid is unsure of these (0.49 to 0.90); their words are neither English nor the corpus's."""
    assert engine.answerer.language_of(question) == language
    assert foreign_language(question) == ""  # the model's confidence alone would take them for English
    assert engine.answerer.language_of(question.upper()) == language, "typed in capitals"


@pytest.mark.parametrize("question", ["Türkiye", "Schengen", "Tunisia MoU", "Türkiye EU statement", "frontex greece",
                                      "deportations bulgaria", "rohinga refugees", "euromed police projet",
                                      "Ukraine temporary protection", "Evros fence"])
def test_a_short_english_query_of_names_and_topic_words_stays_english(engine, question):
    """Some score high for another language (Türkiye 0.98 Turkish); every word or most are English or the corpus's."""
    assert engine.answerer.language_of(question) == ""
    assert engine.ask(question).analysis.get("language") is None


def test_words_english_shares_with_other_languages_do_not_make_a_question_english(engine):
    """'in' is German, Italian and Dutch as much as English: twice in a German question, it is still German."""
    assert engine.answerer.language_of("wie viele Rückführungen gab es in Zypern in diesem Jahr") == "German"


@pytest.mark.parametrize("question, acronym", [("Was ist der Stand von ETIAS in Griechenland?", "ETIAS"),
                                               ("Wie steht es um das EES-System?", "EES")])
def test_an_acronym_no_document_holds_is_said_to_be_missing_in_any_language(engine, question, acronym):
    """'EES' is inside 'employees' and 'fees': only a whole word of the corpus counts."""
    answer = engine.ask(question)
    assert answer.abstained and answer.abstention == "not_in_documents" and not answer.citations
    assert f"The documents do not mention {acronym}." in answer.notes


@pytest.mark.parametrize("question", ["Quel est le rôle des projets AMIF-financés ?", "Welche OAPs gibt es mit Ägypten?"])
def test_an_acronym_the_corpus_holds_is_not_refused(engine, question):
    """In a compound (AMIF-financés) or a plural (OAPs) it is still the corpus's word."""
    assert engine.ask(question).abstention != "not_in_documents"
