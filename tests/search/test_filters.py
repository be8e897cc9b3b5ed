"""Filters are checked strictly: ISO dates only (days, months, years), known countries and documents, no empty values.

Before: `--date-from 20240722` passed (Python reads it as a date) and was then compared as
text, silently dropping that day's documents; `--country ''` matched the first country without
a code; an unknown `--doc` answered "the documents do not answer" without saying why.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from assistant.cli import cli
from assistant.errors import AssistantError
from assistant.ingest import in_date_range, load_glossary
from assistant.search import Filters
from tests.conftest import CORPUS

DOCUMENTS = ["emr-action-file-2024", "commission-letter-2023"]


@pytest.fixture(scope="module")
def glossary():
    return load_glossary(CORPUS)


@pytest.mark.parametrize("given_from, given_to, resolved", [
    ("2024-07-22", "2024-07-22", ("2024-07-22", "2024-07-22")),
    ("2024-07", "2024-07", ("2024-07-01", "2024-07-31")),
    ("2024-02", "2024-02", ("2024-02-01", "2024-02-29")),
    ("2023", "2024", ("2023-01-01", "2024-12-31")),
    (" 2024-07-22 ", "", ("2024-07-22", "")),
])
def test_days_months_and_years_become_the_days_that_bound_them(glossary, given_from, given_to, resolved):
    result = Filters(date_from=given_from, date_to=given_to).resolved(glossary)
    assert (result.date_from, result.date_to) == resolved


@pytest.mark.parametrize("value", ["20240722", "2024-7-22", "22/07/2024", "2024-13", "2024-00", "2024-02-30",
                                   "July 2024", "2024-W30", "2024-07-22T10:00", "24"])
def test_anything_but_an_iso_day_month_or_year_is_one_sentence(glossary, value):
    with pytest.raises(AssistantError) as caught:
        Filters(date_from=value).resolved(glossary)
    assert "is not a date like 2024-07-22, a month like 2024-07 or a year like 2024." in str(caught.value)


def test_a_range_that_ends_before_it_starts_is_refused(glossary):
    with pytest.raises(AssistantError, match="is after the to date"):
        Filters(date_from="2024-08", date_to="2024-07-31").resolved(glossary)


def test_the_day_of_the_action_file_keeps_it(glossary):
    for day in ("2024-07-22", "2024-07", "2024"):
        resolved = Filters(date_from=day, date_to=day).resolved(glossary)
        assert in_date_range("2024-07-22", resolved.date_from, resolved.date_to)
        assert in_date_range("2024-07", resolved.date_from, resolved.date_to), "a month-only document is in its month"


@pytest.mark.parametrize("field", ["doc_ids", "countries", "sections", "kinds"])
@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_value_is_refused_not_read_as_any(glossary, field, empty):
    with pytest.raises(AssistantError, match="was given an empty value"):
        Filters(**{field: (empty,)}).resolved(glossary, DOCUMENTS)


def test_an_unknown_country_lists_the_countries(glossary):
    with pytest.raises(AssistantError) as caught:
        Filters(countries=("Atlantis",)).resolved(glossary)
    assert "'Atlantis' is not a country the glossary knows; the countries are " in str(caught.value)
    assert "Bulgaria (BG)" in str(caught.value) and "Italy" in str(caught.value)


def test_countries_by_name_code_alias_and_case(glossary):
    resolved = Filters(countries=("bg", "Bulgaria", "turkey", " TR ")).resolved(glossary)
    assert resolved.countries == ("Bulgaria", "Türkiye")


def test_an_unknown_document_or_kind_lists_the_valid_ones(glossary):
    with pytest.raises(AssistantError) as caught:
        Filters(doc_ids=("emr-action-file-2025",)).resolved(glossary, DOCUMENTS)
    assert str(caught.value) == ("No document has the id 'emr-action-file-2025'; the documents are "
                                 "emr-action-file-2024, commission-letter-2023 (see `assistant documents`).")
    with pytest.raises(AssistantError, match="is not a kind of passage; the kinds are action"):
        Filters(kinds=("memo",)).resolved(glossary, DOCUMENTS)


@given(st.text(max_size=12))
def test_any_date_text_is_a_day_or_one_sentence(value):
    from assistant.search.filters import filter_date

    try:
        day = filter_date(value, "from date", last=False)
    except AssistantError as exc:
        assert str(exc).count(". ") == 0 and str(exc).endswith(".")
    else:
        assert len(day) == 10 and day[4] == "-" and day[7] == "-"


@pytest.mark.slow
@pytest.mark.parametrize("options, says", [
    (["--date-from", "20240722"], "is not a date like 2024-07-22"),
    (["--country", ""], "--country was given an empty value"),
    (["--doc", "nope"], "No document has the id 'nope'; the documents are emr-action-file-2024"),
    (["--country", "Atlantis"], "the countries are"),
])
@pytest.mark.parametrize("command", ["ask", "search"])
def test_the_cli_refuses_such_filters_in_one_sentence(engine, command, options, says):
    result = CliRunner().invoke(cli, [command, "what is the status of returns cooperation with Bulgaria", *options])
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output


@pytest.mark.slow
def test_a_month_filter_keeps_the_documents_of_that_month(engine):
    from assistant.search import Query

    answer = engine.ask(Query("what is the status of returns cooperation with Bulgaria",
                              Filters(date_from="2024-07", date_to="2024-07")))
    assert answer.citations and {c.unit.doc_id for c in answer.citations} == {"emr-action-file-2024"}
