"""Building a generation: chunk the corpus, embed only what changed, write every file, swap it in.

A generation holds manifest.json, vectors.npy, faiss.index, chunks.jsonl, units.jsonl,
documents.json, sentences.jsonl, sentence_vectors.npy and bm25/. It is written beside the
served one and only then named in CURRENT, so a build killed at any point leaves the
previous index loadable. Vectors are cached by content hash: an unchanged chunk or sentence
is never embedded twice.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.chunking import SPLITTER_VERSION, chunk_corpus, read_corpus, sentence_cache, unit_sentences
from assistant.errors import AssistantError
from assistant.index import bm25 as bm25_files
from assistant.index import vectors as vector_files
from assistant.index.generations import (
    BUILDING_PREFIX,
    GENERATIONS,
    new_generation_name,
    remove_old_generations,
    served_generation,
    swap_pointer,
)
from assistant.index.manifest import (
    ChunkEntry,
    DocumentEntry,
    Manifest,
    SentenceEntry,
    checksums,
    corpus_fingerprint,
    expected_settings,
    read_manifest,
    write_manifest,
)
from assistant.index.storage import fsync_tree, read_jsonl, sha256_file, sha256_text, write_jsonl
from assistant.ingest import corpus_lock
from assistant.models import model_spec

Progress = Callable[[str, float], None]


def sentence_hash(text: str) -> str:
    return sha256_text("sentence\n" + text)[:20]


def _reusable_generations(index_dir: Path) -> list[Path]:
    """The served generation first, then the other finished ones, newest first (a damaged pointer names none)."""
    served = served_generation(index_dir)
    folder = index_dir / GENERATIONS
    others = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p != served),
                    key=lambda p: p.name, reverse=True) if folder.is_dir() else []
    return ([served] if served is not None else []) + others


def _previous_vectors(index_dir: Path, model: str, backend: str) -> dict[str, np.ndarray]:
    """content hash -> vector from the served index (or, when it is damaged, the newest whole one) built with
    the same model; vector files are checked against the manifest's checksums before they are reused."""
    for generation in _reusable_generations(index_dir):
        try:
            manifest = read_manifest(generation)
            if manifest.model != model or manifest.backend != backend:
                continue
            cache: dict[str, np.ndarray] = {}
            for file, entries in (("vectors.npy", manifest.chunks), ("sentence_vectors.npy", manifest.sentences)):
                if manifest.files.get(file) != sha256_file(generation / file):
                    raise ValueError(f"{file} does not match its checksum")
                vectors = np.load(generation / file, mmap_mode="r")
                hashes = [entry.content_hash for entry in entries]
                if len(hashes) != vectors.shape[0]:
                    raise ValueError(f"{file} has {vectors.shape[0]} rows for {len(hashes)} entries")
                cache.update({h: np.array(vectors[row]) for row, h in enumerate(hashes)})
            return cache
        except (AssistantError, OSError, ValueError, KeyError):
            continue  # a damaged generation gives no cache; the next older one may
    return {}


SPLITS = "splits.jsonl"  # sentence splits by line hash, reused by the next build


def _previous_splits(index_dir: Path) -> dict[str, tuple[str, ...]]:
    """line hash -> sentences from the served index, if it was split by this splitter and the file checks out."""
    generation = served_generation(index_dir)
    if generation is None:
        return {}
    try:
        manifest = read_manifest(generation)
        if manifest.splitter != SPLITTER_VERSION or manifest.files.get(SPLITS) != sha256_file(generation / SPLITS):
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

    def sentence(self) -> str:
        return (f"Indexed {self.chunks} chunks in {self.seconds:.1f} s: {self.embedded} embedded, "
                f"{self.reused} reused from the previous index.")


def _embed(model: str, backend: str, texts: list[str], workers: int, progress: bool) -> np.ndarray:
    from assistant.embedding import encode_in_processes, load_encoder

    if workers > 1:
        if backend != "torch":
            raise AssistantError("Embedding on several processes (--workers) needs the torch backend.")
        return encode_in_processes(model, texts, workers=workers, progress=progress)
    return load_encoder(model, backend).encode(texts, progress=progress)


