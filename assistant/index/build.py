"""Building a generation: chunk the corpus, embed only what changed, write every file, swap it in.

A generation is manifest.json and one segment (assistant/index/segments.py: store.sqlite,
vectors.npy, sentence_vectors.npy, faiss.index, bm25/, rows.npz, filters.npz, ...) at its root,
plus, after incremental builds, delta segments under deltas/NNNN/. It is written beside the
served one and only then named in CURRENT, so a build killed at any point leaves the previous
index loadable. Vectors are cached by content hash: an unchanged chunk or sentence is never
embedded twice.

Incremental builds: when documents are only added to a large index (INCREMENTAL_MIN_UNITS units
or more; the glossary, the settings and every indexed document unchanged), only the new
documents are read, chunked and embedded; the new generation hard-links the previous one's
segment files (they are never written again) and adds one delta segment, whose BM25 scores use
the document frequencies of the whole index. So adding a document costs what the document
costs, plus reading documents.json and stat-ing each corpus file. Any other change, or more than
MAX_SEGMENTS segments, rebuilds everything into one segment (a compaction).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from assistant.chunking import SPLITTER_VERSION, chunk_corpus, read_corpus, sentence_cache, unit_sentences
from assistant.errors import AssistantError
from assistant.index import bm25 as bm25_files
from assistant.index.generations import (
    BUILDING_PREFIX,
    GENERATIONS,
    new_generation_name,
    remove_old_generations,
    served_generation,
    swap_pointer,
)
from assistant.index.keys import fingerprint_of_sum
from assistant.index.manifest import (
    HASH_CACHE,
    MANIFEST,
    DocumentEntry,
    Manifest,
    checksums,
    corpus_fingerprint,
    expected_settings,
    read_manifest,
    settings_mismatch,
    verify_files,
    write_manifest,
)
from assistant.embedding.multilingual import DIMENSION as MULTILINGUAL_DIMENSION, text_key
from assistant.index.segments import (
    MULTILINGUAL_KEYS,
    Segment,
    SegmentWriter,
    multilingual_texts,
    sentence_hash,
)
from assistant.index.storage import fsync_tree, read_jsonl, sha256_file, write_jsonl
from assistant.ingest import corpus_lock
from assistant.models import model_spec
from assistant.records import Chunk, Document, Sentence, Unit

Progress = Callable[[str, float], None]
# A document, its records, the vectors of its chunks and sentences and, optionally, its sentences' multilingual
# vectors (a seventh element; the segment writer computes them when it is missing).
_Records = tuple[Document, Sequence[Unit], Sequence[Chunk], Sequence[Sentence], np.ndarray, np.ndarray]
DocumentRecords = _Records | tuple[Document, Sequence[Unit], Sequence[Chunk], Sequence[Sentence], np.ndarray,
                                   np.ndarray, np.ndarray]

DELTAS = "deltas"
INCREMENTAL_MIN_UNITS = 10_000  # below this a full rebuild takes seconds and keeps BM25 exact
MAX_SEGMENTS = 16  # base + deltas; one more addition compacts them into one segment
MAX_DELTA_SHARE = 0.10  # adding more than this share of the documents at once rebuilds everything


def _reusable_generations(index_dir: Path) -> list[Path]:
    """The served generation first, then the other finished ones, newest first (a damaged pointer names none)."""
    served = served_generation(index_dir)
    folder = index_dir / GENERATIONS
    others = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p != served),
                    key=lambda p: p.name, reverse=True) if folder.is_dir() else []
    return ([served] if served is not None else []) + others


SPLITS = "splits.jsonl"  # sentence splits by line hash, reused by the next build


def _previous_splits(generation: Path | None, manifest: Manifest | None) -> dict[str, tuple[str, ...]]:
    """line hash -> sentences from the served generation, if it was split by this splitter and the file checks out."""
    if generation is None or manifest is None:
        return {}
    try:
        entry = manifest.files.get(SPLITS) or {}
        if manifest.splitter != SPLITTER_VERSION or entry.get("sha256") != sha256_file(generation / SPLITS):
            return {}
        return {row["h"]: tuple(row["s"]) for row in read_jsonl(generation / SPLITS)}
    except (AssistantError, OSError, ValueError, KeyError, TypeError):
        return {}


@dataclass
class BuildReport:
    generation: Path
    chunks: int
    embedded: int  # chunks whose vectors had to be computed
    reused: int  # chunks whose vectors came from the content-hash cache
    seconds: float
    embedded_texts: int = 0  # chunks and sentences embedded in this build
    incremental: bool = False  # only the added documents were read (a delta segment)
    documents_read: int = 0

    def sentence(self) -> str:
        how = f" (incremental: {self.documents_read} documents added)" if self.incremental else ""
        return (f"Indexed {self.chunks} chunks in {self.seconds:.1f} s: {self.embedded} embedded, "
                f"{self.reused} reused from the previous index{how}.")


class VectorCache:
    """Vectors by content hash: from the served generation's segments (read on demand) and fresh ones."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.known: dict[str, tuple[int, int]] = {}  # chunk hash -> (segment, row)
        self.known_sentences: dict[str, tuple[int, int]] = {}
        self.fresh: dict[str, np.ndarray] = {}
        self.known_multilingual: dict[bytes, tuple[int, int]] | None = None

    def look_up(self, generation: Path | None, manifest: Manifest | None, model: str, backend: str,
                chunk_hashes: Sequence[str], sentence_hashes: Sequence[str]) -> bool:
        """Find these hashes in a generation, if it was built with the same model and checks out."""
        if generation is None or manifest is None or manifest.model != model or manifest.backend != backend:
            return False
        try:
            verify_files(generation, manifest)
            for number, folder in enumerate(manifest.segments):
                segment = Segment(generation / folder)
                self.segments.append(segment)
                for hash_, row in segment.rows_of("chunks", "content_hash", list(chunk_hashes)).items():
                    self.known.setdefault(hash_, (number, row))
                for hash_, row in segment.rows_of("sentences", "content_hash", list(sentence_hashes)).items():
                    self.known_sentences.setdefault(hash_, (number, row))
            return True
        except (AssistantError, OSError, ValueError, KeyError, RuntimeError, sqlite3.Error):
            self.close()  # a damaged generation gives no cache
            self.segments, self.known, self.known_sentences = [], {}, {}
            return False

    def look_up_reusable(self, index_dir: Path, served: Path | None, served_manifest: Manifest | None, model: str,
                         backend: str, chunk_hashes: Sequence[str], sentence_hashes: Sequence[str]) -> None:
        """The served generation (its manifest already read), or when it is damaged the newest whole one built with
        the same model."""
        for generation in _reusable_generations(index_dir):
            manifest = served_manifest if generation == served else _readable_manifest(generation)
            if self.look_up(generation, manifest, model, backend, chunk_hashes, sentence_hashes):
                return

    def has(self, hash_: str) -> bool:
        return hash_ in self.fresh or hash_ in self.known or hash_ in self.known_sentences

    def vectors(self, hashes: Sequence[str], dimension: int, sentences: bool = False) -> np.ndarray:
        if not hashes:
            return np.zeros((0, dimension), dtype=np.float32)
        known = self.known_sentences if sentences else self.known
        rows = []
        for hash_ in hashes:
            vector = self.fresh.get(hash_)
            if vector is None:
                number, row = known[hash_]
                segment = self.segments[number]
                vector = np.asarray((segment.sentence_vectors if sentences else segment.vectors)[row], dtype=np.float32)
            rows.append(vector)
        return np.stack(rows).astype(np.float32)

    def multilingual(self, document: Document, units: Sequence[Unit], sentences: Sequence[Sentence]) -> np.ndarray:
        """The sentences' multilingual vectors: the served index's where it embedded the same text, the rest now."""
        from assistant.embedding.multilingual import embed_passages

        if self.known_multilingual is None:  # read once, on first use: text hash -> (segment, row)
            self.known_multilingual = {}
            for number, segment in enumerate(self.segments):
                try:
                    keys = np.load(segment.folder / MULTILINGUAL_KEYS)
                except (OSError, ValueError):
                    continue  # a generation from before the keys: nothing to reuse from it
                for row, key in enumerate(keys.tolist()):
                    self.known_multilingual.setdefault(key, (number, row))
        texts = multilingual_texts(document, units, sentences)
        keys = [text_key(t) for t in texts]
        new = [t for t, k in zip(texts, keys) if k not in self.known_multilingual]
        fresh = iter(embed_passages(new)) if new else iter(())
        rows = []
        for key in keys:
            if key in self.known_multilingual:
                number, row = self.known_multilingual[key]
                rows.append(np.asarray(self.segments[number].multilingual_vectors[row], dtype=np.float32))
            else:
                rows.append(next(fresh))
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, MULTILINGUAL_DIMENSION), np.float32)

    def close(self) -> None:
        for segment in self.segments:
            segment.close()


