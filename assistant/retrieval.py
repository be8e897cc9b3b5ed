"""Retrieval: dense (a vector store: FAISS by default, or Milvus), BM25 and hybrid by reciprocal
rank fusion, with filters (evaluated inside the vector store for the dense side).

Hybrid fusion: each chunk scores sum over retrievers of 1 / (rrf_k + rank), ranks
counted from 1 within each retriever's filtered list, rrf_k = 60 by default (the value
of Cormack et al., 2009). Results are units: when several parts of one unit match, the
unit appears once, at the rank of its best part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from assistant.bm25_index import bm25_scores
from assistant.embedding import Encoder
from assistant.errors import AssistantError
from assistant.glossary import Glossary
from assistant.index import LoadedIndex
from assistant.questions import clean_question
from assistant.records import Hit
from assistant.settings import RetrievalSettings
from assistant.vector_store import EntryTable, FaissStore, VectorStore, Where, index_entries

MODES = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class Filters:
    """Narrow the search; an empty filter lets everything through."""

    doc_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # case-insensitive substrings of the unit's section heading
    countries: tuple[str, ...] = ()  # canonical names or codes, matched through the glossary
    date_from: str = ""  # ISO dates, inclusive, on the document's date
    date_to: str = ""

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.kinds or self.sections or self.countries or self.date_from or self.date_to)


def _check_date(value: str, name: str) -> None:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise AssistantError(f"The {name} date {value!r} is not a date like 2024-07-22.") from None


@dataclass
class Retriever:
    index: LoadedIndex
    encoder: Encoder
    glossary: Glossary
    settings: RetrievalSettings = field(default_factory=RetrievalSettings)
    store: VectorStore | None = None  # dense search; None: the index's own FAISS index

    def __post_init__(self) -> None:
        self._unit_of_row = [chunk.unit_id for chunk in self.index.chunks]
        self._rows_of_unit: dict[str, list[int]] = {}
        for row, unit_id in enumerate(self._unit_of_row):
            self._rows_of_unit.setdefault(unit_id, []).append(row)
        self._query_cache: dict[str, np.ndarray] = {}
        self.entries = index_entries(self.index)  # what the vector store keeps per chunk, in row order
        self._row_of_key = {entry.key: row for row, entry in enumerate(self.entries)}
        self._table = EntryTable(self.entries)
        if self.store is None:
            self.store = FaissStore.from_index(self.index, self.entries)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._query_cache.get(text)
        if vector is None:
            vector = self.encoder.encode([text])[0]
            if len(self._query_cache) > 2048:
                self._query_cache.clear()
            self._query_cache[text] = vector
        return vector

    def where(self, filters: Filters) -> Where | None:
        """The filters as the vector store evaluates them (countries resolved), or None for no filter."""
        if filters.is_empty():
            return None
        _check_date(filters.date_from, "from")
        _check_date(filters.date_to, "to")
        return Where(
            doc_ids=tuple(filters.doc_ids),
            kinds=tuple(filters.kinds),
            sections=tuple(s.lower() for s in filters.sections),
            countries=tuple(sorted({self._country_name(c) for c in filters.countries})),
            date_from=filters.date_from,
            date_to=filters.date_to,
        )

    def allowed_rows(self, filters: Filters) -> np.ndarray | None:
        """Row numbers of the chunks that pass the filters, or None when nothing is filtered."""
        return self._rows_matching(self.where(filters))

    def _rows_matching(self, where: Where | None) -> np.ndarray | None:
        return None if where is None else self._table.positions(where)

    def _country_name(self, value: str) -> str:
        for country in self.glossary.countries:
            if value.lower() in {country.name.lower(), country.code.lower(), *(a.lower() for a in country.aliases)}:
                return country.name
        raise AssistantError(f"{value!r} is not a country the glossary knows; see `assistant glossary`.")

    def dense_ranking(self, query_vector: np.ndarray, where: Where | None, n: int) -> list[int]:
        """Rows of the n nearest chunks that pass `where`, filtered inside the vector store."""
        hits = self.store.search(query_vector[None, :], n, where=where)[0]  # type: ignore[union-attr]
        rows = (self._row_of_key.get(hit.key) for hit in hits)
        return [row for row in rows if row is not None]  # a key the served index lacks is skipped

    def bm25_ranking(self, query: str, allowed: np.ndarray | None, n: int, scores: np.ndarray | None = None) -> list[int]:
        scores = bm25_scores(self.index.bm25, query) if scores is None else scores
        if allowed is not None:
            masked = np.full_like(scores, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        order = np.argsort(-scores, kind="stable")[:n]
        return [int(row) for row in order if scores[row] > 0]

    def search(self, question: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        question = clean_question(question)
        k = k if k is not None else self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise AssistantError(f"Unknown search mode {mode!r}; choose one of {', '.join(MODES)}.")
        if k < 1:
            raise AssistantError("The number of results must be at least 1.")
        where = self.where(filters or Filters())
        allowed = self._rows_matching(where)
        expanded = self.glossary.expand_query(question)
        query_vector = self.embed_query(expanded)
        n = max(self.settings.candidates, k * 5)
        scores: dict[int, float] = {}
        if mode == "dense":
            ranked = self.dense_ranking(query_vector, where, n)
            similarities = self.index.vectors[ranked] @ query_vector if ranked else np.zeros(0)
            scores = {row: float(s) for row, s in zip(ranked, similarities)}
        elif mode == "bm25":
            raw = bm25_scores(self.index.bm25, expanded)
            scores = {row: float(raw[row]) for row in self.bm25_ranking(expanded, allowed, n, raw)}
        else:
            for ranking in (self.dense_ranking(query_vector, where, n), self.bm25_ranking(expanded, allowed, n)):
                for rank, row in enumerate(ranking, start=1):
                    scores[row] = scores.get(row, 0.0) + 1.0 / (self.settings.rrf_k + rank)
        return self._units_from_rows(scores, query_vector, k)

    def _units_from_rows(self, scores: dict[int, float], query_vector: np.ndarray, k: int) -> list[Hit]:
        """Best part per unit, ranked by score; similarity is the unit's best cosine."""
        best: dict[str, int] = {}
        for row in sorted(scores, key=lambda r: (-scores[r], r)):
            best.setdefault(self._unit_of_row[row], row)
        hits = []
        for rank, (unit_id, row) in enumerate(list(best.items())[:k], start=1):
            similarity = float(np.max(self.index.vectors[self._rows_of_unit[unit_id]] @ query_vector))
            hits.append(Hit(rank, scores[row], self.index.chunks[row], self.index.units[unit_id], similarity))
        return hits
