"""The served index: its segments behind one row numbering, read by row, with what questions need built once.

`LoadedIndex` keeps the attributes retrieval and answering have always read (`documents`,
`units`, `chunks`, `sentences`, `vectors`, `sentence_vectors`, `vector_index`, `bm25`), but the
records are views that read rows from the segments' SQLite stores on demand (with a small cache)
and the vectors are memory-mapped, so loading costs neither the corpus' size in memory nor a
pass over it. What a question needs is looked up, not scanned: units by id, the chunk and
sentence rows of a unit, units by locator, chunks by filter value, idf by term, and whether
the corpus mentions a name.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from assistant.embedding.multilingual import DIMENSION as MULTILINGUAL_DIMENSION
from assistant.index import bm25 as bm25_files
from assistant.index import vectors as vector_files
from assistant.index.manifest import Manifest
from assistant.index.segments import FILTER_FIELDS, Segment
from assistant.records import Chunk, Document, Sentence, Unit


class _Rows:
    """Global row numbers over segments: segment i holds rows offsets[i] .. offsets[i+1]-1."""

    def __init__(self, sizes: list[int]) -> None:
        self.offsets = [0]
        for size in sizes:
            self.offsets.append(self.offsets[-1] + size)

    @property
    def total(self) -> int:
        return self.offsets[-1]

    def locate(self, row: int) -> tuple[int, int]:
        if row < 0:
            row += self.total
        if not 0 <= row < self.total:
            raise IndexError(f"row {row} out of range")
        number = bisect.bisect_right(self.offsets, row) - 1
        return number, row - self.offsets[number]


class RowMatrix:
    """Vectors of every segment as one read-only matrix: `matrix[rows]`, `matrix.shape`."""

    def __init__(self, parts: list[np.ndarray], dimension: int) -> None:
        self.parts = parts
        self._rows = _Rows([p.shape[0] for p in parts])
        self.shape = (self._rows.total, dimension)
        self.dtype = np.dtype(np.float32)
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        if len(self.parts) == 1:
            return np.asarray(self.parts[0][rows], dtype=np.float32)
        if isinstance(rows, (int, np.integer)):
            number, local = self._rows.locate(int(rows))
            return np.asarray(self.parts[number][local], dtype=np.float32)
        if isinstance(rows, slice):
            rows = range(*rows.indices(self.shape[0]))
        wanted = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        out = np.empty((wanted.size, self.shape[1]), dtype=np.float32)
        offsets = np.asarray(self._rows.offsets)
        owner = np.searchsorted(offsets, wanted, side="right") - 1
        for number in np.unique(owner):
            where = owner == number
            out[where] = self.parts[number][wanted[where] - offsets[number]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate([np.asarray(p) for p in self.parts]) if self.parts else np.zeros(self.shape, np.float32)
        return whole.astype(dtype or np.float32, copy=False)


class _RecordList(Sequence):
    """Chunks or sentences of every segment, in row order, read on demand."""

    def __init__(self, segments: list[Segment], rows: _Rows, read: str) -> None:
        self._segments, self._rows, self._read = segments, rows, read

    def __len__(self) -> int:
        return self._rows.total

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        number, local = self._rows.locate(int(row))
        return getattr(self._segments[number], self._read)(local)

    def __iter__(self) -> Iterator:
        for number, segment in enumerate(self._segments):
            for record in segment.iter_records(self._read + "s"):
                yield Chunk(**record) if self._read == "chunk" else Sentence(**record)


class UnitMap(Mapping):
    """Units by id over every segment, in reading order; a lookup reads one row."""

    def __init__(self, index: LoadedIndex) -> None:
        self._index = index

    def __getitem__(self, unit_id: str) -> Unit:
        row = self._index.unit_row(unit_id)
        if row is None:
            raise KeyError(unit_id)
        return self._index.unit_at(row)

    def __contains__(self, unit_id: object) -> bool:
        return isinstance(unit_id, str) and self._index.unit_row(unit_id) is not None

    def __len__(self) -> int:
        return self._index.unit_rows.total

    def __iter__(self) -> Iterator[str]:
        for unit in self.values():
            yield unit.unit_id

    def values(self):  # type: ignore[override]
        return _UnitValues(self._index)

    def items(self):  # type: ignore[override]
        return ((unit.unit_id, unit) for unit in self.values())


class _UnitValues:
    def __init__(self, index: LoadedIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.unit_rows.total

    def __iter__(self) -> Iterator[Unit]:
        for segment in self._index.segments:
            for record in segment.iter_records("units"):
                yield Unit.from_dict(record)


class RowsOfUnit(Mapping):
    """unit id -> its chunk (or sentence) rows, in reading order, from the unit's first row and count."""

    def __init__(self, index: LoadedIndex, ranges: np.ndarray) -> None:
        self._index, self._ranges = index, ranges

    def __getitem__(self, unit_id: str) -> list[int]:
        row = self._index.unit_row(unit_id)
        if row is None:
            raise KeyError(unit_id)
        start, count = self._ranges[row]
        return list(range(int(start), int(start) + int(count)))

    def __contains__(self, unit_id: object) -> bool:
        return isinstance(unit_id, str) and self._index.unit_row(unit_id) is not None

    def __len__(self) -> int:
        return len(self._ranges)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.units)


