"""Optional generative answers from any OpenAI-compatible chat endpoint (off by default).

The model sees the numbered retrieved passages and must cite one after every sentence.
A sentence is kept only when it cites a retrieved passage and most of its words are in
that passage; the others are dropped and reported. On any error, timeout or empty result
the extractive answer is returned instead, with a note saying why.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import requests

from assistant.chunking import split_sentences
from assistant.index.bm25 import tokenize
from assistant.records import Answer, AnswerSentence, Citation, Hit
from assistant.search import Query
from assistant.settings import LlmSettings

if TYPE_CHECKING:
    from assistant.answering.extractive import Answerer

SYSTEM_PROMPT = (
    "You answer questions about EU migration policy documents using ONLY the numbered passages given. "
    "After every sentence put the number of the passage that supports it in square brackets, like [2]. "
    "If the passages do not answer the question, reply exactly: The documents do not answer this question."
)
_MARKER = re.compile(r"\[(\d+)\]")
MIN_SUPPORT = 0.6  # share of a sentence's terms that must occur in the passage it cites (set by hand, first version)
MIN_SIMILARITY = 0.6  # cosine to the closest sentence of that passage (set by hand, first version)


def build_prompt(question: str, hits: list[Hit]) -> str:
    passages = "\n\n".join(
        f"[{i}] {h.unit.doc_title} ({h.unit.doc_date}), {h.unit.locator}, pages {h.unit.pages}:\n{h.unit.text}"
        for i, h in enumerate(hits, start=1)
    )
    return f"Passages:\n\n{passages}\n\nQuestion: {question}"


def call_endpoint(url: str, model: str, prompt: str, timeout: float) -> str:
    endpoint = url.rstrip("/")
    if not endpoint.endswith("/chat/completions"):
        endpoint += "/chat/completions" if endpoint.endswith("/v1") else "/v1/chat/completions"
    response = requests.post(
        endpoint,
        json={"model": model or "default", "temperature": 0,
              "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]},
        timeout=timeout,
    )
    response.raise_for_status()
    return str(response.json()["choices"][0]["message"]["content"])


def supported(answerer: Answerer, sentence: str, hit: Hit) -> bool:
    """Most of the sentence's words are in the passage, and it says what one of its sentences says.

    Word overlap alone would accept a claim built from the passage's own words; the
    similarity to the passage's closest sentence catches most of those. Neither detects
    a negation reliably, which is why the extractive answer stays the default.
    """
    claim = _MARKER.sub("", sentence).strip()
    terms = set(tokenize([claim])[0])
    if not terms or len(terms & set(tokenize([hit.unit.text])[0])) / len(terms) < MIN_SUPPORT:
        return False
    index = answerer.retriever.index
    rows = answerer.sentence_rows.get(hit.unit.unit_id, [])
    if not rows:
        return False
    vector = answerer.retriever.encoder.encode([claim])[0]
    return float((index.sentence_vectors[rows] @ vector).max()) >= MIN_SIMILARITY


def generate_answer(answerer: Answerer, llm: LlmSettings, query: Query) -> Answer:
    """The extractive answer's passages, written up by the language model and checked sentence by sentence."""
    extractive = answerer.ask(query)
    if extractive.abstained or not extractive.hits:
        return extractive
    hits = extractive.hits
    try:
        text = call_endpoint(llm.url, llm.model, build_prompt(extractive.question, hits), llm.timeout)
    except (requests.RequestException, KeyError, IndexError, TypeError, ValueError) as exc:
        extractive.notes.append(f"The language model could not be used ({type(exc).__name__}); "
                                "this is the extractive answer.")
        return extractive
    kept: list[AnswerSentence] = []
    dropped: list[str] = []
    citations: dict[int, Citation] = {}
    for sentence in split_sentences(text.replace("\n", " ")):
        numbers = [int(n) for n in _MARKER.findall(sentence)]
        valid = [n for n in numbers if 1 <= n <= len(hits) and supported(answerer, sentence, hits[n - 1])]
        if not numbers or not valid:
            dropped.append(sentence)
            continue
        for n in valid:
            unit = hits[n - 1].unit
            citations.setdefault(n, Citation(len(citations) + 1, unit, unit.text))
        renumbered = _MARKER.sub(lambda m: f"[{citations[int(m.group(1))].n}]" if int(m.group(1)) in citations else "",
                                 sentence).strip()
        kept.append(AnswerSentence(renumbered, _MARKER.sub("", sentence).strip(), citations[valid[0]].n,
                                   hits[valid[0] - 1].unit.unit_id))
    if not kept:
        extractive.notes.append("The language model's answer had no sentence supported by a retrieved passage; "
                                "this is the extractive answer.")
        return extractive
    notes = [f"Dropped {len(dropped)} sentence(s) of the generated answer that did not cite a supporting passage: "
             + " | ".join(dropped)] if dropped else []
    ordered = sorted(citations.values(), key=lambda c: c.n)
    return Answer(extractive.question, " ".join(s.text for s in kept), False, ordered, hits, notes,
                  mode="generative", sentences=kept)
