"""The index on disk at scale: what loading reads and checks, incremental delta segments, and the
index-built tables that replaced start-up passes over the corpus (same answers as the passes)."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.errors import StaleIndexError
from assistant.index import build, current_generation, index_status, load_index, read_manifest
from assistant.index import manifest as manifest_module
from assistant.search.locators import LocatorTable
from assistant.settings import DEFAULT_MODEL
from tests.conftest import copy_corpus_and_index

pytestmark = pytest.mark.slow
FIXTURE = "frontex-eu-external-borders-august-2022.txt"


@pytest.fixture
def workspace(tmp_path, engine, settings):
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    return corpus, index_dir, settings.backend


def test_records_are_read_by_row_and_vectors_mapped(engine):
    index = engine.index
    assert isinstance(index.segments[0].vectors, np.memmap)
    assert (index.generation / "store.sqlite").is_file()
    assert {p.name for p in index.generation.glob("*.jsonl")} <= {"splits.jsonl"}, "records are rows, not JSON lines"
    units = list(index.units.values())
    assert [index.units[u.unit_id].unit_id for u in units] == [u.unit_id for u in units]
    for unit in units:  # every unit's chunk and sentence rows, from the tables the build wrote
        assert {index.chunks[r].unit_id for r in index.chunk_rows_of[unit.unit_id]} == {unit.unit_id}
        assert [index.sentences[r].position for r in index.sentence_rows_of[unit.unit_id]] == \
            list(range(len(index.sentence_rows_of[unit.unit_id])))
    assert sum(len(index.chunk_rows_of[u.unit_id]) for u in units) == len(index.chunks)


def test_the_manifest_no_longer_lists_every_chunk(engine):
    data = json.loads((engine.index.generation / "manifest.json").read_text(encoding="utf-8"))
    assert "chunks" not in data and "sentences" not in data
    assert data["counts"]["chunks"] == len(engine.index.chunks)
    assert all(set(entry) == {"bytes", "sha256"} for entry in data["files"].values())


def test_mentions_are_the_substring_test_on_the_joined_corpus(engine):
    """AbstentionRules asked `name.lower() in " ".join(unit texts).lower()`; the words and phrases tables agree."""
    from assistant.index.segments import country_phrases

    corpus = " ".join(u.text for u in engine.index.units.values()).lower()
    words = sorted(set(re.findall(r"\w+", corpus)))
    probes = words[::7] + [w[1:-1] for w in words[::11] if len(w) > 4] + ["Mars", "Oman", "ETIAS", "Frontex",
                                                                           "NDICI", "ndici-global", "xyzzy"]
    probes += list(country_phrases()) + ["United Kingdom", "Saudi Arabia"]
    # multi-word names that are no country: read in the units holding their rarest term
    probes += ["Memorandum of Understanding", "Team Europe", "Team Asia", "returns cooperation with Greece",
               "border management", "border of Mars", "the", "of the"]
    probes += [" ".join(words[i:i + 2]) for i in range(0, len(words) - 1, 97)]  # word pairs, mostly never adjacent
    spaced = " ".join(corpus.split())
    for name in probes:
        assert engine.index.mentions(name) == (name.lower() in spaced), name


def test_facets_and_passage_counts_come_from_the_index_tables(engine):
    """The app's filter options and passage counts, and the follow-ups' annex documents, without a pass over units."""
    units = list(engine.index.units.values())
    assert set(engine.index.facet_values("kind")) == {u.kind for u in units}
    assert set(engine.index.facet_values("section")) == {u.section for u in units}
    assert engine.index.documents_with_kind("annex_item") == {u.doc_id for u in units if u.kind == "annex_item"} != set()
    assert engine.index.documents_with_kind("no_such_kind") == set()
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.doc_id] = counts.get(unit.doc_id, 0) + 1
    assert engine.index.units_per_document() == counts


def test_locators_from_the_index_are_those_built_from_the_units(engine):
    in_memory = LocatorTable(engine.index.units.values())
    for question in ["Who leads Action 21?", "What do actions 20 and 21 say?", "annex item 5", "item 3, 4 or 5",
                     "section 2", "Letter, section 7", "paragraph 2", "pillar 1", "measure 12", "action 26",
                     "recommendation 1", "point 4", "sections 1 to 3"]:
        assert engine.retriever.locators.named(question) == in_memory.named(question), question


def test_loading_checks_sizes_and_small_files_and_verify_checks_every_checksum(workspace, monkeypatch):
    from assistant.cli import cli

    corpus, index_dir, backend = workspace
    vectors = current_generation(index_dir) / "sentence_vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF
    vectors.write_bytes(bytes(data))  # same size, another content
    monkeypatch.setattr(manifest_module, "SMALL_FILE_BYTES", 1024)  # as if every file were large
    load_index(index_dir, corpus, DEFAULT_MODEL, backend)  # sizes match: served
    env = {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)}
    result = CliRunner().invoke(cli, ["index", "--verify"], env=env)
    assert result.exit_code == 1 and "sentence_vectors.npy is damaged" in result.output
    monkeypatch.setattr(manifest_module, "SMALL_FILE_BYTES", 8 << 20)  # small files are checksummed at load
    with pytest.raises(StaleIndexError, match="sentence_vectors.npy is damaged"):
        load_index(index_dir, corpus, DEFAULT_MODEL, backend)


def test_adding_a_document_to_a_large_index_writes_a_delta_segment(workspace, monkeypatch):
    from assistant.uploads import add_paths
    from tests.fixtures_documents import FIXTURES

    corpus, index_dir, backend = workspace
    monkeypatch.setattr(build, "INCREMENTAL_MIN_UNITS", 1)  # the real corpus stands for a large one
    monkeypatch.setattr(build, "MAX_DELTA_SHARE", 1.0)
    before = current_generation(index_dir)
    old = read_manifest(before)
    added = add_paths(corpus, [str(FIXTURES / FIXTURE)]).added[0].document
    report = build.build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert report.incremental and report.documents_read == 1
    generation = report.generation
    manifest = read_manifest(generation)
    assert manifest.segments == (".", "deltas/0001")
    assert os.path.samefile(generation / "vectors.npy", before / "vectors.npy")  # linked, not copied
    assert manifest.counts["chunks"] > old.counts["chunks"]
    assert index_status(index_dir, corpus, DEFAULT_MODEL, backend).fresh
    index = load_index(index_dir, corpus, DEFAULT_MODEL, backend)
    units = index.document_units(added.id)
    assert units and all(index.units[u.unit_id].doc_id == added.id for u in units)
    assert len(index.units) == old.units + len(units)
    assert index.mentions("Frontex") and index.document(added.id) is not None
    columns = index.filter_columns()
    assert columns.size == len(index.chunks) and added.id in columns.values["doc_id"]
    # the new document is found, by each retriever, with and without a filter that admits it
    from assistant.engine import load_engine
    from assistant.search import Filters, Query
    from assistant.settings import load_settings

    engine = load_engine(load_settings({"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)}))
    for mode in ("dense", "bm25", "hybrid"):
        for filters in (Filters(), Filters(doc_ids=(added.id,))):
            hits = engine.search(Query("irregular border crossings in August 2022 Frontex", filters=filters,
                                       mode=mode)).hits
            assert any(h.unit.doc_id == added.id for h in hits), (mode, filters)
    assert engine.ask("What did Frontex report about irregular crossings in August 2022?").citations
    # a changed document rebuilds everything into one segment again
    path = corpus / "council-action-file-eastern-mediterranean-route-2024-07-22.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("26 September 2023", "27 September 2023"),
                    encoding="utf-8")
    again = build.build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    assert not again.incremental and read_manifest(again.generation).segments == (".",)


def test_every_sentence_has_a_multilingual_vector_of_its_text_under_its_document_and_locator(engine):
    from assistant.embedding.multilingual import embed_passages, text_key
    from assistant.index.segments import MULTILINGUAL_KEYS, multilingual_texts

    index = engine.index
    assert index.multilingual_vectors.shape == (len(index.sentences), 384)
    document = index.documents[0]
    units = index.document_units(document.id)
    rows = [r for u in units[:3] for r in index.sentence_rows_of[u.unit_id]]
    texts = multilingual_texts(document, units, [index.sentences[r] for r in rows])
    for text, row in zip(texts, rows):  # "Council action file, 22 July 2024 | Action 1" over the sentence
        head, body = text.split("\n", 1)
        assert body == index.sentences[row].text and head.endswith("| " + index.units[index.sentences[row].unit_id].locator)
    np.testing.assert_allclose(index.multilingual_vectors[rows], embed_passages(texts), atol=1e-5)
    keys = np.load(index.generation / MULTILINGUAL_KEYS)
    assert [keys[r] for r in rows] == [text_key(t) for t in texts]


def test_a_rebuild_reuses_the_multilingual_vectors_of_unchanged_sentences(workspace, monkeypatch):
    import assistant.embedding.multilingual as multilingual

    corpus, index_dir, backend = workspace
    monkeypatch.setattr(multilingual, "_memo", {})  # nothing from this process: only the served index can supply them
    embedded: list[str] = []
    real = multilingual._model

    class Counting:
        def passage(self, texts):
            embedded.extend(texts)
            return real().passage(texts)

    monkeypatch.setattr(multilingual, "_model", lambda: Counting())
    before = load_index(index_dir).multilingual_vectors
    build.build_index(index_dir, corpus, DEFAULT_MODEL, backend)
    after = load_index(index_dir)
    assert embedded == []  # every sentence's vector came from the served generation
    np.testing.assert_array_equal(np.asarray(after.multilingual_vectors), np.asarray(before))


def test_the_multilingual_search_is_the_exact_nearest_sentences_on_a_flat_index(engine):
    index = engine.index
    vector = engine.retriever.embed_multilingual("who finances the coastal surveillance upgrade in Bulgaria")
    exact = np.argsort(-(np.asarray(index.multilingual_vectors) @ vector), kind="stable")[:10]
    found = index.multilingual_search(vector, 10)
    assert [row for row, _ in found] == exact.tolist()
    allowed = np.arange(0, len(index.sentences), 3)
    assert all(row % 3 == 0 for row, _ in index.multilingual_search(vector, 10, allowed))
