"""Candidate answer sentences and the features a learned ranker scores them by.

A candidate is a sentence (or list item) of a retrieved unit. Its features say how close it
is to the question (cosine, shared terms), where it sits (field, position, list lead-in or
item, unit rank, a unit the question names), whether it carries the kind of answer asked
for (a date for "when", an amount for "how much", the Lead actor(s) line for "who leads")
about the question's targets (countries, glossary terms), and what it is not (a signature,
a salutation, a heading, a title). Facts about a sentence that do not depend on the
question are computed once per sentence and kept.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.answering.analysis import (AMOUNT, DATE, EVENT_NOUNS, FREQUENCY, YEAR, QuestionAnalysis, has_count,
                                         has_person, names_organiser)
from assistant.index import LoadedIndex
from assistant.index.bm25 import tokenize
from assistant.ingest import REDACTED, Glossary
from assistant.records import Hit, Sentence
from assistant.search import PreparedQuestion
from assistant.search.locators import NUMBERED_KINDS

FIELDS = ("title", "lead_actors", "status", "way_ahead", "comments", "body", "state_of_play", "letter_text",
          "progress", "footnotes")
FACT_FIELDS = ("comments", "state_of_play", "progress")
_SALUTATION = re.compile(r"^(Dear\b|To:|From:|Subject:)", re.IGNORECASE)
_CLOSING = re.compile(r"^(Yours (sincerely|faithfully)|Kind regards|Best regards|With best regards|Sincerely)\b",
                      re.IGNORECASE)
_NAME_LINE = re.compile(r"^(?:[A-Z][\wÀ-ÿ.'-]+\s?){1,3}(?:(?:von der|van der|de|da|di)\s)?(?:[A-Z][\wÀ-ÿ.'-]+\s?){0,2}$")
# An organisation as these documents name one: an acronym (GIZ, ICMPD, EUAA), or a body by its kind.
_ORGANISATION = re.compile(r"\b([A-Z]{2,}[a-z]?|[A-Z][a-z]+ (?:Agency|Organisation|Organization|Office|Commission|Council|"
                           r"Parliament|Ministry|Presidency|Directorate|Centre|Center|Foundation|Institute|Network|Group))\b")
FACTS_CACHE = 200_000  # sentences whose facts are kept (a question reads a few dozen; bounded for long runs)
_END = re.compile(r"[.!?;:)\]”\"']\s*$")

FEATURES = (
    "cos", "cos_gap", "cos_rank_in_unit", "cos_plain", "multilingual_cos", "multilingual_gap", "lexical", "lexical_gap", "idf_overlap", "idf_overlap_gap", "unit_inverse_rank", "unit_similarity",
    "unit_named", "other_unit_named", *(f"field_{f}" for f in FIELDS), "field_other", "position", "first_of_field",
    "log_words", "has_date", "has_amount", "has_count", "has_person", "has_organisation", "type_match", "type_missing", "country_match",
    "other_country_only", "term_match", "who_leads_x_lead_field", "who_leads_x_lead_field_named", "who_leads_x_other_field", "status_x_status_field",
    "status_x_fact_field", "list_x_lead_in", "list_x_item", "is_lead_in", "is_list_item", "newest_document",
    "year_match", "redacted", "signature", "heading", "cover_note", "definition_x_first",
)


@dataclass(frozen=True)
class SentenceFacts:
    """What a sentence is, whatever the question."""

    terms: frozenset[str]
    words: int
    has_date: bool
    has_amount: bool
    has_count: bool
    has_person: bool
    has_organisation: bool
    years: frozenset[int]
    is_lead_in: bool
    is_list_item: bool
    signature: bool
    heading: bool
    redacted: bool
    has_frequency: bool = False  # "monthly", "every two weeks", "twice a year"

    def carries(self, answer_type: str) -> bool:
        """Does the sentence hold an instance of the asked type (TYPE_FLAGS); False for the other types."""
        flag = TYPE_FLAGS.get(answer_type)
        return flag is not None and bool(getattr(self, flag))


# The answer types a sentence can be checked for, and the fact that says it holds one.
TYPE_FLAGS = {"date": "has_date", "amount": "has_amount", "count": "has_count", "person": "has_person",
              "frequency": "has_frequency"}


@dataclass
class Candidate:
    row: int  # the sentence's row in the index's sentence store
    sentence: Sentence
    hit: Hit
    facts: SentenceFacts
    features: np.ndarray = field(default_factory=lambda: np.zeros(0))
    score: float = 0.0  # the ranker's probability that this sentence answers the question


class SentenceTable:
    """The index's sentences grouped by unit, with their question-independent facts computed on first use."""

    def __init__(self, index: LoadedIndex, glossary: Glossary, common_words: frozenset[str] = frozenset()) -> None:
        self.index = index
        self.glossary = glossary
        self.common_words = common_words
        # unit id -> rows of its sentences, in reading order: from the index's unit -> first row and count
        # table (written by the build), so nothing is grouped at start-up
        self.rows_of_unit = index.sentence_rows_of
        self._facts: dict[int, SentenceFacts] = {}
        self._countries: dict[int, frozenset[str]] = {}
        self._list_lines: dict[str, set[str]] = {}
        self.idf = index.idf  # term -> BM25 idf, looked up in the BM25 index's postings on demand
        self.max_idf = index.idf.max_value if index.idf.num_docs else 1.0  # the idf of a term the corpus lacks

    def facts(self, row: int) -> SentenceFacts:
        known = self._facts.get(row)
        if known is None:
            if len(self._facts) >= FACTS_CACHE:
                self._facts.clear()
            known = self._facts[row] = self._compute(row)
        return known

    def countries(self, row: int) -> frozenset[str]:
        known = self._countries.get(row)
        if known is None:
            if len(self._countries) >= FACTS_CACHE:
                self._countries.clear()
            known = self._countries[row] = frozenset(self.glossary.countries_in(self.index.sentences[row].text))
        return known

    def _list_items_of(self, unit_id: str) -> set[str]:
        """The unit's lines written as list items ("- ..."), without the marker."""
        known = self._list_lines.get(unit_id)
        if known is None:
            if len(self._list_lines) >= FACTS_CACHE:
                self._list_lines.clear()
            text = self.index.units[unit_id].text
            known = self._list_lines[unit_id] = {line.strip()[2:].strip() for line in text.split("\n")
                                                 if line.strip().startswith("- ")}
        return known

    def _compute(self, row: int) -> SentenceFacts:
        sentence = self.index.sentences[row]
        text = sentence.text
        unit = self.index.units[sentence.unit_id]
        words = len(text.split())
        items = self._list_items_of(unit.unit_id)
        in_item = any(text in item for item in items)
        rows = self.rows_of_unit[sentence.unit_id]
        letter = unit.kind == "letter_section"
        signature = bool(_SALUTATION.match(text) or _CLOSING.match(text)) or (
            letter and words <= 5 and not _END.search(text) and bool(_NAME_LINE.match(text)) and row == rows[-1])
        heading = (words <= 10 and not _END.search(text) and not in_item and sentence.field not in ("title", "status",
                   "lead_actors") and row != rows[-1] and not DATE.search(text))
        return SentenceFacts(
            terms=frozenset(terms_of(text)), words=words, has_date=bool(DATE.search(text)),
            has_amount=bool(AMOUNT.search(text)), has_count=has_count(text),
            has_person=has_person(text, self.common_words), has_organisation=bool(_ORGANISATION.search(text)), years=frozenset(int(y) for y in YEAR.findall(text)),
            is_lead_in=text.rstrip().endswith(":"), is_list_item=in_item, signature=signature, heading=heading,
            redacted=REDACTED in text, has_frequency=bool(FREQUENCY.search(text)),
        )