def _embed(model: str, backend: str, texts: list[str], workers: int, progress: bool, encoder=None) -> np.ndarray:
    if encoder is not None:
        return encoder.encode(texts, progress=progress)
    from assistant.embedding import encode_in_processes, load_encoder

    if workers > 1 and backend == "torch":
        return encode_in_processes(model, texts, workers=workers, progress=progress)
    if workers > 1:
        from assistant.embedding import OnnxProcessPool

        with OnnxProcessPool(model, workers, quantized=backend == "onnx-int8") as pool:
            return pool.encode(texts)
    return load_encoder(model, backend).encode(texts, progress=progress)


def _embed_missing(cache: VectorCache, chunks: Sequence[Chunk], sentences: Sequence[Sentence],
                   sentence_hashes: Sequence[str], model: str, backend: str, workers: int, progress: bool,
                   encoder, announce: Callable[[int], None]) -> list[str]:
    """Embed the chunks and sentences whose content hash the cache lacks (`announce`d by count first); their hashes."""
    texts = {c.content_hash: c.index_text for c in chunks}
    texts.update({h: s.text for h, s in zip(sentence_hashes, sentences)})
    missing = [h for h in texts if not cache.has(h)]
    announce(len(missing))
    if missing:
        fresh = _embed(model, backend, [texts[h] for h in missing], workers, progress, encoder)
        cache.fresh.update({h: fresh[i] for i, h in enumerate(missing)})
    return missing


