"""Misspelt question words are matched to the corpus's own words, and nothing else is touched."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.search.spelling import Spelling


def _spelling(*words: str, common: frozenset[str] = frozenset()) -> Spelling:
    """A Spelling over an index whose one segment holds `words`."""
    joined = "\n" + "\n".join(words) + "\n"
    index = SimpleNamespace(segments=[SimpleNamespace(words=joined)],
                            mentions=lambda name: f"\n{name}" in joined or name in joined)
    return Spelling(index, common)


def test_one_edit_from_a_corpus_word_is_corrected_to_it():
    assert _spelling("rohingya", "refugees").corrections("money for rohinga refugees") == ["rohingya"]


def test_a_word_the_corpus_has_or_english_knows_is_left_alone():
    spelling = _spelling("returns", "bulgaria", common=frozenset({"weather"}))
    assert spelling.corrections("returns with bulgaria") == []
    assert spelling.corrections("weather in bulgaria") == [], "an English word is no misspelling"


def test_a_word_is_known_when_english_or_a_whole_corpus_word():
    spelling = _spelling("returns", "bulgaria", common=frozenset({"weather"}))
    assert spelling.knows("returns") and spelling.knows("weather")
    assert not spelling.knows("retours") and not spelling.knows("bulgar"), "a part of a corpus word is not one"


def test_the_real_index_knows_its_glossary_words_as_well(engine):
    assert engine.retriever.knows_word("deportations"), "a glossary user word"
    assert engine.retriever.knows_word("türkiye") and not engine.retriever.knows_word("rimpatri")


def test_two_corpus_words_equally_near_give_no_guess():
    assert _spelling("abcdef", "abcdeg").corrections("what about abcdex") == []


def test_short_words_need_one_edit_and_long_words_may_need_two():
    spelling = _spelling("readmission", "frontex")
    assert spelling.corrections("readmision talks") == ["readmission"]
    assert spelling.corrections("readmisson talks") == ["readmission"]
    assert spelling.corrections("redmisson talks") == ["readmission"], "two edits in a long word"
    assert spelling.corrections("frantax patrols") == [], "two edits in a short word are too many"


def test_the_real_index_corrects_misspelt_topic_words(engine):
    spelling = engine.retriever.spelling
    assert spelling.corrections("what crimes does the euromed police projet tackle") == ["project"]
    assert spelling.corrections("who runs the bulgria returns working group") == ["bulgaria"]
    assert spelling.corrections("What is the status of returns cooperation with Bulgaria?") == []


@pytest.mark.parametrize("question, locator", [
    ("funding for rohinga refugess in bangladesh", "Annex item 11"),
    ("what happend with the eurodak regulation negotations", "Annex item 3"),
])
def test_a_misspelt_question_still_finds_its_passage(engine, question, locator):
    hits = engine.retriever.search(question, mode="hybrid")
    assert locator in [h.unit.locator for h in hits[:5]], [h.unit.locator for h in hits[:5]]


def test_the_correction_is_searched_beside_the_users_words(engine):
    prepared = engine.retriever.prepare("support for rohinga refugees")
    assert prepared.searchable == "support for rohinga refugees" and "rohingya" in prepared.expanded
