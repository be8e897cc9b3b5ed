"""Serving a generation: can it be served, is it behind the corpus, and everything retrieval needs.

The rule (as search tools have it): the last good index is served while the corpus moves on,
with a notice ("Stale index: 2 documents changed since it was built ..."); only an index that
is damaged (a pointer, manifest or file that does not check out) or that was built with
another model, runtime or chunker is refused, in one sentence, until `assistant index`
rebuilds it. `CorpusWatch` keeps the notice current for a long-running process (the app)
at the cost of a stat of the corpus files every couple of seconds.

`load_index` opens a generation once per process (assistant/index/serving.py: records read by
row, vectors and indexes memory-mapped). Files are checked by size, and small ones by checksum,
at every load; `verify_index` checks every checksum (`assistant index --verify`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
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

STALE_CHECK_INTERVAL_S = 2.0  # how often a serving process stats the corpus to tell whether its index fell behind


@dataclass
class IndexStatus:
    exists: bool
    fresh: bool
    reason: str  # one sentence: why it cannot be served, the stale notice, or "up to date"
    manifest: Manifest | None = None
    stale: bool = False  # whole and built with these settings, but behind the corpus: served, with `reason` as notice
    changed: int = 0  # documents added, removed or changed since the build

    @property
    def servable(self) -> bool:
        return self.fresh or self.stale


def stale_notice(built: dict, now: dict) -> tuple[int, str]:
    """(documents changed, one sentence) comparing a manifest's corpus fingerprint with the corpus now; (0, '') if equal."""
    before, after = dict(built.get("documents") or {}), dict(now.get("documents") or {})
    added = len(set(after) - set(before))
    removed = len(set(before) - set(after))
    edited = sum(1 for doc_id in set(before) & set(after) if before[doc_id] != after[doc_id])
    glossary = built.get("glossary") != now.get("glossary")
    count = added + removed + edited
    if not count and not glossary:
        return 0, ""
    parts = [f"{n} {word}" for n, word in ((added, "added"), (removed, "removed"), (edited, "changed")) if n]
    what = f"{count} document{'s' if count != 1 else ''} changed" + (f" ({', '.join(parts)})" if parts else "")
    if glossary:
        what = f"{what} and the glossary changed" if count else "the glossary changed"
    return count, (f"Stale index: {what} since it was built, so answers come from the corpus as it was then; "
                   "rebuild the index (`assistant index`, or Rebuild in the Index tab) to include the changes.")


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
    changed, notice = stale_notice(manifest.corpus, corpus_fingerprint(corpus_dir, index_dir / HASH_CACHE))
    if notice:
        return IndexStatus(True, False, notice, manifest, stale=True, changed=changed), generation
    return IndexStatus(True, True, f"The index is up to date ({manifest.chunks} chunks).", manifest), generation


def index_status(index_dir: Path, corpus_dir: Path, model: str, backend: str) -> IndexStatus:
    """Can the index be served (whole, built with these settings), and is it behind the corpus?"""
    status, generation = _staleness(index_dir, corpus_dir, model, backend)
    if status.servable and generation is not None and status.manifest is not None:
        try:
            verify_files(generation, status.manifest)
        except StaleIndexError as exc:  # a truncated or corrupted file: rebuilt by `assistant index --if-stale` too
            return IndexStatus(True, False, str(exc), status.manifest)
    return status


def corpus_stamp(corpus_dir: Path) -> tuple:
    """Every corpus file's path, modification time and size: what the corpus fingerprint depends on, cheaply."""
    stats = []
    if corpus_dir.is_dir():
        for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
            try:
                info = path.stat()
                stats.append((str(path), info.st_mtime_ns, info.st_size))
            except OSError:
                stats.append((str(path), None, None))
    return tuple(stats)


class CorpusWatch:
    """Whether a served index has fallen behind its corpus: the notice to show, kept current cheaply.

    The corpus is stat-ed at most every `interval` seconds, and hashed only when a stat changed.
    A corpus that cannot be read now (a damaged documents.json) is said in the notice too: the
    index keeps answering from the corpus as it was.
    """

    def __init__(self, manifest: Manifest, corpus_dir: Path, notice: str = "",
                 interval: float = STALE_CHECK_INTERVAL_S) -> None:
        self.manifest, self.corpus_dir, self.interval = manifest, corpus_dir, interval
        self._notice = notice
        self._stamp = corpus_stamp(corpus_dir)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def notice(self) -> str:
        if time.monotonic() - self._checked < self.interval:
            return self._notice
        with self._lock:
            self._checked = time.monotonic()
            stamp = corpus_stamp(self.corpus_dir)
            if stamp != self._stamp:
                try:
                    self._notice = stale_notice(self.manifest.corpus, self._fingerprint())[1]
                except AssistantError as exc:
                    self._notice = (f"{str(exc).rstrip('.')}; until then answers come from the corpus as it was "
                                    "when the index was built.")
                except OSError:  # a file still vanishing under a removal: the notice stays, the next check retries
                    return self._notice
                self._stamp = stamp
            return self._notice

    def _fingerprint(self) -> dict:
        """The corpus fingerprint without waiting for the corpus lock (answers never wait for a build's read), read
        again once if a document vanished while it was read (a removal under way)."""
        try:
            return corpus_fingerprint(self.corpus_dir, lock=False)
        except (AssistantError, OSError):
            time.sleep(0.05)
            return corpus_fingerprint(self.corpus_dir, lock=False)


def load_index(index_dir: Path, corpus_dir: Path | None = None, model: str | None = None,
               backend: str | None = None) -> LoadedIndex:
    """Load the served generation; refuse a damaged or foreign one with one sentence.

    With a corpus, model and backend given, the index must have been built with that model,
    runtime and chunker; one behind the corpus is loaded with its stale notice (`LoadedIndex.
    watch`). Its files are verified against the manifest's checksums once, here.
    """
    watch = None
    if corpus_dir is not None and model is not None and backend is not None:
        status, generation = _staleness(index_dir, corpus_dir, model, backend)
        if not status.servable:
            reason = status.reason
            if not status.exists:
                reason = f"No index has been built in {index_dir}; run `assistant index` first."
            elif "`assistant index`" not in reason:
                reason = f"{reason.rstrip('.')}; run `assistant index` to rebuild it."
            raise StaleIndexError(reason)
        manifest = status.manifest
        assert manifest is not None
        watch = CorpusWatch(manifest, corpus_dir, status.reason if status.stale else "")
    else:
        generation = current_generation(index_dir)
        if generation is None:
            raise StaleIndexError(f"No index has been built in {index_dir}; run `assistant index` first.")
        manifest = read_manifest(generation)
    assert generation is not None and manifest is not None
    verify_files(generation, manifest)
    return open_generation(generation, manifest, watch)


def open_generation(generation: Path, manifest: Manifest, watch: CorpusWatch | None = None) -> LoadedIndex:
    """Open a generation's segments (nothing is verified here); one sentence if a file cannot be read."""
    segments: list[Segment] = []
    try:
        segments = [Segment(generation / folder) for folder in manifest.segments]
        documents = [_document(record) for segment in segments for record in segment.document_records()]
        return LoadedIndex(generation, manifest, segments, documents, watch)
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
