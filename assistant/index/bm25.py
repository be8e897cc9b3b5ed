"""BM25 over the chunks' index texts, with bm25s: English stopwords and Snowball stemming.

The index is written in bm25s' own format (data/indices/indptr of the CSC score matrix, the
vocabulary and the parameters) and loaded memory-mapped (`bm25s.BM25.load(mmap=True)`), so a
large index costs page cache, not process memory, and opens in the time it takes to read its
vocabulary.

`Bm25Builder` streams documents in batches and computes exactly the arrays `bm25s.BM25().index`
computes (the same float64 term-frequency component, the same float32 idf and rounding; checked
against bm25s on the real corpus in tests/index/test_bm25.py) without holding every document's
token list as Python objects, which at a million chunks would take several GB. A delta segment
(an incremental build) is scored with the document frequencies and average length of the whole
index it joins (`CorpusStats`), so its scores are on the same scale as the base segment's.

`bm25_scores` sums each query token's posting list into a dense array with plain indexed
addition (a column holds a document at most once, so this equals bm25s' `np.add.at`, in the
same order, and is several times faster on long posting lists).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import bm25s
import numpy as np
import Stemmer

K1, B = 1.5, 0.75  # bm25s' defaults (method and idf "lucene"), as the gold set was tuned with
STATS = "stats.json"  # beside bm25s' files: what a later delta segment needs to score on the same scale


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


@dataclass(frozen=True)
class CorpusStats:
    """Document frequencies and lengths of the segments a new segment joins."""

    num_docs: int
    total_length: int
    df: dict[str, int]

    @classmethod
    def of(cls, retrievers: Iterable[bm25s.BM25]) -> CorpusStats:
        num_docs = total = 0
        df: dict[str, int] = {}
        for retriever in retrievers:
            stats = getattr(retriever, "segment_stats", {})
            num_docs += int(retriever.scores["num_docs"])
            total += int(stats.get("total_length", 0))
            counts = np.diff(np.asarray(retriever.scores["indptr"]))
            for term, i in retriever.vocab_dict.items():
                if i < len(counts) and counts[i]:
                    df[term] = df.get(term, 0) + int(counts[i])
        return cls(num_docs, total, df)


class Bm25Builder:
    """Documents in, bm25s' files out; documents may come in any number of batches."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._doc_parts: list[np.ndarray] = []
        self._term_parts: list[np.ndarray] = []
        self._tf_parts: list[np.ndarray] = []
        self._lengths: list[int] = []

    @property
    def num_docs(self) -> int:
        return len(self._lengths)

    def add(self, texts: list[str]) -> None:
        vocab = self.vocab
        for tokens in tokenize(texts):
            doc = len(self._lengths)
            self._lengths.append(len(tokens))
            if not tokens:
                continue
            ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int32, count=len(tokens))
            terms, counts = np.unique(ids, return_counts=True)
            self._doc_parts.append(np.full(terms.size, doc, dtype=np.int32))
            self._term_parts.append(terms.astype(np.int32))
            self._tf_parts.append(counts.astype(np.float32))

    def finish(self, folder: Path, joins: CorpusStats | None = None) -> bm25s.BM25:
        """Write the index; with `joins`, idf and average length are those of the whole index."""
        n_docs, n_vocab = self.num_docs, len(self.vocab)
        docs = np.concatenate(self._doc_parts) if self._doc_parts else np.zeros(0, np.int32)
        terms = np.concatenate(self._term_parts) if self._term_parts else np.zeros(0, np.int32)
        tfs = np.concatenate(self._tf_parts) if self._tf_parts else np.zeros(0, np.float32)
        self._doc_parts, self._term_parts, self._tf_parts = [], [], []
        lengths = np.asarray(self._lengths, dtype=np.int64)
        df = np.bincount(terms, minlength=n_vocab)
        if joins is None:
            total_docs, avg = n_docs, (lengths.mean() if n_docs else np.float64(0.0))
            df_total = [int(x) for x in df]
        else:
            total_docs = joins.num_docs + n_docs
            avg = np.float64((joins.total_length + int(lengths.sum())) / max(total_docs, 1))
            df_total = [int(df[i]) + joins.df.get(term, 0) for term, i in self.vocab.items()]
        idf = np.zeros(n_vocab, dtype=np.float32)
        for i, count in enumerate(df_total):  # math.log per term, as bm25s computes it
            if count:
                idf[i] = math.log(1 + (total_docs - count + 0.5) / (count + 0.5))
        # bm25s' term-frequency component, in float64 as it computes it, then rounded to float32
        doc_length = lengths[docs].astype(np.float64)
        tfc = tfs / (K1 * ((1 - B) + B * doc_length / avg) + tfs)
        scores = (idf[terms] * tfc).astype(np.float32)
        order = np.argsort(terms, kind="stable")  # column by column, documents ascending within each
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        retriever = bm25s.BM25(k1=K1, b=B)
        retriever.scores = {"data": scores[order], "indices": docs[order].astype(np.int32), "indptr": indptr,
                            "num_docs": n_docs}
        vocab = dict(self.vocab)
        vocab.setdefault("", n_vocab)  # bm25s' empty token, outside the matrix as bm25s leaves it
        retriever.vocab_dict = vocab
        retriever.nonoccurrence_array = None  # lucene scoring has none
        folder.mkdir(parents=True, exist_ok=True)
        retriever.save(str(folder), show_progress=False)
        (folder / STATS).write_text(json.dumps({"num_docs": n_docs, "total_length": int(lengths.sum())}),
                                    encoding="utf-8")
        retriever.segment_stats = {"num_docs": n_docs, "total_length": int(lengths.sum())}
        return retriever


