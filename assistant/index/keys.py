"""Keys of what the index stores beside each chunk's vector, and one fingerprint for a set of them.

A key is the SHA-256 of the chunk's content hash, its ids and the metadata filters use, and of
the model that made its vector: anything stored for a chunk changes its key. Vector stores
(assistant/search/stores.py) upsert and delete by these keys; the index writes them with each
chunk so that a store can be checked against it without reading every chunk again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable

from assistant.records import Chunk, Unit

FINGERPRINT_MODULUS = 1 << 256


def entry_key(**fields: object) -> str:
    """32 hex characters of the SHA-256 of the fields, in a fixed order."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def entry_fields(chunk: Chunk, unit: Unit, embedding: str = "") -> dict[str, object]:
    """What a store keeps beside a chunk's vector (without the key)."""
    return {
        "chunk_id": chunk.chunk_id, "unit_id": unit.unit_id, "content_hash": chunk.content_hash,
        "doc_id": unit.doc_id, "kind": unit.kind, "section": unit.section, "doc_date": unit.doc_date,
        "countries": tuple(unit.countries), "embedding": embedding,
    }


def chunk_key(chunk: Chunk, unit: Unit, embedding: str = "") -> str:
    return entry_key(**entry_fields(chunk, unit, embedding))


def fingerprint_sum(keys: Iterable[str]) -> int:
    """The sum of the keys' SHA-256 values modulo 2**256: order-free, and two sums of disjoint sets add."""
    total = 0
    for key in set(keys):
        total += int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    return total % FINGERPRINT_MODULUS


def fingerprint_of_sum(total: int) -> str:
    return f"{total % FINGERPRINT_MODULUS:064x}"


def keys_fingerprint(keys: Iterable[str]) -> str:
    """One hash for a set of keys: two stores hold the same entries when these are equal."""
    return fingerprint_of_sum(fingerprint_sum(keys))
