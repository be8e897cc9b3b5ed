"""The index on disk: FAISS vectors, chunk store, BM25 and a manifest, swapped in atomically.

Layout of `index/`:
  CURRENT                 name of the generation being served (replaced atomically)
  generations/<name>/     manifest.json, vectors.npy, faiss.index, chunks.jsonl,
                          units.jsonl, documents.json, bm25/
A build writes a new generation beside the served one and only then replaces CURRENT,
so a build killed at any point leaves the previous index loadable. The manifest records
the model, its dimension, the chunker version and settings, a content hash per document
and per chunk, and a checksum per file; a mismatch with the corpus or the settings makes
the index stale (rebuilt, never served), a checksum mismatch makes it damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.chunking import CHUNKER_VERSION
from assistant.corpus import document_path, load_documents
from assistant.errors import AssistantError, StaleIndexError
from assistant.glossary import GLOSSARY_FILE
from assistant.models import model_spec
from assistant.records import Chunk, Document, Sentence, Unit
from assistant.sentences import unit_sentences

FORMAT_VERSION = 1
POINTER = "CURRENT"
GENERATIONS = "generations"
MANIFEST = "manifest.json"
CHECKSUMMED_FILES = ("vectors.npy", "faiss.index", "chunks.jsonl", "units.jsonl", "documents.json",
                     "sentences.jsonl", "sentence_vectors.npy")
Progress = Callable[[str, float], None]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, object]:
    """Content hashes of what shapes the index: each document (file + metadata), the glossary."""
    documents = load_documents(corpus_dir)
    per_document = {
        d.id: _sha256_text(_sha256_file(document_path(corpus_dir, d)) + json.dumps(d.to_dict(), sort_keys=True))
        for d in documents
    }
    glossary = corpus_dir / GLOSSARY_FILE
    return {
        "documents": per_document,
        "glossary": _sha256_file(glossary) if glossary.is_file() else "",
    }


def expected_settings(model: str, backend: str) -> dict[str, object]:
    spec = model_spec(model)
    return {
        "format_version": FORMAT_VERSION,
        "model": model,
        "backend": backend,
        "dimension": spec.dimension,
        "chunker": {"version": CHUNKER_VERSION, "max_tokens": spec.max_seq_length, "tokenizer": model},
    }


@dataclass
class IndexStatus:
    exists: bool
    fresh: bool
    reason: str  # one sentence
    manifest: dict | None = None


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / POINTER
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / GENERATIONS / name
    return folder if name and folder.is_dir() else None


def read_manifest(generation: Path) -> dict:
    try:
        return json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise AssistantError(f"The index manifest in {generation} is missing or damaged; run `assistant index` to rebuild it.") from None


def index_status(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> IndexStatus:
    """Is there an index, and does it match the corpus, the model and the chunker?"""
    generation = current_generation(index_dir)
    if generation is None:
        return IndexStatus(False, False, f"No index has been built in {index_dir} yet.")
    try:
        manifest = read_manifest(generation)
    except AssistantError as exc:
        return IndexStatus(True, False, str(exc))
    expected = expected_settings(model, backend)
    for key, value in expected.items():
        if manifest.get(key) != value:
            return IndexStatus(True, False, f"The index was built with {key} {manifest.get(key)!r}, not {value!r}.", manifest)
    fingerprint = corpus_fingerprint(corpus_dir)
    if manifest.get("corpus") != fingerprint:
        return IndexStatus(True, False, "The corpus or its glossary changed since the index was built.", manifest)
    try:
        verify_files(generation, manifest)
    except StaleIndexError as exc:  # a truncated or corrupted file: rebuilt by `assistant index --if-stale` too
        return IndexStatus(True, False, str(exc), manifest)
    return IndexStatus(True, True, f"The index is up to date ({len(manifest.get('chunks', []))} chunks).", manifest)


def verify_files(generation: Path, manifest: dict) -> None:
    """Checksums catch a truncated or corrupted file before it is served."""
    for name, expected in manifest.get("files", {}).items():
        path = generation / name
        if not path.is_file() or _sha256_file(path) != expected:
            raise StaleIndexError(f"The index file {name} is damaged or missing; run `assistant index` to rebuild it.")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def sentence_hash(text: str) -> str:
    return _sha256_text("sentence\n" + text)[:20]


def _previous_vectors(index_dir: Path, model: str, backend: str) -> dict[str, np.ndarray]:
    """content hash -> vector from the served index, if it was built with the same model."""
    generation = current_generation(index_dir)
    if generation is None:
        return {}
    try:
        manifest = read_manifest(generation)
        if manifest.get("model") != model or manifest.get("backend") != backend:
            return {}
        cache: dict[str, np.ndarray] = {}
        for file, key in (("vectors.npy", "chunks"), ("sentence_vectors.npy", "sentences")):
            vectors = np.load(generation / file, mmap_mode="r")
            hashes = [entry["content_hash"] for entry in manifest[key]]
            if len(hashes) != vectors.shape[0]:
                return {}
            cache.update({h: np.array(vectors[row]) for row, h in enumerate(hashes)})
        return cache
    except (AssistantError, OSError, ValueError, KeyError):
        return {}  # a damaged index gives no cache; everything is embedded again


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


def build_index(index_dir: Path, corpus_dir: Path, model: str, backend: str, progress: bool = False,
                on_step: Progress | None = None, workers: int = 1) -> BuildReport:
    """Build a new generation beside the served one, then swap it in.

    `workers` > 1 embeds new chunks on that many processes (sentence-transformers' pool, torch
    backend), for large ingests; the vectors equal one process's within float rounding.
    """
    from assistant.bm25_index import build_bm25
    from assistant.embedding import load_encoder
    from assistant.pipeline import chunk_corpus
    from assistant.vector_index import build_vector_index, index_params, save_index

    started = time.perf_counter()
    step = on_step or (lambda message, fraction: None)
    step("Reading and chunking the corpus", 0.05)
    fingerprint = corpus_fingerprint(corpus_dir)
    corpus = chunk_corpus(corpus_dir, model)
    sentences = [sentence for unit in corpus.units for sentence in unit_sentences(unit)]
    sentence_hashes = [sentence_hash(s.text) for s in sentences]
    cache = _previous_vectors(index_dir, model, backend)
    texts = {c.content_hash: c.index_text for c in corpus.chunks}
    texts.update({h: s.text for h, s in zip(sentence_hashes, sentences)})
    missing = [h for h in texts if h not in cache]
    step(f"Embedding {len(missing)} new or changed chunks and sentences", 0.15)
    spec = model_spec(model)
    if missing:
        to_embed = [texts[h] for h in missing]
        if workers > 1:
            if backend != "torch":
                raise AssistantError("Embedding on several processes (--workers) needs the torch backend.")
            from assistant.vector_store import encode_in_processes

            fresh = encode_in_processes(model, to_embed, workers=workers, progress=progress)
        else:
            fresh = load_encoder(model, backend).encode(to_embed, progress=progress)
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
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"
    staging = generations / f".building-{name}"
    final = generations / name
    try:
        staging.mkdir()
        np.save(staging / "vectors.npy", vectors)
        np.save(staging / "sentence_vectors.npy", sentence_vectors)
        _write_jsonl(staging / "sentences.jsonl", [s.to_dict() for s in sentences])
        vector_index = build_vector_index(vectors)
        try:
            save_index(vector_index, staging / "faiss.index")
        except RuntimeError as exc:  # FAISS reports a failed write (a full disk) as a RuntimeError
            raise OSError("faiss.index could not be written") from exc
        _write_jsonl(staging / "chunks.jsonl", [c.to_dict() for c in corpus.chunks])
        _write_jsonl(staging / "units.jsonl", [u.to_dict() for u in corpus.units])
        (staging / "documents.json").write_text(
            json.dumps([d.to_dict() for d in corpus.documents], ensure_ascii=False, indent=1), encoding="utf-8")
        build_bm25([c.index_text for c in corpus.chunks], staging / "bm25")
        manifest = {
            **expected_settings(model, backend),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "corpus": fingerprint,
            "vector_index": index_params(vector_index),
            "units": len(corpus.units),
            "documents": [
                {"id": d.id, "title": d.title, "units": sum(1 for u in corpus.units if u.doc_id == d.id),
                 "content_hash": fingerprint["documents"][d.id]}
                for d in corpus.documents
            ],
            "chunks": [{"chunk_id": c.chunk_id, "content_hash": c.content_hash} for c in corpus.chunks],
            "sentences": [{"unit_id": s.unit_id, "content_hash": h} for s, h in zip(sentences, sentence_hashes)],
            # Every file written, the BM25 folder's included, so `--if-stale` also catches a damaged one.
            "files": {path.relative_to(staging).as_posix(): _sha256_file(path)
                      for path in sorted(staging.rglob("*")) if path.is_file()},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync_tree(staging)
        staging.rename(final)
        _swap_pointer(index_dir, name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if final.exists() and current_generation(index_dir) != final:
            shutil.rmtree(final, ignore_errors=True)  # written but never served (the swap failed): free its space
        if isinstance(exc, OSError):
            raise AssistantError(
                f"The index could not be written in {index_dir} ({exc.strerror or exc}); nothing was changed, so free "
                "some disk space (or fix the folder's permissions) and run `assistant index` again."
            ) from exc
        raise
    _remove_old_generations(index_dir, keep=name)
    step("Index ready", 1.0)
    embedded = set(missing)
    embedded_chunks = sum(1 for c in corpus.chunks if c.content_hash in embedded)
    return BuildReport(final, len(corpus.chunks), embedded_chunks, len(corpus.chunks) - embedded_chunks,
                       time.perf_counter() - started, len(missing))


def _swap_pointer(index_dir: Path, name: str) -> None:
    temporary = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, index_dir / POINTER)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    """Keep the served generation and the one before it; drop older ones and dead builds."""
    generations = sorted((p for p in (index_dir / GENERATIONS).iterdir() if p.is_dir()), key=lambda p: p.name)
    finished = [p for p in generations if not p.name.startswith(".building-")]
    for folder in finished[:-2]:
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
    for folder in generations:
        if folder.name.startswith(".building-") and not _build_alive(folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def _build_alive(name: str) -> bool:
    try:
        pid = int(name.rsplit("-", 1)[1])
        os.kill(pid, 0)
        return pid != os.getpid()
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False


@dataclass
class LoadedIndex:
    """Everything retrieval needs, loaded once per process."""

    generation: Path
    manifest: dict
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
        return self.manifest["model"]

    @property
    def backend(self) -> str:
        return self.manifest["backend"]


def load_index(index_dir: Path, corpus_dir: Path | None = None, model: str | None = None,
               backend: str | None = None) -> LoadedIndex:
    """Load the served generation; refuse a stale or damaged one with one sentence."""
    from assistant.bm25_index import load_bm25
    from assistant.vector_index import load_index as load_vector_index

    generation = current_generation(index_dir)
    if generation is None:
        raise StaleIndexError(f"No index has been built in {index_dir}; run `assistant index` first.")
    manifest = read_manifest(generation)
    if corpus_dir is not None and model is not None and backend is not None:
        status = index_status(index_dir, corpus_dir, model, backend)
        if not status.fresh:
            reason = status.reason
            if "`assistant index`" not in reason:
                reason = f"{reason.rstrip('.')}; run `assistant index` to rebuild it."
            raise StaleIndexError(reason)
    verify_files(generation, manifest)
    try:
        documents = [Document(**{**d, "missing_actions": tuple(d.get("missing_actions", ()))})
                     for d in json.loads((generation / "documents.json").read_text(encoding="utf-8"))]
        units = {row["unit_id"]: Unit.from_dict(row) for row in _read_jsonl(generation / "units.jsonl")}
        chunks = [Chunk(**row) for row in _read_jsonl(generation / "chunks.jsonl")]
        vectors = np.load(generation / "vectors.npy")
        vector_index = load_vector_index(generation / "faiss.index")
        bm25 = load_bm25(generation / "bm25")
        sentences = [Sentence(**row) for row in _read_jsonl(generation / "sentences.jsonl")]
        sentence_vectors = np.load(generation / "sentence_vectors.npy")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise StaleIndexError(f"The index in {generation.name} could not be read ({type(exc).__name__}); "
                              "run `assistant index` to rebuild it.") from None
    return LoadedIndex(generation, manifest, documents, units, chunks, vectors, vector_index, bm25, sentences,
                       sentence_vectors)
