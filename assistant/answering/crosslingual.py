"""Questions in other languages, answered from the English documents through the multilingual encoder.

A question in Greek, Bulgarian, German, French, Arabic ... (told by py3langid, answering/language.py)
is read by multilingual-e5 in its own language. Retrieval fuses the encoder's sentence ranking
with BM25, since names, acronyms and numbers are written alike in most languages (FRONTEX,
EASTEAMS, "действие 14"); MiniLM, which reads English only, is left out. The English question
analysis (intent, answer type, the rules) does not apply, so the answer is the sentence the
encoder finds closest in the retrieved passages, with the sentences of the same passage that
come as close (a lead-in brings its items), quoted in English with their citations.

Whether to answer is learned as for English questions, on what the encoder sees
(CROSS_LINGUAL_FEATURES): a logistic regression fitted on the translated gold questions of
the fit split, its threshold calibrated on the calibrate split's (eval/gold_languages.jsonl,
`python -m eval.fit_ranker`; stored in ranker.json under "cross_lingual").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.answering.candidates import Candidate, SentenceTable, candidates_for
from assistant.records import Hit

CROSS_LINGUAL_FEATURES = ("best_cos", "best_z", "unit_margin", "names_found", "bm25_agrees")
JOIN_MARGIN = 0.02  # a sentence of the best passage joins the best one within this cosine of it
MAX_SENTENCES = 3
# Names that read the same in any language: acronyms, codes and numbers of two or more digits.
_NAME = re.compile(r"(?<![\w-])(?:[A-Z][A-Z0-9]{1,}(?:[-/][A-Z0-9]+)*|\d{2,})(?![\w-])")


@dataclass
class CrossLingualReading:
    candidates: list[Candidate]  # usable sentences of the retrieved units, closest to the question first
    features: np.ndarray  # CROSS_LINGUAL_FEATURES


def cross_lingual_reading(table: SentenceTable, question: str, vector: np.ndarray, hits: list[Hit],
                          bm25_units: list[str]) -> CrossLingualReading:
    """The retrieved units' sentences scored by the question's multilingual vector, and the answerability features.

    `bm25_units` are the unit ids BM25 alone ranks first (its top 3): when the encoder's best passage is among
    them, the question's own words agree with its reading."""
    every = candidates_for(table, hits)
    # Never a signature, heading or title, nor a cover note's lines ("Brussels, 22 July 2024", "LIMITE"): without the
    # English reading of the question, nothing tells a question about the document's date from one about Athens.
    usable = [c for c in every if not (c.facts.signature or c.facts.heading) and c.sentence.field != "title"
              and c.hit.unit.kind != "cover_note"]
    if not usable:
        return CrossLingualReading([], np.zeros(len(CROSS_LINGUAL_FEATURES), dtype=np.float32))
    scores = table.index.multilingual_vectors[[c.row for c in usable]] @ vector
    for candidate, score in zip(usable, scores):
        candidate.score = float(score)
    ranked = sorted(usable, key=lambda c: (not c.hit.named, -c.score, c.hit.rank, c.sentence.position))
    best = ranked[0]
    spread = float(scores.std()) or 1.0
    other_units = [c.score for c in ranked if c.hit.unit.unit_id != best.hit.unit.unit_id]
    names = set(_NAME.findall(question))
    unit_text = best.hit.unit.text.lower()
    names_found = sum(1 for n in names if n.lower() in unit_text) / len(names) if names else 1.0
    features = np.array([best.score, (best.score - float(scores.mean())) / spread,
                         best.score - max(other_units, default=float(scores.min())), names_found,
                         float(best.hit.unit.unit_id in bm25_units)], dtype=np.float32)
    return CrossLingualReading(ranked, features)


def chosen_sentences(reading: CrossLingualReading) -> list[Candidate]:
    """The best sentence and those of its passage within JOIN_MARGIN of it, at most MAX_SENTENCES, closest first
    (the written answer puts them in reading order)."""
    best = reading.candidates[0]
    unit_id = best.hit.unit.unit_id
    chosen = [best] + [c for c in reading.candidates[1:] if c.hit.unit.unit_id == unit_id
                       and c.score >= best.score - JOIN_MARGIN][:MAX_SENTENCES - 1]
    return chosen