class IdfTable:
    """BM25's idf of a term over every segment's chunks, from the postings' lengths, computed on demand.

    With one segment it equals what bm25s' own arrays give: log(1 + (N - df + 0.5) / (df + 0.5)).
    """

    def __init__(self, retrievers: list) -> None:
        self._parts = []
        self.num_docs = 0
        for retriever in retrievers:
            df = np.diff(np.asarray(retriever.scores["indptr"]))
            self._parts.append((retriever.vocab_dict, df))
            self.num_docs += int(retriever.scores["num_docs"])
        self._cache: dict[str, float | None] = {}
        smallest = [int(df.min()) for _, df in self._parts if len(df)]
        self.max_value = self._idf(min(smallest)) if smallest else 1.0  # the rarest term's idf

    def _df(self, term: str) -> int | None:
        total, seen = 0, False
        for vocabulary, df in self._parts:
            i = vocabulary.get(term)
            if i is not None and i < len(df):
                total += int(df[i])
                seen = True
        return total if seen else None

    def _idf(self, df: int) -> float:
        n = float(self.num_docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def get(self, term: str, default: float | None = None) -> float | None:
        missing = object()
        value = self._cache.get(term, missing)
        if value is missing:  # computed here and returned as computed: another thread may clear the cache
            if len(self._cache) > 100_000:
                self._cache.clear()
            df = self._df(term)
            value = None if df is None else self._idf(df)
            self._cache[term] = value
        return default if value is None else value  # type: ignore[return-value]

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __getitem__(self, term: str) -> float:
        value = self.get(term)
        if value is None:
            raise KeyError(term)
        return value


@dataclass
class FilterColumns:
    """Per chunk (global row) a code per filter field, the values codes stand for, chunks by country."""

    size: int
    values: dict[str, list[str]]
    codes: dict[str, np.ndarray]
    by_country: dict[str, np.ndarray] = field(default_factory=dict)


PHRASE_CHECK_ROWS = 5_000  # chunks read at most to confirm that a multi-word name occurs in the corpus


class StaleWatch(Protocol):
    def notice(self) -> str: ...


@dataclass
class LoadedIndex:
    """Everything retrieval needs, opened once per process; records are read by row when asked for."""

    generation: Path
    manifest: Manifest
    segments: list[Segment]
    documents: list[Document]
    watch: StaleWatch | None = None  # says whether the corpus moved on (load.CorpusWatch); None without a corpus

    def __post_init__(self) -> None:
        segments = self.segments
        self.unit_rows = _Rows([s.units for s in segments])
        self.chunk_rows = _Rows([s.chunks for s in segments])
        self.sentence_rows = _Rows([s.sentences for s in segments])
        self.units = UnitMap(self)
        self.chunks = _RecordList(segments, self.chunk_rows, "chunk")
        self.sentences = _RecordList(segments, self.sentence_rows, "sentence")
        dimension = int(self.manifest.dimension)
        self.vectors = RowMatrix([s.vectors for s in segments], dimension)
        self.sentence_vectors = RowMatrix([s.sentence_vectors for s in segments], dimension)
        self.multilingual_vectors = RowMatrix([s.multilingual_vectors for s in segments], MULTILINGUAL_DIMENSION)
        self.vector_index = segments[0].vector_index
        self.bm25 = segments[0].bm25
        self.chunk_unit = self._joined("chunk_unit", self.unit_rows)
        self.unit_chunks = self._joined_ranges("unit_chunks", self.chunk_rows)
        self.unit_sentences = self._joined_ranges("unit_sentences", self.sentence_rows)
        self.chunk_rows_of = RowsOfUnit(self, self.unit_chunks)
        self.sentence_rows_of = RowsOfUnit(self, self.unit_sentences)
        self.idf = IdfTable([s.bm25 for s in segments])
        self.documents_by_id = {d.id: d for d in self.documents}
        self._filters: FilterColumns | None = None

    def _joined(self, name: str, targets: _Rows) -> np.ndarray:
        parts = [getattr(s, name) for s in self.segments]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p + targets.offsets[i] for i, p in enumerate(parts)])

    def _joined_ranges(self, name: str, targets: _Rows) -> np.ndarray:
        parts = [getattr(s, name) for s in self.segments]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p + np.array([targets.offsets[i], 0]) for i, p in enumerate(parts)])

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def backend(self) -> str:
        return self.manifest.backend

    def stale_notice(self) -> str:
        """'' while the index matches its corpus; else one sentence saying how far behind it is."""
        return self.watch.notice() if self.watch is not None else ""

    # --- units ------------------------------------------------------------------------------------

    def unit_row(self, unit_id: str) -> int | None:
        """The global row of a unit (the last segment that holds the id wins)."""
        for number in range(len(self.segments) - 1, -1, -1):
            row = self.segments[number].unit_row(unit_id)
            if row is not None:
                return self.unit_rows.offsets[number] + row
        return None

    def unit_at(self, row: int) -> Unit:
        number, local = self.unit_rows.locate(int(row))
        return self.segments[number].unit(local)

    def unit_of_chunk(self, row: int) -> Unit:
        return self.unit_at(int(self.chunk_unit[row]))

    def document(self, doc_id: str) -> Document | None:
        return self.documents_by_id.get(doc_id)

    def document_units(self, doc_id: str) -> list[Unit]:
        """A document's units in reading order (one query, not a pass over the units)."""
        found = []
        for number, segment in enumerate(self.segments):
            found.extend(segment.unit(row) for row in segment.unit_rows_of_document(doc_id))
        return found

    def units_by_locator(self, kind: str, number: str, head_words: tuple[str, ...], numbered: bool) -> Iterator[str]:
        """Ids of the units whose kind and number match (`numbered`) or whose locator starts with one of
        `head_words` and the number, in reading order."""
        for position, segment in enumerate(self.segments):
            rows = segment.units_numbered(kind, number) if numbered else segment.units_headed(head_words, number)
            for row in rows:
                yield segment.unit(row).unit_id

    def countries_named(self) -> set[str]:
        return {c for s in self.segments for c in s.countries}

    def mentions(self, name: str) -> bool:
        """Does the unit text of the corpus contain `name` (any case), as a substring?

        Names without spaces are looked up in each segment's words (a substring without spaces lies
        inside one word); multi-word ISO 3166 country names were looked for when the segment was written;
        other multi-word names are read in the units that hold their rarest term (its BM25 posting list).
        """
        lower = name.lower()
        if any(segment.mentions(lower) for segment in self.segments):
            return True
        pieces = lower.split()
        if len(pieces) < 2 or not all(any(segment.mentions(p) for segment in self.segments) for p in pieces):
            return False
        return self._phrase_in_units(" ".join(pieces))

    def _phrase_in_units(self, lower: str) -> bool:
        tokens = bm25_files.tokenize([lower])[0]
        if not tokens:  # only stop words: too common to be worth reading for
            return True
        rows: list[int] = []
        for number, segment in enumerate(self.segments):
            postings = [bm25_files.posting_rows(segment.bm25, token) for token in tokens]
            rarest = min(postings, key=len)
            rows.extend(int(r) + self.chunk_rows.offsets[number] for r in rarest)
        if len(rows) > PHRASE_CHECK_ROWS:
            return True  # a name this common is taken as mentioned rather than read through
        units = dict.fromkeys(int(self.chunk_unit[row]) for row in rows)
        return any(lower in " ".join(self.unit_at(row).text.lower().split()) for row in units)

    # --- search -----------------------------------------------------------------------------------

    def bm25_scores(self, query: str) -> np.ndarray:
        tokens = bm25_files.tokenize([query])[0]
        parts = [bm25_files.bm25_scores(s.bm25, query, tokens) for s in self.segments]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def bm25_top(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the n best BM25 scores above 0, best first, ties by row; `allowed`: sorted rows.

        The same as sorting `bm25_scores` (bm25.top_scores prunes documents that cannot reach the top n).
        """
        tokens = bm25_files.tokenize([query])[0]
        found: list[tuple[float, int]] = []
        for number, segment in enumerate(self.segments):
            offset, size = self.chunk_rows.offsets[number], segment.chunks
            mask = None
            if allowed is not None:
                lo, hi = np.searchsorted(allowed, [offset, offset + size])
                if hi <= lo:
                    continue
                mask = np.zeros(size, dtype=bool)
                mask[allowed[lo:hi] - offset] = True
            rows, scores = bm25_files.top_scores(segment.bm25, tokens, n, mask)
            found.extend((-float(score), int(row) + offset) for row, score in zip(rows, scores))
        if len(self.segments) > 1:
            found.sort()
        return [(row, -score) for score, row in found[:n]]

    def dense_search(self, vector: np.ndarray, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) of the n nearest chunks, best first; `allowed`: sorted rows that may be returned."""
        return self._nearest(vector, n, allowed, self.chunk_rows, "vector_index", "vectors")

    def multilingual_search(self, vector: np.ndarray, n: int,
                            allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(sentence row, cosine) of the n sentences nearest to a multilingual question vector, best first."""
        return self._nearest(vector, n, allowed, self.sentence_rows, "multilingual_index", "multilingual_vectors")

    def _nearest(self, vector: np.ndarray, n: int, allowed: np.ndarray | None, rows: _Rows, index_name: str,
                 vectors_name: str) -> list[tuple[int, float]]:
        """Each segment's ANN index searched (within `allowed`, sorted global rows) and the results merged."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        found: list[tuple[float, int, int]] = []
        for number, segment in enumerate(self.segments):
            offset, size = rows.offsets[number], rows.offsets[number + 1] - rows.offsets[number]
            if size == 0:
                continue
            local = None
            if allowed is not None:
                lo, hi = np.searchsorted(allowed, [offset, offset + size])
                local = allowed[lo:hi] - offset
                if local.size == 0:
                    continue
            scores, ids = vector_files.search(getattr(segment, index_name), query, n, allowed=local,
                                              stored=getattr(segment, vectors_name))
            found.extend((-float(s), number, int(i) + offset) for s, i in zip(scores[0], ids[0]) if i >= 0)
        if len(self.segments) > 1:
            found.sort(key=lambda t: (t[0], t[1]))
        return [(row, -score) for score, _, row in found[:n]]

    def filter_columns(self) -> FilterColumns:
        """The chunks' filter fields as codes (one table per index, built from the segments' once)."""
        if self._filters is None:
            values: dict[str, list[str]] = {}
            codes: dict[str, np.ndarray] = {}
            for position, name in enumerate(FILTER_FIELDS):
                if len(self.segments) == 1:
                    values[name] = self.segments[0].filter_values[name]
                    codes[name] = self.segments[0].filter_codes[:, position].astype(np.int64)
                    continue
                merged: dict[str, int] = {}
                parts = []
                for segment in self.segments:
                    remap = np.array([merged.setdefault(v, len(merged)) for v in segment.filter_values[name]] or [0],
                                     dtype=np.int64)
                    parts.append(remap[segment.filter_codes[:, position]] if segment.chunks else np.zeros(0, np.int64))
                values[name], codes[name] = list(merged), np.concatenate(parts)
            by_country: dict[str, list[np.ndarray]] = {}
            for number, segment in enumerate(self.segments):
                for i, country in enumerate(segment.countries):
                    start, end = segment.country_indptr[i], segment.country_indptr[i + 1]
                    by_country.setdefault(country, []).append(segment.country_rows[start:end]
                                                              + self.chunk_rows.offsets[number])
            self._filters = FilterColumns(self.chunk_rows.total, values, codes,
                                          {c: np.concatenate(p) for c, p in by_country.items()})
        return self._filters

    def facet_values(self, name: str) -> list[str]:
        """The distinct values of a filter field (FILTER_FIELDS) among the chunks, from the filter table."""
        columns = self.filter_columns()
        return [columns.values[name][code] for code in np.unique(columns.codes[name])]

    def documents_with_kind(self, kind: str) -> set[str]:
        """Ids of the documents with units of this kind, from the filter table (no pass over the units)."""
        columns = self.filter_columns()
        if kind not in columns.values["kind"]:
            return set()
        rows = columns.codes["kind"] == columns.values["kind"].index(kind)
        return {columns.values["doc_id"][code] for code in np.unique(columns.codes["doc_id"][rows])}

    def units_per_document(self) -> dict[str, int]:
        """Passages per document, as the manifest counted them."""
        return {entry.id: entry.units for entry in self.manifest.documents}

    def chunk_keys(self) -> list[str]:
        """Every chunk's store key, in row order (a pass over the chunks: for syncing a vector store)."""
        return [key for segment in self.segments for key in segment.column("chunks", "key")]

    def rows_of_keys(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for number, segment in enumerate(self.segments):
            for key, row in segment.rows_of("chunks", "key", keys).items():
                found[key] = row + self.chunk_rows.offsets[number]
        return found

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
