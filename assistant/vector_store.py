"""The vector store: add, delete by key and filtered search, behind one small interface.

Two implementations satisfy `VectorStore`:
  - `FaissStore` (here): FAISS in this process, the embedded default. Filters become an
    allowed-id set that FAISS applies inside its search (an `IDSelectorBatch`).
  - `MilvusStore` (assistant/milvus_store.py): a Milvus engine, local (milvus-lite's native
    engine, `index/milvus.db`) or a cluster; filters are Milvus boolean expressions on scalar
    fields, evaluated by the engine during the vector search.

Keys: every entry is keyed by `StoreEntry.key`, a hash of the chunk's content hash, of the
metadata stored beside its vector (chunk id, unit, document, kind, section, date, countries)
and of the model that made the vector.
An upsert under an existing key replaces the entry; a chunk whose text or metadata changed
gets a new key, so an incremental sync (`sync_store`) adds the new keys, deletes the keys the
index no longer has and leaves the rest untouched. Vectors still come from the index build's
content-hash cache, so nothing unchanged is embedded twice.

`Where` is the filter both stores evaluate, with one reference semantics (`Where.matches`):
any of the document ids, any of the kinds, any of the section substrings (lower case), any
of the countries (canonical names), and an inclusive ISO date range on the document date.

`encode_in_processes` embeds a large ingest on several processes with sentence-transformers'
multi-process pool (the same vectors as one process, within float rounding).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

import numpy as np

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.index import LoadedIndex
    from assistant.records import Chunk, Unit

STORES = ("faiss", "milvus")
DEFAULT_STORE = "faiss"


def store_name(chosen: str | None = None) -> str:
    """The store asked for (a CLI option), else ASSISTANT_STORE, else FAISS."""
    name = (chosen or os.environ.get("ASSISTANT_STORE") or DEFAULT_STORE).lower()
    if name not in STORES:
        raise AssistantError(f"Unknown vector store {name!r}; choose one of {', '.join(STORES)}.")
    return name


@dataclass(frozen=True)
class StoreEntry:
    """What a store keeps beside one chunk's vector: its key and the fields filters use."""

    key: str  # entry_key(...): changes whenever the text or any stored field changes
    chunk_id: str
    unit_id: str
    content_hash: str  # the chunk's own content hash (of its index text)
    doc_id: str
    kind: str
    section: str
    doc_date: str  # ISO date, compared as text (ISO dates sort as text)
    countries: tuple[str, ...] = ()
    embedding: str = ""  # "model/backend" that made the vector: another model means another key

    @classmethod
    def of(cls, chunk: Chunk, unit: Unit, embedding: str = "") -> StoreEntry:
        fields = {
            "chunk_id": chunk.chunk_id, "unit_id": unit.unit_id, "content_hash": chunk.content_hash,
            "doc_id": unit.doc_id, "kind": unit.kind, "section": unit.section, "doc_date": unit.doc_date,
            "countries": tuple(unit.countries), "embedding": embedding,
        }
        return cls(key=entry_key(**fields), **fields)  # type: ignore[arg-type]


def entry_key(**fields: object) -> str:
    """32 hex characters of the SHA-256 of the fields, in a fixed order."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def index_entries(index: LoadedIndex) -> list[StoreEntry]:
    """One entry per chunk of a loaded index, in row order."""
    embedding = f"{index.model}/{index.backend}"
    return [StoreEntry.of(chunk, index.units[chunk.unit_id], embedding) for chunk in index.chunks]


def keys_fingerprint(keys: Iterable[str]) -> str:
    """One hash for a set of keys: two stores hold the same entries when these are equal."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Where:
    """A filter on stored entries; an empty one lets everything through.

    Each non-empty field must match (AND); within a field any value may match (OR).
    """

    doc_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # lower-case substrings of the section heading (lower-cased)
    countries: tuple[str, ...] = ()  # canonical country names, as stored on units
    date_from: str = ""  # inclusive ISO dates on the document date
    date_to: str = ""

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.kinds or self.sections or self.countries or self.date_from or self.date_to)

    def matches(self, entry: StoreEntry) -> bool:
        """The reference semantics every store's filter must reproduce."""
        if self.doc_ids and entry.doc_id not in self.doc_ids:
            return False
        if self.kinds and entry.kind not in self.kinds:
            return False
        if self.sections and not any(s in entry.section.lower() for s in self.sections):
            return False
        if self.countries and not set(self.countries).intersection(entry.countries):
            return False
        if self.date_from and entry.doc_date < self.date_from:
            return False
        if self.date_to and entry.doc_date > self.date_to:
            return False
        return True


