"""Sentence embeddings from a packaged model: normalized vectors, batched, with a progress bar.

Backends: "torch" (sentence-transformers on PyTorch) and, where built, "onnx" / "onnx-int8"
(see assistant/embedding/onnx.py). All return float32 unit vectors, so inner product is cosine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.models import model_path, model_spec
from assistant.offline import set_offline_flags
from assistant.settings import DEFAULT_BACKEND
from assistant.vocabulary import EMBEDDING_BACKENDS as BACKENDS


def missing_torch(what: str, exc: ModuleNotFoundError) -> str:
    """One sentence for a missing package of the [torch] extra (torch, sentence-transformers, ...)."""
    package = (exc.name or "torch").split(".")[0].replace("_", "-")
    return f"{what} needs {package}, which is not installed; run `pip install -e '.[torch]'`."


class Encoder(Protocol):
    name: str
    backend: str
    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """sentence-transformers on CPU PyTorch, loaded from the installed model package."""

    backend = "torch"

    def __init__(self, name: str) -> None:
        set_offline_flags()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ModuleNotFoundError as exc:
            raise AssistantError(missing_torch("The torch backend", exc)) from None

        transformers_logging.disable_progress_bar()

        torch.set_num_threads(max(torch.get_num_threads(), 1))
        spec = model_spec(name)
        self.name = name
        self.dimension = spec.dimension
        self._model = SentenceTransformer(str(model_path(name)), device="cpu", local_files_only=True)
        self._model.max_seq_length = spec.max_seq_length

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def load_encoder(name: str, backend: str = DEFAULT_BACKEND) -> Encoder:
    """One encoder per (model, backend) per process: loading is the slow part."""
    if backend not in BACKENDS:
        raise AssistantError(f"Unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "torch":
        return SentenceTransformerEncoder(name)
    from assistant.embedding.onnx import OnnxEncoder

    return OnnxEncoder(name, quantized=backend == "onnx-int8")
