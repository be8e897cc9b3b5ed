"""The index lifecycle: manifest, staleness, incremental rebuilds, atomic swaps, checksums."""

from __future__ import annotations

import json

import pytest

from assistant.errors import StaleIndexError
from assistant.index import (
    GENERATIONS,
    build_index,
    current_generation,
    index_status,
    load_index,
    read_manifest,
)
from assistant.settings import DEFAULT_MODEL
from tests.conftest import copy_corpus_and_index

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path, corpus_dir, engine, settings):
    """A copy of the corpus and of the served index, so the content-hash cache is warm."""
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    return corpus, index_dir, settings.backend


def test_manifest_records_model_dimension_chunker_and_hashes(engine):
    manifest = engine.index.manifest
    assert manifest.model == DEFAULT_MODEL and manifest.dimension == 384
    assert manifest.chunker["version"] and manifest.chunker["max_tokens"] == 256
    assert set(manifest.corpus["documents"]) == {d.id for d in engine.index.documents}
    assert manifest.chunks == len(engine.index.chunks) and manifest.units == len(engine.index.units)
    assert all(len(c.content_hash) == 20 for c in engine.index.chunks)
    assert manifest.files and all(entry["bytes"] >= 0 and len(entry["sha256"]) == 64 for entry in manifest.files.values())


def test_an_unchanged_corpus_embeds_nothing(workspace):
    corpus, index_dir, backend = workspace
    report = build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert report.embedded == 0 and report.embedded_texts == 0 and report.reused == report.chunks


def test_changing_one_action_re_embeds_only_its_chunks(workspace):
    corpus, index_dir, backend = workspace
    path = corpus / "council-action-file-eastern-mediterranean-route-2024-07-22.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Kick-off meeting of the EASTEAMS project took place on 26 September 2023",
                                 "Kick-off meeting of the EASTEAMS project took place on 27 September 2023"), encoding="utf-8")
    assert not index_status(index_dir, corpus, DEFAULT_MODEL, backend).fresh
    report = build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert 1 <= report.embedded <= 3  # the parts of Action 1 that changed
    assert index_status(index_dir, corpus, DEFAULT_MODEL, backend).fresh


def test_removing_a_document_re_embeds_nothing_else(workspace):
    corpus, index_dir, backend = workspace
    entries = json.loads((corpus / "documents.json").read_text(encoding="utf-8"))
    before = read_manifest(current_generation(index_dir)).chunks
    (corpus / "documents.json").write_text(json.dumps(entries[:1]), encoding="utf-8")
    report = build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert report.embedded == 0 and 0 < report.chunks < before
    loaded = load_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert {u.doc_id for u in loaded.units.values()} == {entries[0]["id"]}


def test_a_stale_index_is_served_with_its_notice_and_a_foreign_one_never(workspace):
    corpus, index_dir, backend = workspace
    (corpus / "glossary.json").write_text((corpus / "glossary.json").read_text() + "\n", encoding="utf-8")
    loaded = load_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert loaded.stale_notice().startswith("Stale index: the glossary changed since it was built")
    status = index_status(index_dir, corpus, "all-mpnet-base-v2", backend)
    assert not status.fresh and not status.servable and "model" in status.reason
    with pytest.raises(StaleIndexError, match="model"):
        load_index(index_dir, corpus, "all-mpnet-base-v2", backend)


def test_a_failed_build_leaves_the_previous_index_usable(workspace, monkeypatch):
    corpus, index_dir, backend = workspace
    before = current_generation(index_dir)
    import assistant.index.bm25 as bm25_index

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bm25_index.Bm25Builder, "finish", crash)
    with pytest.raises(RuntimeError):
        build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert current_generation(index_dir) == before
    assert not [p for p in (index_dir / GENERATIONS).iterdir() if p.name.startswith(".building-")]
    assert load_index(index_dir, corpus, DEFAULT_MODEL, backend).chunks


def test_a_corrupted_index_file_is_detected_by_checksum(workspace):
    corpus, index_dir, backend = workspace
    vectors = current_generation(index_dir) / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-10] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(StaleIndexError, match="vectors.npy is damaged"):
        load_index(index_dir, corpus, DEFAULT_MODEL, backend)
    build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert load_index(index_dir, corpus, DEFAULT_MODEL, backend).chunks
