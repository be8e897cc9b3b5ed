"""Serving a generation: is it fresh, and everything retrieval needs, opened once per process.

`index_status` says whether the served generation matches the corpus and the settings, with
its files whole; `load_index` opens it (assistant/index/serving.py: records read by row,
vectors and indexes memory-mapped), refusing a stale or damaged one in one sentence. Files are
checked by size, and small ones by checksum, at every load; `verify_index` checks every
checksum (`assistant index --verify`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError, StaleIndexError
from assistant.index.generations import current_generation
from assistant.index.manifest import (
    HASH_CACHE,
    Manifest,
    corpus_fingerprint,
    read_manifest,
    settings_mismatch,
    verify_files,
)
from assistant.index.segments import Segment
from assistant.index.serving import LoadedIndex
from assistant.records import Document


@dataclass
class IndexStatus:
    exists: bool
    fresh: bool
    reason: str  # one sentence
    manifest: Manifest | None = None


def _staleness(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> tuple[IndexStatus, Path | None]:
    """The status, and the generation folder when one is served; files are not checked here."""
    generation = current_generation(index_dir)
    if generation is None:
        return IndexStatus(False, False, f"No index has been built in {index_dir} yet."), None
    try:
        manifest = read_manifest(generation)
    except AssistantError as exc:
        return IndexStatus(True, False, str(exc)), generation
    mismatch = settings_mismatch(manifest, model, backend)
    if mismatch:
        return IndexStatus(True, False, mismatch, manifest), generation
    if manifest.corpus != corpus_fingerprint(corpus_dir, index_dir / HASH_CACHE):
        return IndexStatus(True, False, "The corpus or its glossary changed since the index was built.", manifest), generation
    return IndexStatus(True, True, f"The index is up to date ({manifest.chunks} chunks).", manifest), generation


def index_status(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> IndexStatus:
    """Is there an index, and does it match the corpus, the model and the chunker, with every file whole?"""
    status, generation = _staleness(index_dir, corpus_dir, model, backend)
    if status.fresh and generation is not None and status.manifest is not None:
        try:
            verify_files(generation, status.manifest)
        except StaleIndexError as exc:  # a truncated or corrupted file: rebuilt by `assistant index --if-stale` too
            return IndexStatus(True, False, str(exc), status.manifest)
    return status


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
            if generation is None:
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
    return open_generation(generation, manifest)


def open_generation(generation: Path, manifest: Manifest) -> LoadedIndex:
    """Open a generation's segments (nothing is verified here); one sentence if a file cannot be read."""
    segments: list[Segment] = []
    try:
        segments = [Segment(generation / folder) for folder in manifest.segments]
        documents = [_document(record) for segment in segments for record in segment.document_records()]
        return LoadedIndex(generation, manifest, segments, documents)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, IndexError, sqlite3.Error) as exc:
        for segment in segments:
            segment.close()
        raise StaleIndexError(f"The index in {generation.name} could not be read ({type(exc).__name__}); "
                              "run `assistant index` to rebuild it.") from None


def _document(record: dict) -> Document:
    return Document(**{**record, "missing_actions": tuple(record.get("missing_actions", ()))})


def verify_index(index_dir: Path) -> str:
    """Every file of the served generation against its size and checksum; one sentence either way."""
    generation = current_generation(index_dir)
    if generation is None:
        raise StaleIndexError(f"No index has been built in {index_dir}; run `assistant index` first.")
    manifest = read_manifest(generation)
    verify_files(generation, manifest, full=True)
    size = sum(int(entry["bytes"]) for entry in manifest.files.values())
    return (f"All {len(manifest.files)} files of index generation {generation.name} match their checksums "
            f"({size / 2**20:,.1f} MiB).")
