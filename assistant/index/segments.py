"""Segments: the files of one part of an index, written in one pass and read by row.

A generation is one segment (a full build), or a base segment and delta segments added by
incremental builds (`assistant add` on a large index). A segment's folder holds:

    store.sqlite           documents, units, chunks and sentences, one JSON record per row, read by row
                           number; unit ids, chunk keys and content hashes indexed; locator keys of units
    vectors.npy            one float32 unit vector per chunk, in row order (memory-mapped)
    sentence_vectors.npy   one per sentence
    multilingual_vectors.npy  one per sentence from the second, multilingual encoder (e5), for retrieval by sentence
    multilingual_keys.npy  the hash of the text each of those embeds (multilingual_texts), so a rebuild reuses them
    multilingual.faiss     the ANN index over multilingual_vectors.npy (the same kinds as faiss.index), memory-mapped
    faiss.index            the ANN index over vectors.npy (flat <= 30k, IVF above), memory-mapped
    bm25/                  bm25s' files (CSC score matrix, vocabulary, parameters) and stats.json, memory-mapped
    rows.npz               chunk -> unit row, unit -> first chunk and count, unit -> first sentence and count
    filters.npz            per chunk the codes of its document, kind, section and date; chunks by country
    filters.json           the distinct values the codes stand for
    words.txt              the distinct lower-cased words of the unit texts, for "does the corpus mention X"
    phrases.json           the multi-word country names the unit texts contain (same question, with spaces)

Rows are numbered from 0 within a segment; the loaded index numbers them across segments
(segment offsets). Writing streams document by document, so a million units never sit in memory
as Python objects; every structure a question needs is built here once, never at start-up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from assistant.embedding.multilingual import DIMENSION as MULTILINGUAL_DIMENSION, embed_passages, text_key
from assistant.index import bm25 as bm25_files
from assistant.index import vectors as vector_files
from assistant.index.keys import chunk_key, fingerprint_of_sum, fingerprint_sum
from assistant.records import Chunk, Document, Sentence, Unit

STORE = "store.sqlite"
MULTILINGUAL = "multilingual_vectors.npy"
MULTILINGUAL_KEYS = "multilingual_keys.npy"
MULTILINGUAL_INDEX = "multilingual.faiss"


def multilingual_texts(document: Document, units: Sequence[Unit], sentences: Sequence[Sentence]) -> list[str]:
    """What the multilingual encoder embeds per sentence: the sentence under its document and locator.

    A sentence alone does not say which document it is from ("what did the 2023 letter say about Egypt?"); the
    chunks' MiniLM vectors carry the same header."""
    from assistant.ingest import short_label

    label = short_label(document)
    locators = {unit.unit_id: unit.locator for unit in units}
    return [f"{label} | {locators.get(s.unit_id, '')}\n{s.text}" for s in sentences]
ROWS = "rows.npz"
FILTERS = "filters.npz"
FILTER_VALUES = "filters.json"
WORDS = "words.txt"
PHRASES = "phrases.json"
FILTER_FIELDS = ("doc_id", "kind", "section", "doc_date")
RECORD_CACHE = 4096  # rows of each table kept decoded per segment (a question reads a few dozen)
BM25_BATCH = 2000  # chunk texts tokenized at once
_HEADER_BYTES = 128  # .npy header reserved before the row count is known (format 1.0, padded)

SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, id TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE units (row INTEGER PRIMARY KEY, unit_id TEXT NOT NULL, doc_row INTEGER NOT NULL, kind TEXT,
                    number TEXT, head_word TEXT, head_number TEXT, record TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, unit_row INTEGER NOT NULL, key TEXT NOT NULL,
                     content_hash TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, unit_row INTEGER NOT NULL, content_hash TEXT NOT NULL,
                        record TEXT NOT NULL);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