class EntryTable:
    """Entries as columns, so that a `Where` costs array operations, not a Python loop per entry.

    Each text field is kept as its distinct values and one code per entry; a filter tests the
    distinct values with the same predicates as `Where.matches`, then selects entries by code.
    """

    TEXT_FIELDS = ("doc_id", "kind", "section", "doc_date")

    def __init__(self, entries: Sequence[StoreEntry]) -> None:
        self.size = len(entries)
        self._values: dict[str, list[str]] = {}
        self._codes: dict[str, np.ndarray] = {}
        for name in self.TEXT_FIELDS:
            codes: dict[str, int] = {}
            self._codes[name] = np.fromiter((codes.setdefault(getattr(e, name), len(codes)) for e in entries),
                                            dtype=np.int64, count=self.size)
            self._values[name] = list(codes)
        by_country: dict[str, list[int]] = {}
        for position, entry in enumerate(entries):
            for country in entry.countries:
                by_country.setdefault(country, []).append(position)
        self._by_country = {c: np.asarray(p, dtype=np.int64) for c, p in by_country.items()}

    def _field(self, name: str, keep: Callable[[str], bool]) -> np.ndarray:
        chosen = np.fromiter(map(keep, self._values[name]), dtype=bool, count=len(self._values[name]))
        return chosen[self._codes[name]]

    def positions(self, where: Where) -> np.ndarray:
        """Positions (ascending) of the entries that `where` admits: the same set as Where.matches."""
        mask = np.ones(self.size, dtype=bool)
        if where.doc_ids:
            mask &= self._field("doc_id", lambda v: v in where.doc_ids)
        if where.kinds:
            mask &= self._field("kind", lambda v: v in where.kinds)
        if where.sections:
            mask &= self._field("section", lambda v: any(s in v.lower() for s in where.sections))
        if where.date_from or where.date_to:
            mask &= self._field("doc_date", lambda v: not (where.date_from and v < where.date_from)
                                and not (where.date_to and v > where.date_to))
        if where.countries:
            named = np.zeros(self.size, dtype=bool)
            for country in where.countries:
                named[self._by_country.get(country, np.zeros(0, dtype=np.int64))] = True
            mask &= named
        return np.flatnonzero(mask).astype(np.int64)


@dataclass(frozen=True)
class StoreHit:
    key: str
    score: float  # inner product of unit vectors = cosine similarity


class VectorStore(Protocol):
    """Unit vectors under string keys, searched by inner product with a `Where` filter."""

    name: str
    dimension: int

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        """Add entries; an entry whose key is already stored replaces it."""

    def delete(self, keys: Iterable[str]) -> int:
        """Remove entries by key; returns how many were stored. Unknown keys are ignored."""

    def search(self, queries: np.ndarray, k: int, where: Where | None = None) -> list[list[StoreHit]]:
        """Top-k per query, best first, only entries that match `where` (evaluated by the store)."""

    def keys(self) -> set[str]:
        """Every stored key."""

    def count(self) -> int: ...

    def close(self) -> None: ...


def _unit_matrix(vectors: np.ndarray, dimension: int, n: int) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape != (n, dimension):
        raise ValueError(f"expected {n} vectors of dimension {dimension}, got shape {matrix.shape}")
    return matrix