def build_index(index_dir: Path, corpus_dir: Path, model: str, backend: str, progress: bool = False,
                on_step: Progress | None = None, workers: int = 1) -> BuildReport:
    """Build a new generation beside the served one, then swap it in.

    `workers` > 1 embeds new chunks on that many processes (sentence-transformers' pool, torch
    backend), for large ingests; the vectors equal one process's within float rounding.
    """
    started = time.perf_counter()
    step = on_step or (lambda message, fraction: None)
    step("Reading and chunking the corpus", 0.05)
    with corpus_lock(corpus_dir, writing=True):  # hashed and read at one moment: nothing added or removed in between
        fingerprint = corpus_fingerprint(corpus_dir)
        read = read_corpus(corpus_dir)
    with sentence_cache(_previous_splits(index_dir)) as splits:  # an unchanged line is never split again
        corpus = chunk_corpus(corpus_dir, model, read)
        sentences = [sentence for unit in corpus.units for sentence in unit_sentences(unit)]
    sentence_hashes = [sentence_hash(s.text) for s in sentences]
    cache = _previous_vectors(index_dir, model, backend)
    texts = {c.content_hash: c.index_text for c in corpus.chunks}
    texts.update({h: s.text for h, s in zip(sentence_hashes, sentences)})
    missing = [h for h in texts if h not in cache]
    step(f"Embedding {len(missing)} new or changed chunks and sentences", 0.15)
    spec = model_spec(model)
    if missing:
        fresh = _embed(model, backend, [texts[h] for h in missing], workers, progress)
        cache.update({h: fresh[i] for i, h in enumerate(missing)})

    def stacked(hashes: list[str]) -> np.ndarray:
        if not hashes:
            return np.zeros((0, spec.dimension), dtype=np.float32)
        return np.stack([cache[h] for h in hashes]).astype(np.float32)

    vectors = stacked([c.content_hash for c in corpus.chunks])
    sentence_vectors = stacked(sentence_hashes)
    step("Writing the vector and BM25 indexes", 0.8)
    generations = index_dir / GENERATIONS
    generations.mkdir(parents=True, exist_ok=True)
    name = new_generation_name()
    staging = generations / f"{BUILDING_PREFIX}{name}"
    final = generations / name
    try:
        staging.mkdir()
        np.save(staging / "vectors.npy", vectors)
        np.save(staging / "sentence_vectors.npy", sentence_vectors)
        write_jsonl(staging / "sentences.jsonl", [s.to_dict() for s in sentences])
        write_jsonl(staging / SPLITS, [{"h": key, "s": list(split)} for key, split in splits.items()])
        vector_index = vector_files.build_vector_index(vectors)
        try:
            vector_files.save_index(vector_index, staging / "faiss.index")
        except RuntimeError as exc:  # FAISS reports a failed write (a full disk) as a RuntimeError
            raise OSError("faiss.index could not be written") from exc
        write_jsonl(staging / "chunks.jsonl", [c.to_dict() for c in corpus.chunks])
        write_jsonl(staging / "units.jsonl", [u.to_dict() for u in corpus.units])
        (staging / "documents.json").write_text(
            json.dumps([d.to_dict() for d in corpus.documents], ensure_ascii=False, indent=1), encoding="utf-8")
        bm25_files.build_bm25([c.index_text for c in corpus.chunks], staging / "bm25")
        units_per_document: dict[str, int] = {}
        for unit in corpus.units:
            units_per_document[unit.doc_id] = units_per_document.get(unit.doc_id, 0) + 1
        manifest = Manifest(
            **expected_settings(model, backend),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            corpus=fingerprint,
            vector_index=vector_files.index_params(vector_index),
            units=len(corpus.units),
            documents=tuple(DocumentEntry(d.id, d.title, units_per_document.get(d.id, 0),
                                          fingerprint["documents"][d.id]) for d in corpus.documents),
            chunks=tuple(ChunkEntry(c.chunk_id, c.content_hash) for c in corpus.chunks),
            sentences=tuple(SentenceEntry(s.unit_id, h) for s, h in zip(sentences, sentence_hashes)),
            files=checksums(staging),
            splitter=SPLITTER_VERSION,
        )
        write_manifest(staging, manifest)
        fsync_tree(staging)
        staging.rename(final)
        swap_pointer(index_dir, name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if final.exists() and served_generation(index_dir) != final:
            shutil.rmtree(final, ignore_errors=True)  # written but never served (the swap failed): free its space
        if isinstance(exc, OSError):
            raise AssistantError(
                f"The index could not be written in {index_dir} ({exc.strerror or exc}); nothing was changed, so free "
                "some disk space (or fix the folder's permissions) and run `assistant index` again."
            ) from exc
        raise
    remove_old_generations(index_dir, keep=name)
    step("Index ready", 1.0)
    embedded = set(missing)
    embedded_chunks = sum(1 for c in corpus.chunks if c.content_hash in embedded)
    return BuildReport(final, len(corpus.chunks), embedded_chunks, len(corpus.chunks) - embedded_chunks,
                       time.perf_counter() - started, len(missing))