INDEXES = """
CREATE UNIQUE INDEX units_by_id ON units(unit_id);
CREATE INDEX units_by_number ON units(kind, number);
CREATE INDEX units_by_head ON units(head_word, head_number);
CREATE INDEX units_by_document ON units(doc_row);
CREATE INDEX chunks_by_key ON chunks(key);
CREATE INDEX chunks_by_hash ON chunks(content_hash);
CREATE INDEX sentences_by_hash ON sentences(content_hash);
"""


def locator_head(locator: str) -> tuple[str, str]:
    """The first two words of a locator, lower-cased ("Section 2.4.1 Returns" -> ("section", "2.4.1")),
    as the search stage reads a question's "section 2.4.1"; ("", "") when there are not two."""
    words = locator.lower().replace("letter, ", "").replace(":", " ").split()
    return (words[0], words[1]) if len(words) >= 2 else ("", "")


@lru_cache(maxsize=1)
def country_phrases() -> tuple[str, ...]:
    """ISO 3166 country names with a space in them, lower-cased (single words are checked against words.txt)."""
    import pycountry

    names = set()
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", country.name), country.name.split(",")[0]):
            if len(name) >= 4 and any(ch.isspace() for ch in name):
                names.add(name.lower())
    return tuple(sorted(names))


class _GrowingMatrix:
    """A float32 .npy file written row block by row block, its shape filled in at the end."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.path, self.dimension, self.rows = path, dimension, 0
        self._handle = path.open("wb")
        self._handle.write(b"\0" * _HEADER_BYTES)

    def append(self, block: np.ndarray) -> None:
        matrix = np.ascontiguousarray(block, dtype="<f4").reshape(-1, self.dimension)
        self._handle.write(matrix.tobytes())
        self.rows += matrix.shape[0]

    def close(self) -> None:
        header = ("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (self.rows, self.dimension))
        body = header.ljust(_HEADER_BYTES - 10 - 1) + "\n"
        self._handle.seek(0)
        self._handle.write(b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body.encode("latin1"))
        self._handle.close()


class SegmentWriter:
    """Write one segment document by document; `finish` builds the FAISS and BM25 indexes."""

    def __init__(self, folder: Path, dimension: int, embedding: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.dimension, self.embedding = dimension, embedding
        self._db = sqlite3.connect(folder / STORE)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192;" + SCHEMA)
        self._vectors = _GrowingMatrix(folder / "vectors.npy", dimension)
        self._sentence_vectors = _GrowingMatrix(folder / "sentence_vectors.npy", dimension)
        self._multilingual = _GrowingMatrix(folder / MULTILINGUAL, MULTILINGUAL_DIMENSION)
        self._multilingual_keys: list[bytes] = []
        self.documents = self.units = self.chunks = self.sentences = 0
        self._chunk_unit: list[int] = []
        self._unit_chunks: list[tuple[int, int]] = []
        self._unit_sentences: list[tuple[int, int]] = []
        self._codes: dict[str, dict[str, int]] = {name: {} for name in FILTER_FIELDS}
        self._chunk_codes: list[tuple[int, int, int, int]] = []
        self._by_country: dict[str, list[int]] = {}
        self._words: set[str] = set()
        self._phrases_left = set(country_phrases())
        self._phrases: set[str] = set()
        self._bm25 = bm25_files.Bm25Builder()
        self._pending_texts: list[str] = []
        self._fingerprint = 0
        self.document_ids: list[str] = []

    def add_document(self, document: Document, units: Sequence[Unit], chunks: Sequence[Chunk],
                     sentences: Sequence[Sentence], chunk_vectors: np.ndarray, sentence_vectors: np.ndarray,
                     multilingual_vectors: np.ndarray | None = None) -> None:
        """One document's records, in reading order (chunks and sentences grouped by unit, as built).

        `multilingual_vectors` are the vectors of the sentences' `multilingual_texts` when the caller has them (a
        build reuses the served index's); without them they are computed here."""
        db, doc_row = self._db, self.documents
        db.execute("INSERT INTO documents VALUES (?, ?, ?)", (doc_row, document.id, _json(document.to_dict())))
        self.document_ids.append(document.id)
        self.documents += 1
        unit_rows = {}
        chunk_rows: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            chunk_rows.setdefault(chunk.unit_id, []).append(chunk)
        sentence_rows: dict[str, list[Sentence]] = {}
        for sentence in sentences:
            sentence_rows.setdefault(sentence.unit_id, []).append(sentence)
        unit_records, chunk_records, sentence_records, keys = [], [], [], []
        for unit in units:
            row = self.units
            unit_rows[unit.unit_id] = row
            head_word, head_number = locator_head(unit.locator)
            unit_records.append((row, unit.unit_id, doc_row, unit.kind, None if unit.number is None else str(unit.number),
                                 head_word, head_number, _json(unit.to_dict())))
            own_chunks = chunk_rows.get(unit.unit_id, [])
            own_sentences = sentence_rows.get(unit.unit_id, [])
            self._unit_chunks.append((self.chunks, len(own_chunks)))
            self._unit_sentences.append((self.sentences, len(own_sentences)))
            codes = tuple(self._codes[name].setdefault(getattr(unit, name), len(self._codes[name]))
                          for name in FILTER_FIELDS)
            for chunk in own_chunks:
                key = chunk_key(chunk, unit, self.embedding)
                keys.append(key)
                chunk_records.append((self.chunks, row, key, chunk.content_hash, _json(chunk.to_dict())))
                self._chunk_unit.append(row)
                self._chunk_codes.append(codes)  # type: ignore[arg-type]
                for country in unit.countries:
                    self._by_country.setdefault(country, []).append(self.chunks)
                self._pending_texts.append(chunk.index_text)
                self.chunks += 1
            for sentence in own_sentences:
                sentence_records.append((self.sentences, row, sentence_hash(sentence.text), _json(sentence.to_dict())))
                self.sentences += 1
            self.units += 1
        if len(chunk_records) != len(chunks) or len(sentence_records) != len(sentences):
            raise ValueError(f"document {document.id}: a chunk or sentence names a unit the document does not have")
        db.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?)", unit_records)
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", chunk_records)
        db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?)", sentence_records)
        self._fingerprint += fingerprint_sum(keys)
        self._vectors.append(chunk_vectors)
        self._sentence_vectors.append(sentence_vectors)
        texts = multilingual_texts(document, units, sentences)
        self._multilingual_keys.extend(text_key(t) for t in texts)
        if multilingual_vectors is None:
            multilingual_vectors = embed_passages(texts)
        self._multilingual.append(multilingual_vectors)
        text = " ".join(unit.text for unit in units).lower()
        self._words.update(text.split())
        for phrase in [p for p in self._phrases_left if p in text]:
            self._phrases.add(phrase)
            self._phrases_left.discard(phrase)
        if len(self._pending_texts) >= BM25_BATCH:
            self._flush_bm25()

    def _flush_bm25(self) -> None:
        if self._pending_texts:
            self._bm25.add(self._pending_texts)
            self._pending_texts = []

    def finish(self, kind: str = "auto", joins: bm25_files.CorpusStats | None = None) -> dict[str, Any]:
        """Build the ANN and BM25 indexes and the row and filter tables; returns the segment's counts."""
        self._vectors.close()
        self._sentence_vectors.close()
        self._multilingual.close()
        if (self._vectors.rows != self.chunks or self._sentence_vectors.rows != self.sentences
                or self._multilingual.rows != self.sentences):
            raise ValueError("the number of vectors does not match the number of chunks or sentences")
        np.save(self.folder / MULTILINGUAL_KEYS, np.asarray(self._multilingual_keys, dtype="S20").reshape(-1))
        self._flush_bm25()
        self._bm25.finish(self.folder / "bm25", joins)
        params = self._write_vector_index(kind, "vectors.npy", "faiss.index", self.chunks)
        self._write_vector_index(kind, MULTILINGUAL, MULTILINGUAL_INDEX, self.sentences)
        np.savez(self.folder / ROWS,
                 chunk_unit=np.asarray(self._chunk_unit, dtype=np.int64),
                 unit_chunks=np.asarray(self._unit_chunks, dtype=np.int64).reshape(-1, 2),
                 unit_sentences=np.asarray(self._unit_sentences, dtype=np.int64).reshape(-1, 2))
        countries = sorted(self._by_country)
        indptr = np.zeros(len(countries) + 1, dtype=np.int64)
        np.cumsum([len(self._by_country[c]) for c in countries], out=indptr[1:])
        np.savez(self.folder / FILTERS,
                 codes=np.asarray(self._chunk_codes, dtype=np.int32).reshape(-1, len(FILTER_FIELDS)),
                 country_rows=np.asarray([r for c in countries for r in self._by_country[c]], dtype=np.int64),
                 country_indptr=indptr)
        _write_json(self.folder / FILTER_VALUES, {"fields": {name: list(codes) for name, codes in self._codes.items()},
                                                  "countries": countries})
        (self.folder / WORDS).write_text("\n".join(sorted(self._words)), encoding="utf-8")
        _write_json(self.folder / PHRASES, sorted(self._phrases))
        counts = {"documents": self.documents, "units": self.units, "chunks": self.chunks,
                  "sentences": self.sentences}
        meta = {**counts, "keys_fingerprint": fingerprint_of_sum(self._fingerprint), "vector_index": params}
        self._db.executescript(INDEXES)
        self._db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
        self._db.commit()
        self._db.close()
        return meta

    def _write_vector_index(self, kind: str, source: str, target: str, rows: int) -> dict[str, Any]:
        vectors = np.load(self.folder / source, mmap_mode="r")
        index = None
        try:
            index = vector_files.build_vector_index(vectors, kind=kind if rows or kind != "auto" else "flat")
            try:
                vector_files.save_index(index, self.folder / target)
            except RuntimeError as exc:  # FAISS reports a failed write (a full disk) as a RuntimeError
                raise OSError(f"{target} could not be written") from exc
            return vector_files.index_params(index)
        finally:
            # A traceback keeps this frame: without these, the map of a deleted file would hold its disk space.
            del vectors, index

    def abort(self) -> None:
        for handle in (self._vectors, self._sentence_vectors, self._multilingual):
            try:
                handle._handle.close()
            except OSError:
                pass
        self._db.close()


