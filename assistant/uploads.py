"""Adding and removing documents: validated first, stored under a generated name, never lost.

One code path serves `assistant add`, `assistant remove` and the app's upload form. A
document is checked completely before anything is written: its size and format, that it
has text, that its declared kind fits its structure, that it yields units, its metadata
(given, or read from the document itself: assistant/ingest/metadata.py), and that it is
not a duplicate of a document in the corpus (same bytes, or the same text once whitespace,
markup and furniture are set aside, so an HTML page and its text are one document). Then
the file is written under a generated name inside corpus/uploads/ and its metadata entry
is added atomically. The user's file name is only ever a title hint, never a path.

Adding and removing are serialised across threads and processes by a file lock around the
read-modify-write of corpus/uploads/documents.json; the duplicate check runs inside it.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from assistant.chunking import units_for_document
from assistant.errors import AssistantError
from assistant.ingest import (
    FORMATS_SENTENCE,
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    UPLOADS_DIR,
    UPLOADS_METADATA,
    canonical_issuer,
    check_document_date,
    corpus_lock,
    document_path,
    load_documents,
    load_source,
    read_blocks,
    read_metadata_entries,
    size_limit_sentence,
)
from assistant.ingest.metadata import derive_metadata, title_from_name
from assistant.ingest.structure import checked_kind
from assistant.records import Document, SourceLine
from assistant.vocabulary import GENRES

ALLOWED_SUFFIXES = SUPPORTED_SUFFIXES
FOLDER_NOTES = re.compile(r"^(?:readme|license|licence|changelog|contributing|sources)(?:\.[a-z]+)?$", re.IGNORECASE)
METADATA_COLUMNS = {  # a metadata file's column -> the add_document argument it fills
    "title": "title", "date": "doc_date", "kind": "kind", "genre": "genre", "reference": "reference",
    "issuer": "issuing_body", "issuing_body": "issuing_body", "language": "language", "url": "source_url",
    "source_url": "source_url",
}


@dataclass
class Added:
    """One document added: its record, how many units it yields, and any warning about it."""

    document: Document
    units: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class AddReport:
    """What `add_paths` did: documents added, files skipped (duplicates, folder notes) and failed, with why."""

    added: list[Added] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def sentence(self) -> str:
        parts = [f"Added {len(self.added)} document{'s' if len(self.added) != 1 else ''}"]
        if self.skipped:
            reasons = "; ".join(reason for _, reason in self.skipped[:3]) + ("; ..." if len(self.skipped) > 3 else "")
            parts.append(f"{len(self.skipped)} skipped ({reasons})")
        if self.failed:
            reasons = "; ".join(reason for _, reason in self.failed[:3]) + ("; ..." if len(self.failed) > 3 else "")
            parts.append(f"{len(self.failed)} failed ({reasons})")
        return ", ".join(parts)


class DuplicateError(AssistantError):
    """The document is already in the corpus (same bytes or same text)."""


def safe_suffix(filename: str) -> str:
    """The file's type from its name; the rest of the name is never used as a path."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise AssistantError(f"{Path(filename.replace(chr(92), '/')).name or 'The file'} is not a {FORMATS_SENTENCE} file.")
    return suffix


def title_hint(filename: str) -> str:
    return title_from_name(filename) or "Untitled document"


def text_fingerprint(lines: list[SourceLine]) -> str:
    """sha256 of a document's text with whitespace, case, markup and furniture set aside.

    Only blocks of six words or more count, so that a saved page and its copied text (which
    may keep a stray menu line) have one fingerprint.
    """
    reading = read_blocks(lines)
    words = [" ".join(re.findall(r"[^\W_]+", block.text.lower())) for block in reading.blocks]
    text = "\n".join(w for w in words if len(w.split()) >= 6)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_fingerprints: dict[str, str] = {}  # file sha256 -> text fingerprint, for documents stored without one


