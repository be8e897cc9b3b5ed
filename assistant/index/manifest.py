"""The index manifest: what a generation was built from and with, and a checksum per file.

The manifest records the model, its dimension, the chunker version and settings, a content
hash per document and per chunk, and a checksum per file. A mismatch with the corpus or the
settings makes the index stale (rebuilt, never served); a checksum mismatch makes it damaged.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.chunking import CHUNKER_VERSION
from assistant.errors import AssistantError, StaleIndexError
from assistant.index.storage import sha256_file, sha256_text
from assistant.ingest import GLOSSARY_FILE, corpus_lock, document_path, load_documents
from assistant.ingest.schemas import load_checked, shown_path
from assistant.models import model_spec

FORMAT_VERSION = 1
MANIFEST = "manifest.json"

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
SCHEMA: dict[str, Any] = {  # the entries of chunks and sentences (one per chunk) are checked by `_entries`, faster
    "type": "object",
    "required": ["format_version", "model", "backend", "dimension", "chunker"],
    "properties": {
        "format_version": {"type": "integer"}, "model": {"type": "string"}, "backend": {"type": "string"},
        "dimension": {"type": "integer", "minimum": 1}, "chunker": {"type": "object"}, "built_at": {"type": "string"},
        "corpus": {"type": "object", "properties": {"documents": _STRINGS, "glossary": {"type": "string"}}},
        "vector_index": {"type": "object"}, "units": {"type": "integer", "minimum": 0},
        "documents": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "units", "content_hash"], "additionalProperties": False,
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "units": {"type": "integer"},
                           "content_hash": {"type": "string"}}}},
        "chunks": {"type": "array"}, "sentences": {"type": "array"}, "splitter": {"type": "string"}, "files": _STRINGS,
    },
}


def _entries(rows: list, names: tuple[str, str], label: str, where: str) -> None:
    """Every entry an object of exactly two strings; one sentence naming the first that is not."""
    for position, row in enumerate(rows, start=1):
        if not (type(row) is dict and len(row) == 2 and all(type(row.get(name)) is str for name in names)):
            raise StaleIndexError(f"{label}: {where} entry {position} is not an object with {names[0]} and {names[1]}; "
                                 "run `assistant index` to rebuild it.")


@dataclass(frozen=True)
class DocumentEntry:
    id: str
    title: str
    units: int
    content_hash: str


@dataclass(frozen=True)
class ChunkEntry:
    chunk_id: str
    content_hash: str


@dataclass(frozen=True)
class SentenceEntry:
    unit_id: str
    content_hash: str


@dataclass(frozen=True)
class Manifest:
    """manifest.json of one generation, read once and passed on typed."""

    format_version: int
    model: str
    backend: str
    dimension: int
    chunker: dict[str, Any]
    built_at: str
    corpus: dict[str, Any]  # {"documents": {doc id: content hash}, "glossary": hash}
    vector_index: dict[str, Any]
    units: int
    documents: tuple[DocumentEntry, ...] = ()
    chunks: tuple[ChunkEntry, ...] = ()
    sentences: tuple[SentenceEntry, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    splitter: str = ""  # the sentence splitter whose splits splits.jsonl caches (chunking.SPLITTER_VERSION)

    def settings(self) -> dict[str, Any]:
        """The part of the manifest that must equal `expected_settings` for the index to be served."""
        return {"format_version": self.format_version, "model": self.model, "backend": self.backend,
                "dimension": self.dimension, "chunker": self.chunker}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("documents", "chunks", "sentences"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: object, where: Path) -> Manifest:
        """A manifest from parsed JSON; any other shape is one sentence naming the file."""
        problem = f"The index manifest in {where} is missing or damaged; run `assistant index` to rebuild it."
        if not isinstance(data, dict):
            raise AssistantError(problem)
        try:
            return cls(
                format_version=int(data["format_version"]), model=str(data["model"]), backend=str(data["backend"]),
                dimension=int(data["dimension"]), chunker=dict(data["chunker"]), built_at=str(data.get("built_at", "")),
                corpus=dict(data.get("corpus", {})), vector_index=dict(data.get("vector_index", {})),
                units=int(data.get("units", 0)),
                documents=tuple(DocumentEntry(**entry) for entry in data.get("documents", [])),
                chunks=tuple(ChunkEntry(**entry) for entry in data.get("chunks", [])),
                sentences=tuple(SentenceEntry(**entry) for entry in data.get("sentences", [])),
                files={str(k): str(v) for k, v in dict(data.get("files", {})).items()},
                splitter=str(data.get("splitter", "")),
            )
        except (KeyError, TypeError, ValueError):
            raise AssistantError(problem) from None


def read_manifest(generation: Path) -> Manifest:
    """The generation's manifest, checked against its schema; one sentence (rebuild it) on any problem."""
    label = shown_path(generation / MANIFEST, 4)
    fix = "run `assistant index` to rebuild it"
    try:
        data = load_checked(generation / MANIFEST, SCHEMA, label, fix)
    except AssistantError as exc:
        raise StaleIndexError(str(exc)) from None
    _entries(data.get("chunks", []), ("chunk_id", "content_hash"), label, "chunks")
    _entries(data.get("sentences", []), ("unit_id", "content_hash"), label, "sentences")
    return Manifest.from_dict(data, generation)


def write_manifest(generation: Path, manifest: Manifest) -> None:
    (generation / MANIFEST).write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


def expected_settings(model: str, backend: str) -> dict[str, Any]:
    spec = model_spec(model)
    return {
        "format_version": FORMAT_VERSION,
        "model": model,
        "backend": backend,
        "dimension": spec.dimension,
        "chunker": {"version": CHUNKER_VERSION, "max_tokens": spec.max_seq_length, "tokenizer": model},
    }


def settings_mismatch(manifest: Manifest, model: str, backend: str) -> str:
    """One sentence naming the first setting the index was built with differently, or ''."""
    built = manifest.settings()
    for key, value in expected_settings(model, backend).items():
        if built.get(key) != value:
            return f"The index was built with {key} {built.get(key)!r}, not {value!r}."
    return ""


def corpus_fingerprint(corpus_dir: Path, lock: bool = True) -> dict[str, Any]:
    """Content hashes of what shapes the index: each document (file + metadata), the glossary.

    Read under the corpus lock, so that a removal cannot take a file away between the metadata and
    the hashing; `lock=False` for a caller that must never wait (and copes with a vanished file).
    """
    with corpus_lock(corpus_dir) if lock else nullcontext():
        documents = load_documents(corpus_dir)
        per_document = {
            d.id: sha256_text(sha256_file(document_path(corpus_dir, d)) + json.dumps(d.to_dict(), sort_keys=True))
            for d in documents
        }
    glossary = corpus_dir / GLOSSARY_FILE
    return {
        "documents": per_document,
        "glossary": sha256_file(glossary) if glossary.is_file() else "",
    }


def verify_files(generation: Path, manifest: Manifest) -> None:
    """Checksums catch a truncated or corrupted file before it is served."""
    for name, expected in manifest.files.items():
        path = generation / name
        if not path.is_file() or sha256_file(path) != expected:
            raise StaleIndexError(f"The index file {name} is damaged or missing; run `assistant index` to rebuild it.")


def checksums(folder: Path) -> dict[str, str]:
    """Every file written, the BM25 folder's included, so `--if-stale` also catches a damaged one."""
    return {path.relative_to(folder).as_posix(): sha256_file(path) for path in sorted(folder.rglob("*")) if path.is_file()}