@lru_cache(maxsize=4096)
def _terms_cached(text: str) -> tuple[str, ...]:
    return tuple(tokenize([text])[0])


def terms_of(text: str) -> tuple[str, ...]:
    """The text's BM25 terms (lower-cased, stemmed, stopwords dropped), as sentences and questions are compared."""
    return _terms_cached(text)


# The words that ask for an organiser and say what kind of event, not which one: "chaired", "meeting", "held".
_ORGANISING_WORDS = frozenset(_terms_cached(" ".join(
    ["organise organised organize organized organises organising host hosts hosted hosting chair chairs chaired "
     "chairing convene convenes convened convening co held took place",
     *(noun.replace(" ?", " ") for noun in EVENT_NOUNS), *(noun.replace(" ?", " ") + "s" for noun in EVENT_NOUNS)])))


def names_asked_organiser(analysis: QuestionAnalysis, candidate: Candidate) -> bool:
    """Does the sentence name who organised, chaired or hosted the event the question asks about? It must name an
    organiser ("chaired by TR and HU") and share a word of the event's name as the question gives it ("Budapest
    Process", "legal migration"): the chair of another meeting in the same passage does not answer."""
    if not names_organiser(candidate.sentence.text, analysis.organiser_verb):
        return False
    targets = analysis.targets
    event = set(terms_of(" ".join([analysis.focus, *targets.terms, *targets.names, *targets.countries])))
    event -= _ORGANISING_WORDS
    return not event or bool(event & candidate.facts.terms)


