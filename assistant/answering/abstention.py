"""Knowing when not to answer, and saying what is missing.

Each rule returns one sentence for the answer's notes, or "" when it does not apply: the
question names an action or annex item the corpus does not hold, a country or a name the
corpus never mentions, or an event dated after the newest document. Once candidates are
ranked, `missing_attribute` says when the documents mention the target but no close
sentence carries the asked type (a figure, a date, a name), and `premise_unsupported` when a
"why did X stop ..." question's premise finds no support in the passage about X.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import Callable

from assistant.answering.analysis import (
    THING_NOUNS,
    FINAL_OUTCOME,
    OUTCOME_QUESTION,
    PAST_EVENT,
    PLAN_QUESTION,
    PLANNED,
    QUARTER,
    QUESTION_DATE,
    YEAR,
    QuestionAnalysis,
    tells_of_outcome,
)
from assistant.answering import weights as w
from assistant.answering.candidates import FEATURES, Candidate, is_row_title
from assistant.index import LoadedIndex
from assistant.ingest import Glossary, human_date, month_number, short_label
from assistant.ingest.dates import MONTHS
from assistant.records import Document
from assistant.search.locators import NUMBERED_KINDS, LocatorTable, locator_references

NO_ANSWER = "The documents do not answer this question."
POSSIBLY_RELATED = "Possibly related passages are listed below; none of them answers the question."
# Words that, near the subject, tell of the stopping, leaving or refusing a premise takes for granted.
ACRONYM = re.compile(r"(?<!\w)[A-Z][A-Z0-9]{2,}s?(?!\w)")  # NDICI, ETIAS, OAPs, AMIF(-funded)
ROMAN = re.compile(r"[IVXLC]+")  # "Title III", "Annex II": capitals, but no acronym
_NEGATIVE = re.compile(r"\b(not|no longer|never|stopp\w*|ended|abandon\w*|withdr[ae]w\w*|pulled out|rejected|refus\w*|"
                       r"cancel\w*|suspend\w*|halted|terminat\w*|closed|declined|gave up|given up|left|failed|lost|"
                       r"delayed|postponed|blocked|dropped|opposed|shut|discontinued|abolished|dissolved|disbanded|"
                       r"phased out|wound up|collapsed|broke down|broken off|stalled|frozen|froze|walked out|backed out|"
                       r"opted out|boycotted|severed)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _country_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Every ISO 3166 country by its name, common name and short name, matched capitalised."""
    import pycountry

    patterns = []
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", country.name), country.name.split(",")[0]}
        for name in names:
            if len(name) >= 4:
                patterns.append((name, re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", re.IGNORECASE)))
    return patterns


def _period_end(iso: str) -> str:
    """The last day a (possibly month- or year-only) ISO date covers, comparable as text: '2024-09' -> '2024-09-31'."""
    return {4: iso + "-12-31", 7: iso + "-31"}.get(len(iso), iso)


def unknown_acronym(question: str, knows: Callable[[str], bool]) -> str:
    """An acronym of three capitals or more (ETIAS, NDICI) that is no whole word of the corpus, or ''.

    The one kind of name read alike in every Latin-script language, so it serves questions in other
    languages, where a capitalised word may be any German noun. `knows` is `Retriever.knows_word`: a
    whole word, since a part ("ees" in "employees") says nothing of an acronym."""
    for acronym in ACRONYM.findall(question):
        lower = acronym.lower()
        singular = lower[:-1] if acronym.endswith("s") else lower  # "OAPs"
        if not ROMAN.fullmatch(acronym) and not knows(lower) and not knows(singular):
            return acronym
    return ""


# A named body or instrument: capitalised words (with "of", "for", "on", "and", "the" between them) that end in a
# noun naming one: "European Migrant Smuggling Centre", "EU Blue Card", "Global Compact for Migration".
_BODY_NOUN = (r"(?:Centre|Center|Agency|Office|Fund|Facility|Programme|Program|Network|Unit|Mechanism|Initiative|"
              r"Platform|Regulation|Directive|Card|Committee|Board|Authority|Instrument|Forum|Observatory|Institute|"
              r"Foundation|Service|Scheme|Task ?Force|Coalition|Court|Compact|Charter|Convention|Treaty)")
_CAPITALISED = r"(?:[A-Z][\w’'-]*)"
_CONNECTORS = ("the", "of", "for", "on", "and", "against", "in")
NAMED_BODY = re.compile(rf"(?<![\w-]){_CAPITALISED}(?:\s+(?:(?:{'|'.join(_CONNECTORS)})\s+)*{_CAPITALISED})*?\s+"
                        rf"{_BODY_NOUN}s?(?![\w-])")


# A period a programme is named by ("the 2024-2025 resettlement scheme", "2023–2025"): its end year is read as its
# start year, since a period under way at the newest document is what the documents tell of, not an event after them.
_PERIOD_ENDS = re.compile(r"\b(19[5-9]\d|20\d\d)\s*[-–/]\s*(19[5-9]\d|20\d\d)\b")


def _started_period(match: re.Match) -> str:
    return f"{match.group(1)} {match.group(1)}"


class AbstentionRules:
    """The rules, with what they need from the index read once."""

    def __init__(self, index: LoadedIndex, glossary: Glossary, locators: LocatorTable,
                 common_words: frozenset[str] = frozenset()) -> None:
        self._glossary = glossary
        self._common = common_words
        self._locators = locators
        self._index = index  # "does the corpus mention X" is a lookup in words and phrases the build wrote
        self._documents: dict[str, Document] = {d.id: d for d in index.documents}
        self._missing: dict[int, list[Document]] = {}  # action number -> documents that say it is missing
        for document in index.documents:
            for number in document.missing_actions:
                self._missing.setdefault(number, []).append(document)
        dates = [d.date for d in index.documents if d.date]
        self.newest = max(dates, key=_period_end) if dates else ""
        self._newest_end = _period_end(self.newest) if self.newest else ""

    def absent_locator(self, question: str) -> str:
        """A question about an action or annex item this corpus does not hold is not answerable."""
        for reference in locator_references(question):
            if reference.kind not in NUMBERED_KINDS or self._locators.exists(reference):
                continue
            number = int(reference.number.split(".")[0])
            missing_in = self._missing.get(number, [])
            if reference.kind == "action" and missing_in:
                d = missing_in[0]
                first, last = min(d.missing_actions), max(d.missing_actions)
                return (f"Action {number} is not in this copy of the {short_label(d).split(',')[0]} "
                        f"({d.reference}): actions {first} to {last} are missing from it.")
            return f"{reference.label} {reference.number} does not exist in the indexed documents."
        return ""

    def mentions(self, name: str) -> bool:
        if self._index.mentions(name):  # a substring of the units' text, in any case
            return True
        return any(name.lower() in (c.name.lower(), *(a.lower() for a in c.aliases)) for c in self._glossary.countries)

    def unknown_country(self, question: str) -> str:
        """A country the question names (ISO 3166, via pycountry, in any case) that the corpus never mentions, or ''."""
        for name, pattern in _country_patterns():
            if pattern.search(question) and not self.mentions(name):
                return name
        return ""

    def unknown_name(self, analysis: QuestionAnalysis) -> str:
        """A name or acronym of the question that no document contains, or ''.

        A name is an acronym (NDICI, ETIAS) or a capitalised word that is not a common English word
        (the embedding model's own vocabulary of whole words stands for those); possessives and
        hyphenated compounds ("EUAA's", "AMIF-funded") are read part by part.
        """
        for name in analysis.targets.names:
            for part in re.split(r"[-/]", re.sub(r"['’]s$", "", name)):
                if len(part) < 3 or not part[0].isupper():
                    continue
                acronym = part.isupper() and len(part) >= 3 and not ROMAN.fullmatch(part)
                if not acronym and part.lower() in self._common:
                    continue
                if not self.mentions(part) and not self.mentions(part.rstrip("s")):
                    return part
        return ""

    def unknown_body(self, question: str) -> str:
        """A named body or instrument of two capitalised words or more ("the European Migrant Smuggling Centre") that
        no document contains as a phrase, in any case or hyphenation, and the glossary does not know; or ''.

        Each of its words may be common ("European", "Centre") and in the corpus, so the one-word name rule does
        not see it; the name as a whole is what the documents would have to mention."""
        opening = len(question) - len(question.lstrip())  # where the question's first word starts
        for match in NAMED_BODY.finditer(question):
            words = match.group(0).split()
            if match.start() == opening:
                words = words[1:]  # the question's own first word ("Has", "Which") is capitalised as any first word is
            owners = [i for i, word in enumerate(words) if re.search(r"['’]s?$", word)]
            if owners:
                words = words[owners[-1] + 1:]  # "Europol's European Migrant Smuggling Centre": the body is after the owner
            while words and words[0].lower() in _CONNECTORS:
                words = words[1:]
            if len(words) < 2:
                continue
            name = " ".join(words)
            if any(term not in words for term in self._glossary.terms_in(name)):
                continue  # the glossary knows it by its expansion: "Forced Return Escort and Support Officer"
            stems = (words, words[1:] if words[0] in ("EU", "European") else [], words[:-1])
            if any(self._mentions_any_spelling(" ".join(stem)) for stem in stems
                   if len(stem) >= 2 or (len(stem) == 1 and stem[0].lower() not in self._common and len(stem[0]) > 2)):
                continue  # "EU Talent Pool Regulation", "Frontex Office": the documents' "Talent Pool", "Frontex"
            return name
        return ""

    def _mentions_any_spelling(self, name: str) -> bool:
        return any(self.mentions(v) for v in {name, name.replace("-", " "), re.sub(r"\s+", "-", name)})

    def after_the_documents(self, question: str) -> str:
        """A question about what happened at a time later than the newest document cannot be answered."""
        if not self.newest or not PAST_EVENT.search(question):
            return ""
        newest = self._newest_end  # a document dated only "2024-09" may speak of all of September 2024
        for match in QUESTION_DATE.finditer(question):
            day, month, year = match.group(1), match.group(2), match.group(3)
            mentioned = f"{year}-{month_number(month):02d}-{int(day) if day else 1:02d}"
            if mentioned > newest:
                return (f"The newest document is dated {human_date(self.newest)}; it cannot say what happened "
                        f"{'on' if day else 'in'} {match.group(0)}.")
        for match in QUARTER.finditer(question):  # a quarter that ends after the newest document
            end_month = 3 * int(match.group(1))
            if f"{match.group(2)}-{end_month:02d}-28" > newest:
                return (f"The newest document is dated {human_date(self.newest)}; it cannot say what happened in "
                        f"{match.group(0)}.")
        for year in YEAR.findall(_PERIOD_ENDS.sub(_started_period, question)):
            if int(year) > int(newest[:4]):
                return f"The newest document is dated {human_date(self.newest)}; it cannot say what happened in {year}."
        return ""

    @staticmethod
    def only_planned(analysis: QuestionAnalysis, ranked: list[Candidate]) -> Candidate | None:
        """An outcome question whose passage tells of the event only as planned ('in preparation', 'to be signed in
        coming weeks', 'negotiations are ongoing'; for a question about the final outcome, also an action's Way ahead,
        which is what was still to be done): the best sentence, or one of the next best that shares at least
        ABOUT_OVERLAP of the question's idf-weighted terms, since the plan is often a later clause of the unit."""
        if not ranked or not OUTCOME_QUESTION.search(analysis.question) or PLAN_QUESTION.search(analysis.question):
            return None  # a question about the plan itself ("when was it due to conclude") is answered by the plan
        overlap = FEATURES.index("idf_overlap")
        final = bool(FINAL_OUTCOME.search(analysis.question))
        # A row's first cell is the commitment, in the future tense whatever became of it ("The Commission will
        # launch ..."): the outcome is told in the row's other fields and the other passages, which are read instead.
        told = islice((c for c in ranked if not is_row_title(c)), w.TYPE_WINDOW)
        for position, candidate in enumerate(told):
            planned = PLANNED.search(candidate.sentence.text) or (final and candidate.sentence.field == "way_ahead")
            if planned and (position == 0 or candidate.features[overlap] >= w.ABOUT_OVERLAP):
                return candidate
        return None

    @staticmethod
    def premise_unsupported(analysis: QuestionAnalysis, ranked: list[Candidate]) -> Candidate | None:
        """The best passage about the premise's subject, when it tells of no stopping or refusing (or, for an outcome
        taken for granted, "why was it adopted", of no such outcome); else None."""
        if not analysis.presupposition or not ranked:
            return None
        best = ranked[0]
        unit_rows = [c for c in ranked if c.hit.unit.unit_id == best.hit.unit.unit_id]
        if analysis.presupposed_outcome:
            told = any(tells_of_outcome(analysis.presupposed_outcome, c.sentence.text) for c in unit_rows[:6])
        else:
            told = any(_NEGATIVE.search(c.sentence.text) for c in unit_rows[:6])
        return None if told else best


def target_name(analysis: QuestionAnalysis, common_words: frozenset[str] = frozenset()) -> str:
    """What the question is about, as the answer names it, or '' when the question names nothing.

    The action it names ("Action 13"); else the thing it names by a capitalised name, with the noun after it
    ("the EU-Tunisia Memorandum of Understanding", "the EASTEAMS project"); else its glossary terms or
    countries ("FRESO", "Cyprus"). A glossary acronym alone would say less than the name the reader used."""
    targets = analysis.targets
    if targets.locators:
        return " and ".join(targets.locators[:2])
    named = subject_phrase(analysis.question, common_words)
    if named:
        return named
    for group in (targets.terms, targets.countries):
        if group:
            return " and ".join(group[:2])
    return ""


_NAME_CONNECTORS = frozenset({"of", "for", "on", "and", "the", "against", "to"})
_TOKEN = re.compile(r"[^\W\d_][\w’'-]*|\d[\w./-]*|[^\w\s]")


def subject_phrase(question: str, common_words: frozenset[str] = frozenset()) -> str:
    """The question's best capitalised name: two capitalised words or more (joined by "of", "for", "and" ...), or
    a name followed by a noun of the thing named, with the "the" before it; '' when it has none.

    Best: the most words that are acronyms or not common English words ("EU-Türkiye High Level Dialogue" over
    "Turkish delegation"), then a name followed by such a noun, then the longest, then the first. The question's first word and month names are not names."""
    tokens = [t for t in (re.sub(r"(?<=\w)['’]$", "", m.group(0)) for m in _TOKEN.finditer(question)) if t]

    def capitalised(i: int) -> bool:
        return i > 0 and tokens[i][0].isupper() and tokens[i] not in MONTHS

    runs: list[tuple[int, bool, int, int, str]] = []
    i = 0
    while i < len(tokens):
        if not capitalised(i):
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and (capitalised(j) or (tokens[j].lower() in _NAME_CONNECTORS
                                                       and j + 1 < len(tokens) and capitalised(j + 1))):
            j += 1
        end = j
        for span in (2, 1):  # "MPF mobility scheme", "Atlantic action plan", "EASTEAMS project"
            following = tokens[j:j + span]
            if len(following) == span and all(t[:1].islower() for t in following) and following[-1] in THING_NOUNS:
                end = j + span
                break
        words = tokens[i:j]
        uncommon = sum(1 for word in words if (word.isupper() and len(word) > 1)
                       or re.sub(r"['’]s$", "", word).lower() not in common_words)
        start = i - 1 if tokens[i - 1].lower() == "the" else i
        if len(words) >= 2 or end > j:
            runs.append((uncommon, end > j, len(words), -i, " ".join(tokens[start:end])))
        i = j
    return max(runs)[4] if runs else ""