def _by_document(documents: Sequence[Document], units: Sequence[Unit], chunks: Sequence[Chunk],
                 sentences: Sequence[Sentence]) -> Iterator[tuple[Document, list[Unit], list[Chunk], list[Sentence]]]:
    """Each document with its units, chunks and sentences (all kept in build order)."""
    units_of: dict[str, list[Unit]] = {}
    for unit in units:
        units_of.setdefault(unit.doc_id, []).append(unit)
    chunks_of: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_of.setdefault(chunk.unit_id, []).append(chunk)
    sentences_of: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        sentences_of.setdefault(sentence.unit_id, []).append(sentence)
    for document in documents:
        own = units_of.get(document.id, [])
        yield (document, own, [c for u in own for c in chunks_of.get(u.unit_id, [])],
               [s for u in own for s in sentences_of.get(u.unit_id, [])])


def build_index(index_dir: Path, corpus_dir: Path, model: str, backend: str, progress: bool = False,
                on_step: Progress | None = None, workers: int = 1, encoder=None) -> BuildReport:
    """Build a new generation beside the served one, then swap it in.

    `workers` > 1 embeds new chunks on that many processes (sentence-transformers' pool, torch
    backend), for large ingests; the vectors equal one process's within float rounding.
    `encoder` replaces the model's encoder (anything with `encode(texts)`), for benchmarks.
    """
    started = time.perf_counter()
    step = on_step or (lambda message, fraction: None)
    step("Reading and chunking the corpus", 0.05)
    index_dir.mkdir(parents=True, exist_ok=True)
    generation = served_generation(index_dir)  # a damaged pointer names none: this build replaces it
    previous = _readable_manifest(generation)
    with corpus_lock(corpus_dir, writing=True):  # hashed and read at one moment: nothing added or removed in between
        fingerprint = corpus_fingerprint(corpus_dir, index_dir / HASH_CACHE)
        added = _documents_to_add(previous, fingerprint, model, backend)
        read = read_corpus(corpus_dir, None if added is None else set(added))
    if added is not None:  # only additions to a large served index: a delta segment
        assert generation is not None and previous is not None
        return _build_delta(index_dir, corpus_dir, model, backend, generation, previous, read, fingerprint,
                            started, step, workers, progress, encoder)
    with sentence_cache(_previous_splits(generation, previous)) as splits:  # an unchanged line is never split again
        corpus = chunk_corpus(corpus_dir, model, read)
        sentences = [sentence for unit in corpus.units for sentence in unit_sentences(unit)]
    chunk_hashes = [c.content_hash for c in corpus.chunks]
    sentence_hashes = [sentence_hash(s.text) for s in sentences]
    cache = VectorCache()
    cache.look_up_reusable(index_dir, generation, previous, model, backend, chunk_hashes, sentence_hashes)
    missing = _embed_missing(cache, corpus.chunks, sentences, sentence_hashes, model, backend, workers, progress,
                             encoder, lambda n: step(f"Embedding {n} new or changed chunks and sentences", 0.15))
    dimension = model_spec(model).dimension
    step("Writing the vector and BM25 indexes", 0.8)

    def records() -> Iterator[DocumentRecords]:
        for document, units, chunks, own_sentences in _by_document(corpus.documents, corpus.units, corpus.chunks,
                                                                   sentences):
            yield (document, units, chunks, own_sentences,
                   cache.vectors([c.content_hash for c in chunks], dimension),
                   cache.vectors([sentence_hash(s.text) for s in own_sentences], dimension, sentences=True),
                   cache.multilingual(document, units, own_sentences))

    try:
        report = write_generation(index_dir, records(), model, backend, fingerprint, splits=splits)
    finally:
        cache.close()
    step("Index ready", 1.0)
    embedded = set(missing)
    embedded_chunks = sum(1 for h in chunk_hashes if h in embedded)
    return replace(report, embedded=embedded_chunks, reused=len(chunk_hashes) - embedded_chunks,
                   seconds=time.perf_counter() - started, embedded_texts=len(missing),
                   documents_read=len(corpus.documents))