class FaissStore:
    """FAISS in this process: the default store, and the one the embedded index is served from.

    FAISS ids are int64 numbers chosen here; a loaded index keeps its row numbers as ids, so
    searching through this store returns exactly what `vector_index.search` returns for the
    same allowed rows. Flat and IVF indexes remove replaced entries in place; HNSW cannot drop
    graph nodes, so their ids are kept as tombstones that the search excludes inside FAISS.
    """

    name = "faiss"

    def __init__(self, index: object, entries: dict[int, StoreEntry]) -> None:
        from assistant.vector_index import index_kind

        self._index = index
        self.dimension = int(index.d)  # type: ignore[attr-defined]
        self._entries = dict(entries)
        self._id_of_key = {entry.key: i for i, entry in self._entries.items()}
        if len(self._id_of_key) != len(self._entries):
            raise AssistantError("Two stored entries share a key; each chunk's key must be unique.")
        self._next_id = max(self._entries, default=-1) + 1
        self._tombstones: set[int] = set()
        self._removes_in_place = index_kind(index) != "hnsw"  # type: ignore[arg-type]
        self._table: tuple[np.ndarray, EntryTable] | None = None  # (ids, columns), rebuilt after a change

    @classmethod
    def empty(cls, dimension: int, kind: str = "flat") -> FaissStore:
        from assistant.vector_index import build_vector_index

        return cls(build_vector_index(np.zeros((0, dimension), dtype=np.float32), kind=kind), {})

    @classmethod
    def from_index(cls, index: LoadedIndex, entries: Sequence[StoreEntry] | None = None) -> FaissStore:
        """The served FAISS index of a loaded generation, ids = row numbers (no copy)."""
        entries = index_entries(index) if entries is None else entries
        return cls(index.vector_index, dict(enumerate(entries)))

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        from assistant.vector_index import add_vectors

        matrix = _unit_matrix(vectors, self.dimension, len(entries))
        if len({e.key for e in entries}) != len(entries):
            raise ValueError("the same key appears twice in one upsert")
        self.delete(e.key for e in entries)
        ids = np.arange(self._next_id, self._next_id + len(entries), dtype=np.int64)
        self._next_id += len(entries)
        if len(entries):
            add_vectors(self._index, matrix, ids)  # type: ignore[arg-type]
        for i, entry in zip(ids.tolist(), entries):
            self._entries[i] = entry
            self._id_of_key[entry.key] = i
        self._table = None

    def delete(self, keys: Iterable[str]) -> int:
        from assistant.vector_index import remove_ids

        ids = [self._id_of_key.pop(key) for key in dict.fromkeys(keys) if key in self._id_of_key]
        for i in ids:
            del self._entries[i]
        if ids:
            self._table = None
        if ids and self._removes_in_place:
            remove_ids(self._index, np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
        elif ids:
            self._tombstones.update(ids)
        return len(ids)

    def allowed_ids(self, where: Where | None) -> np.ndarray | None:
        """The ids that pass the filter, or None when nothing is filtered."""
        if where is None or where.is_empty():
            return None
        if self._table is None:
            ids = np.fromiter(self._entries, dtype=np.int64, count=len(self._entries))
            self._table = (ids, EntryTable(list(self._entries.values())))
        ids, table = self._table
        return np.sort(ids[table.positions(where)])

    def search(self, queries: np.ndarray, k: int, where: Where | None = None) -> list[list[StoreHit]]:
        from assistant.vector_index import search

        matrix = np.ascontiguousarray(queries, dtype=np.float32)
        allowed = self.allowed_ids(where)
        if (allowed is not None and allowed.size == 0) or not self._entries:
            return [[] for _ in range(matrix.shape[0])]
        exclude = np.fromiter(self._tombstones, dtype=np.int64) if self._tombstones else None
        scores, ids = search(self._index, matrix, k, allowed=allowed, exclude=exclude)  # type: ignore[arg-type]
        return [[StoreHit(self._entries[int(i)].key, float(s)) for s, i in zip(row_scores, row_ids) if i >= 0]
                for row_scores, row_ids in zip(scores, ids)]

    def keys(self) -> set[str]:
        return set(self._id_of_key)

    def count(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> StoreEntry | None:
        i = self._id_of_key.get(key)
        return None if i is None else self._entries[i]

    def close(self) -> None:
        pass


@dataclass
class SyncReport:
    added: int  # entries written (new keys)
    deleted: int  # stored keys the index no longer has
    kept: int  # entries already stored under the same key
    seconds: float

    def sentence(self, store: str) -> str:
        return (f"Synced the {store} store in {self.seconds:.1f} s: {self.added} added, {self.deleted} deleted, "
                f"{self.kept} unchanged.")


def sync_store(store: VectorStore, entries: Sequence[StoreEntry], vectors: np.ndarray, batch: int = 1000) -> SyncReport:
    """Make the store hold exactly these entries: add missing keys, delete stale ones."""
    import time

    started = time.perf_counter()
    stored = store.keys()
    wanted = {entry.key for entry in entries}
    missing = [row for row, entry in enumerate(entries) if entry.key not in stored]
    for start in range(0, len(missing), batch):
        rows = missing[start:start + batch]
        store.upsert([entries[r] for r in rows], np.asarray(vectors[rows], dtype=np.float32))
    stale = stored - wanted
    deleted = store.delete(sorted(stale)) if stale else 0
    return SyncReport(len(missing), deleted, len(wanted) - len(missing), time.perf_counter() - started)


# --- Large ingests: embedding on several processes ----------------------------------------


def encode_in_processes(model: str, texts: Sequence[str], workers: int = 2, batch_size: int = 32,
                        chunk_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Unit vectors for `texts`, computed by `workers` processes of sentence-transformers' pool.

    Each worker gets cpu_count // workers threads, so the pool does not oversubscribe the
    cores. The vectors equal a single process's within float rounding (checked to 1e-5 in
    tests/test_vector_store.py); the order of `texts` is kept.
    """
    from assistant.models import model_path, model_spec
    from assistant.offline import set_offline_flags

    if workers < 1:
        raise AssistantError("The number of embedding workers must be at least 1.")
    spec = model_spec(model)
    if not texts:
        return np.zeros((0, spec.dimension), dtype=np.float32)
    set_offline_flags()
    from sentence_transformers import SentenceTransformer

    st_model = SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)
    st_model.max_seq_length = spec.max_seq_length
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    previous = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({name: threads for name in previous})  # read by each spawned worker's torch
    try:
        pool = st_model.start_multi_process_pool(["cpu"] * workers)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        vectors = st_model.encode(list(texts), pool=pool, batch_size=batch_size, chunk_size=chunk_size,
                                  normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
    finally:
        st_model.stop_multi_process_pool(pool)
    return np.ascontiguousarray(vectors, dtype=np.float32)
