"""Embedding a large ingest on several processes with sentence-transformers' multi-process pool.

The vectors equal a single process's within float rounding (checked to 1e-5 in the tests);
each worker gets cpu_count // workers threads, so the pool does not oversubscribe the cores.
"""

from __future__ import annotations

import os
from typing import Sequence
from unittest import mock

import numpy as np

from assistant.errors import AssistantError
from assistant.models import model_path, model_spec
from assistant.offline import set_offline_flags


def encode_in_processes(model: str, texts: Sequence[str], workers: int = 2, batch_size: int = 32,
                        chunk_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Unit vectors for `texts`, computed by `workers` processes of sentence-transformers' pool.

    Each worker gets cpu_count // workers threads, so the pool does not oversubscribe the
    cores. The vectors equal a single process's within float rounding (checked to 1e-5 in
    tests/test_vector_store.py); the order of `texts` is kept.
    """
    if workers < 1:
        raise AssistantError("The number of embedding workers must be at least 1.")
    spec = model_spec(model)
    if not texts:
        return np.zeros((0, spec.dimension), dtype=np.float32)
    set_offline_flags()
    try:
        from sentence_transformers import SentenceTransformer
    except ModuleNotFoundError as exc:
        from assistant.embedding.encoders import missing_torch

        raise AssistantError(missing_torch("Embedding on several processes", exc)) from None

    st_model = SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)
    st_model.max_seq_length = spec.max_seq_length
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    # Read by each spawned worker's torch; patch.dict restores our own environment afterwards.
    with mock.patch.dict(os.environ, {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}):
        pool = st_model.start_multi_process_pool(["cpu"] * workers)
    try:
        vectors = st_model.encode(list(texts), pool=pool, batch_size=batch_size, chunk_size=chunk_size,
                                  normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
    finally:
        st_model.stop_multi_process_pool(pool)
    return np.ascontiguousarray(vectors, dtype=np.float32)


# --- ONNX Runtime workers --------------------------------------------------------------------------

_worker_encoder = None


def _start_onnx_worker(model: str, quantized: bool, threads: int) -> None:
    global _worker_encoder
    set_offline_flags()
    from assistant.embedding.onnx import OnnxEncoder

    _worker_encoder = OnnxEncoder(model, quantized=quantized, threads=threads)


def _encode_shard(texts: list[str], batch_size: int) -> np.ndarray:
    assert _worker_encoder is not None
    return _worker_encoder.encode(texts, batch_size=batch_size)


class OnnxProcessPool:
    """`workers` processes, each with its own ONNX Runtime session of cores // workers threads.

    Texts are cut into contiguous shards and the vectors come back in input order; each worker
    embeds with the same session options as one process, so the vectors are the same.
    Start it once (`with OnnxProcessPool(...) as pool`) and encode many batches.
    """

    def __init__(self, model: str, workers: int = 2, quantized: bool = True, threads: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if workers < 1:
            raise AssistantError("The number of embedding workers must be at least 1.")
        self.dimension = model_spec(model).dimension
        self.workers = workers
        threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_onnx_worker, initargs=(model, quantized, threads))
        list(self._pool.map(_encode_shard, [["warm-up"]] * workers, [1] * workers))  # load every worker's model

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = list(texts)
        shard = max(batch_size, -(-len(texts) // (self.workers * 4)))  # a few shards per worker balance the load
        shards = [texts[i:i + shard] for i in range(0, len(texts), shard)]
        parts = list(self._pool.map(_encode_shard, shards, [batch_size] * len(shards)))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> OnnxProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
