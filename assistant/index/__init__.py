"""The index on disk: segments of FAISS vectors, BM25 and SQLite stores of records, and a manifest.

`build_index` writes a new generation (embedding only what changed) and swaps it in
atomically; `index_status` says whether the served one matches the corpus and settings;
`load_index` loads it for retrieval, refusing a stale or damaged one in one sentence.
"""

from assistant.index.build import BuildReport, build_index, write_generation
from assistant.index.generations import GENERATIONS, POINTER, current_generation
from assistant.index.load import IndexStatus, index_status, load_index, verify_index
from assistant.index.manifest import MANIFEST, Manifest, expected_settings, read_manifest, verify_files
from assistant.index.segments import sentence_hash
from assistant.index.serving import LoadedIndex

__all__ = [
    "GENERATIONS", "MANIFEST", "POINTER", "BuildReport", "IndexStatus", "LoadedIndex", "Manifest", "build_index",
    "current_generation", "expected_settings", "index_status", "load_index", "read_manifest", "sentence_hash",
    "verify_files", "verify_index", "write_generation",
]
