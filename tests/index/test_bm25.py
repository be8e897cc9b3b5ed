"""BM25: our streaming builder against bm25s itself, and the top n against sorting every score."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from assistant.index import bm25 as bm25_files


@pytest.fixture(scope="module")
def texts(chunked_corpus):
    return [chunk.index_text for chunk in chunked_corpus.chunks]


@pytest.fixture(scope="module")
def ours(texts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bm25")
    builder = bm25_files.Bm25Builder()
    builder.add(texts[:40])  # in batches, as the segment writer feeds it
    builder.add(texts[40:])
    builder.finish(folder)
    return bm25_files.load_bm25(folder)


QUESTIONS = ["returns cooperation with Bulgaria", "Frontex support to Cyprus for returns", "migration migration return",
             "Who leads Action 21?", "EASTEAMS kick-off meeting Athens", "weather forecast on Mars"]


def _columns(retriever):
    out = {}
    indptr = retriever.scores["indptr"]
    for term, i in retriever.vocab_dict.items():
        if i < len(indptr) - 1:
            start, end = indptr[i], indptr[i + 1]
            out[term] = (tuple(retriever.scores["indices"][start:end]), tuple(retriever.scores["data"][start:end]))
    return out


def test_the_streaming_builder_writes_exactly_what_bm25s_computes(texts, ours):
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(texts, stopwords="en", stemmer=bm25_files._stemmer(), show_progress=False),
                    show_progress=False)
    assert set(ours.vocab_dict) == set(reference.vocab_dict)  # the empty token included, outside the matrix
    assert _columns(ours) == _columns(reference)  # every (term, chunk) score, bit for bit
    for question in QUESTIONS:
        tokens = bm25_files.tokenize([question])[0]
        expected = np.asarray(reference.get_scores(tokens), dtype=np.float32) if tokens else np.zeros(len(texts))
        assert np.array_equal(bm25_files.bm25_scores(ours, question), expected.astype(np.float32)), question


def test_it_is_loaded_memory_mapped(ours):
    assert isinstance(ours.scores["data"], np.memmap) and isinstance(ours.scores["indices"], np.memmap)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("n", [1, 5, 50, 500])
def test_the_top_n_is_what_sorting_every_score_gives(ours, monkeypatch, compiled, n):
    monkeypatch.setattr(bm25_files, "COMPILED_FROM", 0 if compiled else 10**12)
    rng = np.random.default_rng(n)
    size = int(ours.scores["num_docs"])
    for question in QUESTIONS:
        tokens = bm25_files.tokenize([question])[0]
        for allowed in (None, rng.random(size) < 0.3, np.zeros(size, dtype=bool)):
            scores = bm25_files.bm25_scores(ours, question)
            masked = scores if allowed is None else np.where(allowed, scores, -1.0).astype(np.float32)
            expected = [int(r) for r in np.argsort(-masked, kind="stable")[:n] if masked[r] > 0]
            rows, top = bm25_files.top_scores(ours, tokens, n, allowed)
            assert rows.tolist() == expected, (question, compiled)
            assert np.array_equal(top, scores[expected])


def test_top_rows_breaks_ties_by_row_like_a_stable_sort():
    scores = np.array([1, 3, 3, 2, 3, 0, 3], dtype=np.float32)
    for n in range(1, 8):
        assert bm25_files.top_rows(scores, n).tolist() == np.argsort(-scores, kind="stable")[:n].tolist()


def test_a_delta_segment_scores_with_the_whole_index_statistics(texts, ours, tmp_path):
    """Chunks scored in a delta joined to the base get the scores they would have in one index of both."""
    base = bm25_files.Bm25Builder()
    base.add(texts[:-10])
    base_index = base.finish(tmp_path / "base")
    delta = bm25_files.Bm25Builder()
    delta.add(texts[-10:])
    joined = delta.finish(tmp_path / "delta", bm25_files.CorpusStats.of([bm25_files.load_bm25(tmp_path / "base")]))
    question = "returns cooperation with Bulgaria"
    whole = bm25_files.bm25_scores(ours, question)[-10:]
    np.testing.assert_allclose(bm25_files.bm25_scores(joined, question), whole, rtol=1e-5)
    assert base_index.scores["num_docs"] == len(texts) - 10
