"""The dense vector index: which FAISS index for how many vectors, and how to build, search and save it.

Vectors are 384-d unit embeddings, so every index uses the inner-product metric (= cosine).

The rule (`choose_index_kind`) comes from eval/bench_ann.py on this 2-core machine, with
structured synthetic corpora of 10k-1M MiniLM-like vectors, 200 held-out synthetic queries
and the 90 real gold questions (eval/results/ann_bench.md; target: recall@10 >= 0.95 against
exact search on both query sets, median query < 10 ms at 1M):

- "flat" (exact) up to FLAT_MAX_VECTORS = 30k, where one query takes ~5 ms (0.17 us per
  vector: 4.9 ms at 30k, 17 ms at 100k, 199 ms at 1M). Exact search needs no training, no
  tuning and supports in-place deletes; the real corpus (~110 chunks) is far below the limit.
- "ivf" (IVF-Flat, nlist ~ 4*sqrt(N), nprobe 32) above it. At 1M it met the target with
  recall 0.991 (synthetic) / 0.983 (real questions), median 1.7 ms, p95 2.3 ms, 1.46 GiB,
  built in ~3.3 min; at 100k: 0.999 / 0.983, 0.64 ms.
- not "hnsw": HNSW (M=32, efConstruction=40) was as good up to 100k (efSearch 256: 0.996 /
  0.979, 0.66 ms) but at 1M it missed the target even at efSearch 512 (0.959 / 0.913), took
  2.5x longer to build (8.3 min) and 0.25 GiB more memory, and cannot delete. A better graph
  (efConstruction 160) would multiply the build time again. It stays available as kind="hnsw".

Ids: every index returns caller-chosen int64 ids (the row number of a chunk by default).
Flat and HNSW are wrapped in `faiss.IndexIDMap2`; IVF keeps ids in its inverted lists
natively (an IndexIDMap around IVF would desynchronise its id map on removal).

Deletes: flat and IVF remove rows in place (`remove_ids`). HNSW graphs cannot drop nodes, so
`remove_ids` refuses; the caller either rebuilds (the pipeline rebuilds the index whenever the
corpus changes, and re-embeds only changed chunks) or keeps a set of tombstoned ids and
passes it as `exclude=` to `search`, which filters them inside FAISS.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

KINDS = ("flat", "hnsw", "ivf")
FAISS_THREADS = 2  # the target machine has 2 cores: builds and batch searches use both
# Fewer queries than this run on one thread. FAISS parallelises a search across queries, so a
# single query gains nothing from a second thread, but the parallel region (IndexIDMap2's id
# translation, the flat scan's setup) waits for that thread to be scheduled: on a busy 2-core
# machine that cost milliseconds per query in the benchmark (HNSW at 100k, efSearch 16: 0.09 ms
# on 1 thread, 3.2 ms on 2; flat at 1M: 199 ms vs 535 ms).
SMALL_BATCH = 20
SMALL_BATCH_THREADS = 1

# Flat (exact) up to this many vectors: measured single-query latency ~5 ms here.
FLAT_MAX_VECTORS = 30_000

HNSW_M = 32  # links per node (64 on the base layer); 32 is the usual sweet spot for 384-d
HNSW_EF_CONSTRUCTION = 40  # FAISS default; build time grows linearly with it
# (up to this many vectors, efSearch): the smallest measured efSearch with recall@10 >= 0.95 on
# both query sets, one step up for headroom where the margin was thin. At 1M no efSearch up to
# 512 reached the target with this graph (hence IVF above FLAT_MAX_VECTORS).
HNSW_EF_SEARCH = ((10_000, 32), (30_000, 64), (100_000, 256), (math.inf, 512))

IVF_LISTS_PER_SQRT_N = 4  # nlist = 4 * sqrt(N)
IVF_TRAIN_PER_LIST = 50  # k-means trains on at most 50 sample vectors per list (FAISS wants >= 39)
# (up to this many vectors, nprobe): nprobe 16 was borderline on the real questions (0.949 at
# 1M, 0.957 at 30k); 32 kept them >= 0.978 from 10k to 1M. Beyond 1M is unmeasured: 64.
IVF_NPROBE = ((1_000_000, 32), (math.inf, 64))

# A filtered search whose allowed set is at most this size is scored exactly from the stored
# vectors: as cheap as a small flat search, and graph/list search degrades under tight filters.
EXACT_FILTER_MAX = FLAT_MAX_VECTORS


def choose_index_kind(n_vectors: int) -> str:
    """Flat while exact search is fast enough, IVF beyond (see the module docstring for why)."""
    if n_vectors < 0:
        raise ValueError("n_vectors must be >= 0")
    return "flat" if n_vectors <= FLAT_MAX_VECTORS else "ivf"


def _by_size(table: tuple[tuple[float, int], ...], n_vectors: int) -> int:
    for limit, value in table:
        if n_vectors <= limit:
            return value
    return table[-1][1]


def hnsw_ef_search(n_vectors: int) -> int:
    """efSearch that kept recall@10 >= 0.95 at this size in the benchmark."""
    return _by_size(HNSW_EF_SEARCH, n_vectors)


def ivf_nlist(n_vectors: int) -> int:
    """~4*sqrt(N) lists, but never fewer training points per list than FAISS's minimum of 39."""
    return max(1, min(round(IVF_LISTS_PER_SQRT_N * math.sqrt(n_vectors)), n_vectors // 39))


def ivf_nprobe(n_vectors: int, nlist: int) -> int:
    """nprobe that kept recall@10 >= 0.95 at this size in the benchmark."""
    return min(nlist, _by_size(IVF_NPROBE, n_vectors))


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {matrix.shape}")
    return matrix


def _as_ids(ids: np.ndarray | list[int] | None, n: int) -> np.ndarray:
    if ids is None:
        return np.arange(n, dtype=np.int64)
    out = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
    if out.shape[0] != n:
        raise ValueError(f"got {out.shape[0]} ids for {n} vectors")
    return out


def inner_index(index: faiss.Index) -> faiss.Index:
    """The index that does the work, under an IndexIDMap2 wrapper if there is one."""
    if isinstance(index, (faiss.IndexIDMap, faiss.IndexIDMap2)):
        return faiss.downcast_index(index.index)
    return index


def index_kind(index: faiss.Index) -> str:
    inner = inner_index(index)
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    if isinstance(inner, faiss.IndexFlat):
        return "flat"
    raise ValueError(f"unsupported FAISS index {type(inner).__name__}")


def build_vector_index(
    vectors: np.ndarray,
    kind: str = "auto",
    ids: np.ndarray | list[int] | None = None,
    *,
    hnsw_m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    seed: int = 0,
) -> faiss.Index:
    """An inner-product index over `vectors`, searchable by `ids` (default: row numbers).

    kind="auto" applies `choose_index_kind`; search parameters (efSearch, nprobe) are set
    from the measured tables for this size and saved with the index.
    """
    faiss.omp_set_num_threads(FAISS_THREADS)
    matrix = _as_matrix(vectors)
    n, dim = matrix.shape
    row_ids = _as_ids(ids, n)
    kind = choose_index_kind(n) if kind == "auto" else kind
    if kind == "flat":
        index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    elif kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = ef_construction
        graph.hnsw.efSearch = hnsw_ef_search(n)
        index = faiss.IndexIDMap2(graph)
    elif kind == "ivf":
        if n == 0:
            raise ValueError("an IVF index needs vectors to train on; use kind='flat' for an empty index")
        index = _trained_ivf(matrix, seed)
    else:
        raise ValueError(f"unknown index kind {kind!r}; choose one of auto, {', '.join(KINDS)}")
    if n:
        index.add_with_ids(matrix, row_ids)
    return index


def _trained_ivf(matrix: np.ndarray, seed: int) -> faiss.IndexIVFFlat:
    """IVF-Flat with k-means trained on a random sample: training on all of 1M rows buys nothing."""
    n, dim = matrix.shape
    nlist = ivf_nlist(n)
    # The factory hands ownership of the coarse quantizer to the IVF index.
    ivf = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    sample_size = min(n, IVF_TRAIN_PER_LIST * nlist)
    rng = np.random.default_rng(seed)
    sample = matrix if sample_size == n else matrix[np.sort(rng.choice(n, sample_size, replace=False))]
    ivf.train(sample)
    ivf.nprobe = ivf_nprobe(n, nlist)
    # A hashtable from id to list position: reconstruct-by-id (exact filtered search) and removal.
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    return ivf


def add_vectors(index: faiss.Index, vectors: np.ndarray, ids: np.ndarray | list[int]) -> None:
    """Add rows under the given ids. efSearch/nprobe stay as built: rebuild when the size
    crosses a threshold of `choose_index_kind` or the tables above."""
    matrix = _as_matrix(vectors)
    index.add_with_ids(matrix, _as_ids(ids, matrix.shape[0]))


def remove_ids(index: faiss.Index, ids: np.ndarray | list[int]) -> int:
    """Remove rows by id from a flat or IVF index; returns how many were removed.

    HNSW cannot remove graph nodes: rebuild, or pass the ids as `exclude=` to `search`.
    """
    if index_kind(index) == "hnsw":
        raise NotImplementedError(
            "HNSW indexes cannot remove vectors; rebuild the index or pass the ids to search(exclude=...)."
        )
    return int(index.remove_ids(_as_ids(ids, len(ids))))


def _search_parameters(index: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Parameters of the right type for the inner index, keeping its own efSearch / nprobe."""
    inner = inner_index(index)
    kind = index_kind(index)
    if kind == "hnsw":
        return faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
    if kind == "ivf":
        return faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
    return faiss.SearchParameters(sel=selector)


def search(
    index: faiss.Index,
    queries: np.ndarray,
    k: int,
    *,
    allowed: np.ndarray | list[int] | None = None,
    exclude: np.ndarray | list[int] | None = None,
    threads: int | None = None,
    stored: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query, best first; missing results are id -1, score -inf.

    `allowed` restricts the search to those ids (metadata filters); `exclude` drops ids
    (tombstones of deleted rows in an HNSW index). `threads` defaults to 1 for fewer than
    SMALL_BATCH queries (the app's single question) and FAISS_THREADS otherwise. `stored`, the
    vectors by id (ids = row numbers, as in a served index), scores a small allowed set exactly
    without reading vectors back from the index.
    """
    matrix = _as_matrix(queries)
    if threads is None:
        threads = SMALL_BATCH_THREADS if matrix.shape[0] < SMALL_BATCH else FAISS_THREADS
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        return _search(index, matrix, k, allowed, exclude, stored)
    finally:
        faiss.omp_set_num_threads(previous)


def _search(
    index: faiss.Index,
    matrix: np.ndarray,
    k: int,
    allowed: np.ndarray | list[int] | None,
    exclude: np.ndarray | list[int] | None,
    stored: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    if allowed is not None:
        allowed_ids = _as_ids(allowed, len(allowed))
        if exclude is not None or (allowed_ids.size > 1 and not bool(np.all(allowed_ids[1:] > allowed_ids[:-1]))):
            allowed_ids = np.setdiff1d(allowed_ids, exclude if exclude is not None else [])  # sorted, unique
        if index_kind(index) != "flat" and allowed_ids.size <= EXACT_FILTER_MAX:
            try:
                return _exact_over(index, matrix, k, allowed_ids, stored)
            except RuntimeError:  # an allowed id that is not in the index: let FAISS filter instead
                pass
        selector: faiss.IDSelector | None = _selector(allowed_ids)
    elif exclude is not None and len(exclude):
        excluded = faiss.IDSelectorBatch(_as_ids(exclude, len(exclude)))
        selector = faiss.IDSelectorNot(excluded)
    else:
        selector = None
    if selector is None:
        scores, ids = index.search(matrix, k)
    else:
        scores, ids = index.search(matrix, k, params=_search_parameters(index, selector))
    scores[ids < 0] = -np.inf
    return scores, ids


# Above this many allowed ids a bitmap (one bit per id up to the largest) is the cheaper selector
# to build and to test: a batch selector hashes every id on each query.
BITMAP_SELECTOR_MIN = 4096


class _BitmapSelector(faiss.IDSelectorBitmap):
    """IDSelectorBitmap that keeps its bitmap alive as long as FAISS may read it."""

    def __init__(self, ids: np.ndarray) -> None:
        size = int(ids.max()) + 1 if ids.size else 1
        mask = np.zeros(size, dtype=bool)
        mask[ids] = True
        self.bits = np.packbits(mask, bitorder="little")
        super().__init__(size, faiss.swig_ptr(self.bits))


def _selector(ids: np.ndarray) -> faiss.IDSelector:
    """The allowed ids as a FAISS selector: the same set whichever kind is built."""
    if ids.size >= BITMAP_SELECTOR_MIN and ids.min() >= 0:
        return _BitmapSelector(ids)
    return faiss.IDSelectorBatch(ids)


def _exact_over(index: faiss.Index, queries: np.ndarray, k: int, ids: np.ndarray,
                vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner products against a small set of stored vectors (from `vectors`, else read back by id)."""
    scores = np.full((queries.shape[0], k), -np.inf, dtype=np.float32)
    out_ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
    if ids.size == 0:
        return scores, out_ids
    stored = np.asarray(vectors[ids], dtype=np.float32) if vectors is not None else index.reconstruct_batch(ids)
    sims = queries @ stored.T
    take = min(k, ids.size)
    top = np.argsort(-sims, axis=1, kind="stable")[:, :take]
    scores[:, :take] = np.take_along_axis(sims, top, axis=1)
    out_ids[:, :take] = ids[top]
    return scores, out_ids


def set_search_params(index: faiss.Index, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
    """Trade recall for speed after building (the benchmark sweeps these)."""
    inner = inner_index(index)
    if ef_search is not None:
        inner.hnsw.efSearch = ef_search
    if nprobe is not None:
        inner.nprobe = nprobe


def index_params(index: faiss.Index) -> dict[str, Any]:
    """What the manifest records about the index: kind, size and the parameters that shape results."""
    inner = inner_index(index)
    kind = index_kind(index)
    params: dict[str, Any] = {
        "kind": kind,
        "metric": "inner_product",
        "dimension": int(index.d),
        "ntotal": int(index.ntotal),
        "faiss_version": faiss.__version__,
    }
    if kind == "hnsw":
        params.update(
            M=int(inner.hnsw.nb_neighbors(1)),
            ef_construction=int(inner.hnsw.efConstruction),
            ef_search=int(inner.hnsw.efSearch),
        )
    elif kind == "ivf":
        params.update(nlist=int(inner.nlist), nprobe=int(inner.nprobe))
    return params


def index_bytes(index: faiss.Index) -> int:
    """Serialized size: what the index costs on disk and, roughly, in memory."""
    return int(faiss.serialize_index(index).nbytes)


def save_index(index: faiss.Index, path: Path | str) -> None:
    """Write atomically (temporary file, then rename) so a crash never leaves half an index."""
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    faiss.write_index(index, str(temporary))
    os.replace(temporary, target)


def load_index(path: Path | str, mmap: bool = False) -> faiss.Index:
    """Read an index written by `save_index`; efSearch / nprobe come back as saved.

    `mmap=True` maps the vectors instead of reading them (read-only): flat codes through
    IO_FLAG_MMAP_IFC, IVF inverted lists through IO_FLAG_MMAP (OnDiskInvertedLists); HNSW graphs
    are read into memory. A mapped index opens in milliseconds whatever its size, and only the
    lists a query probes are read; `writable_copy` gives an index that can be changed.
    """
    faiss.omp_set_num_threads(FAISS_THREADS)
    if not mmap:
        return faiss.read_index(str(path))
    flag = faiss.IO_FLAG_MMAP_IFC
    try:
        header = Path(path).open("rb").read(4)
    except OSError:
        header = b""
    if header.startswith(b"Iw") or header.startswith(b"IvF"):  # IVF-Flat: inverted lists mapped read-only
        flag = faiss.IO_FLAG_MMAP
    return faiss.read_index(str(path), flag)


def writable_copy(index: faiss.Index) -> faiss.Index:
    """An in-memory copy of an index (a memory-mapped one cannot be added to or removed from)."""
    return faiss.deserialize_index(faiss.serialize_index(index))
