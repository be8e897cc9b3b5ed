"""The corpus: documents.json (one entry per document) and the files it points at."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from dataclasses import fields
from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.dates import human_date
from assistant.records import Document
from assistant.ingest.issuers import short_issuer
from assistant.vocabulary import DOCUMENT_KINDS, GENRES

METADATA_FILE = "documents.json"
UPLOADS_DIR = "uploads"  # documents added through the app or `assistant add`, under generated names
UPLOADS_METADATA = "uploads/documents.json"
REQUIRED_FIELDS = ("id", "title", "kind", "language", "source_file")  # an undated document has date "", an unknown issuer ""
_STORED_DATE = re.compile(r"^(?:\d{4}-\d{2}(?:-\d{2})?)?$")


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
        if not _STORED_DATE.match(str(entry.get("date", ""))):
            raise AssistantError(f"Document {doc_id!r} has the date {entry.get('date')!r}; write it like 2024-06-21, "
                                 "2024-06 for a month, or leave it empty for an undated document.")
        source = corpus_dir / entry["source_file"]
        if not _inside(corpus_dir, source):
            raise AssistantError(f"Document {doc_id!r} points outside the corpus folder.")
        if not source.is_file():
            raise AssistantError(f"Document {doc_id!r} points at {entry['source_file']}, which is not in {corpus_dir}.")
        values = {k: v for k, v in entry.items() if k in known}
        values.setdefault("issuing_body", "")
        values.setdefault("reference", "—")
        values.setdefault("date", "")
        documents.append(Document(**values))
    return documents


def document_path(corpus_dir: Path, document: Document) -> Path:
    return corpus_dir / document.source_file


def short_label(document: Document) -> str:
    """'Council action file, 22 July 2024', 'Commission press release, 21 November 2022', 'EUAA report, undated'.

    The label names the issuer and what the document is (its genre, else its kind); a document
    whose issuer and genre are both unknown goes by its own title. A letter is a "Commission
    letter" only when the Commission issued it.
    """
    body = document.issuing_body.lower()
    if document.kind == "action_file" and "council" in body:
        kind = "Council action file"
    elif document.kind == "letter" and "commission" in body and document.genre in ("", "letter"):
        kind = "Commission letter"
    else:
        genre = document.genre or (document.kind if document.kind in GENRES else "")
        issuer = short_issuer(document.issuing_body)
        if genre or issuer:
            what = GENRES.get(genre, genre.replace("_", " ")) if genre else "document"
            kind = f"{issuer} {what}" if issuer else what[:1].upper() + what[1:]
        else:
            kind = document.title if len(document.title) <= 60 else document.title[:59].rstrip() + "…"
    return f"{kind}, {human_date(document.date)}"


def _inside(folder: Path, path: Path) -> bool:
    try:
        _resolved(path).relative_to(_resolved_folder(folder))
        return True
    except ValueError:
        return False


def _resolved(path: Path) -> Path:
    """path.resolve(), with each folder resolved once (a corpus of many files in a few folders)."""
    if path.is_symlink() or path.name in ("", ".", ".."):
        return path.resolve()
    return _resolved_folder(path.parent) / path.name


@lru_cache(maxsize=1024)
def _resolved_folder(folder: Path) -> Path:
    return folder.resolve()