def build_bm25(texts: list[str], folder: Path, joins: CorpusStats | None = None) -> bm25s.BM25:
    builder = Bm25Builder()
    builder.add(texts)
    return builder.finish(folder, joins)


def load_bm25(folder: Path) -> bm25s.BM25:
    """Memory-mapped: the score matrix stays on disk until a query reads its columns."""
    retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
    try:
        retriever.segment_stats = json.loads((folder / STATS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        retriever.segment_stats = {}
    return retriever


def bm25_scores(retriever: bm25s.BM25, query: str, tokens: list[str] | None = None) -> np.ndarray:
    """A BM25 score for every chunk, in index order (0 where no query term occurs)."""
    tokens = tokenize([query])[0] if tokens is None else tokens
    scores = retriever.scores
    num_docs = int(scores["num_docs"])
    out = np.zeros(num_docs, dtype=np.float32)
    vocab = retriever.vocab_dict
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    limit = len(indptr) - 1
    for token in tokens:
        i = vocab.get(token)
        if i is None or i >= limit:
            continue
        start, end = int(indptr[i]), int(indptr[i + 1])
        if end > start:
            out[indices[start:end]] += data[start:end]  # a column holds each document once
    return out


def posting_rows(retriever: bm25s.BM25, token: str) -> np.ndarray:
    """The rows (documents of this index) that hold a token, from its posting list; empty if none do."""
    i = retriever.vocab_dict.get(token)
    indptr = retriever.scores["indptr"]
    if i is None or i >= len(indptr) - 1:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(retriever.scores["indices"][int(indptr[i]):int(indptr[i + 1])], dtype=np.int64)


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """The rows of the n best scores, best first, ties by row: `np.argsort(-scores, kind="stable")[:n]`
    without sorting every row."""
    size = scores.shape[0]
    if n <= 0 or size == 0:
        return np.zeros(0, dtype=np.int64)
    if n >= size:
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, size - n)[size - n]  # the n-th best score
    candidates = np.flatnonzero(scores >= threshold)  # every row that ties with it too
    order = np.argsort(-scores[candidates], kind="stable")
    return candidates[order][:n]


# --- the best n documents --------------------------------------------------------------------------

COMPILED_FROM = 50_000  # documents in a segment from which the compiled loop is used (numba is not even imported
# below: small indexes gain nothing, and a process that serves one does not pay numba's start-up)


def _columns(retriever: bm25s.BM25, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the query tokens' posting lists, in query order (unknown tokens left out)."""
    vocab, indptr = retriever.vocab_dict, retriever.scores["indptr"]
    limit = len(indptr) - 1
    spans = [(int(indptr[i]), int(indptr[i + 1])) for i in (vocab.get(t) for t in tokens)
             if i is not None and i < limit]
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts, ends = zip(*spans)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _numba_kernel():
    """The scoring loop compiled by numba (a dependency of ranx, so normally there), else None."""
    try:
        import numba
    except ImportError:  # numpy does the same work, several times slower on long posting lists
        return None

    @numba.njit(cache=True, nogil=True)
    def kernel(indices, data, starts, ends, num_docs, allowed, use_allowed, n):  # pragma: no cover - compiled
        scores = np.zeros(num_docs, dtype=np.float32)
        for t in range(starts.size):  # query-token order: each document's float32 sum is the dense one
            for j in range(starts[t], ends[t]):
                scores[indices[j]] += data[j]
        # the n best scores above 0, rows ascending: a later row enters only with a strictly higher score
        best_rows = np.empty(n, dtype=np.int64)
        best_scores = np.empty(n, dtype=np.float32)
        size = 0
        worst = 0
        for row in range(num_docs):
            score = scores[row]
            if score <= 0 or (use_allowed and not allowed[row]):
                continue
            if size < n:
                best_rows[size] = row
                best_scores[size] = score
                size += 1
                if size == n:
                    worst = 0
                    for i in range(1, n):
                        if best_scores[i] < best_scores[worst] or (
                                best_scores[i] == best_scores[worst] and best_rows[i] > best_rows[worst]):
                            worst = i
            elif score > best_scores[worst]:
                best_rows[worst] = row
                best_scores[worst] = score
                worst = 0
                for i in range(1, n):
                    if best_scores[i] < best_scores[worst] or (
                            best_scores[i] == best_scores[worst] and best_rows[i] > best_rows[worst]):
                        worst = i
        return best_rows[:size], best_scores[:size]

    return kernel


_KERNEL: list = []


def _kernel():
    if not _KERNEL:
        _KERNEL.append(_numba_kernel())
    return _KERNEL[0]


def top_scores(retriever: bm25s.BM25, tokens: list[str], n: int,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, scores) of the n best-scoring documents with a score above 0, best first, ties by row;
    `allowed` (a boolean mask) leaves the others out: exactly what sorting `bm25_scores` gives.

    From COMPILED_FROM documents, one numba-compiled pass sums the posting lists and keeps the n best
    (5 times faster than numpy at 200k chunks: 1.4 against 6.9 ms); below it, or without numba, numpy.
    """
    num_docs = int(retriever.scores["num_docs"])
    kernel = _kernel() if num_docs >= COMPILED_FROM else None
    if kernel is None or n <= 0 or num_docs == 0:
        return _dense_top(bm25_scores(retriever, "", tokens), n, allowed)
    starts, ends = _columns(retriever, tokens)
    if starts.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    mask = allowed if allowed is not None else np.zeros(1, dtype=bool)
    rows, scores = kernel(np.asarray(retriever.scores["indices"]), np.asarray(retriever.scores["data"]), starts, ends,
                          num_docs, mask, allowed is not None, n)
    order = np.lexsort((rows, -scores))
    return rows[order], scores[order]


def _dense_top(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if allowed is not None:
        masked = np.full_like(scores, -1.0)
        masked[allowed] = scores[allowed]
        scores = masked
    rows = top_rows(scores, n)
    rows = rows[scores[rows] > 0]
    return rows.astype(np.int64), scores[rows]