def write_generation(index_dir: Path, records: Iterable[DocumentRecords], model: str, backend: str,
                     fingerprint: dict | Callable[[], dict], vectors_from: str = "encoder", kind: str = "auto",
                     on_document: Callable[[int], None] | None = None,
                     splits: dict[str, tuple[str, ...]] | None = None) -> BuildReport:
    """Write a one-segment generation from documents with their records and vectors, and serve it.

    The documents stream through: only one document's records are held at a time. This is the
    full build's writer, and what eval/bench_scale.py feeds generated corpora to. `fingerprint`
    may be a function, called once every document is written (a generator writes the files).
    `splits` are the sentence splits by line hash to keep for the next build (SPLITS).
    """
    started = time.perf_counter()
    name, staging, final = _staging(index_dir)
    dimension = model_spec(model).dimension
    embedding = f"{model}/{backend}"
    writer: SegmentWriter | None = None
    try:
        staging.mkdir()
        writer = SegmentWriter(staging, dimension, embedding)
        written: list[tuple[str, str, int]] = []
        for count, (document, units, chunks, *rest) in enumerate(records, 1):
            writer.add_document(document, units, chunks, *rest)
            written.append((document.id, document.title, len(units)))
            if on_document is not None:
                on_document(count)
        meta = writer.finish(kind=kind)
        if splits is not None:
            write_jsonl(staging / SPLITS, [{"h": key, "s": list(split)} for key, split in splits.items()])
        writer = None
        fingerprint = fingerprint() if callable(fingerprint) else fingerprint
        entries = [DocumentEntry(i, title, units, fingerprint["documents"].get(i, "")) for i, title, units in written]
        manifest = Manifest(
            **expected_settings(model, backend),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            corpus=fingerprint,
            vector_index=meta["vector_index"],
            units=meta["units"],
            documents=tuple(entries),
            counts={k: meta[k] for k in ("documents", "units", "chunks", "sentences")},
            segments=(".",),
            keys_fingerprint=meta["keys_fingerprint"],
            vectors_from=vectors_from,
            files=checksums(staging),
            splitter=SPLITTER_VERSION if splits is not None else "",
        )
        _commit(index_dir, name, staging, final, manifest)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        _clean_up(index_dir, staging, final, exc)
        raise
    return BuildReport(final, manifest.chunks, 0, manifest.chunks, time.perf_counter() - started)


