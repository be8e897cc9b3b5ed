"""Extractive answers: the documents' own sentences, verbatim, each with a citation, chosen by reading the question.

No language model is needed. The question is analysed (intent, expected answer type,
targets, time scope, presupposition); the retrieved units' sentences are scored by a learned
ranker over features of question, sentence and structure; the answer is the best sentence and
those close to it, with the structure a reader expects (a lead-in brings its list items, a
status answer leads with the newest Status line, a who-leads answer with the Lead actor(s)
field), ordered with the direct answer first. When the documents name the target but give
no sentence of the asked type, the answer says so; when the premise finds no support, it
says that; when nothing relevant is found, it is one fixed sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.answering import weights as w
from assistant.answering.abstention import NO_ANSWER, POSSIBLY_RELATED, AbstentionRules, target_name, unknown_acronym
from assistant.answering.analysis import (DOCUMENT_DATE_QUESTION, DOCUMENT_NAMED, QuestionAnalysis, analyse, is_topic_question,
                                          names_dated_event, names_the_thing)
from assistant.answering.candidates import (
    FEATURES,
    TYPE_FLAGS,
    Candidate,
    SentenceTable,
    answerability_features,
    candidates_for,
    featurize,
    is_heading_title,
    names_asked_organiser,
)
from assistant.answering.compose import compose, document_date_answer, is_document_of, with_structure, write_answer
from assistant.answering.crosslingual import CrossLingualReading, chosen_sentences, cross_lingual_reading
from assistant.answering.key_term import KeyTerms
from assistant.answering.ranker import Ranker, load_ranker, logistic_probability
from assistant.ingest import REDACTED
from assistant.records import Answer, Citation, Hit
from assistant.answering.language import foreign_language, not_supported_sentence
from assistant.search import PreparedQuestion, Query, Retriever, clean_question
from assistant.settings import AnswerSettings


FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}


@dataclass
class Reading:
    """A question read and its candidates scored: everything the answer is decided from."""

    prepared: PreparedQuestion
    analysis: QuestionAnalysis
    hits: list[Hit]
    candidates: list[Candidate]  # in hit order, then reading order
    ranked: list[Candidate] = field(default_factory=list)  # best first, once scored
    answerable: float = 1.0  # the answerability model's probability that the documents answer
    focus_vector: np.ndarray | None = None  # the embedding of analysis.focus, once answerability_row needs it


@dataclass
class Answerer:
    retriever: Retriever
    settings: AnswerSettings = field(default_factory=AnswerSettings)
    ranker: Ranker | None = None  # None: the fitted ranker.json beside the code

    def __post_init__(self) -> None:
        words = self.retriever.common_words
        self.table = SentenceTable(self.retriever.index, self.retriever.glossary, words)
        self.sentence_rows = self.table.rows_of_unit  # unit id -> rows of its sentences, in reading order
        self.rules = AbstentionRules(self.retriever.index, self.retriever.glossary, self.retriever.locators, words)

    def read(self, query: Query) -> Reading:
        """Analyse, retrieve and build the candidates with their features (not yet scored)."""
        prepared = self.retriever.prepare(query.question)
        passages = query.passages if query.passages is not None else self.settings.passages
        hits = self.retriever.search(prepared, k=passages, mode=query.mode, filters=query.filters)
        analysis = analyse(prepared.searchable, self.retriever.glossary, self.retriever.common_words)
        candidates = candidates_for(self.table, hits)
        featurize(self.table, analysis, prepared, candidates, self.retriever.embed_multilingual(prepared.searchable))
        return Reading(prepared, analysis, hits, candidates)

    def answerability_row(self, reading: Reading) -> np.ndarray:
        """The answerability model's features for a scored reading (ANSWERABILITY_FEATURES).

        The focus is embedded here, on first use, since only the answerability model reads it: a question
        the rules refuse, or a reading that is only ranked, costs no encoder call for it."""
        focus, prepared = reading.analysis.focus, reading.prepared
        if focus and reading.focus_vector is None:
            reading.focus_vector = (prepared.plain_vector if focus == prepared.searchable
                                    else self.retriever.embed_query(focus))
        return answerability_features(self.table, prepared, reading.ranked, reading.candidates, focus,
                                      reading.focus_vector)

    @property
    def model(self) -> Ranker:
        return self.ranker or load_ranker()

    def score(self, reading: Reading, ranker: Ranker | None = None) -> None:
        """Score and rank the candidates (with `ranker`, or the answerer's own)."""
        ranker = ranker or self.model
        matrix = np.stack([c.features for c in reading.candidates]) if reading.candidates else np.zeros((0, 1))
        for candidate, p in zip(reading.candidates, ranker.probabilities(matrix)):
            candidate.score = float(p)
        usable = [c for c in reading.candidates if not (c.facts.signature or c.facts.heading)
                  and (not is_heading_title(c) or self._only_title(c))]
        # A unit the question names is read first, always: its best sentence leads whatever the scores elsewhere.
        reading.ranked = sorted(usable, key=lambda c: (not c.hit.named, -c.score, c.hit.rank, c.sentence.position))

    def _only_title(self, candidate: Candidate) -> bool:
        """A title restates the unit; it answers only when the unit holds nothing else."""
        rows = self.table.rows_of_unit[candidate.hit.unit.unit_id]
        return all(self.table.index.sentences[r].field in ("title", "status", "lead_actors") for r in rows)

    def language_of(self, question: str) -> str:
        """The question's language when it is not English ('' when it is), read with the corpus's own words."""
        return foreign_language(question, self.retriever.knows_word, self.retriever.glossary_words)

    def ask(self, query: Query) -> Answer:
        language = self.language_of(clean_question(query.question))
        if language:
            return self._in_other_language(query, language)
        reading = self.read(query)
        question, analysis, hits = reading.prepared.searchable, reading.analysis, reading.hits
        for rule in (self.rules.absent_locator(question), self._unknown(question, analysis),
                     self.rules.after_the_documents(question)):
            if rule:
                return self._abstain(reading, [rule], "not_in_documents")
        if not hits:
            return self._abstain(reading, [], "nothing_found")
        self.score(reading)
        ranked = reading.ranked
        reading.answerable = self.model.answerable(self.answerability_row(reading))
        dated = self._document_dated(analysis, ranked)
        if dated is not None:  # the document's heading answers; how well its sentences match the question does not matter
            return _with_analysis(document_date_answer(reading, dated, self.retriever.index.documents_by_id,
                                                       analysis.document_date), reading)
        if not ranked or (reading.answerable < self.model.answer_threshold
                          and not is_topic_question(analysis, self.retriever.glossary)):
            return self._abstain(reading, [], "nothing_found")
        best = ranked[0]
        # A bare "[REDACTED]" matches nothing of the question by its words: below a sentence that answers, it is only
        # the unit's next line, not the passage that best matches.
        redacted = next((c for c in ranked[:2] if c.facts.redacted and c.score >= 0.8 * best.score
                         and (c is best or c.sentence.text.replace(REDACTED, "").strip(" .;:,-"))), None)
        if redacted is not None and not (redacted is best and best.facts.carries(analysis.answer_type)):
            return self._abstain(reading, [
                f"The passage that best matches the question, in {redacted.hit.unit.locator}, is redacted in the "
                "source ([REDACTED]); the documents do not give what it said."], "redacted")
        contradicting = self.rules.premise_unsupported(analysis, ranked)
        if contradicting is not None:
            return self._abstain(reading, [], "premise_not_supported", cite=contradicting, lead=(
                f"The documents do not support the premise that {analysis.presupposition}. The closest passage, "
                f"{contradicting.hit.unit.locator}, says: “{contradicting.sentence.text}” [1]"))
        planned = self.rules.only_planned(analysis, ranked)
        if planned is not None:
            return self._abstain(reading, [], "only_planned", cite=planned, lead=(
                f"The documents tell of this only as planned, not of its outcome: {planned.hit.unit.locator} says "
                f"“{planned.sentence.text}” [1]"))
        if self._attribute_missing(analysis, ranked):
            target = target_name(analysis, self.retriever.common_words)
            mentioned = f"mention {target}" if target else f"touch on this in {best.hit.unit.locator}"
            return self._abstain(reading, [], "not_given", cite=self._mentioning(analysis, ranked),
                                 lead=f"The documents {mentioned} [1] but do not give {analysis.attribute}.")
        return _with_analysis(compose(reading, self.table, self.settings.max_sentences,
                                      self.retriever.index.documents_by_id, self.model), reading)

    def read_other_language(self, query: Query) -> tuple[Reading, CrossLingualReading]:
        """A question in another language read by the multilingual encoder: its passages (the encoder's sentence
        ranking fused with BM25) and their sentences, closest first, with the answerability features."""
        prepared = self.retriever.prepare(query.question)
        passages = query.passages if query.passages is not None else self.settings.passages
        hits = self.retriever.search(prepared, k=passages, mode=query.mode, filters=query.filters, foreign=True)
        analysis = analyse(prepared.searchable, self.retriever.glossary, self.retriever.common_words)
        allowed = self.retriever.allowed_rows(query.filters)
        by_words = [self.retriever.index.unit_of_chunk(row).unit_id
                    for row in self.retriever.bm25_ranking(prepared.expanded, allowed, 3)]
        crossed = cross_lingual_reading(self.table, prepared.searchable,
                                        self.retriever.embed_multilingual(prepared.searchable), hits, by_words)
        return Reading(prepared, analysis, hits, crossed.candidates, crossed.candidates), crossed

    def _in_other_language(self, query: Query, language: str) -> Answer:
        """Answered from the English documents through the multilingual encoder (answering/crosslingual.py), or
        the fixed sentence when its answerability model says the documents do not answer."""
        model = self.model.cross_lingual
        if not model:
            return self._not_supported(clean_question(query.question), language)
        reading, crossed = self.read_other_language(query)
        reading.answerable = logistic_probability(model, crossed.features)
        read_as = (f"The question is in {language}: a multilingual encoder matched it to the English documents, "
                   "which the answer quotes as they are.")
        absent = self.refusal_in_other_language(reading.prepared.searchable)
        if absent or not reading.ranked or reading.answerable < model["threshold"]:
            answer = self._abstain(reading, [absent] if absent else [], "not_in_documents" if absent else "nothing_found")
        else:
            chosen = with_structure(chosen_sentences(crossed), "other", self.table)
            answer = write_answer(reading, chosen, False, self.retriever.index.documents_by_id)
        answer.notes.insert(0, read_as)
        # The English reading of intent, type, focus and names does not apply to another language (German capitalises
        # every noun): only the targets found by locator, country and glossary do.
        targets = reading.analysis.targets
        about = ", ".join([*targets.locators, *targets.countries, *targets.terms][:4])
        answer.analysis = {**reading.analysis.to_dict(), "focus": "", "language": language,
                           "looking_for": f"the closest sentences, read in {language}" + (f" · about: {about}" if about else ""),
                           "answerable": round(reading.answerable, 4)}
        return answer

    def refusal_in_other_language(self, question: str) -> str:
        """What the rules that read any language refuse before the model is asked: an action or annex item the
        documents lack, or an acronym no document holds; '' when neither."""
        unknown = unknown_acronym(question, self.retriever.knows_word)
        return self.rules.absent_locator(question) or (f"The documents do not mention {unknown}." if unknown else "")

    @staticmethod
    def _not_supported(question: str, language: str) -> Answer:
        answer = Answer(question, not_supported_sentence(language), True, [], [], [])
        answer.abstention = "language_not_supported"
        answer.analysis = {"language": language}
        return answer

    def _unknown(self, question: str, analysis: QuestionAnalysis) -> str:
        country = self.rules.unknown_country(question)
        name = country or self.rules.unknown_name(analysis)
        if not name and (body := self.rules.unknown_body(question)):
            name = f"the {body}"
        return f"The documents do not mention {name}." if name else ""

    def _attribute_missing(self, analysis: QuestionAnalysis, ranked: list[Candidate]) -> bool:
        """The question asks for a date, an amount, a number or a name, and no close sentence about it has one, or
        the best that has one matches the question much less well than the best sentence (`typed_share` below the
        ranker's `typed_ratio`, calibrated on the calibrate split): the passage that matches tells of the target
        without the asked figure ("the project started on 1 July 2024" for "how much is it worth"), and a figure
        of a weaker sentence is most often about something else ("EUR 220 million ... border with Iran")."""
        share = self.typed_share(analysis, ranked)
        return share == 0.0 or share < self.model.typed_ratio

    def typed_share(self, analysis: QuestionAnalysis, ranked: list[Candidate]) -> float:
        """The best score among the close sentences about the target that carry the asked type, as a share of the
        best sentence's score; 1.0 when the question asks for no type a sentence can be checked for, 0.0 when no
        close sentence carries it. Who organised, chaired or hosted an event is checked like a type: a Lead
        actor(s) field does not say it, a sentence that names the organiser does.

        "Close": among the best TYPED_WINDOW. "About it": in the best sentence's unit or a unit the question names,
        or sharing at least ABOUT_OVERLAP of the question's idf-weighted terms; not only about other countries
        than the question's; and speaking of the question's most specific word its unit uses (answering/key_term.py:
        "EUR 220 million ... border with Iran" does not give the worth of the project at the western borders).
        """
        if not (analysis.organiser_verb or analysis.answer_type in TYPE_FLAGS) or not ranked:
            return 1.0
        best_unit = ranked[0].hit.unit.unit_id
        if (analysis.answer_type == "date" and ranked[0].hit.unit.doc_date and DOCUMENT_DATE_QUESTION.search(analysis.question)
                and (not analysis.dated_event or DOCUMENT_NAMED.search(analysis.question))):
            return 1.0  # the document's own date, which heads the answer, may be what is asked (of the letter, the
            # file, the note: "when was the contract signed" asks the contract's date, which its sentence must give)
        overlap, elsewhere = FEATURE_INDEX["idf_overlap"], FEATURE_INDEX["other_country_only"]
        key_terms = KeyTerms(self.table, analysis)
        typed = [candidate.score for candidate in ranked[:w.TYPED_WINDOW]
                 if (candidate.hit.unit.unit_id == best_unit or candidate.hit.named
                     or candidate.features[overlap] >= w.ABOUT_OVERLAP) and not candidate.features[elsewhere]
                 and _carries_asked(analysis, candidate) and key_terms.speaks_of(candidate)]
        best = ranked[0].score
        return min(1.0, max(typed) / best) if typed and best > 0 else 0.0

    def _mentioning(self, analysis: QuestionAnalysis, ranked: list[Candidate]) -> Candidate:
        """The sentence a "mentioned but not given" answer cites: of the best unit's, the best-ranked that names the
        question's key word ("Airport security project ... under implementation by IOM" for the airport project's
        worth), so the reader sees where the thing is mentioned; the best sentence when none names it."""
        key_terms = KeyTerms(self.table, analysis)
        best = ranked[0]
        key, _ = key_terms.key_of(best.hit.unit.unit_id)
        if not key or key in best.facts.terms:
            return best
        return next((c for c in ranked if c.hit.unit.unit_id == best.hit.unit.unit_id and key in c.facts.terms), best)

    def _document_dated(self, analysis: QuestionAnalysis, ranked: list[Candidate]) -> Candidate | None:
        """For a question asking only a document's own date: the best-ranked sentence of the best-ranked dated
        document of the kind it names, one that names the kind ("the annex to this letter") when there is one."""
        if not analysis.document_date:
            return None
        documents = self.retriever.index.documents_by_id
        eligible = [c for c in ranked if c.hit.unit.doc_id in documents and documents[c.hit.unit.doc_id].date
                    and c.sentence.field not in ("status", "lead_actors")  # a field's value says nothing alone
                    and is_document_of(analysis.document_date, documents[c.hit.unit.doc_id])]
        if not eligible:
            return None
        same = [c for c in eligible if c.hit.unit.doc_id == eligible[0].hit.unit.doc_id]
        return next((c for c in same if analysis.document_date in c.sentence.text.lower()), same[0])

    def _abstain(self, reading: Reading, notes: list[str], kind: str, cite: Candidate | None = None,
                 lead: str = NO_ANSWER) -> Answer:
        """The fixed sentence (or what is missing), with the passage that shows it cited, or the nearest as related."""
        hits = reading.hits
        citations = [Citation(1, cite.hit.unit, cite.hit.unit.text, [cite.sentence.text])] if cite is not None else []
        related = [POSSIBLY_RELATED] if hits and not citations else []
        answer = _with_analysis(Answer(reading.prepared.text, lead, True, citations, hits, notes + related), reading)
        answer.abstention = kind
        return answer


def _with_analysis(answer: Answer, reading: Reading) -> Answer:
    """The answer with the question's analysis and its P(answerable), as `ask --json` shows them."""
    answer.analysis = {**reading.analysis.to_dict(), "answerable": round(reading.answerable, 4)}
    return answer


def _carries_asked(analysis: QuestionAnalysis, candidate: Candidate) -> bool:
    """Does the sentence hold what the question asks for: the organiser it names, or an instance of the type?"""
    if analysis.organiser_verb:
        return names_asked_organiser(analysis, candidate)
    if analysis.dated_event:  # the date of the asked event, not of another event of the same thing
        return candidate.facts.carries("date") and names_dated_event(analysis.dated_event, candidate.sentence.text)
    if analysis.amount_of:  # the amount of the asked project, not of another one the passage names
        return candidate.facts.carries("amount") and names_the_thing(analysis.amount_of, candidate.sentence.text)
    return candidate.facts.carries(analysis.answer_type)
