"""Retrieval: dense (a vector store: FAISS by default, or Milvus), BM25 and hybrid by reciprocal
rank fusion, with filters (evaluated inside the vector store for the dense side).

Hybrid fuses three rankings: dense (MiniLM, by chunk), BM25 (by chunk) and the multilingual
encoder's best sentences (e5, assistant/embedding/multilingual.py, each sentence standing for
the chunk that holds it). The sentence ranking is what finds a reworded question's unit: one
sentence that says it scores high even when the rest of the unit is about something else.

A question is prepared once (`prepare`: cleaned, expanded through the glossary, embedded) and
the prepared question is what every later step reads. Results are units: when several parts
of one unit match, the unit appears once, at the rank of its best part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.chunking import common_words
from assistant.embedding import Encoder
from assistant.embedding.multilingual import embed_question
from assistant.errors import AssistantError
from assistant.index import LoadedIndex
from assistant.index.bm25 import top_rows
from assistant.ingest import Glossary
from assistant.models import model_path
from assistant.records import Hit
from assistant.search.filters import Filters
from assistant.search.fusion import reciprocal_rank_fusion
from assistant.search.locators import LocatorTable
from assistant.search.query import clean_question, without_markup
from assistant.search.spelling import Spelling
from assistant.search.stores import FaissStore, ServedFaissStore, VectorStore, index_entries
from assistant.settings import RetrievalSettings
from assistant.vocabulary import MODES

QUERY_CACHE_SIZE = 2048  # distinct questions whose vectors are kept (an evaluation run asks ~100 x 3 modes)


@dataclass(frozen=True)
class PreparedQuestion:
    """A question as every stage reads it: cleaned, expanded through the glossary, embedded."""

    text: str  # cleaned, as asked
    searchable: str  # the question without HTML tags or Markdown link syntax: what is analysed and searched
    expanded: str  # with the codes, names and document words the glossary adds
    vector: np.ndarray  # the expanded question's embedding (unit length)
    plain_vector: np.ndarray  # the question's own embedding, without the expansions (the same when there are none)


@dataclass
class Retriever:
    index: LoadedIndex
    encoder: Encoder
    glossary: Glossary
    settings: RetrievalSettings = field(default_factory=RetrievalSettings)
    store: VectorStore | None = None  # dense search; None: the index's own FAISS index

    def __post_init__(self) -> None:
        # Everything below is read from structures the index build wrote: nothing here passes over the chunks.
        self._query_cache: dict[str, np.ndarray] = {}
        self._sentence_chunks: dict[int, int] = {}  # sentence row -> the chunk that holds it (`_chunk_of_sentence`)
        self._entries: list | None = None
        self.locators = LocatorTable.of_index(self.index)
        self.common_words = common_words(model_path(self.index.model))  # English words of the model's vocabulary
        self.spelling = Spelling(self.index, self.common_words)
        self.glossary_words = self.glossary.words()  # the names and terms a question in any language may use
        if self.store is None:
            self.store = FaissStore.from_index(self.index)
        self._served = self.store if isinstance(self.store, ServedFaissStore) else ServedFaissStore(self.index)
        self._table = self._served.table()

    def knows_word(self, word: str) -> bool:
        """A lower-case word that is English or the corpus's: common English, a corpus word or a glossary word."""
        return word in self.glossary_words or self.spelling.knows(word)

    @property
    def entries(self) -> list:
        """What a vector store keeps per chunk, in row order (read on first use: a pass over every chunk)."""
        if self._entries is None:
            self._entries = index_entries(self.index)
        return self._entries

    def clear_cache(self) -> None:
        """Forget cached query vectors, so that a timing run measures the encoder too."""
        self._query_cache.clear()

    def embed_multilingual(self, text: str) -> np.ndarray:
        """The question's vector from the multilingual encoder (cached like `embed_query`'s)."""
        key = "\x00multilingual\x00" + text
        vector = self._query_cache.get(key)
        if vector is None:
            vector = embed_question(text)
            if len(self._query_cache) >= QUERY_CACHE_SIZE:
                self._query_cache.clear()
            self._query_cache[key] = vector
        return vector

    def sentence_ranking(self, vector: np.ndarray, allowed: np.ndarray | None, n: int) -> list[int]:
        """Chunk rows in the order of their best sentence's multilingual similarity: n at most, filtered."""
        index = self.index
        if not len(index.multilingual_vectors):
            return []
        sentences = None
        if allowed is not None:  # only sentences of units with an admitted chunk compete
            units = np.unique(index.chunk_unit[allowed])
            starts, counts = index.unit_sentences[units, 0], index.unit_sentences[units, 1]
            sentences = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
            if sentences.size == 0:
                return []
        top = np.asarray([row for row, _ in index.multilingual_search(vector, 4 * n, sentences)], dtype=np.int64)
        owners = np.searchsorted(index.unit_sentences[:, 0], top, side="right") - 1
        chunks: list[int] = []
        seen: set[int] = set()
        for sentence_row, unit_row in zip(top.tolist(), owners.tolist()):
            row = self._chunk_of_sentence(int(sentence_row), int(unit_row))
            if row in seen or (allowed is not None and not _contains(allowed, row)):
                continue
            seen.add(row)
            chunks.append(row)
            if len(chunks) >= n:
                break
        return chunks

    def _chunk_of_sentence(self, sentence_row: int, unit_row: int) -> int:
        """The chunk that holds the sentence: the unit's only chunk, or the first whose text contains it."""
        row = self._sentence_chunks.get(sentence_row)
        if row is None:  # kept: the index does not change under a retriever, and each question reads ~100 sentences
            row = self._sentence_chunks[sentence_row] = self._find_chunk_of_sentence(sentence_row, unit_row)
        return row

    def _find_chunk_of_sentence(self, sentence_row: int, unit_row: int) -> int:
        first, count = (int(v) for v in self.index.unit_chunks[unit_row])
        if count <= 1:
            return first
        text = self.index.sentences[sentence_row].text
        for row in range(first, first + count):
            if text in self.index.chunks[row].text:
                return row
        return first

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._query_cache.get(text)
        if vector is None:
            vector = self.encoder.encode([text])[0]
            if len(self._query_cache) >= QUERY_CACHE_SIZE:
                self._query_cache.clear()
            self._query_cache[text] = vector
        return vector

    def prepare(self, question: object) -> PreparedQuestion:
        """Clean the question (one sentence if it cannot be asked), expand it, embed it."""
        text = clean_question(question)
        searchable = without_markup(text)
        expanded = self.glossary.expand_query(searchable)
        corrected = [w for w in self.spelling.corrections(searchable) if w not in expanded.lower()]
        if corrected:  # beside the glossary's additions, in the same form
            expanded = f"{expanded} ({'; '.join(corrected)})"
        vector = self.embed_query(expanded)
        plain = vector if expanded == searchable else self.embed_query(searchable)
        return PreparedQuestion(text, searchable, expanded, vector, plain)

    def resolve(self, filters: Filters | None) -> Filters | None:
        """The filters as the vector store evaluates them (countries resolved), or None for no filter."""
        if filters is None or filters.is_empty():
            return None
        return filters.resolved(self.glossary, [d.id for d in self.index.documents])

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """Row numbers of the chunks that pass the filters, or None when nothing is filtered."""
        return self._rows_matching(self.resolve(filters))

    def _rows_matching(self, resolved: Filters | None) -> np.ndarray | None:
        return None if resolved is None else self._table.positions(resolved)

    def dense_ranking(self, query_vector: np.ndarray, resolved: Filters | None, n: int,
                      allowed: np.ndarray | None = None) -> list[int]:
        """Rows of the n nearest chunks that pass the filters, filtered inside the vector store."""
        store = self.store
        if isinstance(store, ServedFaissStore) and store.is_served():
            allowed = self._rows_matching(resolved) if allowed is None and resolved is not None else allowed
            return [row for row, _ in store.search_rows(query_vector[None, :], n, allowed)[0]]
        hits = store.search(query_vector[None, :], n, where=resolved)[0]  # type: ignore[union-attr]
        found = self.index.rows_of_keys([hit.key for hit in hits])
        rows = (found.get(hit.key) for hit in hits)
        return [row for row in rows if row is not None]  # a key the served index lacks is skipped

    def bm25_ranking(self, query: str, allowed: np.ndarray | None, n: int, scores: np.ndarray | None = None) -> list[int]:
        if scores is None:  # the index's own top n: documents that cannot reach it are not scored
            return [row for row, _ in self.index.bm25_top(query, n, allowed)]
        if allowed is not None:
            masked = np.full_like(scores, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        order = top_rows(scores, n)  # = np.argsort(-scores, kind="stable")[:n], without sorting every row
        return [int(row) for row in order if scores[row] > 0]

    def search(self, question: str | PreparedQuestion, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None, foreign: bool = False) -> list[Hit]:
        """The k best units; units the question names by locator ("action 12") come first, marked `named`.

        `foreign`: the question is not in English, so the MiniLM side (English only) gives way to the multilingual
        sentence ranking: dense is that ranking alone, hybrid fuses it with BM25 (names and numbers match)."""
        prepared = question if isinstance(question, PreparedQuestion) else self.prepare(question)
        k = k if k is not None else self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise AssistantError(f"Unknown search mode {mode!r}; choose one of {', '.join(MODES)}.")
        if k < 1:
            raise AssistantError("The number of results must be at least 1.")
        resolved = self.resolve(filters)
        allowed = self._rows_matching(resolved)
        n = max(self.settings.candidates, k * 5)
        if foreign and mode != "bm25":
            rankings = [self.sentence_ranking(self.embed_multilingual(prepared.searchable), allowed, n)]
            if mode == "hybrid":
                rankings.append(self.bm25_ranking(prepared.expanded, allowed, n))
            scores = reciprocal_rank_fusion(rankings, self.settings.rrf_k)
        elif mode == "dense":
            ranked = self.dense_ranking(prepared.vector, resolved, n, allowed)
            similarities = self.index.vectors[ranked] @ prepared.vector if ranked else np.zeros(0)
            scores = {row: float(s) for row, s in zip(ranked, similarities)}
        elif mode == "bm25":
            scores = {row: float(score) for row, score in self.index.bm25_top(prepared.expanded, n, allowed)}
        else:
            scores = reciprocal_rank_fusion([self.dense_ranking(prepared.vector, resolved, n, allowed),
                                             self.bm25_ranking(prepared.expanded, allowed, n),
                                             self.sentence_ranking(self.embed_multilingual(prepared.searchable),
                                                                   allowed, n)], self.settings.rrf_k)
        named = self._named_units(prepared.searchable, allowed, k)
        return self._units_from_rows(scores, prepared.vector, k, named)

    def _named_units(self, question: str, allowed: np.ndarray | None, limit: int | None = None) -> list[str]:
        """Units the question names that pass the filters: the first `limit` (named units lead the results,
        so at most k of them can be shown; a large corpus may hold an "Action 12" in every action file)."""
        found: list[str] = []
        for unit_id in self.locators.iter_named(question):
            if limit is not None and len(found) >= limit:
                break
            if allowed is not None:
                if not any(_contains(allowed, int(row)) for row in self.index.chunk_rows_of[unit_id]):
                    continue
            found.append(unit_id)
        return found

    def _units_from_rows(self, scores: dict[int, float], query_vector: np.ndarray, k: int,
                         named: list[str] = ()) -> list[Hit]:  # type: ignore[assignment]
        """Named units first, then the best part per unit by score; similarity is the unit's best cosine."""
        best: dict[str, int] = {}
        for unit_id in named:  # its best-scoring part, or its first part when no retriever found it
            rows = self.index.chunk_rows_of[unit_id]
            best[unit_id] = max(rows, key=lambda r: (scores.get(r, 0.0), -r))
        for row in sorted(scores, key=lambda r: (-scores[r], r)):
            if len(best) >= k + len(named):
                break
            best.setdefault(self.index.unit_of_chunk(row).unit_id, row)
        hits = []
        for rank, (unit_id, row) in enumerate(list(best.items())[:k], start=1):
            similarity = float(np.max(self.index.vectors[self.index.chunk_rows_of[unit_id]] @ query_vector))
            hits.append(Hit(rank, scores.get(row, 0.0), self.index.chunks[row], self.index.units[unit_id], similarity,
                            named=unit_id in named))
        return hits


def _contains(sorted_rows: np.ndarray, row: int) -> bool:
    position = int(np.searchsorted(sorted_rows, row))
    return position < sorted_rows.size and int(sorted_rows[position]) == row
