"""Metadata read from the documents themselves, checked against SOURCES.json; dates that are not invented."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.errors import AssistantError
from assistant.ingest import check_document_date, date_bounds, find_dates, human_date, in_date_range, load_source, \
    short_label
from assistant.ingest.metadata import derive_metadata
from assistant.ingest.structure import detect_kind
from assistant.records import Document
from tests.fixtures_documents import FILES, FIXTURES, SOURCES

# Where our reading differs from SOURCES.json, and why. Each is asserted as stated, so it cannot drift.
DIFFERENCES = {
    # The PDF's own /Title names the note and its annex; SOURCES gives the annex's heading.
    ("commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf", "title"):
        "EU Action Plan for the Central Mediterranean (note SI(2022) 436 with annex)",
    # Nothing in the Frontex text says it is a press release (no type line, no markup, a reposted address).
    ("frontex-eu-external-borders-august-2022.txt", "genre"): "",
}
# SOURCES has no title where the text gives none; the title then comes from the letterhead or the file name.
UNTITLED = {
    "commission-speech-avramopoulos-ep-plenary-asylum-migration-2019-01-15.txt":
        ("Commission speech avramopoulos ep plenary asylum migration", "the file name"),
    "european-council-president-letter-on-migration-2016-03-04.txt":
        ("Letter from the President of the European Council", "its letterhead"),
    "euaa-latest-asylum-trends-september-2024.md": ("Euaa latest asylum trends september 2024", "the file name"),
    "frontex-eu-external-borders-august-2022.txt": ("Frontex eu external borders august 2022", "the file name"),
}
LABELS = {
    "commission-news-central-mediterranean-action-plan-2022-11-21.html": "Commission news article, 21 November 2022",
    "ep-press-release-meps-approve-new-migration-and-asylum-pact.html": "Parliament press release, undated",
    "euaa-asylum-report-2024-contents-introduction-readers-guide.pdf": "EUAA report, undated",
    "euaa-latest-asylum-trends-september-2024.md": "EUAA statistics, September 2024",
    "council-conclusions-on-migration-2015-07-20.txt": "Council conclusions, 20 July 2015",
    "european-council-president-letter-on-migration-2016-03-04.txt": "European Council letter, 4 March 2016",
    "commission-speech-avramopoulos-ep-plenary-asylum-migration-2019-01-15.txt": "Commission speech, 15 January 2019",
    "frontex-eu-external-borders-august-2022.txt": "Frontex document, undated",
}
TODAY = date(2026, 12, 1)


def derived(name):
    source = load_source(FIXTURES / name)
    return derive_metadata(source.lines, source.hints, name, detect_kind(source.lines), today=TODAY)


@pytest.fixture(scope="module")
def all_derived():
    return {name: derived(name) for name in FILES}


@pytest.mark.parametrize("field, attribute", [("title", "title"), ("date", "date"), ("issuer", "issuer"),
                                              ("reference", "reference"), ("kind", "genre"),
                                              ("language", "language"), ("url", "source_url")])
@pytest.mark.parametrize("name", FILES)
def test_metadata_from_the_document_matches_its_sources(all_derived, name, field, attribute):
    got = getattr(all_derived[name], attribute)
    want = SOURCES[name][field] or ""
    if (name, "title" if field == "title" else attribute) in DIFFERENCES:
        want = DIFFERENCES[(name, "title" if field == "title" else attribute)]
    elif field == "title" and name in UNTITLED:
        want, source = UNTITLED[name]
        assert all_derived[name].sources["title"] == source
    assert got == want


@pytest.mark.parametrize("name", FILES)
def test_labels_name_issuer_and_genre_never_a_default_letter(all_derived, name):
    d = all_derived[name]
    document = Document(id="x", title=d.title, issuing_body=d.issuer, reference=d.reference or "—", date=d.date,
                        kind=detect_kind(load_source(FIXTURES / name).lines), language=d.language,
                        source_file=name, genre=d.genre)
    label = short_label(document)
    if name in LABELS:
        assert label == LABELS[name]
    assert "Commission letter" not in label


def test_the_source_line_is_metadata_not_text():
    source = load_source(FIXTURES / "council-conclusions-on-migration-2015-07-20.txt")
    assert source.hints.source_url.startswith("http://www.consilium.europa.eu/")
    assert not any("Source:" in line.text for line in source.lines)


def test_distractor_dates_are_never_the_document_date(all_derived):
    assert all_derived["eurostat-asylum-applications-annual-statistics-2024-03-20.html"].date == "2024-03-20"  # not 25 March
    assert all_derived["commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"].date == \
        "2022-11-20"  # not the Ares stamp of 13/02/2023, not the meeting of 18 November
    assert all_derived["ep-press-release-meps-approve-new-migration-and-asylum-pact.html"].date == ""  # undated
    assert all_derived["euaa-latest-asylum-trends-september-2024.md"].date == "2024-09"  # a month, not a day


@pytest.mark.parametrize("text, values", [
    ("Brussels, 22 July 2024", ["2024-07-22"]),
    ("Strasbourg, 15 January 2019", ["2019-01-15"]),
    ("News article5 December 2022Directorate-General", ["2022-12-05"]),
    ("published on Wednesday, September 23 2020.", ["2020-09-23"]),
    ("• 20/07/2015", ["2015-07-20"]),
    ("Brussels, 25. 06. 2023", ["2023-06-25"]),
    ("in June 2024 and 2024-07-22", ["2024-06", "2024-07-22"]),
    ("the Commission may 2020 propose", []),  # "may" is a verb
    ("31 February 2024", ["2024-02"]),  # no such day: only the month is read
])
def test_dates_as_documents_write_them(text, values):
    assert [f.value for f in find_dates(text)] == values


@pytest.mark.parametrize("value, stored", [("2024-06-21", "2024-06-21"), ("2024-06", "2024-06"), ("", ""),
                                           (" 2024-06 ", "2024-06")])
def test_document_dates_accepted(value, stored):
    assert check_document_date(value, today=TODAY) == stored


@pytest.mark.parametrize("value, says", [("1900-01-01", "before 1950"), ("2031-01-01", "in the future"),
                                         ("2027-01", "in the future"), ("2024-13", "no month 13"),
                                         ("June 2024", "not a date like"), ("2024-02-30", "not a date like"),
                                         ("24-06-21", "not a date like")])
def test_document_dates_refused_in_one_sentence(value, says):
    with pytest.raises(AssistantError, match=says) as caught:
        check_document_date(value, today=TODAY)
    assert str(caught.value).count(". ") == 0


@pytest.mark.parametrize("value, shown", [("2024-07-22", "22 July 2024"), ("2024-06", "June 2024"), ("", "undated")])
def test_human_dates(value, shown):
    assert human_date(value) == shown


def test_a_month_stands_for_all_its_days():
    assert date_bounds("2024-02") == ("2024-02-01", "2024-02-29")
    assert in_date_range("2024-02", "2024-02-29", "") and not in_date_range("2024-02", "2024-03-01", "")
    assert not in_date_range("", "1950-01-01", "") and in_date_range("", "", "")
