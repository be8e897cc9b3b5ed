"""Extractive answers: the documents' own sentences, verbatim, each with a citation.

No language model is needed. Sentences of the retrieved units are scored against the
question (embedding similarity, shared terms, the unit's rank), the best are kept and
shown grouped by document in date order. Status questions lead with the action's Status
field and the document's date. When the evidence is too weak the answer is one fixed
sentence and the nearest passages are shown as possibly related.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answering import weights as w
from assistant.answering.abstention import NO_ANSWER, POSSIBLY_RELATED, AbstentionRules
from assistant.answering.analysis import asks_who_leads, is_status_question
from assistant.index.bm25 import tokenize
from assistant.ingest import REDACTED, human_date, short_label
from assistant.records import Answer, AnswerSentence, Citation, Document, Hit, Sentence
from assistant.search import PreparedQuestion, Query, Retriever
from assistant.settings import AnswerSettings


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
        self.sentence_rows: dict[str, list[int]] = {}  # unit id -> rows of its sentences, in reading order
        for row, sentence in enumerate(index.sentences):
            self.sentence_rows.setdefault(sentence.unit_id, []).append(row)
        self._sentence_terms = [set(terms) for terms in tokenize([s.text for s in index.sentences])] if index.sentences else []
        self._documents: dict[str, Document] = {d.id: d for d in index.documents}
        self.rules = AbstentionRules(index, self.retriever.glossary)

    def ask(self, query: Query) -> Answer:
        prepared = self.retriever.prepare(query.question)
        question = prepared.text
        passages = query.passages if query.passages is not None else self.settings.passages
        hits = self.retriever.search(prepared, k=passages, mode=query.mode, filters=query.filters)
        absent = self.rules.absent_locator(question)
        if absent:
            return self._abstain(question, hits, [absent])
        if not hits or hits[0].similarity < self.settings.min_similarity:
            return self._abstain(question, hits, [])
        unknown = self.rules.unknown_country(question)
        if unknown:
            return self._abstain(question, hits, [f"The documents do not mention {unknown}."])
        later = self.rules.after_the_documents(question)
        if later:
            return self._abstain(question, hits, [later])
        status = is_status_question(question)
        scored = self._score_sentences(prepared, hits, status)
        chosen = self._choose(scored, status, set(self.retriever.glossary.countries_in(question)))
        if not chosen:
            return self._abstain(question, hits, [])
        redacted = next((s for s in scored[:2] if REDACTED in s.sentence.text), None)
        if redacted is not None:
            return self._abstain(question, hits, [
                f"The passage that best matches the question, in {redacted.hit.unit.locator}, is redacted in the "
                "source ([REDACTED]); the documents do not give what it said."])
        missing_kind = self.rules.missing_answer_kind(question, " ".join(c.sentence.text for c in chosen))
        if missing_kind:
            return self._abstain(question, hits, [f"The closest passages give no {missing_kind}."])
        answer = self._compose(question, hits, chosen, status)
        answer.notes.extend(self._redaction_notes(scored, chosen))
        return answer

    def _abstain(self, question: str, hits: list[Hit], notes: list[str]) -> Answer:
        return Answer(question, NO_ANSWER, True, [], hits, notes + ([POSSIBLY_RELATED] if hits else []))

    # --- choosing sentences ----------------------------------------------------------

    def _score_sentences(self, prepared: PreparedQuestion, hits: list[Hit], status: bool = False) -> list[_Scored]:
        leads = asks_who_leads(prepared.expanded)
        query_vector = prepared.vector
        query_terms = set(tokenize([prepared.expanded])[0])
        index = self.retriever.index
        scored: list[_Scored] = []
        for hit in hits:
            rows = self.sentence_rows.get(hit.unit.unit_id, [])
            if not rows:
                continue
            similarities = index.sentence_vectors[rows] @ query_vector
            for row, similarity in zip(rows, similarities):
                sentence = index.sentences[row]
                terms = self._sentence_terms[row]
                lexical = len(query_terms & terms) / len(query_terms) if query_terms else 0.0
                score = (w.SENTENCE_WEIGHT * float(similarity) + w.LEXICAL_WEIGHT * lexical
                         + w.RANK_WEIGHT / hit.rank)
                if status and sentence.field in w.LATEST_FACT_FIELDS:
                    score += w.LATEST_FACT_BONUS  # status questions want the latest facts
                if sentence.field == "lead_actors" and leads:
                    score += w.LEAD_ACTORS_BONUS
                if hit.unit.kind == "cover_note":
                    score -= w.COVER_NOTE_PENALTY  # it matches any mention of "the action file"
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
            if len(chosen) >= self.settings.max_sentences or item.score < best - w.MARGIN:
                break
            if item.sentence.unit_id != best_unit and (item.score < best - w.OTHER_UNIT_MARGIN
                                                        or not self._on_topic(item, countries)):
                continue  # other passages must come closer, and stay on the question's countries
            if item.sentence.field in ("status", "lead_actors") and status:
                continue  # status lines are added up front for status questions
            unit_id = item.sentence.unit_id
            if per_unit.get(unit_id, 0) >= w.MAX_PER_UNIT:
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
            rows = self.sentence_rows.get(item.sentence.unit_id, [])
            following = [r for r in rows if r > item.row][:w.LIST_ITEMS_AFTER_LEAD_IN]
            for row in following:
                sentence = self.retriever.index.sentences[row]
                if sentence.field == item.sentence.field:
                    result.append(_Scored(sentence, row, item.score, item.hit))
        return result

    def _only_title(self, item: _Scored) -> bool:
        rows = self.sentence_rows.get(item.sentence.unit_id, [])
        return all(self.retriever.index.sentences[r].field in ("title", "status", "lead_actors") for r in rows)

    def _other_documents(self, scored: list[_Scored], chosen: list[_Scored], best: float,
                         countries: set[str] = frozenset()) -> list[_Scored]:
        """The best sentence of each other document that comes close, so dates can be compared."""
        covered = {c.hit.unit.doc_id for c in chosen}
        extra = []
        for item in scored:
            doc_id = item.hit.unit.doc_id
            if doc_id in covered or item.score < best - w.OTHER_DOCUMENT_MARGIN:
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
            if len(wanted) == w.STATUS_LINES:
                break
        lines = []
        for hit in wanted:
            for row in self.sentence_rows.get(hit.unit.unit_id, []):
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