def _fingerprint_of(corpus_dir: Path, document: Document) -> tuple[str, str]:
    """(bytes sha256, text fingerprint) of a document in the corpus."""
    path = document_path(corpus_dir, document)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if document.text_hash:
        return digest, document.text_hash
    if digest not in _fingerprints:
        try:
            _fingerprints[digest] = text_fingerprint(load_source(path).lines)
        except AssistantError:
            _fingerprints[digest] = ""
    return digest, _fingerprints[digest]


def _checked_language(value: str) -> str:
    import pycountry

    code = value.strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise AssistantError(f"The language {value!r} is not an ISO 639-1 code such as en, fr or de.")
    return code


def _checked_title(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    title = " ".join(value.split())
    if not title:
        raise AssistantError("The title is only spaces; give a title, or leave it out to read it from the document.")
    return title[:300]


@dataclass
class _Prepared:
    document: Document
    data: bytes
    suffix: str
    units: int
    warnings: list[str]
    digest: str
    text_hash: str


def _prepare(data: bytes, filename: str, *, title: str | None, kind: str, doc_date: str, reference: str,
             issuing_body: str, language: str, genre: str, source_url: str) -> _Prepared:
    """Everything checked and read in a private copy; nothing in the corpus changes."""
    shown = Path(filename.replace("\\", "/")).name or "the file"
    suffix = safe_suffix(filename)
    if not data:
        raise AssistantError(f"{shown} is empty (zero bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise AssistantError(size_limit_sentence(shown))
    given_title = _checked_title(title)
    given_date = check_document_date(doc_date or "", "date")
    given_language = _checked_language(language) if language and language.strip() else ""
    if genre and genre not in GENRES:
        raise AssistantError(f"The genre {genre!r} is not one of {', '.join(GENRES)}.")
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as scratch:  # parse a private copy first: nothing in the corpus changes
        trial = Path(scratch) / f"document{suffix}"
        trial.write_bytes(data)
        try:
            source = load_source(trial)
            if not any(line.text.strip() for line in source.lines):
                raise AssistantError(f"{shown} has no text in it.")
            parsed_kind, warnings = checked_kind(kind or "", source.lines, shown)
            derived = derive_metadata(source.lines, source.hints, shown, parsed_kind)
            taken = {"title": given_title is None, "date": not given_date and bool(derived.date),
                     "issuing_body": not issuing_body and bool(derived.issuer),
                     "reference": not reference and bool(derived.reference),
                     "genre": not genre and bool(derived.genre), "language": not given_language,
                     "source_url": not source_url and bool(derived.source_url)}
            document = Document(
                id=f"upload-{digest[:12]}",
                title=given_title or derived.title or title_hint(filename),
                issuing_body=canonical_issuer(issuing_body) if issuing_body else derived.issuer,
                reference=(reference or "").strip() or derived.reference or "—",
                date=given_date or derived.date,
                kind=parsed_kind,
                language=given_language or derived.language,
                source_file=f"{UPLOADS_DIR}/upload-{digest[:12]}-{uuid.uuid4().hex[:8]}{suffix}",
                notes=f"Uploaded as {shown}.",
                genre=genre or derived.genre,
                source_url=source_url or derived.source_url,
                derived=tuple(name for name, yes in taken.items() if yes),
                text_hash=text_fingerprint(source.lines),
            )
            units = units_for_document(document, source.lines)
            if not units:
                raise AssistantError(f"{shown} yielded no passages to index.")
            if not document.language:
                raise AssistantError(f"The language of {shown} could not be told from its text; give it as an ISO 639-1 "
                                     "code such as en or fr.")
        except AssistantError as exc:
            message = str(exc).replace(str(trial), shown).replace(trial.name, shown)
            raise type(exc)(message.replace(f"{UPLOADS_DIR}/upload-{digest[:12]}", shown)) from None
    if not units:
        raise AssistantError(f"{shown} yielded no passages to index.")
    return _Prepared(document, data, suffix, len(units), warnings, digest, document.text_hash)


def add_upload(corpus_dir: Path, data: bytes, filename: str, *, title: str | None = None, kind: str = "",
               doc_date: str = "", reference: str = "", issuing_body: str = "", language: str = "", genre: str = "",
               source_url: str = "") -> Added:
    """Validate and add one document; raise AssistantError (one sentence) and write nothing on any problem.

    Metadata not given is read from the document itself; `kind` "" reads it from its structure.
    """
    prepared = _prepare(data, filename, title=title, kind=kind, doc_date=doc_date, reference=reference,
                        issuing_body=issuing_body, language=language, genre=genre, source_url=source_url)
    shown = Path(filename.replace("\\", "/")).name or "the file"
    try:  # before the lock too, so that a refusal writes nothing at all
        _refuse_duplicate(corpus_dir, prepared, shown)
    except DuplicateError:
        raise
    except (AssistantError, OSError):  # the corpus changing under a concurrent removal: the check below decides
        pass
    with corpus_lock(corpus_dir, writing=True):
        _refuse_duplicate(corpus_dir, prepared, shown)  # again inside it: another process may have just added it
        target = corpus_dir / prepared.document.source_file
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, prepared.data)
        try:
            _write_metadata(corpus_dir, _metadata_entries(corpus_dir) + [prepared.document.to_dict()])
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return Added(prepared.document, prepared.units, prepared.warnings)


def _refuse_duplicate(corpus_dir: Path, prepared: _Prepared, shown: str) -> None:
    for document in load_documents(corpus_dir):
        try:
            digest, fingerprint = _fingerprint_of(corpus_dir, document)
        except FileNotFoundError:  # removed by another thread or process since the metadata was read
            continue
        if digest == prepared.digest or (fingerprint and fingerprint == prepared.text_hash):
            same = "" if digest == prepared.digest else " (the same text)"
            raise DuplicateError(f"{shown} is already in the corpus as {document.title!r}{same}.")


def add_document(corpus_dir: Path, data: bytes, filename: str, **metadata) -> Document:
    """add_upload, returning the document's record only."""
    if "title" in metadata and metadata["title"] == "":
        metadata["title"] = None
    return add_upload(corpus_dir, data, filename, **metadata).document


def remove_document(corpus_dir: Path, doc_id: str) -> Document:
    """Remove an added document (shipped documents are not removed this way); returns what was removed."""
    with corpus_lock(corpus_dir, writing=True):
        entries = _metadata_entries(corpus_dir)
        kept = [e for e in entries if e.get("id") != doc_id]
        if len(kept) == len(entries):
            shipped = any(d.id == doc_id for d in load_documents(corpus_dir))
            raise AssistantError(f"The document {doc_id!r} is one of the shipped documents and cannot be removed here."
                                 if shipped else f"No added document has the id {doc_id!r}; see `assistant documents`.")
        removed = next(e for e in entries if e.get("id") == doc_id)
        _write_metadata(corpus_dir, kept)
        (corpus_dir / removed["source_file"]).unlink(missing_ok=True)
    return Document(**{k: v for k, v in removed.items() if k in Document.__dataclass_fields__})


def expand_paths(paths: Iterable[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to add from files, folders (recursively) and glob patterns; folder notes and other types skipped."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for given in paths:
        matches = [Path(p) for p in sorted(glob.glob(given, recursive=True))] if glob.has_magic(given) else [Path(given)]
        if not matches:
            raise AssistantError(f"Nothing matches {given}.")
        for path in matches:
            if path.is_dir():
                for found in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                    if FOLDER_NOTES.match(found.name):
                        skipped.append((str(found), f"{found.name}: notes about the folder, not a document"))
                    elif found.suffix.lower() in ALLOWED_SUFFIXES:
                        files.append(found)
                    else:
                        skipped.append((str(found), f"{found.name}: not a {FORMATS_SENTENCE} file"))
            elif path.is_file():
                files.append(path)
            else:
                raise AssistantError(f"{path} does not exist.")
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, skipped


def read_metadata_file(path: Path) -> dict[str, dict[str, str]]:
    """Per-file metadata from a CSV or JSON file: file name -> add_document arguments.

    Rows name their file in a "file" (or "path") column; other columns: title, date, kind
    (a document kind, or a genre such as press_release), genre, reference, issuer, language,
    url. Empty or null values are read from the document instead.
    """
    from assistant.ingest import decode_text
    from assistant.vocabulary import DOCUMENT_KINDS

    if not path.is_file():
        raise AssistantError(f"The metadata file {path} does not exist.")
    text = decode_text(path.read_bytes(), path.name)
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"The metadata file {path.name} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
        if isinstance(rows, dict):
            rows = [{"file": name, **values} for name, values in rows.items() if isinstance(values, dict)]
    elif path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        raise AssistantError(f"The metadata file {path.name} must be .csv or .json.")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise AssistantError(f"The metadata file {path.name} must hold one row (object) per file.")
    result: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows, start=1):
        name = str(row.get("file") or row.get("path") or "").strip()
        if not name:
            raise AssistantError(f"Row {number} of {path.name} names no file (a \"file\" column).")
        values: dict[str, str] = {}
        for column, value in row.items():
            argument = METADATA_COLUMNS.get(str(column).strip().lower())
            if argument and value not in (None, ""):
                values[argument] = str(value)
        if values.get("kind") and values["kind"] not in DOCUMENT_KINDS:  # "press_release", "news": a genre
            values.setdefault("genre", values.pop("kind"))
        if values.get("genre") and values["genre"] not in GENRES:
            raise AssistantError(f"Row {number} of {path.name} has the kind {values['genre']!r}; use one of "
                                 f"{', '.join(DOCUMENT_KINDS)} or a genre ({', '.join(GENRES)}).")
        result[Path(name).name] = values
    return result


def add_paths(corpus_dir: Path, paths: Iterable[str], *, metadata: dict[str, dict[str, str]] | None = None,
              options: dict[str, str] | None = None, on_file: Callable[[Path], None] | None = None) -> AddReport:
    """Add many files; each is added or skipped or fails on its own, with its sentence."""
    files, skipped = expand_paths(paths)
    if options and any(options.values()) and len(files) > 1:
        raise AssistantError("--title, --date, --kind, --reference, --issuer and --language describe one file; "
                             "for several files give them in a --metadata CSV or JSON file.")
    report = AddReport(skipped=list(skipped))
    for path in files:
        given = dict((metadata or {}).get(path.name, {}))
        given.update({k: v for k, v in (options or {}).items() if v})
        try:
            data = path.read_bytes()
            report.added.append(add_upload(corpus_dir, data, path.name, **given))
        except DuplicateError as exc:
            report.skipped.append((str(path), str(exc).rstrip(".")))
        except AssistantError as exc:
            report.failed.append((str(path), str(exc).rstrip(".")))
        except OSError as exc:
            report.failed.append((str(path), f"{path.name} could not be read ({exc.strerror or exc})"))
        if on_file is not None:
            on_file(path)
    return report


def _metadata_entries(corpus_dir: Path) -> list[dict]:
    """The uploads' metadata, checked against its schema: a damaged file is never written over."""
    return read_metadata_entries(corpus_dir, corpus_dir / UPLOADS_METADATA)


def _write_metadata(corpus_dir: Path, entries: list[dict]) -> None:
    _write_atomically(corpus_dir / UPLOADS_METADATA, json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target under a name no other call uses, then rename it over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


__all__ = ["ALLOWED_SUFFIXES", "AddReport", "Added", "DuplicateError", "add_document", "add_paths", "add_upload",
           "expand_paths", "read_metadata_file", "remove_document", "safe_suffix", "text_fingerprint", "title_hint"]