def is_row_title(candidate: Candidate) -> bool:
    """An action's or an annex item's first cell: what was committed ("The Commission will also advance Frontex
    Status agreements with Mauritania and Senegal"), which a question about the commitment is answered by quoting."""
    return candidate.sentence.field == "title" and candidate.hit.unit.kind in NUMBERED_KINDS  # the table rows


def is_heading_title(candidate: Candidate) -> bool:
    """A title that only names what follows: a letter section's or a report's heading, not a table row's first cell."""
    return candidate.sentence.field == "title" and not is_row_title(candidate)


def candidates_for(table: SentenceTable, hits: list[Hit]) -> list[Candidate]:
    """Every quotable sentence of the retrieved units, in hit order then reading order."""
    found = []
    for hit in hits:
        for row in table.rows_of_unit.get(hit.unit.unit_id, []):
            found.append(Candidate(row, table.index.sentences[row], hit, table.facts(row)))
    return found


def featurize(table: SentenceTable, analysis: QuestionAnalysis, prepared: PreparedQuestion,
              candidates: list[Candidate], multilingual_vector: np.ndarray) -> np.ndarray:
    """One row of FEATURES per candidate (also stored on each candidate).

    `multilingual_vector` is the question's vector from the second encoder (e5), compared with the sentences'
    own e5 vectors: a second reading of "does this sentence answer the question", trained for it."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    index = table.index
    rows = [c.row for c in candidates]
    cosines = index.sentence_vectors[rows] @ prepared.vector
    plain = index.sentence_vectors[rows] @ prepared.plain_vector
    multilingual = index.multilingual_vectors[rows] @ multilingual_vector
    best_multilingual = float(multilingual.max())
    question_terms = frozenset(terms_of(prepared.expanded))
    lexical = np.array([len(question_terms & c.facts.terms) / len(question_terms) if question_terms else 0.0
                        for c in candidates])
    default_idf = table.max_idf
    weights = {t: table.idf.get(t, default_idf) for t in question_terms}
    total = sum(weights.values()) or 1.0
    idf_overlap = np.array([sum(weights[t] for t in question_terms & c.facts.terms) / total for c in candidates])
    best_cos, best_lex, best_idf = float(cosines.max()), float(lexical.max()), float(idf_overlap.max())
    by_unit: dict[str, list[int]] = {}
    for position, candidate in enumerate(candidates):
        by_unit.setdefault(candidate.hit.unit.unit_id, []).append(position)
    cos_rank = np.zeros(len(candidates))
    for positions in by_unit.values():
        order = sorted(positions, key=lambda p: -cosines[p])
        for rank, p in enumerate(order, start=1):
            cos_rank[p] = 1.0 / rank
    dates = [c.hit.unit.doc_date for c in candidates if c.hit.unit.doc_date]
    newest = max(dates) if dates else ""
    any_named = any(c.hit.named for c in candidates)
    countries = set(analysis.targets.countries)
    terms = set(analysis.targets.terms)
    intent, answer_type = analysis.intent, analysis.answer_type
    matrix = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
    column = {name: i for i, name in enumerate(FEATURES)}
    seen_field: set[tuple[str, str]] = set()
    for i, c in enumerate(candidates):
        f, s, unit = c.facts, c.sentence, c.hit.unit
        unit_rows = table.rows_of_unit[unit.unit_id]
        first_of_field = (unit.unit_id, s.field) not in seen_field
        seen_field.add((unit.unit_id, s.field))
        sentence_countries = table.countries(c.row) if countries or answer_type == "country" else frozenset()
        type_present = {"date": f.has_date, "amount": f.has_amount, "count": f.has_count, "person": f.has_person,
                        "frequency": f.has_frequency,
                        "organisation": s.field == "lead_actors" or f.has_organisation,
                        "list": f.is_lead_in or f.is_list_item, "status": s.field == "status",
                        "country": bool(sentence_countries - countries)}.get(answer_type)
        values = {
            "cos": float(cosines[i]), "cos_gap": float(cosines[i]) - best_cos, "cos_rank_in_unit": cos_rank[i],
            "cos_plain": float(plain[i]), "multilingual_cos": float(multilingual[i]),
            "multilingual_gap": float(multilingual[i]) - best_multilingual, "lexical": float(lexical[i]), "lexical_gap": float(lexical[i]) - best_lex,
            "idf_overlap": float(idf_overlap[i]), "idf_overlap_gap": float(idf_overlap[i]) - best_idf,
            "unit_inverse_rank": 1.0 / c.hit.rank, "unit_similarity": c.hit.similarity,
            "unit_named": float(c.hit.named), "other_unit_named": float(any_named and not c.hit.named),
            "field_other": float(s.field not in FIELDS),
            "position": s.position / max(len(unit_rows) - 1, 1), "first_of_field": float(first_of_field),
            "log_words": math.log1p(f.words), "has_date": float(f.has_date), "has_amount": float(f.has_amount),
            "has_count": float(f.has_count), "has_person": float(f.has_person),
            "has_organisation": float(f.has_organisation),
            "type_match": float(bool(type_present)), "type_missing": float(type_present is False),
            "country_match": float(bool(countries & sentence_countries)),
            "other_country_only": float(bool(countries) and bool(sentence_countries) and not countries & sentence_countries),
            "term_match": float(bool(terms) and any(t.lower() in s.text.lower() for t in terms)),
            "who_leads_x_lead_field": float(intent == "who_leads" and s.field == "lead_actors"),
            "who_leads_x_lead_field_named": float(intent == "who_leads" and s.field == "lead_actors" and c.hit.named),
            "who_leads_x_other_field": float(intent == "who_leads" and s.field != "lead_actors"),
            "status_x_status_field": float(intent == "status" and s.field == "status"),
            "status_x_fact_field": float(intent == "status" and s.field in FACT_FIELDS),
            "list_x_lead_in": float(intent == "list" and f.is_lead_in),
            "list_x_item": float(intent == "list" and f.is_list_item),
            "is_lead_in": float(f.is_lead_in), "is_list_item": float(f.is_list_item),
            "newest_document": float(bool(newest) and unit.doc_date == newest),
            "year_match": float(bool(set(analysis.years) & f.years)), "redacted": float(f.redacted),
            "signature": float(f.signature), "heading": float(f.heading), "cover_note": float(unit.kind == "cover_note"),
            "definition_x_first": float(intent == "definition" and first_of_field),
        }
        values[f"field_{s.field}"] = 1.0 if s.field in FIELDS else 0.0
        for name, value in values.items():
            matrix[i, column[name]] = value
        c.features = matrix[i]
    return matrix


ANSWERABILITY_FEATURES = ("best_probability", "margin", "best_cos", "best_idf_overlap", "coverage", "corpus_coverage",
                          "top_similarity", "typed", "named", "focus_cos", "focus_unit_cos", "focus_coverage",
                          "multilingual_best", "multilingual_best_unit")
# Words that ask rather than name: they say nothing about whether the corpus covers the question.
_QUESTION_WORDS = frozenset(tokenize(["what which who whom whose when where why how does did do done much many "
                                      "happened happen say said tell told give given please"])[0])


def answerability_features(table: SentenceTable, prepared: PreparedQuestion, ranked: list[Candidate],
                           candidates: list[Candidate], focus: str = "",
                           focus_vector: np.ndarray | None = None) -> np.ndarray:
    """Question-level evidence that the documents answer: how good the best candidate is, in absolute terms too.

    `coverage` is the idf-weighted share of the question's terms found anywhere in the retrieved units, and
    `corpus_coverage` the share of its content words the corpus uses at all: a question whose words no document
    uses ("the weather forecast on Mars") is rarely answered by them. The focus features read what the question
    asks beyond its targets (`QuestionAnalysis.focus`, embedded as `focus_vector`): the closest retrieved
    sentence to it, the closest in the best unit, and the idf-weighted share of its terms the best unit uses.
    A passage about Athens that says nothing of a weather forecast scores low on all three; a question that
    only names its target ("What is RECAMAS?") has no focus and scores 1. The multilingual encoder's closest
    sentence, anywhere retrieved and in the best unit, is the second encoder's reading of the same question.
    """
    row = np.zeros(len(ANSWERABILITY_FEATURES), dtype=np.float32)
    if not ranked:
        return row
    column = {name: i for i, name in enumerate(FEATURES)}
    question_terms = frozenset(terms_of(prepared.expanded))
    default_idf = table.max_idf
    weights = {t: table.idf.get(t, default_idf) for t in question_terms}
    found = frozenset().union(*(c.facts.terms for c in candidates)) if candidates else frozenset()
    coverage = sum(weights[t] for t in question_terms & found) / (sum(weights.values()) or 1.0)
    content = [t for t in terms_of(prepared.searchable) if t not in _QUESTION_WORDS]
    corpus_coverage = sum(1 for t in content if t in table.idf) / len(content) if content else 1.0
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    focus_cos = focus_unit_cos = focus_coverage = 1.0
    focus_terms = frozenset(terms_of(focus)) if focus else frozenset()
    if focus_vector is not None and focus_terms and candidates:
        vectors = table.index.sentence_vectors
        closeness = vectors[[c.row for c in candidates]] @ focus_vector
        focus_cos = float(closeness.max())
        best_unit = [i for i, c in enumerate(candidates) if c.hit.unit.unit_id == best.hit.unit.unit_id]
        focus_unit_cos = float(closeness[best_unit].max()) if best_unit else 0.0
        unit_terms = frozenset().union(*(candidates[i].facts.terms for i in best_unit)) if best_unit else frozenset()
        focus_weights = {t: table.idf.get(t, default_idf) for t in focus_terms}
        focus_coverage = sum(focus_weights[t] for t in focus_terms & unit_terms) / (sum(focus_weights.values()) or 1.0)
    multilingual_cos = column["multilingual_cos"]
    multilingual = max(c.features[multilingual_cos] for c in candidates)
    in_best_unit = [c.features[multilingual_cos] for c in candidates if c.hit.unit.unit_id == best.hit.unit.unit_id]
    row[:] = (best.score, best.score - second, best.features[column["cos"]], best.features[column["idf_overlap"]],
              coverage, corpus_coverage,
              best.hit.similarity if best.hit.rank == 1 else max(c.hit.similarity for c in candidates),
              best.features[column["type_match"]], best.features[column["unit_named"]],
              focus_cos, focus_unit_cos, focus_coverage, multilingual, max(in_best_unit, default=0.0))
    return row
