"""The glossary names countries and programmes as words: whole words only, names in any case, short codes
and acronyms only in capitals, by the acronym or by its expansion."""

import pytest

from assistant.ingest import load_glossary
from assistant.settings import load_settings


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(load_settings().corpus_dir)


def test_a_country_is_found_by_name_alias_or_code_in_glossary_order(glossary):
    assert glossary.countries_in("Returns from GREECE to Ankara, then BG") == ["Bulgaria", "Greece", "Türkiye"]


def test_a_name_inside_a_longer_word_is_not_the_country(glossary):
    assert glossary.countries_in("Bulgariaxx and Pre-Greek texts and Romanians") == []


def test_a_two_letter_code_counts_only_in_capitals(glossary):
    assert glossary.countries_in("BG and EL") == ["Bulgaria", "Greece"]
    assert glossary.countries_in("be at the el station") == []


def test_an_acronym_is_found_by_itself_its_plural_or_its_expansion(glossary):
    assert glossary.terms_in("two JADs were held") == ["JAD"]
    assert glossary.terms_in("the asylum, migration and integration fund pays") == ["AMIF"]
    assert glossary.terms_in("a jad was held") == []  # short acronyms only in capitals


def test_a_text_read_again_gives_the_same_finds_and_a_caller_cannot_change_them(glossary):
    first = glossary.countries_in("Returns from GREECE to Ankara, then BG")
    first.append("Atlantis")
    assert glossary.countries_in("Returns from GREECE to Ankara, then BG") == ["Bulgaria", "Greece", "Türkiye"]
    terms = glossary.terms_in("two JADs were held")
    terms.clear()
    assert glossary.terms_in("two JADs were held") == ["JAD"]


def test_a_question_is_expanded_with_what_it_implies_and_not_with_what_it_says(glossary):
    expanded = glossary.expand_query("How much did AMIF give Bulgaria?")
    assert "Asylum, Migration and Integration Fund" in expanded and "BG" in expanded
    assert expanded.count("Bulgaria") == 1
