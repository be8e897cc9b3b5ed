"""Adding a document to the corpus: validated first, stored under a generated name, never lost.

A document is checked completely (size, format, text layer, that it yields units, that it
is not a duplicate) before anything is written; then the file is written under a
generated name inside corpus/uploads/ and its metadata entry is added atomically. The
user's file name is only ever used as a title hint, never as a path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
from datetime import date
from pathlib import Path

from assistant.chunking import units_for_document
from assistant.errors import AssistantError
from assistant.ingest import (
    FORMATS_SENTENCE,
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    UPLOADS_DIR,
    UPLOADS_METADATA,
    check_iso_date,
    document_path,
    load_documents,
    load_lines,
    size_limit_sentence,
)
from assistant.records import Document
from assistant.vocabulary import DOCUMENT_KINDS

ALLOWED_SUFFIXES = SUPPORTED_SUFFIXES


def safe_suffix(filename: str) -> str:
    """The file's type from its name; the rest of the name is never used as a path."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise AssistantError(f"{Path(filename).name or 'The file'} is not a {FORMATS_SENTENCE} file.")
    return suffix


def title_hint(filename: str) -> str:
    stem = Path(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    return re.sub(r"[_\\-]+", " ", stem).strip()[:200] or "Untitled document"


def add_document(corpus_dir: Path, data: bytes, filename: str, *, title: str = "", kind: str = "letter",
                 doc_date: str = "", reference: str = "—", issuing_body: str = "", language: str = "en") -> Document:
    """Validate and add one document; raise AssistantError (one sentence) and write nothing on any problem."""
    shown = Path(filename.replace("\\", "/")).name or "the file"
    suffix = safe_suffix(filename)
    if not data:
        raise AssistantError(f"{shown} is empty (zero bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise AssistantError(size_limit_sentence(shown))
    if kind not in DOCUMENT_KINDS:
        raise AssistantError(f"The document kind must be {' or '.join(DOCUMENT_KINDS)}.")
    doc_date = doc_date or date.today().isoformat()
    check_iso_date(doc_date, "date")
    digest = hashlib.sha256(data).hexdigest()
    existing = load_documents(corpus_dir)
    for document in existing:
        if hashlib.sha256(document_path(corpus_dir, document).read_bytes()).hexdigest() == digest:
            raise AssistantError(f"{shown} is already in the corpus as {document.title!r}.")
    doc_id = f"upload-{digest[:12]}"
    stored_name = f"{UPLOADS_DIR}/{doc_id}-{uuid.uuid4().hex[:8]}{suffix}"
    document = Document(id=doc_id, title=(title or title_hint(filename)).strip()[:300],
                        issuing_body=issuing_body or "Added by a user", reference=reference or "—", date=doc_date,
                        kind=kind, language=language, source_file=stored_name,
                        notes=f"Uploaded as {shown}.")
    with tempfile.TemporaryDirectory() as scratch:  # parse a private copy first: nothing in the corpus changes
        trial = Path(scratch) / f"document{suffix}"
        trial.write_bytes(data)
        try:
            units = units_for_document(document, load_lines(trial))
        except AssistantError as exc:
            message = str(exc).replace(str(trial), shown).replace(trial.name, shown)
            raise AssistantError(message.replace(document.source_file, shown)) from None
    if not units:
        raise AssistantError(f"{shown} yielded no passages to index.")
    target = corpus_dir / stored_name
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, data)
    try:
        _append_metadata(corpus_dir, document)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return document


def remove_document(corpus_dir: Path, doc_id: str) -> None:
    """Remove an uploaded document (shipped documents are not removed this way)."""
    path = corpus_dir / UPLOADS_METADATA
    entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    kept = [e for e in entries if e.get("id") != doc_id]
    if len(kept) == len(entries):
        raise AssistantError(f"No uploaded document has the id {doc_id!r}.")
    removed = next(e for e in entries if e.get("id") == doc_id)
    _write_atomically(path, json.dumps(kept, ensure_ascii=False, indent=1).encode("utf-8"))
    (corpus_dir / removed["source_file"]).unlink(missing_ok=True)


def _append_metadata(corpus_dir: Path, document: Document) -> None:
    path = corpus_dir / UPLOADS_METADATA
    entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    entries.append(document.to_dict())
    _write_atomically(path, json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


__all__ = ["add_document", "remove_document", "safe_suffix", "title_hint", "ALLOWED_SUFFIXES"]
