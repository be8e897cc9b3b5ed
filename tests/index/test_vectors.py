"""The vector index: the size rule, recall of the approximate kinds, ids, deletes and save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faiss.contrib.evaluation import knn_intersection_measure

from assistant.index.vectors import (
    FLAT_MAX_VECTORS,
    build_vector_index,
    choose_index_kind,
    hnsw_ef_search,
    index_params,
    load_index,
    remove_ids,
    save_index,
    search,
)

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("flat", "hnsw", "ivf")


def _bench_module():
    """eval/bench_ann.py, so the test draws its vectors exactly as the benchmark does."""
    from eval import bench_ann

    return bench_ann


@pytest.fixture(scope="module")
def structured(chunked_corpus):
    """20k vectors mixed from the real chunks' MiniLM embeddings, 200 held-out queries, exact top-10."""
    from assistant.embedding import load_encoder
    from assistant.settings import DEFAULT_MODEL

    bench = _bench_module()
    bases = load_encoder(DEFAULT_MODEL).encode([chunk.index_text for chunk in chunked_corpus.chunks])
    corpus = bench.structured_vectors(bases, 20_000, np.random.default_rng(1))
    queries = bench.structured_vectors(bases, 200, np.random.default_rng(2))
    return corpus, queries, bench.exact_top_k(corpus, queries, 10)


@pytest.fixture(scope="module")
def small():
    """3,000 unit vectors under sparse, non-contiguous ids: enough to test bookkeeping quickly."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = 1_000_000 + 7 * np.arange(3_000, dtype=np.int64)
    return vectors, ids


def test_small_corpora_get_exact_search():
    assert choose_index_kind(0) == "flat"
    assert choose_index_kind(110) == "flat"  # the real corpus
    assert choose_index_kind(FLAT_MAX_VECTORS) == "flat"


def test_large_corpora_get_an_approximate_index():
    assert choose_index_kind(FLAT_MAX_VECTORS + 1) in ("hnsw", "ivf")
    assert choose_index_kind(1_000_000) in ("hnsw", "ivf")


def test_auto_builds_what_the_rule_says(small):
    vectors, _ = small
    assert index_params(build_vector_index(vectors))["kind"] == choose_index_kind(len(vectors))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_recall_at_10_against_exact_search_on_structured_vectors(structured, kind):
    corpus, queries, truth = structured
    _, found = search(build_vector_index(corpus, kind), queries, 10)
    recall = knn_intersection_measure(found, truth)
    assert recall >= (0.999 if kind == "flat" else 0.95), f"{kind}: recall@10 = {recall:.3f}"


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_return_the_same_results(small, tmp_path, kind):
    vectors, ids = small
    index = build_vector_index(vectors, kind, ids=ids)
    queries = vectors[:20] + 0.05
    scores, found = search(index, queries, 10)
    save_index(index, tmp_path / "faiss.index")
    loaded = load_index(tmp_path / "faiss.index")
    loaded_scores, loaded_found = search(loaded, queries, 10)
    np.testing.assert_array_equal(loaded_found, found)
    np.testing.assert_allclose(loaded_scores, scores, rtol=1e-6)
    assert index_params(loaded) == index_params(index)


@pytest.mark.parametrize("kind", KINDS)
def test_search_returns_the_callers_ids(small, kind):
    vectors, ids = small
    index = build_vector_index(vectors, kind, ids=ids)
    rows = np.array([0, 17, 2_999])
    _, found = search(index, vectors[rows], 1)
    np.testing.assert_array_equal(found[:, 0], ids[rows])


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_flat_and_ivf_remove_rows_by_id(small, kind):
    vectors, ids = small
    index = build_vector_index(vectors, kind, ids=ids)
    assert remove_ids(index, ids[:2]) == 2
    assert index.ntotal == len(ids) - 2
    _, found = search(index, vectors[:2], 5)
    assert not set(found.ravel()) & set(ids[:2].tolist())


def test_hnsw_cannot_remove_but_filters_tombstoned_ids(small):
    vectors, ids = small
    index = build_vector_index(vectors, "hnsw", ids=ids)
    with pytest.raises(NotImplementedError, match="rebuild"):
        remove_ids(index, ids[:1])
    _, found = search(index, vectors[:1], 5, exclude=ids[:1])
    assert ids[0] not in found
    assert (found >= 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_allowed_ids_restrict_results_to_exact_top_k_within_them(small, kind):
    vectors, ids = small
    index = build_vector_index(vectors, kind, ids=ids)
    rows = np.arange(0, 3_000, 10)
    query = vectors[5:6]
    _, found = search(index, query, 5, allowed=ids[rows])
    expected = ids[rows][np.argsort(-(vectors[rows] @ query[0]))[:5]]
    np.testing.assert_array_equal(found[0], expected)


def test_index_params_record_what_shapes_results(small):
    vectors, ids = small
    hnsw = index_params(build_vector_index(vectors, "hnsw", ids=ids))
    assert hnsw | {"M": 32, "ef_search": hnsw_ef_search(len(vectors)), "metric": "inner_product"} == hnsw
    ivf = index_params(build_vector_index(vectors, "ivf", ids=ids))
    assert ivf["kind"] == "ivf" and 1 <= ivf["nprobe"] <= ivf["nlist"]
    assert ivf["ntotal"] == len(vectors) and ivf["dimension"] == 384
