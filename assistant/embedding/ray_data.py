"""Embedding a large ingest on a Ray cluster: Ray Data `map_batches` with the ONNX encoder as an actor.

Optional (`pip install -e '.[cluster]'`). Each actor loads the encoder once and embeds whole
batches; Ray schedules the actors over the cluster's nodes (`ray.init(address="auto")` on a
cluster, a local instance otherwise) and the vectors come back in input order. The vectors are
the encoder's own, so nothing in the index depends on where they were computed: the manifest's
model and backend are the ones the actors used.

    from assistant.embedding.ray_data import embed_with_ray
    vectors = embed_with_ray(texts, "all-MiniLM-L6-v2", "onnx-int8", actors=8)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.models import model_spec

INSTALL_HINT = "pip install -e '.[cluster]'"


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise AssistantError(f"Embedding on Ray needs Ray Data: {INSTALL_HINT}.") from None
    return ray


class EncoderActor:
    """One encoder per actor (loaded once), called on batches of {"row", "text"}."""

    def __init__(self, model: str, backend: str, threads: int) -> None:
        from assistant.offline import set_offline_flags

        set_offline_flags()
        if backend.startswith("onnx"):
            from assistant.embedding.onnx import OnnxEncoder

            self.encoder = OnnxEncoder(model, quantized=backend == "onnx-int8", threads=threads)
        else:
            from assistant.embedding import load_encoder

            self.encoder = load_encoder(model, backend)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]])
        return {"row": batch["row"], "vector": list(vectors)}


def embed_with_ray(texts: Sequence[str], model: str, backend: str = "onnx-int8", actors: int = 2,
                   batch_size: int = 256, threads_per_actor: int = 1, address: str | None = None) -> np.ndarray:
    """Unit vectors for `texts` in their order, computed by `actors` encoder actors on Ray Data."""
    dimension = model_spec(model).dimension
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                 **({} if address else {"num_cpus": max(actors * threads_per_actor, 1)}))
    data = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
    embedded = data.map_batches(EncoderActor, fn_constructor_args=(model, backend, threads_per_actor),
                                batch_size=batch_size, concurrency=actors, num_cpus=threads_per_actor,
                                batch_format="numpy")
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    for batch in embedded.iter_batches(batch_format="numpy", batch_size=4096):
        out[np.asarray(batch["row"], dtype=np.int64)] = np.stack(list(batch["vector"]))
    return out


class RayEncoder:
    """The Encoder protocol on Ray Data, for `assistant index --ray ADDRESS` (build_index(encoder=...))."""

    def __init__(self, model: str, backend: str, address: str | None = None, actors: int = 2) -> None:
        self.name, self.backend, self.dimension = model, backend, model_spec(model).dimension
        self.address = None if address in (None, "", "local") else address
        self.actors = actors

    def encode(self, texts: Sequence[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        return embed_with_ray(texts, self.name, self.backend, actors=self.actors, batch_size=batch_size,
                              address=self.address)
