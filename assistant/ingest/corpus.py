"""The corpus: documents.json (one entry per document) and the files it points at."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.dates import human_date
from assistant.records import Document
from assistant.vocabulary import DOCUMENT_KINDS

METADATA_FILE = "documents.json"
UPLOADS_DIR = "uploads"  # documents added through the app or `assistant add`, under generated names
UPLOADS_METADATA = "uploads/documents.json"
REQUIRED_FIELDS = ("id", "title", "issuing_body", "reference", "date", "kind", "language", "source_file")


def load_documents(corpus_dir: Path) -> list[Document]:
    """The shipped documents and the uploaded ones, validated; every problem is one sentence."""
    documents = _load_metadata(corpus_dir, corpus_dir / METADATA_FILE, required=True)
    uploads = _load_metadata(corpus_dir, corpus_dir / UPLOADS_METADATA, required=False)
    seen = {d.id for d in documents}
    for document in uploads:
        if document.id in seen:
            raise AssistantError(f"The document id {document.id!r} appears twice in the corpus metadata.")
        seen.add(document.id)
    return documents + uploads


def _load_metadata(corpus_dir: Path, path: Path, required: bool) -> list[Document]:
    if not path.is_file():
        if not required:
            return []
        raise AssistantError(f"The corpus metadata file {path} does not exist.")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssistantError(f"The corpus metadata file {path} is not valid JSON ({exc}).") from None
    if not isinstance(entries, list):
        raise AssistantError(f"The corpus metadata file {path} must hold a list of documents.")
    known = {f.name for f in fields(Document)}
    documents: list[Document] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise AssistantError(f"Entry {position} of {path.name} is not an object.")
        missing = [name for name in REQUIRED_FIELDS if not str(entry.get(name, "")).strip()]
        if missing:
            raise AssistantError(f"Entry {position} of {path.name} lacks {', '.join(missing)}.")
        doc_id = entry["id"]
        if doc_id in seen:
            raise AssistantError(f"The document id {doc_id!r} appears twice in {path.name}.")
        seen.add(doc_id)
        if entry["kind"] not in DOCUMENT_KINDS:
            raise AssistantError(
                f"Document {doc_id!r} has kind {entry['kind']!r}; use one of {', '.join(DOCUMENT_KINDS)}."
            )
        source = corpus_dir / entry["source_file"]
        if not _inside(corpus_dir, source):
            raise AssistantError(f"Document {doc_id!r} points outside the corpus folder.")
        if not source.is_file():
            raise AssistantError(f"Document {doc_id!r} points at {entry['source_file']}, which is not in {corpus_dir}.")
        values = {k: v for k, v in entry.items() if k in known}
        values["missing_actions"] = tuple(values.get("missing_actions", ()))
        documents.append(Document(**values))
    return documents


def document_path(corpus_dir: Path, document: Document) -> Path:
    return corpus_dir / document.source_file


def short_label(document: Document) -> str:
    """'Council action file, 22 July 2024'; documents from other bodies go by their own title."""
    body = document.issuing_body.lower()
    if document.kind == "action_file" and "council" in body:
        kind = "Council action file"
    elif document.kind == "letter" and "commission" in body:
        kind = "Commission letter"
    else:
        title = document.title if len(document.title) <= 60 else document.title[:59].rstrip() + "…"
        kind = title
    return f"{kind}, {human_date(document.date)}"


def _inside(folder: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
