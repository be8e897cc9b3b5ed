"""The vector store: add, delete by key and filtered search, behind one small interface.

Two implementations satisfy `VectorStore`:
  - `FaissStore` (here): FAISS in this process, the embedded default. Filters become an
    allowed-id set that FAISS applies inside its search (an `IDSelectorBatch`).
  - `MilvusStore` (assistant/search/milvus.py): a Milvus engine, local (milvus-lite's native
    engine, `index/milvus.db`) or a cluster; filters are Milvus boolean expressions on scalar
    fields, evaluated by the engine during the vector search.

Keys: every entry is keyed by `StoreEntry.key`, a hash of the chunk's content hash, of the
metadata stored beside its vector (chunk id, unit, document, kind, section, date, countries)
and of the model that made the vector.
An upsert under an existing key replaces the entry; a chunk whose text or metadata changed
gets a new key, so an incremental sync (`sync_store`) adds the new keys, deletes the keys the
index no longer has and leaves the rest untouched. Vectors still come from the index build's
content-hash cache, so nothing unchanged is embedded twice.

`Filters` (assistant/search/filters.py) is the filter both stores evaluate, with one reference
semantics (`Filters.matches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.index import vectors as vector_files
from assistant.index.keys import entry_fields, entry_key, keys_fingerprint  # noqa: F401  (re-exported)
from assistant.search.filters import EntryTable, Filters
from assistant.settings import Settings
from assistant.vocabulary import STORES

if TYPE_CHECKING:
    from assistant.index import LoadedIndex
    from assistant.records import Chunk, Unit


def checked_store_name(name: str) -> str:
    """The store's name in lower case, or one sentence listing the stores there are."""
    name = name.lower()
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
        fields = entry_fields(chunk, unit, embedding)
        return cls(key=entry_key(**fields), **fields)  # type: ignore[arg-type]


def index_entries(index: LoadedIndex) -> list[StoreEntry]:
    """One entry per chunk of a loaded index, in row order (a pass over every chunk: for syncing a store)."""
    embedding = f"{index.model}/{index.backend}"
    return [StoreEntry.of(chunk, index.unit_of_chunk(row), embedding) for row, chunk in enumerate(index.chunks)]


@dataclass(frozen=True)
class StoreHit:
    key: str
    score: float  # inner product of unit vectors = cosine similarity