def _readable_manifest(generation: Path | None) -> Manifest | None:
    if generation is None:
        return None
    try:
        return read_manifest(generation)
    except AssistantError:
        return None


def _documents_to_add(previous: Manifest | None, fingerprint: dict, model: str, backend: str) -> list[str] | None:
    """The ids of the documents to add as a delta segment, or None when everything must be rebuilt."""
    if previous is None or settings_mismatch(previous, model, backend):
        return None
    if previous.units < INCREMENTAL_MIN_UNITS or len(previous.segments) >= MAX_SEGMENTS:
        return None
    old, new = previous.corpus.get("documents", {}), fingerprint["documents"]
    if previous.corpus.get("glossary") != fingerprint["glossary"]:
        return None
    if any(new.get(doc_id) != hash_ for doc_id, hash_ in old.items()):
        return None  # a document changed or was removed
    added = [doc_id for doc_id in new if doc_id not in old]
    if not added or len(added) > MAX_DELTA_SHARE * max(len(old), 1):
        return None
    return added


def _build_delta(index_dir: Path, corpus_dir: Path, model: str, backend: str, generation: Path, previous: Manifest,
                 read: list[tuple[Document, list[str]]], fingerprint: dict, started: float, step: Progress, workers: int, progress: bool,
                 encoder) -> BuildReport:
    """The previous generation's segments, hard-linked, plus one segment with the added documents (`read`: their
    metadata and lines, read with the fingerprint)."""
    from assistant.chunking import chunk_settings_for, chunks_for_unit, units_for_document
    from assistant.chunking.tokens import TokenCounter
    from assistant.ingest import load_glossary
    from assistant.models import model_path

    verify_files(generation, previous)  # sizes, and the small files' checksums: never link a damaged file
    documents = [document for document, _ in read]
    glossary = load_glossary(corpus_dir)
    settings = chunk_settings_for(model)
    counter = TokenCounter(model_path(model))
    units: list[Unit] = []
    for document, lines in read:
        units.extend(units_for_document(document, lines, glossary, model))
    by_id = {d.id: d for d in documents}
    chunks = [c for u in units for c in chunks_for_unit(u, by_id[u.doc_id], settings, counter, glossary)]
    sentences = [s for u in units for s in unit_sentences(u)]
    chunk_hashes = [c.content_hash for c in chunks]
    sentence_hashes = [sentence_hash(s.text) for s in sentences]
    cache = VectorCache()
    cache.look_up(generation, previous, model, backend, chunk_hashes, sentence_hashes)
    missing = _embed_missing(cache, chunks, sentences, sentence_hashes, model, backend, workers, progress, encoder,
                             lambda n: step(f"Embedding {n} new chunks and sentences", 0.15))
    dimension = model_spec(model).dimension
    step("Writing the delta segment", 0.8)
    name, staging, final = _staging(index_dir)
    writer: SegmentWriter | None = None
    try:
        staging.mkdir()
        for relative in previous.files:  # immutable files: a link, not a copy
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            _link(generation / relative, target)
        folder = f"{DELTAS}/{len(previous.segments):04d}"
        writer = SegmentWriter(staging / folder, dimension, f"{model}/{backend}")
        for document, own_units, own_chunks, own_sentences in _by_document(documents, units, chunks, sentences):
            writer.add_document(document, own_units, own_chunks, own_sentences,
                                cache.vectors([c.content_hash for c in own_chunks], dimension),
                                cache.vectors([sentence_hash(s.text) for s in own_sentences], dimension, sentences=True),
                                cache.multilingual(document, own_units, own_sentences))
        joins = bm25_files.CorpusStats.of(segment.bm25 for segment in cache.segments) if cache.segments else None
        if joins is None:
            joins = bm25_files.CorpusStats.of(Segment(generation / f).bm25 for f in previous.segments)
        meta = writer.finish(kind="flat", joins=joins)
        writer = None
        counts = {k: previous.counts.get(k, 0) + meta[k] for k in ("documents", "units", "chunks", "sentences")}
        files = dict(previous.files)
        files.update({f"{folder}/{k}": v for k, v in checksums(staging / folder).items()})
        manifest = replace(
            previous,
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            corpus=fingerprint,
            units=counts["units"],
            documents=previous.documents + tuple(
                DocumentEntry(d.id, d.title, sum(1 for u in units if u.doc_id == d.id), fingerprint["documents"][d.id])
                for d in documents),
            counts=counts,
            segments=previous.segments + (folder,),
            keys_fingerprint=fingerprint_of_sum(int(previous.keys_fingerprint or "0", 16)
                                                + int(meta["keys_fingerprint"], 16)),
            files=files,
        )
        _commit(index_dir, name, staging, final, manifest, only=folder)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        _clean_up(index_dir, staging, final, exc)
        raise
    finally:
        cache.close()
    step("Index ready", 1.0)
    embedded = set(missing)
    embedded_chunks = sum(1 for h in chunk_hashes if h in embedded)
    return BuildReport(final, manifest.chunks, embedded_chunks, manifest.chunks - embedded_chunks,
                       time.perf_counter() - started, len(missing), incremental=True, documents_read=len(documents))


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: copy
        shutil.copy2(source, target)


