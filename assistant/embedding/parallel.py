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
