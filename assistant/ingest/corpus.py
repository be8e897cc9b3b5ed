"""The corpus: documents.json (one entry per document) and the files it points at.

Both metadata files are checked against their schema (assistant/ingest/schemas.py) on every load.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError
from assistant.ingest.dates import human_date
from assistant.records import Document
from assistant.ingest.issuers import short_issuer
from assistant.vocabulary import GENRES

METADATA_FILE = "documents.json"
LOCK_FILE = ".lock"  # in the uploads folder: held while documents are added or removed, and while a build reads
LOCK_TIMEOUT_S = 120.0
UPLOADS_DIR = "uploads"  # documents added through the app or `assistant add`, under generated names
UPLOADS_METADATA = "uploads/documents.json"


@contextmanager
def corpus_lock(corpus_dir: Path, writing: bool = False) -> Iterator[None]:
    """The corpus held still: across threads and processes, re-entrant within a thread.

    Additions and removals take it (`writing`) around their read-modify-write, and so does a
    build while it hashes and reads the corpus (the two must see the same documents); readers
    (the listing, the index's check against the corpus) take it so that a removal never takes a
    file away between its entry and its reading. A reader creates nothing: before the first
    upload there is no uploads folder, nothing can be removed, and it reads without the lock;
    so does a reader of a corpus folder that cannot be written to.
    """
    from filelock import FileLock, Timeout

    folder = corpus_dir / UPLOADS_DIR
    if writing:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        yield
        return
    try:
        lock = FileLock(str(folder / LOCK_FILE), timeout=LOCK_TIMEOUT_S, is_singleton=True)
        lock.acquire()
    except Timeout:
        raise AssistantError("The corpus is being changed by another process; try again in a minute.") from None
    except OSError:
        if writing:
            raise
        yield  # a read-only corpus: nothing changes it from here
        return
    try:
        yield
    finally:
        lock.release()


def load_documents(corpus_dir: Path) -> list[Document]:
    """The shipped documents and the uploaded ones, validated; every problem is one sentence.

    Read under the corpus lock: a removal cannot take a file away between its entry and the check that it is there.
    """
    with corpus_lock(corpus_dir):
        documents = _load_metadata(corpus_dir, corpus_dir / METADATA_FILE, required=True)
        uploads = _load_metadata(corpus_dir, corpus_dir / UPLOADS_METADATA, required=False)
    seen = {d.id for d in documents}
    for document in uploads:
        if document.id in seen:
            raise AssistantError(f"The document id {document.id!r} appears twice in the corpus metadata.")
        seen.add(document.id)
    return documents + uploads


def metadata_label(corpus_dir: Path, path: Path) -> str:
    """documents.json as a person knows it: "corpus/documents.json", "corpus/uploads/documents.json"."""
    return "/".join((corpus_dir.name, *path.relative_to(corpus_dir).parts))


def metadata_fix(corpus_dir: Path, path: Path) -> str:
    if path == corpus_dir / METADATA_FILE:
        return "correct it, or restore the file from the repository (`git checkout corpus/documents.json`)"
    return ("correct it, or remove the file and add the documents again with `assistant add`; the added files "
            "themselves are still in the uploads folder")


def read_metadata_entries(corpus_dir: Path, path: Path) -> list[dict]:
    """The entries of a metadata file, checked against its schema; [] for the uploads' file before any upload."""
    from assistant.ingest.schemas import DOCUMENTS, load_checked

    if path != corpus_dir / METADATA_FILE and not path.exists():
        return []
    return load_checked(path, DOCUMENTS, metadata_label(corpus_dir, path), metadata_fix(corpus_dir, path))


def _load_metadata(corpus_dir: Path, path: Path, required: bool) -> list[Document]:
    entries = read_metadata_entries(corpus_dir, path)
    label = metadata_label(corpus_dir, path)
    known = {f.name for f in fields(Document)}
    documents: list[Document] = []
    seen: set[str] = set()
    for entry in entries:
        doc_id = entry["id"]
        if doc_id in seen:
            raise AssistantError(f"The document id {doc_id!r} appears twice in {label}.")
        seen.add(doc_id)
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