def _staging(index_dir: Path) -> tuple[str, Path, Path]:
    generations = index_dir / GENERATIONS
    generations.mkdir(parents=True, exist_ok=True)
    name = new_generation_name()
    return name, generations / f"{BUILDING_PREFIX}{name}", generations / name


def _commit(index_dir: Path, name: str, staging: Path, final: Path, manifest: Manifest, only: str | None = None) -> None:
    write_manifest(staging, manifest)
    fsync_tree(staging / only if only else staging)
    fsync_tree_file(staging / MANIFEST)
    staging.rename(final)
    swap_pointer(index_dir, name)
    remove_old_generations(index_dir, keep=name)


def fsync_tree_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _clean_up(index_dir: Path, staging: Path, final: Path, exc: BaseException) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    if final.exists() and served_generation(index_dir) != final:
        shutil.rmtree(final, ignore_errors=True)  # written but never served (the swap failed): free its space
    if isinstance(exc, (OSError, sqlite3.OperationalError)):  # SQLite reports a full disk as "disk I/O error" too
        reason = getattr(exc, "strerror", None) or exc
        raise AssistantError(
            f"The index could not be written in {index_dir} ({reason}); nothing was changed, so free "
            "some disk space (or fix the folder's permissions) and run `assistant index` again."
        ) from exc
