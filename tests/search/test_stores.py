"""The vector-store contract, held by FAISS and by the real Milvus engine alike.

Contract: add, upsert by key (replaces), delete by key, filtered search whose filter is
evaluated by the store and returns exactly the entries `Filters.matches` admits, best first,
and an incremental sync keyed by content. Then, on the real corpus: Milvus gives the FAISS
store's results and gold-set metrics, through the Retriever and the CLI; and embedding on
several processes gives the vectors of one process.

The Milvus tests run the Milvus engine shipped in the milvus-lite 2.5 wheel, on a database
in a temporary folder; they are skipped (with the reason) only when pymilvus is missing.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import encode_in_processes
from assistant.search import (
    EntryTable,
    FaissStore,
    Filters,
    StoreEntry,
    entry_key,
    index_entries,
    keys_fingerprint,
    sync_store,
)

DIM = 16
DOCS = ("doc-a", "doc-b", "doc-c")
KINDS = ("action", "annex_item", "letter_section")
# Section headings with what a filter expression must escape: quotes, backslash, % and _, non-ASCII.
SECTIONS = ("Returns and readmission", "Border_management", "100% of \"funds\"", "Back\\slash",
            "Coopération avec la Türkiye", "it's RETURNS")
COUNTRIES = ("Bulgaria", "Greece", "Türkiye", "Côte d'Ivoire", "Cyprus")
DATES = ("2023-06-25", "2023-12-31", "2024-01-01", "2024-07-22", "", "2024-01")  # "": undated; "2024-01": a month

FILTERS = [
    Filters(),
    Filters(doc_ids=("doc-b",)),
    Filters(doc_ids=("doc-a", "doc-c")),
    Filters(kinds=("annex_item",)),
    Filters(sections=("returns",)),
    Filters(sections=("border_",)),  # "_" is a literal underscore, not a LIKE wildcard
    Filters(sections=("100%",)),
    Filters(sections=("back\\slash",)),
    Filters(sections=('"funds"',)),
    Filters(sections=("türkiye", "readmission")),
    Filters(sections=("",)),  # the empty substring is in every heading
    Filters(countries=("Türkiye",)),
    Filters(countries=("Côte d'Ivoire", "Cyprus")),
    Filters(date_from="2024-01-01"),
    Filters(date_to="2023-12-31"),
    Filters(date_from="2023-12-31", date_to="2024-01-01"),
    Filters(date_from="2024-01-15"),  # the month 2024-01 is in, undated documents are not
    Filters(date_to="2024-01-10"),
    Filters(date_from="2024-02-01", date_to="2024-12-31"),
    Filters(doc_ids=("doc-a",), kinds=("action",), countries=("Greece",), date_from="2023-07-01"),
    Filters(doc_ids=("no-such-document",)),
]


def _entries(n: int, seed: int = 0) -> list[StoreEntry]:
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(n):
        countries = tuple(sorted({COUNTRIES[j] for j in rng.choice(len(COUNTRIES), size=rng.integers(0, 3))}))
        fields = dict(chunk_id=f"chunk-{i}", unit_id=f"unit-{i // 2}", content_hash=f"{i:020x}",
                      doc_id=DOCS[i % 3], kind=KINDS[(i // 3) % 3], section=SECTIONS[i % len(SECTIONS)],
                      doc_date=DATES[i % len(DATES)], countries=countries, embedding="test/unit")
        entries.append(StoreEntry(key=entry_key(**fields), **fields))
    return entries


def _unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed + 1).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --- the stores under test ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def milvus_dir(tmp_path_factory) -> Path:
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus 2.5.11 and milvus-lite 2.5.1")
    return tmp_path_factory.mktemp("milvus")


def _milvus_settings(milvus_dir: Path, collection: str):
    from assistant.search.milvus import MilvusSettings

    return MilvusSettings(uri=str(milvus_dir / "milvus.db"), collection=collection)


@pytest.fixture(params=["faiss-flat", "faiss-hnsw", "milvus"])
def make_store(request):
    """A factory of empty stores of one kind; Milvus stores get their own collection, dropped after."""
    opened = []

    def make():
        if request.param == "milvus":
            from assistant.search.milvus import MilvusStore

            milvus_dir = request.getfixturevalue("milvus_dir")
            store = MilvusStore(_milvus_settings(milvus_dir, f"contract_{uuid.uuid4().hex[:12]}"), DIM)
        else:
            store = FaissStore.empty(DIM, kind=request.param.split("-")[1])
        opened.append(store)
        return store

    yield make
    for store in opened:
        if hasattr(store, "drop"):
            store.drop()
        store.close()


@pytest.fixture
def filled(make_store):
    store = make_store()
    entries, vectors = _entries(60), _unit_vectors(60)
    store.upsert(entries, vectors)
    return store, entries, vectors


# --- the contract -------------------------------------------------------------------------------


def test_added_entries_are_found_by_their_own_vector(filled):
    store, entries, vectors = filled
    assert store.count() == len(entries)
    assert store.keys() == {e.key for e in entries}
    hits = store.search(vectors[:5], 3)
    assert [row[0].key for row in hits] == [e.key for e in entries[:5]]
    assert all(abs(row[0].score - 1.0) < 1e-5 for row in hits)
    assert all([h.score for h in row] == sorted((h.score for h in row), reverse=True) for row in hits)


def test_upsert_under_an_existing_key_replaces_the_entry(filled):
    store, entries, vectors = filled
    moved = -vectors[0]
    store.upsert([entries[0]], moved[None, :])
    assert store.count() == len(entries)
    assert store.search(moved[None, :], 1)[0][0].key == entries[0].key
    assert entries[0].key not in [h.key for h in store.search(vectors[:1], 5)[0]]


def test_delete_by_key_removes_only_stored_keys(filled):
    store, entries, vectors = filled
    gone = [entries[1].key, entries[2].key]
    assert store.delete(gone + ["0" * 32]) == 2
    assert store.delete(gone) == 0
    assert store.count() == len(entries) - 2
    found = {h.key for row in store.search(vectors[:5], len(entries)) for h in row}
    assert not found & set(gone)
    assert len(found) == len(entries) - 2


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: json.dumps({k: v for k, v in dataclasses.asdict(w).items() if v},
                                                                    ensure_ascii=False))
def test_filters_run_in_the_store_and_admit_exactly_the_matching_entries(filled, where):
    store, entries, vectors = filled
    expected = {e.key for e in entries if where.matches(e)}
    for row in store.search(vectors[:3], len(entries), where=where):
        assert {h.key for h in row} == expected
        assert [h.score for h in row] == sorted((h.score for h in row), reverse=True)


@pytest.mark.parametrize("where", FILTERS[1:])
def test_the_column_table_admits_what_where_matches_admits(where):
    entries = _entries(200, seed=3)
    expected = [i for i, e in enumerate(entries) if where.matches(e)]
    assert EntryTable(entries).positions(where).tolist() == expected


def test_the_retrievers_filter_rows_are_the_reference_rows_on_the_corpus(engine):
    from assistant.search import Filters

    for filters in (Filters(countries=("BG", "Cyprus")), Filters(kinds=("action", "annex_item"), date_to="2024-01-01"),
                    Filters(sections=("RETURN",)), Filters(doc_ids=("commission-letter-2023",), countries=("Greece",))):
        where = engine.retriever.resolve(filters)
        expected = [row for row, entry in enumerate(engine.retriever.entries) if where.matches(entry)]
        assert engine.retriever.allowed_rows(filters).tolist() == expected


def test_a_filter_with_a_small_k_gives_the_nearest_matching_entries(filled):
    store, entries, vectors = filled
    where = Filters(kinds=("annex_item",), date_from="2024-01-01")
    allowed = [i for i, e in enumerate(entries) if where.matches(e)]
    order = np.argsort(-(vectors[allowed] @ vectors[7]))[:3]
    assert [h.key for h in store.search(vectors[7:8], 3, where=where)[0]] == [entries[allowed[i]].key for i in order]


def test_sync_is_incremental_by_key(make_store):
    store = make_store()
    entries, vectors = _entries(40), _unit_vectors(40)
    first = sync_store(store, entries, vectors)
    assert (first.added, first.deleted, first.kept) == (40, 0, 0)
    again = sync_store(store, entries, vectors)
    assert (again.added, again.deleted, again.kept) == (0, 0, 40)
    # A changed date gives two entries new keys; a removed chunk leaves; everything else stays.
    changed = [dataclasses.replace(e, doc_date="2025-01-01") for e in entries[:2]]
    changed = [dataclasses.replace(e, key=entry_key(**{k: v for k, v in dataclasses.asdict(e).items() if k != "key"}))
               for e in changed]
    update = changed + entries[2:39]
    report = sync_store(store, update, np.concatenate([vectors[:2], vectors[2:39]]))
    assert (report.added, report.deleted, report.kept) == (2, 3, 37)
    assert store.keys() == {e.key for e in update}
    hits = store.search(vectors[:1], 5, where=Filters(date_from="2025-01-01"))[0]
    assert {h.key for h in hits} == {e.key for e in changed}


def test_the_key_changes_with_text_metadata_and_model_but_not_otherwise():
    entry = _entries(1)[0]
    fields = {k: v for k, v in dataclasses.asdict(entry).items() if k != "key"}
    assert entry_key(**fields) == entry.key
    for name, value in (("content_hash", "f" * 20), ("section", "Other"), ("countries", ("Malta",)),
                        ("embedding", "test/onnx")):
        assert entry_key(**{**fields, name: value}) != entry.key
    assert keys_fingerprint(["b", "a"]) == keys_fingerprint(["a", "b", "a"])


def test_milvus_filter_expressions_escape_what_the_engine_would_read():
    from assistant.search.milvus import milvus_filter

    assert milvus_filter(None) == milvus_filter(Filters()) == ""
    expression = milvus_filter(Filters(doc_ids=('a"b',), sections=("100%_x\\",), countries=("Türkiye",),
                                     date_from="2024-01-01"))
    assert expression == ('doc_id in ["a\\"b"] and (section_lower like "%100\\\\%\\\\_x\\\\\\\\%") and '
                          'array_contains_any(countries, ["Türkiye"]) and (doc_date >= "2024-01-01" or doc_date == "2024-01")')
    assert milvus_filter(Filters(sections=("",))) == ""  # everything: no clause


def test_milvus_settings_come_from_the_environment_with_offline_defaults(tmp_path):
    from assistant.errors import AssistantError
    from assistant.search.milvus import MilvusSettings

    from assistant.settings import load_settings

    def from_env(environ: dict[str, str]) -> MilvusSettings:
        return MilvusSettings.from_settings(load_settings(environ).store, tmp_path)

    local = from_env({})
    assert (local.uri, local.local, local.chosen_index_type, local.consistency) == (
        str(tmp_path / "milvus.db"), True, "FLAT", "Session")
    cluster = from_env({"ASSISTANT_MILVUS_URI": "https://milvus.example:19530",
                                                 "ASSISTANT_MILVUS_TOKEN": "user:secret",
                                                 "ASSISTANT_MILVUS_CONSISTENCY": "bounded"})
    assert (cluster.local, cluster.chosen_index_type, cluster.token, cluster.consistency) == (
        False, "HNSW", "user:secret", "Bounded")
    with pytest.raises(AssistantError, match="supports only FLAT"):
        from_env({"ASSISTANT_MILVUS_INDEX": "hnsw"})


def test_the_local_engine_is_milvus_itself_not_a_python_stand_in(milvus_dir):
    from assistant.search.milvus import _engine_dir

    engine = _engine_dir() / "milvus"
    assert engine.read_bytes()[:4] == b"\x7fELF"  # the native Milvus binary of milvus-lite 2.5
    assert (engine.parent / "libknowhere.so").is_file()  # Milvus' vector search library


def test_a_second_process_cannot_open_the_same_local_database(milvus_dir):
    import subprocess
    import sys

    from assistant.search.milvus import MilvusStore

    settings = _milvus_settings(milvus_dir, "lock_check")
    with MilvusStore(settings, DIM):
        code = ("from assistant.search.milvus import MilvusSettings, MilvusStore\n"
                "from assistant.errors import AssistantError\n"
                f"try:\n    MilvusStore(MilvusSettings(uri={settings.uri!r}), {DIM})\n"
                "except AssistantError as exc:\n    print(exc)\n")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                cwd=Path(__file__).resolve().parents[2])
    assert "is open in another process" in result.stdout


# --- the real corpus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def milvus_for_corpus(engine, milvus_dir):
    """The real index synced into the local Milvus engine, open for serving."""
    from assistant.search.milvus import open_for_index, sync_milvus

    settings = _milvus_settings(milvus_dir, "corpus")
    report = sync_milvus(engine.index, settings)
    assert report.added + report.kept == len(engine.index.chunks)
    store = open_for_index(engine.index, settings, engine.retriever.entries)
    yield store
    store.close()


@pytest.fixture(scope="module")
def milvus_engine(engine, milvus_for_corpus):
    """The same engine with dense search on Milvus."""
    from assistant.search import Retriever

    retriever = Retriever(engine.index, engine.retriever.encoder, engine.glossary, engine.retriever.settings,
                          store=milvus_for_corpus)
    return dataclasses.replace(engine, retriever=retriever)


@pytest.fixture(scope="module")
def gold():
    from eval.evaluation import load_gold
    from assistant.settings import PROJECT_ROOT

    return load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")


def test_the_default_store_is_faiss_and_returns_what_faiss_returns(engine):
    from assistant.index.vectors import search

    assert isinstance(engine.retriever.store, FaissStore)
    rows = engine.retriever.allowed_rows(_bg_filter())
    query = engine.retriever.embed_query("returns cooperation with Bulgaria")
    for allowed in (None, rows):
        _, ids = search(engine.index.vector_index, query[None, :], 50, allowed=allowed)
        where = None if allowed is None else engine.retriever.resolve(_bg_filter())
        assert engine.retriever.dense_ranking(query, where, 50) == [int(i) for i in ids[0] if i >= 0]


def _bg_filter():
    from assistant.search import Filters

    return Filters(countries=("BG",))


@pytest.mark.slow
def test_milvus_gives_the_faiss_top_chunks_for_gold_questions(engine, milvus_for_corpus, gold):
    faiss_store = engine.retriever.store
    for item in gold[:15]:
        query = engine.retriever.embed_query(engine.glossary.expand_query(item.question))[None, :]
        expected = faiss_store.search(query, 10)[0]
        found = milvus_for_corpus.search(query, 10)[0]
        assert [h.key for h in found] == [h.key for h in expected], item.id
        np.testing.assert_allclose([h.score for h in found], [h.score for h in expected], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_milvus_and_faiss_give_the_same_units_with_and_without_filters(engine, milvus_engine, gold, mode):
    from assistant.search import Filters

    filters = (None, Filters(countries=("BG",)), Filters(kinds=("action",), date_from="2024-01-01"),
               Filters(sections=("return",)), Filters(doc_ids=("commission-letter-2023",)))
    for item in gold[:8]:
        for chosen in filters:
            ours = engine.retriever.search(item.question, k=5, mode=mode, filters=chosen)
            theirs = milvus_engine.retriever.search(item.question, k=5, mode=mode, filters=chosen)
            assert [h.unit.unit_id for h in theirs] == [h.unit.unit_id for h in ours], (item.id, chosen)


@pytest.mark.slow
def test_gold_set_metrics_match_between_the_stores(engine, milvus_engine, gold):
    from eval.evaluation import evaluate_mode

    unit_ids = {(u.doc_id, u.locator): u.unit_id for u in engine.index.units.values()}
    ours = evaluate_mode(engine, gold, "hybrid", unit_ids).overall
    theirs = evaluate_mode(milvus_engine, gold, "hybrid", unit_ids).overall
    for metric in ("recall@5", "mrr@10"):
        assert abs(theirs[metric] - ours[metric]) <= 0.01, (metric, ours[metric], theirs[metric])


@pytest.mark.slow
def test_a_collection_synced_to_another_index_is_refused(engine, milvus_dir):
    from assistant.errors import StaleIndexError
    from assistant.search.milvus import MilvusStore, open_for_index, sync_milvus

    settings = _milvus_settings(milvus_dir, "stale_check")
    sync_milvus(engine.index, settings)
    with MilvusStore(settings, engine.index.vectors.shape[1]) as store:
        store.delete([engine.retriever.entries[0].key])
        store.write_state({**store.read_state(), "fingerprint": "something else"})
    with pytest.raises(StaleIndexError, match="assistant index --store milvus"):
        open_for_index(engine.index, settings)
    report = sync_milvus(engine.index, settings)
    assert (report.added, report.deleted) == (1, 0)
    open_for_index(engine.index, settings).close()


@pytest.mark.slow
def test_a_collection_of_another_dimension_is_refused_then_rebuilt_by_sync(engine, milvus_dir):
    from assistant.errors import StaleIndexError
    from assistant.search.milvus import MilvusStore, open_for_index, sync_milvus

    settings = _milvus_settings(milvus_dir, "other_dimension")
    MilvusStore(settings, 8).close()
    with pytest.raises(StaleIndexError, match="another schema"):
        open_for_index(engine.index, settings)
    assert sync_milvus(engine.index, settings).added == len(engine.index.chunks)
    open_for_index(engine.index, settings).close()


@pytest.mark.slow
def test_cli_index_and_search_with_the_milvus_store(engine, milvus_dir, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import cli

    monkeypatch.setenv("ASSISTANT_MILVUS_URI", str(milvus_dir / "cli.db"))
    runner = CliRunner()
    indexed = runner.invoke(cli, ["index", "--if-stale", "--quiet", "--store", "milvus"])
    assert indexed.exit_code == 0, indexed.output
    assert "Synced the Milvus store" in indexed.output
    question = "what is the status of returns cooperation with Bulgaria"
    results = {}
    for store in ("faiss", "milvus"):
        run = runner.invoke(cli, ["search", question, "--json", "--k", "5", "--country", "BG", "--store", store])
        assert run.exit_code == 0, run.output
        results[store] = json.loads(run.output.strip().splitlines()[-1])
    assert results["milvus"] == results["faiss"]  # the JSON contract, byte for byte
    assert [r["locator"] for r in results["milvus"]["results"][:2]] == ["Action 21", "Action 20"]


# --- embedding on several processes -------------------------------------------------------------


@pytest.mark.slow
def test_multi_process_embedding_equals_single_process(chunked_corpus):
    from assistant.embedding import load_encoder
    from assistant.settings import DEFAULT_MODEL

    texts = [c.index_text for c in chunked_corpus.chunks[:24]] + ["Bulgaria", "returns cooperation"]
    single = load_encoder(DEFAULT_MODEL, "torch").encode(texts)
    pooled = encode_in_processes(DEFAULT_MODEL, texts, workers=2, chunk_size=5)
    assert pooled.shape == single.shape
    assert float(np.max(np.abs(pooled - single))) < 1e-5


def test_index_entries_follow_row_order_and_are_unique(engine):
    entries = index_entries(engine.index)
    assert [e.chunk_id for e in entries] == [c.chunk_id for c in engine.index.chunks]
    assert len({e.key for e in entries}) == len(entries)
    assert all(e.embedding == f"{engine.index.model}/{engine.index.backend}" for e in entries)


@pytest.mark.parametrize("doc_date, date_from, date_to, admitted", [
    ("2024-06-21", "2024-06-01", "2024-06-30", True),
    ("", "2024-01-01", "", False),  # a date filter leaves undated documents out
    ("", "", "2024-12-31", False),
    ("", "", "", True),  # no date filter: undated documents are searched like any other
    ("2024-06", "2024-06-15", "", True),  # a month is in when any of its days is
    ("2024-06", "", "2024-06-01", True),
    ("2024-06", "2024-07-01", "", False),
    ("2024-06", "", "2024-05-31", False),
])
def test_date_filters_on_undated_and_month_only_documents(doc_date, date_from, date_to, admitted):
    entry = _entries(1)[0]
    entry = dataclasses.replace(entry, doc_date=doc_date)
    where = Filters(date_from=date_from, date_to=date_to)
    assert where.matches(entry) is admitted
    assert (EntryTable([entry]).positions(where).size == 1) is admitted
