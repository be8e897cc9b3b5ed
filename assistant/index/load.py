"""Serving a generation: is it fresh, and everything retrieval needs, loaded once per process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError, StaleIndexError
from assistant.index import bm25 as bm25_files
from assistant.index import vectors as vector_files
from assistant.index.generations import current_generation
from assistant.index.manifest import Manifest, corpus_fingerprint, read_manifest, settings_mismatch, verify_files
from assistant.index.storage import read_jsonl
from assistant.records import Chunk, Document, Sentence, Unit


@dataclass
class IndexStatus:
    exists: bool
    fresh: bool
    reason: str  # one sentence
    manifest: Manifest | None = None


def _staleness(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> tuple[IndexStatus, Path | None]:
    """The status, and the generation folder when one is served; files are not checked here."""
    try:
        generation = current_generation(index_dir)
    except StaleIndexError as exc:  # a damaged pointer: there is an index, and it cannot be served
        return IndexStatus(True, False, str(exc)), None
    if generation is None:
        return IndexStatus(False, False, f"No index has been built in {index_dir} yet."), None
    try:
        manifest = read_manifest(generation)
    except AssistantError as exc:
        return IndexStatus(True, False, str(exc)), generation
    mismatch = settings_mismatch(manifest, model, backend)
    if mismatch:
        return IndexStatus(True, False, mismatch, manifest), generation
    if manifest.corpus != corpus_fingerprint(corpus_dir):
        return IndexStatus(True, False, "The corpus or its glossary changed since the index was built.", manifest), generation
    return IndexStatus(True, True, f"The index is up to date ({len(manifest.chunks)} chunks).", manifest), generation


def index_status(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> IndexStatus:
    """Is there an index, and does it match the corpus, the model and the chunker, with every file whole?"""
    status, generation = _staleness(index_dir, corpus_dir, model, backend)
    if status.fresh and generation is not None and status.manifest is not None:
        try:
            verify_files(generation, status.manifest)
        except StaleIndexError as exc:  # a truncated or corrupted file: rebuilt by `assistant index --if-stale` too
            return IndexStatus(True, False, str(exc), status.manifest)
    return status


@dataclass
class LoadedIndex:
    """Everything retrieval needs, loaded once per process."""

    generation: Path
    manifest: Manifest
    documents: list[Document]
    units: dict[str, Unit]
    chunks: list[Chunk]
    vectors: np.ndarray
    vector_index: object
    bm25: object
    sentences: list[Sentence]
    sentence_vectors: np.ndarray

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def backend(self) -> str:
        return self.manifest.backend


def load_index(index_dir: Path, corpus_dir: Path | None = None, model: str | None = None,
               backend: str | None = None) -> LoadedIndex:
    """Load the served generation; refuse a stale or damaged one with one sentence.

    With a corpus, model and backend given, the index must match them; its files are verified
    against the manifest's checksums once, here.
    """
    if corpus_dir is not None and model is not None and backend is not None:
        status, generation = _staleness(index_dir, corpus_dir, model, backend)
        if not status.fresh:
            reason = status.reason
            if not status.exists:
                reason = f"No index has been built in {index_dir}; run `assistant index` first."
            elif "`assistant index`" not in reason:
                reason = f"{reason.rstrip('.')}; run `assistant index` to rebuild it."
            raise StaleIndexError(reason)
        manifest = status.manifest
    else:
        generation = current_generation(index_dir)
        if generation is None:
            raise StaleIndexError(f"No index has been built in {index_dir}; run `assistant index` first.")
        manifest = read_manifest(generation)
    assert generation is not None and manifest is not None
    verify_files(generation, manifest)
    try:
        documents = [Document(**{**d, "missing_actions": tuple(d.get("missing_actions", ()))})
                     for d in json.loads((generation / "documents.json").read_text(encoding="utf-8"))]
        units = {row["unit_id"]: Unit.from_dict(row) for row in read_jsonl(generation / "units.jsonl")}
        chunks = [Chunk(**row) for row in read_jsonl(generation / "chunks.jsonl")]
        vectors = np.load(generation / "vectors.npy")
        vector_index = vector_files.load_index(generation / "faiss.index")
        bm25 = bm25_files.load_bm25(generation / "bm25")
        sentences = [Sentence(**row) for row in read_jsonl(generation / "sentences.jsonl")]
        sentence_vectors = np.load(generation / "sentence_vectors.npy")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise StaleIndexError(f"The index in {generation.name} could not be read ({type(exc).__name__}); "
                              "run `assistant index` to rebuild it.") from None
    return LoadedIndex(generation, manifest, documents, units, chunks, vectors, vector_index, bm25, sentences,
                       sentence_vectors)