def sentence_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(("sentence\n" + text).encode("utf-8")).hexdigest()[:20]


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# --- reading ---------------------------------------------------------------------------------------


class Segment:
    """One segment, opened for serving: SQLite read-only by row, arrays and indexes memory-mapped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._local = threading.local()
        meta = dict(self._db().execute("SELECT name, value FROM meta").fetchall())
        self.meta = {k: json.loads(v) for k, v in meta.items()}
        self.documents = int(self.meta["documents"])
        self.units = int(self.meta["units"])
        self.chunks = int(self.meta["chunks"])
        self.sentences = int(self.meta["sentences"])
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        self.sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
        self.multilingual_vectors = np.load(folder / MULTILINGUAL, mmap_mode="r")
        self.multilingual_index = vector_files.load_index(folder / MULTILINGUAL_INDEX, mmap=True)
        self.vector_index = vector_files.load_index(folder / "faiss.index", mmap=True)
        self.bm25 = bm25_files.load_bm25(folder / "bm25")
        with np.load(folder / ROWS) as rows:
            self.chunk_unit = rows["chunk_unit"]
            self.unit_chunks = rows["unit_chunks"]
            self.unit_sentences = rows["unit_sentences"]
        with np.load(folder / FILTERS) as filters:
            self.filter_codes = filters["codes"]
            self.country_rows = filters["country_rows"]
            self.country_indptr = filters["country_indptr"]
        values = json.loads((folder / FILTER_VALUES).read_text(encoding="utf-8"))
        self.filter_values: dict[str, list[str]] = values["fields"]
        self.countries: list[str] = values["countries"]
        self.words = "\n" + (folder / WORDS).read_text(encoding="utf-8") + "\n"
        self.phrases = frozenset(json.loads((folder / PHRASES).read_text(encoding="utf-8")))
        self.unit = lru_cache(maxsize=RECORD_CACHE)(self._unit)
        self.chunk = lru_cache(maxsize=RECORD_CACHE)(self._chunk)
        self.sentence = lru_cache(maxsize=RECORD_CACHE)(self._sentence)
        self.unit_row = lru_cache(maxsize=RECORD_CACHE)(self._unit_row)

    def _db(self) -> sqlite3.Connection:
        """One read-only connection per thread; the file never changes once written (immutable)."""
        db = getattr(self._local, "db", None)
        if db is None:
            uri = f"file:{self.folder / STORE}?mode=ro&immutable=1"
            db = self._local.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            db.execute("PRAGMA mmap_size=268435456")
        return db

    def _record(self, table: str, row: int) -> dict:
        found = self._db().execute(f"SELECT record FROM {table} WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise IndexError(f"{table} row {row} is not in {self.folder.name}")
        return json.loads(found[0])

    def _unit(self, row: int) -> Unit:
        return Unit.from_dict(self._record("units", row))

    def _chunk(self, row: int) -> Chunk:
        return Chunk(**self._record("chunks", row))

    def _sentence(self, row: int) -> Sentence:
        return Sentence(**self._record("sentences", row))

    def _unit_row(self, unit_id: str) -> int | None:
        found = self._db().execute("SELECT row FROM units WHERE unit_id = ?", (unit_id,)).fetchone()
        return None if found is None else int(found[0])

    def chunk_key(self, row: int) -> str:
        found = self._db().execute("SELECT key FROM chunks WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise IndexError(f"chunk row {row} is not in {self.folder.name}")
        return str(found[0])

    def unit_id(self, row: int) -> str:
        return self.unit(row).unit_id

    def iter_records(self, table: str) -> Iterable[dict]:
        for (record,) in self._db().execute(f"SELECT record FROM {table} ORDER BY row"):
            yield json.loads(record)

    def document_records(self) -> list[dict]:
        return list(self.iter_records("documents"))

    def unit_rows_of_document(self, doc_id: str) -> list[int]:
        return [int(r) for (r,) in self._db().execute(
            "SELECT units.row FROM units JOIN documents ON units.doc_row = documents.row WHERE documents.id = ? "
            "ORDER BY units.row", (doc_id,))]

    def units_numbered(self, kind: str, number: str) -> list[int]:
        return [int(r) for (r,) in self._db().execute(
            "SELECT row FROM units WHERE kind = ? AND number = ? ORDER BY row", (kind, number))]

    def units_headed(self, words: Sequence[str], number: str) -> list[int]:
        marks = ",".join("?" * len(words))
        return [int(r) for (r,) in self._db().execute(
            f"SELECT row FROM units WHERE head_word IN ({marks}) AND head_number = ? ORDER BY row", (*words, number))]

    def rows_of(self, table: str, column: str, values: Sequence[str]) -> dict[str, int]:
        """value -> the first row holding it (chunk keys, content hashes)."""
        found: dict[str, int] = {}
        for start in range(0, len(values), 500):
            batch = list(values[start:start + 500])
            marks = ",".join("?" * len(batch))
            for value, row in self._db().execute(
                    f"SELECT {column}, MIN(row) FROM {table} WHERE {column} IN ({marks}) GROUP BY {column}", batch):
                found[value] = int(row)
        return found

    def column(self, table: str, column: str) -> list[str]:
        return [value for (value,) in self._db().execute(f"SELECT {column} FROM {table} ORDER BY row")]

    def mentions(self, lower: str) -> bool:
        """Is `lower` (lower-cased) a substring of this segment's unit texts joined by spaces?"""
        if not any(ch.isspace() for ch in lower):
            return lower in self.words  # inside one word: words.txt holds every word once, one a line
        return lower in self.phrases

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
