"""The index status as the CLI's `status` and the app's Index tab show it, computed once per change.

Checking freshness hashes every document and every index file, so the app must not do it on
each render: `cached_status` recomputes only when the served pointer, the manifest or a
corpus file has changed (a stat of each, no reading).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.index import POINTER, IndexStatus, current_generation, index_status
from assistant.index.load import corpus_stamp
from assistant.settings import Settings


def status_record(status: IndexStatus, index_dir: Path) -> dict[str, Any]:
    """The `assistant status --json` record."""
    manifest = status.manifest
    return {
        "exists": status.exists,
        "fresh": status.fresh,
        "stale": status.stale,  # served, behind the corpus: `reason` is the notice
        "servable": status.servable,
        "documents_changed": status.changed,
        "reason": status.reason,
        "built_at": manifest.built_at if manifest else None,
        "model": manifest.model if manifest else None,
        "backend": manifest.backend if manifest else None,
        "units": manifest.units if manifest else None,
        "chunks": manifest.chunks if manifest else 0,
        "vector_index": manifest.vector_index if manifest else None,
        "index_dir": str(index_dir),
    }


def _stamp(settings: Settings) -> tuple:
    """What status depends on, as cheap file stats: pointer, manifest, every corpus file."""
    paths = [settings.index_dir / POINTER]
    try:
        generation = current_generation(settings.index_dir)
    except AssistantError:  # a damaged pointer: index_status says so; the pointer's own stat is in the stamp
        generation = None
    if generation is not None:
        paths.append(generation / "manifest.json")
    stats = []
    for path in paths:
        try:
            info = path.stat()
            stats.append((str(path), info.st_mtime_ns, info.st_size))
        except OSError:
            stats.append((str(path), None, None))
    return (settings.model, settings.backend, tuple(stats), corpus_stamp(settings.corpus_dir))


_lock = threading.Lock()
_cache: dict[tuple, IndexStatus] = {}


def cached_status(settings: Settings) -> IndexStatus:
    """`index_status`, recomputed only when a file it depends on has changed."""
    stamp = _stamp(settings)
    with _lock:
        known = _cache.get(stamp)
    if known is not None:
        return known
    status = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    with _lock:
        _cache.clear()
        _cache[stamp] = status
    return status