class VectorStore(Protocol):
    """Unit vectors under string keys, searched by inner product with a `Filters` filter."""

    name: str
    dimension: int

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        """Add entries; an entry whose key is already stored replaces it."""

    def delete(self, keys: Iterable[str]) -> int:
        """Remove entries by key; returns how many were stored. Unknown keys are ignored."""

    def search(self, queries: np.ndarray, k: int, where: Filters | None = None) -> list[list[StoreHit]]:
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
        self._index = index
        self.dimension = int(index.d)  # type: ignore[attr-defined]
        self._entries = dict(entries)
        self._id_of_key = {entry.key: i for i, entry in self._entries.items()}
        if len(self._id_of_key) != len(self._entries):
            raise AssistantError("Two stored entries share a key; each chunk's key must be unique.")
        self._next_id = max(self._entries, default=-1) + 1
        self._tombstones: set[int] = set()
        self._removes_in_place = vector_files.index_kind(index) != "hnsw"  # type: ignore[arg-type]
        self._table: tuple[np.ndarray, EntryTable] | None = None  # (ids, columns), rebuilt after a change

    @classmethod
    def empty(cls, dimension: int, kind: str = "flat") -> FaissStore:
        return cls(vector_files.build_vector_index(np.zeros((0, dimension), dtype=np.float32), kind=kind), {})

    @classmethod
    def from_index(cls, index: LoadedIndex, entries: Sequence[StoreEntry] | None = None) -> FaissStore:
        """The served FAISS index of a loaded generation, ids = row numbers, nothing read per chunk."""
        return ServedFaissStore(index, entries)

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        matrix = _unit_matrix(vectors, self.dimension, len(entries))
        if len({e.key for e in entries}) != len(entries):
            raise ValueError("the same key appears twice in one upsert")
        self.delete(e.key for e in entries)
        ids = np.arange(self._next_id, self._next_id + len(entries), dtype=np.int64)
        self._next_id += len(entries)
        if len(entries):
            vector_files.add_vectors(self._index, matrix, ids)  # type: ignore[arg-type]
        for i, entry in zip(ids.tolist(), entries):
            self._entries[i] = entry
            self._id_of_key[entry.key] = i
        self._table = None

    def delete(self, keys: Iterable[str]) -> int:
        ids = [self._id_of_key.pop(key) for key in dict.fromkeys(keys) if key in self._id_of_key]
        for i in ids:
            del self._entries[i]
        if ids:
            self._table = None
        if ids and self._removes_in_place:
            vector_files.remove_ids(self._index, np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
        elif ids:
            self._tombstones.update(ids)
        return len(ids)

    def allowed_ids(self, where: Filters | None) -> np.ndarray | None:
        """The ids that pass the filter, or None when nothing is filtered."""
        if where is None or where.is_empty():
            return None
        if self._table is None:
            ids = np.fromiter(self._entries, dtype=np.int64, count=len(self._entries))
            self._table = (ids, EntryTable(list(self._entries.values())))
        ids, table = self._table
        return np.sort(ids[table.positions(where)])

    def search(self, queries: np.ndarray, k: int, where: Filters | None = None) -> list[list[StoreHit]]:
        matrix = np.ascontiguousarray(queries, dtype=np.float32)
        allowed = self.allowed_ids(where)
        if (allowed is not None and allowed.size == 0) or not self._entries:
            return [[] for _ in range(matrix.shape[0])]
        exclude = np.fromiter(self._tombstones, dtype=np.int64) if self._tombstones else None
        scores, ids = vector_files.search(self._index, matrix, k, allowed=allowed, exclude=exclude)  # type: ignore[arg-type]
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


class ServedFaissStore(FaissStore):
    """The served index's own FAISS indexes, searched by row: opening it reads nothing per chunk.

    Searching filters inside FAISS (allowed rows from the index's filter columns) and maps hits to
    keys through the chunk store. The first change (upsert, delete) copies the indexes into a
    plain in-memory `FaissStore`, since the served files are memory-mapped and never written.
    """

    def __init__(self, index: LoadedIndex, entries: Sequence[StoreEntry] | None = None) -> None:
        self._served = index
        self._given = entries
        self.dimension = int(index.manifest.dimension)
        self._materialized: FaissStore | None = None
        self._filters: EntryTable | None = None

    def _store(self) -> FaissStore:
        if self._materialized is None:
            index = self._served
            entries = self._given if self._given is not None else index_entries(index)
            if len(index.segments) == 1:
                faiss_index = vector_files.writable_copy(index.vector_index)
            else:
                faiss_index = vector_files.build_vector_index(np.asarray(index.vectors), kind="flat")
            self._materialized = FaissStore(faiss_index, dict(enumerate(entries)))
        return self._materialized

    def is_served(self) -> bool:
        """Still the served index, unchanged (searched by row)."""
        return self._materialized is None

    def table(self) -> EntryTable:
        if self._filters is None:
            self._filters = EntryTable.from_columns(self._served.filter_columns())
        return self._filters

    def allowed_rows(self, where: Filters | None) -> np.ndarray | None:
        if where is None or where.is_empty():
            return None
        return self.table().positions(where)

    def search_rows(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> list[list[tuple[int, float]]]:
        """(row, score) of the k nearest chunks per query among `allowed` rows (None: all)."""
        if self._materialized is not None:
            raise AssistantError("The served index was changed in this process; search it by key.")
        matrix = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed is not None and allowed.size == 0:
            return [[] for _ in range(matrix.shape[0])]
        return [self._served.dense_search(query, k, allowed) for query in matrix]

    def search(self, queries: np.ndarray, k: int, where: Filters | None = None) -> list[list[StoreHit]]:
        if self._materialized is not None:
            return self._materialized.search(queries, k, where)
        found = self.search_rows(queries, k, self.allowed_rows(where))
        keys = self._keys_of({row for hits in found for row, _ in hits})
        return [[StoreHit(keys[row], score) for row, score in hits] for hits in found]

    def _keys_of(self, rows: set[int]) -> dict[int, str]:
        index = self._served
        out = {}
        for row in rows:
            number, local = index.chunk_rows.locate(row)
            out[row] = index.segments[number].chunk_key(local)
        return out

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        self._store().upsert(entries, vectors)

    def delete(self, keys: Iterable[str]) -> int:
        return self._store().delete(keys)

    def allowed_ids(self, where: Filters | None) -> np.ndarray | None:
        if self._materialized is not None:
            return self._materialized.allowed_ids(where)
        return self.allowed_rows(where)

    def keys(self) -> set[str]:
        return self._materialized.keys() if self._materialized is not None else set(self._served.chunk_keys())

    def count(self) -> int:
        return self._materialized.count() if self._materialized is not None else self._served.chunk_rows.total

    def entry(self, key: str) -> StoreEntry | None:
        return self._store().entry(key)


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


def open_store(settings: Settings, index: LoadedIndex, entries: Sequence[StoreEntry] | None = None) -> VectorStore:
    """The vector store the settings choose for serving `index`: its own FAISS index, or Milvus."""
    name = checked_store_name(settings.store.name)
    if name == "faiss":
        return FaissStore.from_index(index, entries)
    from assistant.search.milvus import MilvusSettings, open_for_index

    return open_for_index(index, MilvusSettings.from_settings(settings.store, settings.index_dir), entries)
