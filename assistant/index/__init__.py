"""The index on disk: segments of FAISS vectors, BM25 and SQLite stores of records, and a manifest.

`build_index` writes a new generation (embedding only what changed) and swaps it in
atomically; `index_status` says whether the served one matches the corpus and settings;
`load_index` loads it for retrieval, refusing a damaged or foreign one in one sentence and serving
one behind the corpus with a stale notice.
"""

from assistant.index.build import BuildReport, build_index, write_generation
from assistant.index.generations import GENERATIONS, POINTER, current_generation
from assistant.index.load import CorpusWatch, IndexStatus, index_status, load_index, stale_notice, verify_index
from assistant.index.manifest import MANIFEST, Manifest, expected_settings, read_manifest, verify_files
from assistant.index.segments import sentence_hash
from assistant.index.serving import LoadedIndex

__all__ = [
    "GENERATIONS", "MANIFEST", "POINTER", "BuildReport", "CorpusWatch", "IndexStatus", "LoadedIndex", "Manifest", "build_index",
    "current_generation", "expected_settings", "index_status", "load_index", "read_manifest", "sentence_hash",
    "stale_notice",
    "verify_files", "verify_index", "write_generation",
]
