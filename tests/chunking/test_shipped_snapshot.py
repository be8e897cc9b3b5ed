"""The two shipped documents chunk exactly as they did before general ingestion existed.

The snapshots were written from `chunk_corpus(corpus/, all-MiniLM-L6-v2)` at the commit that
introduced this test (before any general-document rule was added). Any change to a shipped
unit or chunk (text, locator, pages, fields, ids, content hashes) fails here; if a change is
wanted, regenerate the snapshots on purpose and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (SNAPSHOTS / name).read_text(encoding="utf-8").splitlines()]


def test_the_snapshot_holds_the_pinned_counts():
    units = _rows("shipped_units.jsonl")
    kinds = [u["kind"] for u in units]
    assert kinds.count("action") == 24 and kinds.count("annex_item") == 15 and kinds.count("letter_section") == 17


@pytest.mark.parametrize("name", ["units", "chunks"])
def test_shipped_documents_chunk_exactly_as_before(chunked_corpus, name):
    expected = _rows(f"shipped_{name}.jsonl")
    records = chunked_corpus.units if name == "units" else chunked_corpus.chunks
    shipped = {row["doc_id"] if name == "units" else row["unit_id"].split(":")[0] for row in _rows("shipped_units.jsonl")}
    actual = [r.to_dict() for r in records
              if (r.doc_id if name == "units" else r.unit_id.split(":")[0]) in shipped]
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert {k: got.get(k) for k in want} == want, want.get("unit_id", want.get("chunk_id"))
