"""Extractive answers: the documents' own sentences, verbatim, each with a citation.

No language model is needed. Sentences of the retrieved units are scored against the
question (embedding similarity, shared terms, the unit's rank), the best are kept and
shown grouped by document in date order. Status questions lead with the action's Status
field and the document's date. When the evidence is too weak the answer is one fixed
sentence and the nearest passages are shown as possibly related.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache


from assistant.bm25_index import tokenize
from assistant.corpus import human_date, short_label
from assistant.questions import clean_question
from assistant.records import Answer, AnswerSentence, Citation, Document, Hit, Sentence
from assistant.retrieval import Filters, Retriever
from assistant.settings import AnswerSettings
from assistant.text_cleaning import REDACTED

NO_ANSWER = "The documents do not answer this question."
POSSIBLY_RELATED = "Possibly related passages are listed below; none of them answers the question."
_STATUS_QUESTION = re.compile(
    r"\b(status|state of play|stand|stands|standing|progress|progressing|how far|latest|update|advanced|"
    r"where (?:are|is|do|does) .{0,80}\b(?:stand|now|at))\b",
    re.IGNORECASE,
)
_LOCATOR_REFERENCE = re.compile(r"\b(action|annex item|item)s?\s+(?:no\.?\s*|number\s+)?(\d{1,3})\b", re.IGNORECASE)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_QUESTION_DATE = re.compile(r"\b(?:(\d{1,2}) )?(" + "|".join(_MONTHS) + r") (\d{4})\b", re.IGNORECASE)
_PAST_EVENT = re.compile(r"\b(did|was|were|had|happened|concluded|agreed|decided|resulted|came out)\b", re.IGNORECASE)
_AMOUNT_QUESTION = re.compile(r"^\W*(how much|what (?:is|was) the (?:total )?(?:budget|cost|amount|value))\b", re.IGNORECASE)
_AMOUNT = re.compile(r"(EUR|€|\bmillion\b|\bbillion\b|\d+\s?m\b)", re.IGNORECASE)
_DATE_QUESTION = re.compile(r"^\W*(on what date|what date|which date|when (?:was|were|did|will|is))\b", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2}(?:-\d{1,2})? (?:January|February|March|April|May|June|July|August|September|October|"
                   r"November|December)|(?:January|February|March|April|May|June|July|August|September|October|"
                   r"November|December) \d{4}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|Q[1-4] \d{4}|\b(?:19|20)\d{2}\b)")
_LATEST_FACT_FIELDS = ("comments", "state_of_play", "progress")
_LATEST_FACT_BONUS = 0.08
_OTHER_DOCUMENT_MARGIN = 0.25
_MARGIN = 0.15  # sentences of the best sentence's unit within this score of it are kept
_OTHER_UNIT_MARGIN = 0.08  # ... and of other units within this
_LIST_ITEMS_AFTER_LEAD_IN = 2
_LEAD_ACTORS_BONUS = 0.2
_COVER_NOTE_PENALTY = 0.05
_LEADS_QUESTION = re.compile(r"\b(lead actors?|who (?:leads|is leading|is in charge|is responsible|are responsible)|"
                             r"responsible for|in charge of)\b", re.IGNORECASE)
_SENTENCE_WEIGHT, _LEXICAL_WEIGHT, _RANK_WEIGHT = 1.0, 0.25, 0.15


def is_status_question(question: str) -> bool:
    return bool(_STATUS_QUESTION.search(question))


@lru_cache(maxsize=1)
def _country_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Every ISO 3166 country by its name, common name and short name, matched capitalised."""
    import pycountry

    patterns = []
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", country.name), country.name.split(",")[0]}
        for name in names:
            if len(name) >= 4:
                patterns.append((name, re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")))
    return patterns


@dataclass
class _Scored:
    sentence: Sentence
    row: int
    score: float
    hit: Hit


@dataclass
class Answerer:
    retriever: Retriever
    settings: AnswerSettings = field(default_factory=AnswerSettings)

    def __post_init__(self) -> None:
        index = self.retriever.index
        self._sentence_rows: dict[str, list[int]] = {}
        for row, sentence in enumerate(index.sentences):
            self._sentence_rows.setdefault(sentence.unit_id, []).append(row)
        self._sentence_terms = [set(terms) for terms in tokenize([s.text for s in index.sentences])] if index.sentences else []
        self._documents: dict[str, Document] = {d.id: d for d in index.documents}
        self._corpus_lower = " ".join(u.text for u in index.units.values()).lower()

    def ask(self, question: str, filters: Filters | None = None, mode: str | None = None) -> Answer:
        question = clean_question(question)
        hits = self.retriever.search(question, k=self.settings.passages, mode=mode, filters=filters)
        absent = self._absent_locators(question)
        if absent:
            return self._abstain(question, hits, [absent])
        if not hits or hits[0].similarity < self.settings.min_similarity:
            return self._abstain(question, hits, [])
        unknown = self._unknown_country(question)
        if unknown:
            return self._abstain(question, hits, [f"The documents do not mention {unknown}."])
        later = self._after_the_documents(question)
        if later:
            return self._abstain(question, hits, [later])
        expanded = self.retriever.glossary.expand_query(question)
        scored = self._score_sentences(expanded, hits, is_status_question(question))
        chosen = self._choose(scored, is_status_question(question), set(self.retriever.glossary.countries_in(question)))
        if not chosen:
            return self._abstain(question, hits, [])
        redacted = next((s for s in scored[:2] if REDACTED in s.sentence.text), None)
        if redacted is not None:
            return self._abstain(question, hits, [
                f"The passage that best matches the question, in {redacted.hit.unit.locator}, is redacted in the "
                "source ([REDACTED]); the documents do not give what it said."])
        missing_kind = self._missing_answer_kind(question, chosen)
        if missing_kind:
            return self._abstain(question, hits, [f"The closest passages give no {missing_kind}."])
        answer = self._compose(question, hits, chosen, is_status_question(question))
        answer.notes.extend(self._redaction_notes(scored, chosen))
        return answer

    # --- abstention ------------------------------------------------------------------

    def _abstain(self, question: str, hits: list[Hit], notes: list[str]) -> Answer:
        return Answer(question, NO_ANSWER, True, [], hits, notes + ([POSSIBLY_RELATED] if hits else []))

    def _absent_locators(self, question: str) -> str:
        """A question about an action or annex item this corpus does not hold is not answerable."""
        units = self.retriever.index.units.values()
        for match in _LOCATOR_REFERENCE.finditer(question):
            kind = "action" if match.group(1).lower().startswith("action") else "annex_item"
            number = int(match.group(2))
            if any(u.kind == kind and u.number == number for u in units):
                continue
            missing_in = [d for d in self._documents.values() if number in d.missing_actions]
            if kind == "action" and missing_in:
                d = missing_in[0]
                first, last = min(d.missing_actions), max(d.missing_actions)
                return (f"Action {number} is not in this copy of the {short_label(d).split(',')[0]} "
                        f"({d.reference}): actions {first} to {last} are missing from it.")
            label = "Action" if kind == "action" else "Annex item"
            return f"{label} {number} does not exist in the indexed documents."
        return ""

    def _unknown_country(self, question: str) -> str:
        """A country the question names (ISO 3166, via pycountry) that the corpus never mentions, or ''."""
        for name, pattern in _country_patterns():
            if pattern.search(question) and not self._mentions(name):
                return name
        return ""

    def _mentions(self, name: str) -> bool:
        if name.lower() in self._corpus_lower:
            return True
        return any(name.lower() in (c.name.lower(), *(a.lower() for a in c.aliases))
                   for c in self.retriever.glossary.countries)

    def _after_the_documents(self, question: str) -> str:
        """A question about what happened at a date later than the newest document cannot be answered."""
        if not _PAST_EVENT.search(question):
            return ""
        newest = max(d.date for d in self._documents.values())
        for match in _QUESTION_DATE.finditer(question):
            day, month, year = match.group(1), match.group(2), match.group(3)
            mentioned = f"{year}-{_MONTHS.index(month.capitalize()) + 1:02d}-{int(day) if day else 1:02d}"
            if mentioned > newest:
                return (f"The newest document is dated {human_date(newest)}; it cannot say what happened "
                        f"{'on' if day else 'in'} {match.group(0)}.")
        return ""

    def _missing_answer_kind(self, question: str, chosen: list[_Scored]) -> str:
        """An amount or date question whose selected sentences hold no amount or date."""
        text = " ".join(c.sentence.text for c in chosen)
        if _AMOUNT_QUESTION.search(question) and not _AMOUNT.search(text):
            return "amount"
        if _DATE_QUESTION.search(question) and not _DATE.search(text):
            return "date"
        return ""

    # --- choosing sentences ----------------------------------------------------------

    def _score_sentences(self, expanded: str, hits: list[Hit], status: bool = False) -> list[_Scored]:
        leads = bool(_LEADS_QUESTION.search(expanded))
        query_vector = self.retriever.embed_query(expanded)
        query_terms = set(tokenize([expanded])[0])
        index = self.retriever.index
        scored: list[_Scored] = []
        for hit in hits:
            rows = self._sentence_rows.get(hit.unit.unit_id, [])
            if not rows:
                continue
            similarities = index.sentence_vectors[rows] @ query_vector
            for row, similarity in zip(rows, similarities):
                sentence = index.sentences[row]
                terms = self._sentence_terms[row]
                lexical = len(query_terms & terms) / len(query_terms) if query_terms else 0.0
                score = (_SENTENCE_WEIGHT * float(similarity) + _LEXICAL_WEIGHT * lexical
                         + _RANK_WEIGHT / hit.rank)
                if status and sentence.field in _LATEST_FACT_FIELDS:
                    score += _LATEST_FACT_BONUS  # status questions want the latest facts
                if sentence.field == "lead_actors" and leads:
                    score += _LEAD_ACTORS_BONUS
                if hit.unit.kind == "cover_note":
                    score -= _COVER_NOTE_PENALTY  # it matches any mention of "the action file"
                scored.append(_Scored(sentence, row, score, hit))
        scored.sort(key=lambda s: -s.score)
        return scored

    def _on_topic(self, item: _Scored, countries: set[str]) -> bool:
        """When the question names countries, a sentence from another passage must name one too."""
        return not countries or bool(countries & set(self.retriever.glossary.countries_in(item.sentence.text)))

    def _choose(self, scored: list[_Scored], status: bool, countries: set[str] = frozenset()) -> list[_Scored]:
        """The best sentences: close to the best score, at most three per unit."""
        # A title restates the action, it rarely answers: the citation shows it anyway.
        answering = [s for s in scored if s.sentence.field != "title" or self._only_title(s)]
        if not answering:
            return []
        best = answering[0].score
        best_unit = answering[0].sentence.unit_id
        per_unit: dict[str, int] = {}
        chosen: list[_Scored] = []
        for item in answering:
            if len(chosen) >= self.settings.max_sentences or item.score < best - _MARGIN:
                break
            if item.sentence.unit_id != best_unit and (item.score < best - _OTHER_UNIT_MARGIN
                                                        or not self._on_topic(item, countries)):
                continue  # other passages must come closer, and stay on the question's countries
            if item.sentence.field in ("status", "lead_actors") and status:
                continue  # status lines are added up front for status questions
            unit_id = item.sentence.unit_id
            if per_unit.get(unit_id, 0) >= 3:
                continue
            per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
            chosen.append(item)
        return self._with_list_items(chosen) + self._other_documents(scored, chosen, best, countries)

    def _with_list_items(self, chosen: list[_Scored]) -> list[_Scored]:
        """A lead-in ending with a colon brings the first items it introduces."""
        result = []
        for item in chosen:
            result.append(item)
            if not item.sentence.text.endswith(":"):
                continue
            rows = self._sentence_rows.get(item.sentence.unit_id, [])
            following = [r for r in rows if r > item.row][:_LIST_ITEMS_AFTER_LEAD_IN]
            for row in following:
                sentence = self.retriever.index.sentences[row]
                if sentence.field == item.sentence.field:
                    result.append(_Scored(sentence, row, item.score, item.hit))
        return result

    def _only_title(self, item: _Scored) -> bool:
        rows = self._sentence_rows.get(item.sentence.unit_id, [])
        return all(self.retriever.index.sentences[r].field in ("title", "status", "lead_actors") for r in rows)

    def _other_documents(self, scored: list[_Scored], chosen: list[_Scored], best: float,
                         countries: set[str] = frozenset()) -> list[_Scored]:
        """The best sentence of each other document that comes close, so dates can be compared."""
        covered = {c.hit.unit.doc_id for c in chosen}
        extra = []
        for item in scored:
            doc_id = item.hit.unit.doc_id
            if doc_id in covered or item.score < best - _OTHER_DOCUMENT_MARGIN:
                continue
            if item.sentence.field in ("status", "lead_actors", "title") or item.hit.unit.kind == "cover_note":
                continue
            if not self._on_topic(item, countries):
                continue
            covered.add(doc_id)
            extra.append(item)
        return extra

    def _status_lines(self, hits: list[Hit], chosen: list[_Scored]) -> list[_Scored]:
        """Status fields of the actions the answer draws on (at most the two best-ranked)."""
        wanted = []
        for hit in hits:
            if hit.unit.kind == "action" and (any(c.hit is hit for c in chosen) or hit.rank == 1):
                wanted.append(hit)
            if len(wanted) == 2:
                break
        lines = []
        for hit in wanted:
            for row in self._sentence_rows.get(hit.unit.unit_id, []):
                sentence = self.retriever.index.sentences[row]
                if sentence.field == "status":
                    lines.append(_Scored(sentence, row, float("inf"), hit))
        return lines

    # --- composing ---------------------------------------------------------------------

    def _compose(self, question: str, hits: list[Hit], chosen: list[_Scored], status: bool) -> Answer:
        if status:
            chosen = self._status_lines(hits, chosen) + [c for c in chosen if c.sentence.field != "status"]
        seen: set[int] = set()
        unique = [c for c in chosen if not (c.row in seen or seen.add(c.row))]

        def order(item: _Scored) -> tuple:
            unit = item.hit.unit
            leading = 0 if item.sentence.field == "status" else 1
            return (unit.doc_date, unit.doc_id, item.hit.rank, leading, item.sentence.position)

        unique.sort(key=order)
        citations: dict[str, Citation] = {}
        sentences: list[AnswerSentence] = []
        lines: list[str] = []
        current_doc = ""
        for item in unique:
            unit = item.hit.unit
            if unit.unit_id not in citations:
                citations[unit.unit_id] = Citation(len(citations) + 1, unit, unit.text)
            citation = citations[unit.unit_id]
            citation.sentences.append(item.sentence.text)
            if unit.doc_id != current_doc:
                current_doc = unit.doc_id
                lines.append(f"{short_label(self._documents[unit.doc_id])}:")
            text = self._display(item)
            sentences.append(AnswerSentence(text, item.sentence.text, citation.n, unit.unit_id))
            lines.append(f"- {text} [{citation.n}]")
        return Answer(question, "\n".join(lines), False, list(citations.values()), hits, [], sentences=sentences)

    def _display(self, item: _Scored) -> str:
        unit, text = item.hit.unit, item.sentence.text
        if item.sentence.field == "status":
            return f"{unit.locator} — {text}, as of {human_date(unit.doc_date)}"
        if item.sentence.field == "title":
            return text
        return f"{unit.locator}: {text}"

    def _redaction_notes(self, scored: list[_Scored], chosen: list[_Scored]) -> list[str]:
        """Say so when a cited passage is partly redacted: what it hid may be the answer."""
        redacted = list(dict.fromkeys(c.hit.unit.locator for c in chosen if c.hit.unit.redacted))
        if not redacted:
            return []
        return [f"Parts of {', '.join(redacted)} are redacted in the source ([REDACTED]); "
                "the answer cannot include what they said."]
