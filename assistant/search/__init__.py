"""Search: a Query's question prepared once, dense + BM25 retrieval fused, filters in the store.

`Retriever` ranks units for a question; `Filters` narrows a search the same way in every
vector store (`FaissStore`, the default, or Milvus through `open_store`); `Query` is the one
request record the CLI and the app hand to the engine.
"""

from assistant.search.filters import EntryTable, Filters, country_name
from assistant.search.fusion import reciprocal_rank_fusion
from assistant.search.query import MAX_QUESTION_CHARS, Query, clean_question
from assistant.search.retriever import PreparedQuestion, Retriever
from assistant.search.stores import (
    FaissStore,
    StoreEntry,
    StoreHit,
    SyncReport,
    VectorStore,
    checked_store_name,
    entry_key,
    index_entries,
    keys_fingerprint,
    open_store,
    sync_store,
)

__all__ = [
    "MAX_QUESTION_CHARS", "EntryTable", "FaissStore", "Filters", "PreparedQuestion", "Query", "Retriever",
    "StoreEntry", "StoreHit", "SyncReport", "VectorStore", "checked_store_name", "clean_question", "country_name",
    "entry_key", "index_entries", "keys_fingerprint", "open_store", "reciprocal_rank_fusion", "sync_store",
]
